"""Face detection on generated pictures, and classification of every face found."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from ml.faces import CHECK_CASCADE, FaceDetector, distinct, face_cascade, find_faces, iou, search
from ml.serving import Classifier, classify


def drawn_face(size: int, radius: int) -> np.ndarray:
    """A grey cartoon face (oval, brows, eyes, nose, mouth) that OpenCV's frontal-face cascade finds."""
    image = np.full((size, size), 90, np.uint8)
    c = size // 2
    cv2.ellipse(image, (c, c), (int(radius * 0.8), radius), 0, 0, 360, 200, -1)
    for side in (-1, 1):
        eye = c + side * int(radius * 0.35)
        cv2.ellipse(image, (eye, c - radius // 4), (int(radius * 0.18), int(radius * 0.09)), 0, 0, 360, 40, -1)
        cv2.line(image, (eye - radius // 5, c - int(radius * 0.45)), (eye + radius // 5, c - int(radius * 0.45)),
                 60, max(2, radius // 12))
    cv2.line(image, (c, c - int(radius * 0.15)), (c, c + radius // 5), 150, max(2, radius // 20))
    cv2.ellipse(image, (c, c + radius // 2), (int(radius * 0.3), radius // 10), 0, 0, 360, 70, -1)
    return cv2.GaussianBlur(image, (0, 0), radius / 40)


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


def test_finds_each_face_in_a_large_photo_in_photo_pixels(detector):
    photo = np.hstack([drawn_face(900, 200), drawn_face(900, 200)])  # 1800 wide: detection runs downscaled
    boxes = detector.find(Image.fromarray(photo))
    assert len(boxes) == 2
    for (x, y, w, h), centre_x in zip(boxes, (450, 1350)):
        assert x < centre_x - 120 and x + w > centre_x + 120 and y < 330 and y + h > 570
        assert 300 < w < 700


def test_search_reports_boxes_in_the_given_pixels_and_keeps_to_the_size_window():
    gray = drawn_face(400, 100)  # the face is ~200 px across
    (x, y, w, h), = search(face_cascade(), gray, scale=0.25)  # searched at 100 px, reported at 400
    assert 60 < x < 200 and 60 < y < 200 and 130 < w < 300 and h == w
    assert search(face_cascade(), gray, scale=0.25, max_size=30) == []  # the face is ~50 px at that scale
    assert search(face_cascade(), gray, scale=0.25, min_size=150) == []  # larger than the 100 px copy


class FixedCascade:
    """A finder that 'sees' the same boxes in any image, so the check can be tested on its own."""

    def __init__(self, boxes):
        self.boxes = boxes

    def detectMultiScale(self, gray, **options):  # noqa: N802 - OpenCV's name
        return self.boxes


def test_the_checking_cascade_keeps_the_face_and_drops_a_find_on_texture():
    noise = np.random.default_rng(0).integers(0, 256, (400, 400), dtype=np.uint8)
    photo = np.hstack([drawn_face(400, 100), noise])
    face, texture = (100, 100, 200, 200), (500, 100, 200, 200)
    assert find_faces(FixedCascade([face, texture]), face_cascade(CHECK_CASCADE), photo) == [face]
    assert find_faces(FixedCascade([face, texture]), None, photo) == [face, texture]  # no checker: all kept


def test_a_second_box_mostly_inside_a_larger_one_is_the_same_face():
    face = (100, 100, 200, 200)
    inner, shifted, neighbour = (150, 150, 120, 120), (180, 100, 200, 200), (260, 100, 200, 200)
    assert find_faces(FixedCascade([inner, face]), None, np.zeros((500, 600), np.uint8)) == [face]  # larger first
    assert distinct([face, shifted]) == [face]  # 60% of it is the kept face's
    assert distinct([inner, face]) == [inner]  # a larger box around a kept one is the same face too
    assert distinct([face, neighbour]) == [face, neighbour]  # 20%: two faces side by side


def test_iou_of_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == 50 / 150
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges share no area


def test_finds_nothing_in_a_plain_photo(detector):
    assert detector.find(Image.fromarray(np.full((400, 600), 120, np.uint8))) == []


def test_a_small_image_is_already_a_face_crop(detector):
    assert detector.find(Image.new("L", (48, 48))) == [(0, 0, 48, 48)]


class StubDetector:
    """Stands in for the cascade so the crops can be checked box by box."""

    def __init__(self, boxes):
        self.boxes = boxes

    def find(self, image):
        return self.boxes


def test_classify_crops_and_classifies_every_box(trained):
    photo = Image.fromarray(np.hstack([np.full((300, 300), 30, np.uint8), np.full((300, 300), 220, np.uint8)]))
    found = classify(Classifier(trained), photo, StubDetector([(10, 10, 200, 200), (350, 40, 220, 220)]))
    assert [d.box for d in found] == [(10, 10, 200, 200), (350, 40, 220, 220)]
    assert [int(d.crop.mean()) for d in found] == [30, 220]
    assert all(d.label in d.probabilities and d.crop.shape == (48, 48, 1) for d in found)


def test_classify_a_photo_without_faces_finds_nothing(trained):
    assert classify(Classifier(trained), Image.new("L", (300, 200)), StubDetector([])) == []


def test_drawn_face_is_classified_end_to_end(trained):
    found = classify(Classifier(trained), Image.fromarray(drawn_face(400, 100)))
    assert len(found) == 1 and 150 < found[0].box[2] < 300
