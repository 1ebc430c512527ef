"""Face detection on generated pictures with faces at known places, the face crop, and classifying every face."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from scripts.live_video import portrait

from ml.faces import MODEL, Face, FaceDetector, crop, iou
from ml.serving import Classifier, classify


def drawn_face(size: int, radius: int) -> np.ndarray:
    """A grey cartoon face (oval, brows, eyes, nose, mouth) that the face detector finds."""
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


@pytest.fixture(scope="module")
def known_face(detector):
    """The real portrait and its one face, found at full size."""
    image = portrait()
    (face,) = detector.find(image)
    return image, face


def scene(size: tuple[int, int], placed: list[tuple[int, int, int]], mode: str = "RGB") -> Image.Image:
    """A textured backdrop with the portrait pasted at each (x, y, side)."""
    rng = np.random.default_rng(1)
    backdrop = Image.fromarray(rng.integers(60, 180, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)).resize(size)
    for x, y, side in placed:
        backdrop.paste(portrait().resize((side, side), Image.BICUBIC), (x, y))
    return backdrop.convert(mode)


def expected(known_face, x: int, y: int, side: int) -> tuple[float, ...]:
    """Where the portrait's face lands when the portrait is pasted at (x, y) scaled to `side`."""
    image, face = known_face
    s = side / image.width
    fx, fy, fw, fh = face.box
    return x + fx * s, y + fy * s, fw * s, fh * s


@pytest.mark.parametrize("side", [40, 80, 200, 420])
def test_finds_a_real_face_at_many_sizes_in_a_640_photo(detector, known_face, side):
    # 40 px of portrait is a face of about 20 px: the smallest the detector promises in a 640 px photo.
    found = detector.find(scene((640, 480), [(150, 30, side)]))
    assert len(found) == 1
    assert iou(found[0].box, expected(known_face, 150, 30, side)) > 0.6
    assert 0.5 < found[0].score <= 1 and len(found[0].landmarks) == 5


def test_finds_every_face_of_a_group_left_to_right_in_photo_pixels(detector, known_face):
    # 2400 px wide: the search runs on a 640 px copy and the boxes come back in the photo's own pixels.
    placed = [(100 + i * 460, 300 + (i % 2) * 250, 380) for i in range(5)]
    found = detector.find(scene((2400, 1200), placed))
    assert [f.box[0] for f in found] == sorted(f.box[0] for f in found)
    assert len(found) == 5
    for face, (x, y, side) in zip(found, placed):
        assert iou(face.box, expected(known_face, x, y, side)) > 0.6
        (rx, ry), (lx, ly) = face.landmarks[:2]
        assert x < rx < lx < x + side and y < ry < y + side  # the eyes, in photo pixels


@pytest.mark.parametrize("size", [(2400, 1200), (640, 481), (333, 250)])
def test_the_search_decodes_yunet_as_opencv_does(detector, size):
    # OpenCV's own FaceDetectorYN on the same network and input: our decoding and NMS give its faces, to a pixel
    # (odd sizes exercise the padding to multiples of 32).
    photo = scene(size, [(int(size[0] * f), int(size[1] * 0.2), int(size[1] * 0.6)) for f in (0.05, 0.55)])
    rgb = np.asarray(photo)
    scale = detector.side / max(size)
    small = cv2.resize(rgb, (round(size[0] * scale), round(size[1] * scale)), interpolation=cv2.INTER_AREA
                       if scale < 1 else cv2.INTER_LINEAR)
    opencv = cv2.FaceDetectorYN.create(str(MODEL), "", small.shape[1::-1], detector.score_threshold,
                                       detector.nms_threshold, 5000)
    _, rows = opencv.detect(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    theirs = sorted((tuple(round(v / scale) for v in row[:4]), round(float(row[14]), 2)) for row in rows)
    ours = sorted((face.box, round(face.score, 2)) for face in detector.search(rgb))
    assert len(ours) == len(theirs) == 2
    for (box, score), (their_box, their_score) in zip(ours, theirs):
        assert score == their_score and max(abs(a - b) for a, b in zip(box, their_box)) <= 1


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_any_image_mode(detector, mode):
    assert len(detector.find(scene((640, 480), [(200, 100, 250)], mode))) == 1


def test_a_small_photo_is_searched_enlarged(detector, known_face):
    # A 200 px photo whose face is ~50 px: found on the 640 px copy, reported in the photo's pixels.
    found = detector.find(scene((200, 150), [(40, 20, 100)]))
    assert len(found) == 1 and iou(found[0].box, expected(known_face, 40, 20, 100)) > 0.6


def test_finds_nothing_in_a_plain_or_textured_photo(detector):
    assert detector.find(Image.fromarray(np.full((400, 600), 120, np.uint8))) == []
    assert detector.find(scene((640, 480), [])) == []


def test_a_small_image_is_already_a_face_crop(detector):
    assert detector.find(Image.new("L", (48, 48))) == [Face((0, 0, 48, 48))]


def test_the_crop_is_a_square_on_the_box_with_the_margin():
    image = Image.fromarray(np.arange(400 * 300, dtype=np.uint32).reshape(300, 400).astype(np.uint8))
    face = Face((100, 50, 80, 100))
    assert crop(image, face, margin=0.1).size == (120, 120)
    assert crop(image, face, margin=0.0).size == (100, 100)
    whole = Image.new("L", (48, 48))
    assert crop(whole, Face((0, 0, 48, 48))) is whole  # a face crop already


def test_the_crop_repeats_the_edge_past_the_border():
    image = Image.new("RGB", (100, 100), (200, 10, 10))
    out = np.asarray(crop(image, Face((-20, -20, 60, 60)), margin=0.0))
    assert out.shape == (60, 60, 3) and (out == (200, 10, 10)).all()


def eye_angle(face: Face) -> float:
    """Degrees the line from the right eye to the left eye is turned from level."""
    (rx, ry), (lx, ly) = face.landmarks[:2]
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))


