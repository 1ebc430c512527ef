"""Number-reader benchmark: the detector's thresholds, numbers in large photos, real photos without numbers, speed.

1. Thresholds: a digit joins the reading at the score threshold; a photo holds a number only when one digit of it
   reaches the number threshold (the grid sweeps both), and a one-digit number only when its digit reaches the
   single threshold (swept on its own, with real photos without house numbers beside). Scored on the validation photos the detector's training
   held out (drawn from the train photos by the training seed, as `python -m ml train numbers` drew them), and
   numbers read on photos without any (the Taiwanese corpus' face photos by default: neither the detector's
   negatives, RAF-DB, nor FER-2013, on which `python -m ml evaluate numbers --negatives` reports).
2. Street scenes: the same validation photos shrunk until their digits stand 16-96 px tall and pasted into real
   photos of 640x480 and 1280x960 (faces_real's photos, enlarged), read with one look and with the second look.
3. Real photos without house numbers (faces_real: crowds, parades, group photos), one look and two.
4. CPU per read on one thread: an SVHN photo, and a 640x480 photo with one pasted in.
The test split is not used.

  .venv/bin/python scripts/bench_numbers.py [--detector ml/artifacts/digit_detector] [--classifier digits]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import ml from the repository

from ml import artifact, numbers  # noqa: E402
from ml.data.folders import IMAGE_SUFFIXES  # noqa: E402
from ml.data.svhn_boxes import photo_boxes  # noqa: E402
from ml.number_eval import match_digits  # noqa: E402
from ml.number_train import DetectorConfig, split_photos  # noqa: E402
from ml.preprocess import open_image  # noqa: E402
from ml.serving import Classifier  # noqa: E402

THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.5)
NUMBER_THRESHOLDS = (0.4, 0.45, 0.5)
SINGLE_THRESHOLDS = (0.45, 0.5, 0.55, 0.6, 0.65)
FRAMES = ((640, 480), (1280, 960))
DIGIT_HEIGHTS = (16, 24, 32, 48, 96)
SCENE_PHOTOS = 100


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    datasets = ROOT.parent / "shared" / "datasets"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default=str(ROOT / "ml" / "artifacts" / "digit_detector"))
    parser.add_argument("--classifier", default="digits")
    parser.add_argument("--data", default=str(datasets / "svhn" / "labels.csv"))
    parser.add_argument("--negatives", default=str(datasets / "taiwanese"))
    parser.add_argument("--real", default=str(datasets / "faces_real"), help="real photos without house numbers")
    return parser.parse_args()


def images_in(folder: str) -> list[Image.Image]:
    """Every image under a folder, decoded, in name order."""
    return [open_image(p) for p in sorted(Path(folder).rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]


def score(reader, val) -> tuple[float, float, float]:
    """Whole numbers right, digit recall and precision of a reader on the validation photos."""
    right = hits = found = truth = 0
    for image, boxes, labels in val:
        reading = reader.read(image)
        right += reading.number == "".join(labels)
        pairs = match_digits([d.box for d in reading.digits], boxes)
        hits += sum(reading.digits[j].label == labels[i] for i, j in pairs.items())
        found, truth = found + len(reading.digits), truth + len(labels)
    return right / len(val), hits / truth, hits / max(1, found)


def read_any(reader, images) -> float:
    """The share of photos the reader finds a number in."""
    return sum(bool(reader.read(image).digits) for image in images) / max(1, len(images))


def thresholds(args, meta, classifier, val, empty, real) -> None:
    """One line per pair of thresholds, then per single threshold, the shipped ones marked."""
    print(f"{'threshold':>9} {'number':>6} {'numbers':>7} {'recall':>6} {'precision':>9} {'false/photo':>11}")
    shipped = (meta.get("score_threshold"), meta.get("number_threshold"))
    for threshold in THRESHOLDS:
        for least in NUMBER_THRESHOLDS:
            if least < threshold:
                continue
            reader = numbers.NumberReader(args.detector, classifier, threshold, least)
            right, recall, precision = score(reader, val)
            mark = "  <- shipped" if (threshold, least) == shipped else ""
            print(f"{threshold:>9} {least:>6} {right:>7.3f} {recall:>6.3f} {precision:>9.3f} "
                  f"{read_any(reader, empty):>11.3f}{mark}")
    print(f"{'single':>9} {'numbers':>7} {'false/photo':>11} {'real photos':>11}")
    for alone in SINGLE_THRESHOLDS:
        reader = numbers.NumberReader(args.detector, classifier, single_threshold=alone)
        mark = "  <- shipped" if alone == meta.get("single_threshold") else ""
        print(f"{alone:>9} {score(reader, val)[0]:>7.3f} {read_any(reader, empty):>11.3f} "
              f"{read_any(reader, real):>11.3f}{mark}")


def scene(photo: Image.Image, boxes, height: int, frame: tuple[int, int], back: Image.Image, rng) -> Image.Image | None:
    """The photo shrunk so its digits stand `height` px tall, pasted at random into `back` resized to `frame`."""
    factor = height / np.mean([b[3] for b in boxes])
    small = photo.convert("RGB").resize((max(1, round(photo.width * factor)), max(1, round(photo.height * factor))))
    if small.width >= frame[0] or small.height >= frame[1]:
        return None
    out = back.convert("RGB").resize(frame)
    out.paste(small, (int(rng.integers(0, frame[0] - small.width)), int(rng.integers(0, frame[1] - small.height))))
    return out


def scenes(readers: dict, val, backs) -> None:
    """Whole numbers read in street scenes by digit height, with each reader, and its CPU per read."""
    print(f"{'frame':>9} {'digits':>6} {'n':>4} " + " ".join(f"{name:>16}" for name in readers))
    for frame in FRAMES:
        for height in DIGIT_HEIGHTS:
            rng = np.random.default_rng(height)
            right, ms, n = dict.fromkeys(readers, 0), {name: [] for name in readers}, 0
            for k, (photo, boxes, labels) in enumerate(val[:SCENE_PHOTOS]):
                image = scene(photo, boxes, height, frame, backs[k % len(backs)], rng)
                if image is None:
                    continue
                n += 1
                for name, reader in readers.items():
                    started = time.process_time()
                    right[name] += reader.read(image).number == "".join(labels)
                    ms[name].append((time.process_time() - started) * 1000)
            print(f"{frame[0]:>4}x{frame[1]:<4} {height:>4}px {n:>4} " + " ".join(
                f"{right[name] / max(1, n):>7.3f} {np.median(ms[name]):>5.1f} ms" for name in readers))


def main() -> None:
    """Print the four parts."""
    args = parse_args()
    meta = artifact.read_metadata(args.detector)
    _, val = split_photos(photo_boxes(args.data, "train"), DetectorConfig(**meta["training"]["config"]))
    val = [(open_image(path), boxes, labels) for path, boxes, labels in val]
    empty, real = images_in(args.negatives), images_in(args.real)
    classifier = Classifier(artifact.resolve(args.classifier))
    print(f"number bench: {len(val)} validation photos of {args.data}, {len(empty)} photos without numbers "
          f"from {args.negatives}, {len(real)} real photos from {args.real}")
    thresholds(args, meta, classifier, val, empty, real)
    readers = {"one look": numbers.NumberReader(args.detector, classifier, second_look=False),
               "two looks": numbers.NumberReader(args.detector, classifier)}
    scenes(readers, val, real)
    for name, reader in readers.items():
        print(f"{name}: {read_any(reader, real):.3f} of the real photos without house numbers read as a number")
    street = Image.new("RGB", (640, 480), (90, 110, 120))
    street.paste(val[0][0].resize((160, round(160 * val[0][0].height / val[0][0].width))), (300, 200))
    for label, image in (("SVHN photo", val[0][0]), ("640x480 photo, one pasted in", street)):
        for name, reader in readers.items():
            for _ in range(5):
                reader.read(image)
            started = time.process_time()
            for _ in range(50):
                reader.read(image)
            print(f"{label:<28} {name:<9} {(time.process_time() - started) / 50 * 1000:6.2f} ms CPU per read")


if __name__ == "__main__":
    main()
