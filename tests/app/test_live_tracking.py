"""Face tracking in live streams: whole-frame searches when needed, cheap searches near known faces in between."""
from PIL import Image

from app.services.face_tracking import FaceTracker
from ml.faces import default_detector
from scripts.live_video import frames


def test_it_finds_the_same_faces_as_the_detector_and_follows_them():
    video = list(frames(12))
    tracker = FaceTracker(full_every=100)
    first = tracker.find(video[0])
    assert tracker.last_was_full and len(first) == 5
    reference = default_detector().find(video[0])
    for (x, y, w, h), (rx, ry, rw, rh) in zip(first, reference):  # both left to right, padded alike
        assert abs(x - rx) <= 12 and abs(y - ry) <= 12 and abs(w - rw) <= 16
    for frame in video[1:]:
        boxes = tracker.find(frame)
        assert not tracker.last_was_full and len(boxes) == 5


def test_a_newcomer_is_found_at_the_next_whole_frame_search():
    two, five = next(frames(1, faces=2)), next(frames(1, faces=5))
    tracker = FaceTracker(full_every=3)
    assert len(tracker.find(two)) == 2
    for _ in range(2):
        assert len(tracker.find(five)) == 2 and not tracker.last_was_full  # only near the two known faces
    assert len(tracker.find(five)) == 5 and tracker.last_was_full  # the third frame after a whole search


def test_with_no_known_face_every_frame_is_searched_whole():
    empty = Image.new("RGB", (640, 480), "gray")
    tracker = FaceTracker(full_every=25)
    for _ in range(3):
        assert tracker.find(empty) == [] and tracker.last_was_full
    assert len(tracker.find(next(frames(1)))) == 5