def test_the_crop_turns_a_tilted_face_so_the_eyes_are_level(detector, known_face):
    image, _ = known_face
    tilted_image = image.rotate(25, resample=Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    (tilted,) = detector.find(tilted_image)
    assert abs(eye_angle(tilted)) > 12  # YuNet's eyes on a face turned by 25 degrees

    def angle_in_crop(aligned: bool) -> float:
        (face,) = detector.find(crop(tilted_image, tilted, margin=0.3, align=aligned))
        return eye_angle(face)

    assert abs(angle_in_crop(True)) < abs(angle_in_crop(False)) - 5


def test_the_crop_puts_the_landmarked_eyes_on_one_row():
    # Two bright dots as the eyes, on a line turned by 30 degrees: after the crop they are level.
    image = np.zeros((300, 300), np.uint8)
    right, left = (120.0, 120.0), (120 + 60 * np.cos(np.radians(30)), 120 + 60 * np.sin(np.radians(30)))
    for x, y in (right, left):
        cv2.circle(image, (round(x), round(y)), 4, 255, -1)
    out = np.asarray(crop(Image.fromarray(image), Face((100, 100, 100, 100), 0.9, (right, left)), margin=0.0))
    _, labels, _, centres = cv2.connectedComponentsWithStats((out[..., 0] > 128).astype(np.uint8))
    (x1, y1), (x2, y2) = sorted(map(tuple, centres[1:]))
    assert abs(y1 - y2) < 1.5 and abs(np.hypot(x2 - x1, y2 - y1) - 60) < 2


def test_iou_of_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == 50 / 150
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges share no area


class StubDetector:
    """Stands in for the detector so the crops can be checked face by face."""

    def __init__(self, boxes):
        self.faces = [Face(box) for box in boxes]

    def find(self, image):
        return self.faces


def test_classify_crops_and_classifies_every_face(trained):
    photo = Image.fromarray(np.hstack([np.full((300, 300), 30, np.uint8), np.full((300, 300), 220, np.uint8)]))
    found = classify(Classifier(trained), photo, StubDetector([(50, 50, 200, 200), (350, 40, 200, 220)]))
    assert [d.box for d in found] == [(50, 50, 200, 200), (350, 40, 200, 220)]
    assert [int(d.crop.mean()) for d in found] == [30, 220]
    assert all(d.label in d.probabilities and d.crop.shape == (48, 48, 1) for d in found)


def test_classify_a_photo_without_faces_finds_nothing(trained):
    assert classify(Classifier(trained), Image.new("L", (300, 200)), StubDetector([])) == []


def test_drawn_face_is_classified_end_to_end(trained):
    found = classify(Classifier(trained), Image.fromarray(drawn_face(400, 100)))
    assert len(found) == 1 and 150 < found[0].box[2] < 300


def test_the_faces_command_reports_boxes_in_the_photos_own_pixels_after_exif_orientation(known_face, tmp_path,
                                                                                          capsys):
    import json  # noqa: PLC0415

    from ml.cli import main  # noqa: PLC0415

    upright = scene((640, 480), [(300, 100, 250)])
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone held sideways stores it: 480×640
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": the photo is shown 640×480 again
    stored.save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    capsys.readouterr()
    assert main(["faces", str(tmp_path / "sideways.jpg"), str(tmp_path / "broken.jpg"), "--json"]) == 2
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    report = json.loads(line)
    assert (report["width"], report["height"]) == (640, 480) and "broken.jpg" in err
    (face,) = report["faces"]
    assert iou(face["box"], expected(known_face, 300, 100, 250)) > 0.6
    assert 0.5 < face["score"] <= 1 and len(face["landmarks"]) == 5


def test_evaluate_faces_scores_a_folder_in_the_faces_real_layout(known_face, tmp_path, capsys):
    import json  # noqa: PLC0415

    from ml.cli import main  # noqa: PLC0415

    root = tmp_path / "set"
    (root / "images").mkdir(parents=True)
    scene((640, 480), [(40, 40, 250), (350, 200, 120)]).save(root / "images" / "two.jpg", quality=95)
    scene((640, 480), []).save(root / "images" / "none.jpg", quality=95)
    faces = [expected(known_face, 40, 40, 250), expected(known_face, 350, 200, 120)]
    (root / "images.csv").write_text("image,width,height,faces\ntwo.jpg,640,480,3\nnone.jpg,640,480,0\n")
    rows = [f"two.jpg,{x:.1f},{y:.1f},{w:.1f},{h:.1f},0" for x, y, w, h in faces]
    rows.append("two.jpg,600,10,12,14,1")  # a face marked ignore: neither found nor missed
    (root / "annotations.csv").write_text("image,x,y,w,h,ignore\n" + "\n".join(rows) + "\n")
    capsys.readouterr()
    assert main(["evaluate", "faces", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["photos"] == 2 and report["faces"] == {"all": 2, "40px": 2, "80px": 1}
    assert report["recall_40px_iou0.5"] == 1.0 and report["false_alarms_per_photo"] == 0.0
    assert report["precision_iou0.5"] == 1.0 and report["ms_per_photo_p50"] > 0 and "set" in report["sets"]
