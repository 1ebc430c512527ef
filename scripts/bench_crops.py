"""Face-crop benchmark: which crop of the detector's face box the expression model reads best on real photos.

Runs the face detector on whole-head photos with expression labels (the Taiwanese corpus: 29 performers,
posed, on a white background) and classifies each photo's most confident face, cropped with each margin,
centre drop and with or without turning the eyes level, through the served LiteRT path. Reports accuracy and
macro-F1 per crop, and how many photos had no face found. Then what finding and cropping costs against faces
that come cropped: RAF-DB's aligned test faces classified as they are, and pasted at 160 px into a 320 px
photo (the rest the face's border colour) for the detector to find and the shipped crop to cut.

  .venv/bin/python scripts/bench_crops.py [--model emotion7] [--data ../shared/datasets/taiwanese]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import ml from the repository

from ml import artifact, faces, metrics  # noqa: E402
from ml.data.folders import IMAGE_SUFFIXES  # noqa: E402
from ml.preprocess import open_image, prepare  # noqa: E402
from ml.serving import Classifier  # noqa: E402

CROPS = ([(margin, 0.0, True) for margin in (-0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.3)]
         + [(margin, 0.0, False) for margin in (-0.1, 0.0)] + [(0.0, drop, True) for drop in (-0.05, 0.05)])


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="emotion7", help="recognizer name or artifact directory")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "taiwanese"),
                        help="class folders of face photos")
    parser.add_argument("--aligned", default=str(ROOT.parent / "shared" / "datasets" / "rafdb"),
                        help="class folders of aligned face crops (<root>/test/<class>/)")
    return parser.parse_args()


def main() -> None:
    """Print one line per crop setting, the shipped one marked."""
    args = parse_args()
    classifier = Classifier(artifact.resolve(args.model))
    detector = faces.default_detector()
    photos, labels, missed = [], [], 0
    for index, name in enumerate(classifier.classes):
        for path in sorted((Path(args.data) / name).glob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            image = open_image(path)
            found = [f for f in detector.find(image) if f.score is not None]
            if not found:
                missed += 1
                continue
            photos.append((image, max(found, key=lambda f: f.score)))
            labels.append(index)
    labels = np.array(labels)
    print(f"crop bench: {classifier.path.name} on {len(photos)} photos of {args.data} with a face found "
          f"({missed} without)")
    print(f"{'margin':>6} {'drop':>5} {'align':>5} {'accuracy':>8} {'macro-F1':>8}")
    for margin, drop, align in CROPS:
        batch = np.stack([prepare(faces.crop(image, face, margin, drop, align), classifier.recognizer)
                          for image, face in photos])
        report = metrics.summary(labels, classifier.predict(batch), classifier.classes)
        shipped = (margin, drop, align) == (faces.MARGIN, faces.CENTRE_DROP, True)
        print(f"{margin:>6} {drop:>5} {str(align):>5} {report['accuracy']:>8.3f} {report['macro_f1']:>8.3f}"
              + ("  <- shipped" if shipped else ""))
    found_again(classifier, detector, Path(args.aligned) / "test")


def found_again(classifier: Classifier, detector: faces.FaceDetector, root: Path) -> None:
    """Accuracy on aligned face crops as they are, and on the same faces found and cropped in a photo."""
    direct, found, labels, missed = [], [], [], 0  # found: (photo, face)
    for index, name in enumerate(classifier.classes):
        for path in sorted((root / name).glob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            face = open_image(path).convert("RGB")
            photo = Image.new("RGB", (320, 320), tuple(int(v) for v in np.asarray(face)[0].mean(axis=0)))
            photo.paste(face.resize((160, 160), Image.BICUBIC), (80, 80))
            seen = [f for f in detector.find(photo) if f.score is not None]
            if not seen:
                missed += 1
                continue
            direct.append(prepare(face, classifier.recognizer))
            found.append((photo, max(seen, key=lambda f: f.score)))
            labels.append(index)
    labels = np.array(labels)
    print(f"{root}: {len(labels)} aligned faces found again in a photo ({missed} not found)")
    batches = [("as cropped by the dataset", direct)] + [
        (f"found, cropped at margin {margin}", [prepare(faces.crop(photo, face, margin), classifier.recognizer)
                                               for photo, face in found])
        for margin in sorted({-0.1, 0.0, faces.MARGIN, 0.15})]
    for what, batch in batches:
        report = metrics.summary(labels, classifier.predict(np.stack(batch)), classifier.classes)
        print(f"  {what:<32} accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}")


if __name__ == "__main__":
    main()
