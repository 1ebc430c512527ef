"""Face-crop benchmark: which crop of the detector's face box the expression model reads best on real photos.

Runs the face detector on whole-head photos with expression labels (the Taiwanese corpus: 29 performers,
posed, on a white background) and classifies each photo's most confident face, cropped with each margin,
centre drop and with or without turning the eyes level, through the served LiteRT path. Reports accuracy and
macro-F1 per crop, and how many photos had no face found.

  .venv/bin/python scripts/bench_crops.py [--model emotion7] [--data ../shared/datasets/taiwanese]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import ml from the repository

from ml import artifact, faces, metrics  # noqa: E402
from ml.data.folders import IMAGE_SUFFIXES  # noqa: E402
from ml.preprocess import open_image, prepare  # noqa: E402
from ml.serving import Classifier  # noqa: E402

CROPS = [(margin, drop, align) for margin in (-0.1, -0.05, 0.0, 0.05, 0.1) for drop in (-0.05, 0.0, 0.05)
         for align in (True, False)]


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="emotion7", help="recognizer name or artifact directory")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "taiwanese"),
                        help="class folders of face photos")
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


if __name__ == "__main__":
    main()
