"""The running mood: faces per label in buckets of a few seconds, gaps left out, only the latest buckets kept."""
from app.services.mood import Mood


def test_frames_fall_into_buckets_by_time_and_totals_add_up():
    mood = Mood(bucket_s=5, max_buckets=10)
    mood.add(0.0, ["happy", "sad"])
    mood.add(4.99, ["happy"])
    last = mood.add(5.0, [])
    mood.add(17.2, ["fear", "happy", "happy"])
    assert last.as_dict() == {"t": 5, "frames": 1, "faces": 0, "peak": 0, "counts": {}}
    assert mood.buckets() == [
        {"t": 0, "frames": 2, "faces": 3, "peak": 2, "counts": {"happy": 2, "sad": 1}},
        {"t": 5, "frames": 1, "faces": 0, "peak": 0, "counts": {}},
        {"t": 15, "frames": 1, "faces": 3, "peak": 3, "counts": {"fear": 1, "happy": 2}},  # no bucket for 10-15 s
    ]
    assert (mood.frames, mood.faces, mood.peak) == (4, 6, 3)
    assert mood.counts == {"happy": 4, "sad": 1, "fear": 1}


def test_only_the_latest_buckets_are_kept_but_totals_cover_the_whole_session():
    mood = Mood(bucket_s=1, max_buckets=3)
    for second in range(5):
        mood.add(second, ["neutral"])
    assert [b["t"] for b in mood.buckets()] == [2, 3, 4]
    assert mood.frames == 5 and mood.counts == {"neutral": 5}
