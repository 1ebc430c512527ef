"""The number reader: its geometry (canvas, targets, decoding, reading order), its training command and its
evaluation command on photos with rendered house numbers."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from PIL import Image

from ml import numbers
from ml.cli import main
from ml.number_train import GRID, WINDOW, targets, window
from number_support import render


@pytest.fixture(scope="module")
def svhn_like(tmp_path_factory):
    """A folder in the layout of ../shared/datasets/svhn: labels.csv and photos/<split>/ with rendered numbers."""
    root = tmp_path_factory.mktemp("svhn")
    rng = np.random.default_rng(0)
    rows = []
    for split, count in (("train", 40), ("test", 8)):
        (root / "photos" / split).mkdir(parents=True)
        for i in range(count):
            text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(1, 5))))
            image, boxes = render(text, int(rng.integers(16, 40)), rng)
            name = f"{i}.png" if split == "test" else f"{i}.webp"
            image.save(root / "photos" / split / name, lossless=True)
            rows += [{"image": name, "split": split, "box_index": k, "label": 10 if d == "0" else int(d),
                      "left": x, "top": y, "width": w, "height": h, "status": "unique"}
                     for k, (d, (x, y, w, h)) in enumerate(zip(text, boxes))]
    with open(root / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_small_photos_are_enlarged_to_the_short_side_and_large_ones_shrunk_to_the_long_side():
    assert numbers.detector_scale(32, 32) == 4.0  # a digit crop: 128 px
    assert numbers.detector_scale(135, 55) == pytest.approx(128 / 55)  # a typical SVHN photo
    assert numbers.detector_scale(640, 480) == 0.5 and numbers.detector_scale(2000, 100) == 0.16


def test_only_a_large_photo_gets_a_second_look_at_most_at_its_own_pixels():
    assert numbers.fine_scale(135, 55) is None and numbers.fine_scale(400, 300) is None  # 1.25x: not worth it
    assert numbers.fine_scale(640, 480) == 1.0 and numbers.detector_scale(640, 480) == 0.5
    assert numbers.fine_scale(4000, 3000) == 0.16


def test_the_number_is_the_digits_that_belong_together():
    number = [((100, 50, 20, 30), 0.9), ((124, 50, 20, 30), 0.6), ((100, 85, 20, 30), 0.5)]  # two lines
    others = [((300, 50, 20, 30), 0.7),  # far to the right
              ((146, 58, 8, 12), 0.8)]  # beside it, but a third of the height
    assert numbers.number_digits(number + others) == [0, 1, 2]
    assert numbers.number_digits([((10, 10, 20, 30), 0.44)]) == []  # no digit sure enough: no number
    assert numbers.number_digits([((10, 10, 20, 30), 0.5)]) == []  # one digit alone must be surer
    assert numbers.number_digits([((10, 10, 20, 30), 0.6)]) == [0]
    assert numbers.number_digits([((10, 10, 20, 30), 0.44), ((34, 10, 20, 30), 0.46)]) == [0, 1]
    assert numbers.number_digits([]) == []


def test_the_canvas_holds_the_scaled_photo_top_left_on_its_mean_colour():
    photo = Image.new("RGB", (100, 50), (10, 20, 30))
    canvas = numbers.place(photo, 2.0)
    assert canvas.shape == (numbers.CANVAS, numbers.CANVAS, 3)
    assert (canvas[:100, :200] == (10, 20, 30)).all() and (canvas[100:] == (10, 20, 30)).all()


def test_a_landscape_or_portrait_photo_goes_on_the_smallest_canvas_that_holds_it():
    assert numbers.canvas_for(Image.new("RGB", (640, 480)), 0.5) == (320, 240)
    assert numbers.canvas_for(Image.new("RGB", (480, 640)), 1.0, numbers.FINE_CANVAS) == (480, 640)
    assert numbers.canvas_for(Image.new("RGB", (500, 500)), 0.64) == (320, 320)
    assert numbers.canvas_for(Image.new("RGB", (100, 90)), 3.0) == (320, 320)  # 300x270: neither 4:3 nor 3:4
    assert numbers.place(Image.new("RGB", (640, 480)), 0.5, (320, 240)).shape == (240, 320, 3)


def output_from(goal: np.ndarray) -> np.ndarray:
    """The detector output that would match these targets exactly."""
    out = np.zeros((*goal.shape[:2], 5), np.float32)
    out[..., 0] = np.where(goal[..., 5] == 1, 10.0, -10.0)
    out[..., 1:5] = goal[..., 1:5]
    return out


def test_decoding_perfect_targets_gives_back_every_box():
    boxes = np.array([(20.0, 30.0, 14.0, 24.0), (40.0, 31.0, 13.0, 25.0), (90.0, 100.0, 30.0, 50.0)])
    goal = targets(boxes)
    assert goal.shape == (GRID, GRID, 6) and goal[..., 5].sum() == 3
    found = sorted(box for box, _ in numbers.decode(output_from(goal)))
    np.testing.assert_allclose(found, boxes, atol=1e-4)


def test_a_window_keeps_the_digits_and_their_boxes_together():
    rng = np.random.default_rng(3)
    photo, boxes = render("4821", 30, rng)
    for seed in range(5):
        pixels, placed = window(photo, np.array(boxes, float), np.random.default_rng(seed))
        assert pixels.shape == (WINDOW, WINDOW, 3)
        scale = placed[0, 3] / boxes[0][3]
        assert all(math.isclose(p[2], b[2] * scale) for p, b in zip(placed, boxes))


def test_reading_order_is_lines_top_to_bottom_then_left_to_right():
    boxes = [(60, 5, 10, 20), (5, 40, 10, 20), (30, 4, 10, 20), (40, 42, 10, 20), (5, 6, 10, 20)]
    assert numbers.reading_order(boxes) == [4, 2, 0, 1, 3]
    assert numbers.reading_order([]) == []


def test_the_confidence_of_a_number_is_that_every_digit_is_right():
    digits = [numbers.Digit((0, 0, 5, 5), "1", 0.9), numbers.Digit((6, 0, 5, 5), "2", 0.5)]
    reading = numbers.Reading(digits)
    assert reading.number == "12" and reading.confidence == pytest.approx(0.45)
    assert numbers.Reading([]).number == "" and numbers.Reading([]).confidence == 0.0


@pytest.fixture(scope="module")
def detector(svhn_like, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digit_detector"
    assert main(["train", "numbers", str(svhn_like), "--epochs", "1", "--batch-size", "8", "--out", str(out)]) == 0
    return out


def test_training_writes_a_detector_artifact_and_evaluate_numbers_scores_it(detector, svhn_like, capsys, tmp_path):
    meta = json.loads((detector / "metadata.json").read_text())
    assert meta["recognizer"] == "digit_detector" and meta["command"].startswith("python -m ml train numbers")
    assert meta["dataset"]["train_photos"] + meta["dataset"]["val_photos"] == 40
    assert {p.name for p in detector.iterdir()} == {
        "model.keras", "metadata.json", "model.tflite", "model_fine.tflite", "model_320x240.tflite",
        "model_240x320.tflite", "model_640x480.tflite", "model_480x640.tflite"}
    faces = tmp_path / "faces" / "happy"
    faces.mkdir(parents=True)
    Image.new("L", (48, 48), 128).save(faces / "0.png")
    capsys.readouterr()
    assert main(["evaluate", "numbers", str(svhn_like), "--split", "test", "--json", "--detector", str(detector),
                 "--negatives", str(tmp_path / "faces")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 8 and report["split"] == "test" and report["negatives"] == 1
    assert {"sequence_accuracy", "digit_recall", "digit_precision", "ms_per_photo_p50", "by_length",
            "false_numbers_per_photo"} <= set(report)
    assert sum(v["n"] for v in report["by_length"].values()) == 8


def test_a_digit_crop_reads_as_one_digit(detector):
    from ml.serving import Classifier  # noqa: PLC0415
    from ml.recognizers import get  # noqa: PLC0415

    reader = numbers.NumberReader(detector, Classifier(get("digits").shipped_dir))
    image, _ = render("7", 24, np.random.default_rng(1))
    crop = image.resize((32, 32))
    reading = reader.read(crop)
    assert len(reading.digits) == 1 and reading.digits[0].box == (0, 0, 32, 32) and reading.digits[0].score is None


def test_the_second_look_reads_a_small_number_in_a_large_photo():
    from ml.recognizers import SHIPPED_DIR, get  # noqa: PLC0415
    from ml.serving import Classifier  # noqa: PLC0415

    rng = np.random.default_rng(5)
    number, _ = render("47", 40, rng)
    photo = Image.new("RGB", (1280, 960), (30, 40, 50))
    photo.paste(number, (700, 500))
    classifier = Classifier(get("digits").shipped_dir)
    reader = numbers.NumberReader(SHIPPED_DIR / "digit_detector", classifier)
    assert reader.read(photo).number == "47"
    one_look = numbers.NumberReader(SHIPPED_DIR / "digit_detector", classifier, second_look=False)
    assert one_look.read(photo).number != "47"


def test_a_landscape_photo_reads_alike_on_its_own_canvas_and_on_the_square_one(tmp_path):
    from ml.recognizers import SHIPPED_DIR, get  # noqa: PLC0415
    from ml.serving import Classifier  # noqa: PLC0415

    shipped = SHIPPED_DIR / "digit_detector"
    square = tmp_path / "square"
    square.mkdir()
    for name in ("metadata.json", "model.tflite", "model_fine.tflite"):  # a detector exported before 4:3 canvases
        (square / name).write_bytes((shipped / name).read_bytes())
    number, _ = render("305", 40, np.random.default_rng(8))
    photo = Image.new("RGB", (640, 480), (30, 40, 50))
    photo.paste(number, (200, 150))
    classifier = Classifier(get("digits").shipped_dir)
    reader = numbers.NumberReader(shipped, classifier)
    assert reader.look(photo, 0.5).shape[:2] == (240 // numbers.STRIDE, 320 // numbers.STRIDE)
    assert numbers.NumberReader(square, classifier).look(photo, 0.5).shape[:2] == (80, 80)
    assert reader.read(photo).number == numbers.NumberReader(square, classifier).read(photo).number == "305"
