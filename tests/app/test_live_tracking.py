"""Face tracking in live streams: a whole-frame search when no face is known, then cheap searches near known faces."""
from PIL import Image

from app.services.face_tracking import FaceTracker
from ml.faces import default_detector, iou
from scripts.live_video import SLOTS, frames


def test_it_finds_the_same_faces_as_the_detector_and_follows_them():
    video = list(frames(12))
    tracker = FaceTracker(full_every=100)
    first = tracker.find(video[0])
    assert tracker.searched_whole and len(first) == 5
    reference = default_detector().find(video[0])
    for box, same in zip(first, reference):  # both left to right, padded alike, searched at other sizes
        assert iou(box, same) > 0.6
    for frame in video[1:]:
        boxes = tracker.find(frame)
        assert not tracker.searched_whole and len(boxes) == 5


def test_a_newcomer_joins_after_a_background_search_of_the_whole_frame():
    two, five = next(frames(1, faces=2)), next(frames(1, faces=5))
    tracker = FaceTracker(full_every=3)
    assert len(tracker.find(two)) == 2
    for _ in range(2):
        assert len(tracker.find(five)) == 2  # only near the two known faces
    assert len(tracker.find(five)) == 2 and not tracker.searched_whole  # the third frame starts a search...
    tracker.settle(timeout=30)
    assert len(tracker.find(five)) == 5 and not tracker.searched_whole  # ...whose finds join the next frame


def test_a_lost_face_starts_a_whole_frame_search_at_once():
    before = next(frames(1))
    jumped = next(frames(1, slots=SLOTS[:4] + ((480, 310),)))  # the fifth face moved too far to be followed
    tracker = FaceTracker(full_every=100)
    assert len(tracker.find(before)) == 5
    assert len(tracker.find(jumped)) == 4
    tracker.settle(timeout=30)
    assert len(tracker.find(jumped)) == 5


def test_with_no_known_face_every_frame_is_searched_whole():
    empty = Image.new("RGB", (640, 480), "gray")
    tracker = FaceTracker(full_every=25)
    for _ in range(3):
        assert tracker.find(empty) == [] and tracker.searched_whole
    assert len(tracker.find(next(frames(1)))) == 5
