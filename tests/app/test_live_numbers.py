"""The number live mode shows: what most of the latest frames read, held through a tie, with how many agreed; and
what a saved digits session says was read when."""
import pytest

from app.models import LiveSession
from app.services.live_numbers import FrameReading, Steady, steady


def _frames(*numbers: str, confidence: float = 0.8) -> list[FrameReading]:
    return [FrameReading(i + 1, number, confidence if number else 0.0) for i, number in enumerate(numbers)]


def test_most_frames_win_and_say_how_many_agreed_and_which_frame_to_keep():
    readings = _frames("126", "12", "126", "", "126", "128", "12")
    assert steady(readings) == Steady("126", pytest.approx(0.8), 3, 7, 5)


def test_the_confidence_is_the_mean_of_the_agreeing_frames():
    readings = [FrameReading(1, "35", 0.9), FrameReading(2, "36", 0.99), FrameReading(3, "35", 0.5)]
    assert steady(readings).confidence == pytest.approx(0.7)


def test_frames_without_a_number_vote_for_none():
    shown = steady(_frames("126", "", "", "126", ""))
    assert (shown.number, shown.confidence, shown.agree, shown.of, shown.frame) == ("", 0.0, 3, 5, None)


def test_a_tie_keeps_what_is_shown_else_goes_to_the_latest():
    readings = _frames("126", "128", "128", "126")
    assert steady(readings, previous="128").number == "128"
    assert steady(readings, previous="126").number == "126"
    assert steady(readings).number == "126"  # nothing shown before: the one read last
    assert steady(readings, previous="35").number == "126"  # what is shown has lost


def test_no_frames_show_nothing():
    assert steady([]) == Steady("", 0.0, 0, 0, None)


def test_a_saved_session_lists_each_stretch_of_buckets_that_showed_a_number():
    buckets = [{"t": 0, "counts": {"126": 3}}, {"t": 5, "counts": {"126": 2, "12": 1}}, {"t": 10, "counts": {}},
               {"t": 20, "counts": {"126": 4}}]  # nothing read in 10-15 s, no frames at all in 15-20 s
    session = LiveSession(recognizer="digits", bucket_s=5, buckets=buckets)
    assert session.reads_numbers and not LiveSession(recognizer="emotion7").reads_numbers
    assert session.numbers == [{"number": "126", "from_s": 0, "to_s": 10, "frames": 5},
                               {"number": "12", "from_s": 5, "to_s": 10, "frames": 1},
                               {"number": "126", "from_s": 20, "to_s": 25, "frames": 4}]
