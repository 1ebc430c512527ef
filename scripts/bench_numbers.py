"""Number-reader benchmark: which detector thresholds read the most whole numbers on held-out photos.

A digit joins the reading at the score threshold; a photo holds a number only when one digit of it reaches the
number threshold (the grid sweeps both).

Scores the reader, for each threshold, on the validation photos its training held out (drawn from the train photos
by the training seed, as `python -m ml train numbers` drew them) and counts numbers read on photos without any
(the Taiwanese corpus' face photos by default: neither the detector's negatives, RAF-DB, nor FER-2013, on which
`python -m ml evaluate numbers --negatives` reports). The test split is not used. Also times the reading of one SVHN photo and
of a 640×480 photo with it pasted in, on one thread.

  .venv/bin/python scripts/bench_numbers.py [--detector ml/artifacts/digit_detector] [--classifier digits]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import ml from the repository

from ml import artifact, numbers  # noqa: E402
from ml.data.folders import IMAGE_SUFFIXES  # noqa: E402
from ml.number_eval import match_digits  # noqa: E402
from ml.number_train import DetectorConfig, split_photos  # noqa: E402
from ml.data.svhn_boxes import photo_boxes  # noqa: E402
from ml.preprocess import open_image  # noqa: E402
from ml.serving import Classifier  # noqa: E402

THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.5)
NUMBER_THRESHOLDS = (0.4, 0.45, 0.5)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    datasets = ROOT.parent / "shared" / "datasets"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default=str(ROOT / "ml" / "artifacts" / "digit_detector"))
    parser.add_argument("--classifier", default="digits")
    parser.add_argument("--data", default=str(datasets / "svhn" / "labels.csv"))
    parser.add_argument("--negatives", default=str(datasets / "taiwanese"))
    return parser.parse_args()


def main() -> None:
    """Print one line per threshold, the shipped one marked, then the timings."""
    args = parse_args()
    meta = artifact.read_metadata(args.detector)
    config = DetectorConfig(**meta["training"]["config"])
    photos = photo_boxes(args.data, "train")
    _, val = split_photos(photos, config)
    negatives = sorted(p for p in Path(args.negatives).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    classifier = Classifier(artifact.resolve(args.classifier))
    print(f"number bench: {len(val)} validation photos of {args.data}, {len(negatives)} photos without numbers "
          f"from {args.negatives}")
    print(f"{'threshold':>9} {'number':>6} {'numbers':>7} {'recall':>6} {'precision':>9} {'false/photo':>11}")
    images = [(open_image(path), boxes, labels) for path, boxes, labels in val]
    empty = [open_image(p) for p in negatives]
    shipped = (meta.get("score_threshold"), meta.get("number_threshold"))
    for threshold in THRESHOLDS:
        for least in NUMBER_THRESHOLDS:
            if least < threshold:
                continue
            reader = numbers.NumberReader(args.detector, classifier, threshold, least)
            right = hits = found = truth = 0
            for image, boxes, labels in images:
                reading = reader.read(image)
                right += reading.number == "".join(labels)
                pairs = match_digits([d.box for d in reading.digits], boxes)
                hits += sum(reading.digits[j].label == labels[i] for i, j in pairs.items())
                found, truth = found + len(reading.digits), truth + len(labels)
            false = sum(bool(reader.read(image).digits) for image in empty) / max(1, len(empty))
            mark = "  <- shipped" if (threshold, least) == shipped else ""
            print(f"{threshold:>9} {least:>6} {right / len(images):>7.3f} {hits / truth:>6.3f} "
                  f"{hits / max(1, found):>9.3f} {false:>11.3f}{mark}")
    reader = numbers.NumberReader(args.detector, classifier)
    street = Image.new("RGB", (640, 480), (90, 110, 120))
    street.paste(images[0][0].resize((160, round(160 * images[0][0].height / images[0][0].width))), (300, 200))
    for name, image in (("SVHN photo", images[0][0]), ("640x480 photo, one pasted in", street)):
        for _ in range(5):
            reader.read(image)
        started = time.process_time()
        for _ in range(50):
            reader.read(image)
        print(f"{name:<22} {(time.process_time() - started) / 50 * 1000:6.2f} ms CPU per read (one thread)")


if __name__ == "__main__":
    main()
