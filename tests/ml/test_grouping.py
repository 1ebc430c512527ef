"""Honest hold-outs: feedback is split by group (photo, upload session, look-alike faces), never by row."""
import hashlib
import io
from datetime import datetime, timedelta

import numpy as np
from PIL import Image

from ml import grouping

START = datetime(2026, 12, 1, 9, 0)


def _png(seed: int, noise: int = 3) -> bytes:
    """A face-like gradient unique to `seed`, with a little noise (two crops of one face differ by noise only)."""
    rng = np.random.default_rng(seed)
    base = np.random.default_rng(seed // 1000).integers(0, 255, (6, 6)).astype(np.float64)
    image = np.kron(base, np.ones((8, 8))) + rng.normal(0, noise, (48, 48))
    out = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def _leaky_rows() -> tuple[list[grouping.Row], list[set[int]]]:
    """Rows that leak under a row split: many boxes of one photo, bursts of uploads, look-alike faces days apart."""
    rows, groups, next_id = [], [], 1
    for g in range(40):
        user, members = g % 7, set()
        kind = g % 3
        for k in range(4):
            when = START + timedelta(days=g * 3 + (k if kind == 2 else 0), seconds=(k * 20 if kind == 1 else 0))
            photo = 10_000 + g if kind == 0 else next_id  # kind 0: four faces on one photo
            seed = (g + 1) * 1000 + k if kind == 2 else next_id * 1000 + 7  # kind 2: one face, days apart
            rows.append(grouping.Row(next_id, photo, user, when, _png(seed)))
            members.add(next_id)
            next_id += 1
        groups.append(members)
    return rows, groups


def _row_split(row_id: int) -> bool:
    # The split the loop used before: by the detection id alone.
    return int.from_bytes(hashlib.sha256(f"feedback-{row_id}".encode()).digest()[:4], "big") % 100 < 20


def test_rows_that_leak_under_a_row_split_stay_together():
    rows, groups = _leaky_rows()
    assert any(len({_row_split(i) for i in members}) > 1 for members in groups)  # the old split leaks
    slices = grouping.split(rows, gate_percent=20, validation_percent=15, session_gap_s=600, similar_bits=6)
    for members in groups:
        assert len({slices[i] for i in members}) == 1, members
    assert {grouping.TRAIN, grouping.GATE} <= set(slices.values())


def test_groups_join_only_what_belongs_together():
    rows, groups = _leaky_rows()
    found = grouping.groups(rows, session_gap_s=600, similar_bits=6)
    assert len(set(found.values())) == len(groups)  # distinct faces of different sessions stay apart
    one = grouping.Row(1, 1, 1, START, _png(5000))
    same_face_other_user = grouping.Row(2, 2, 2, START + timedelta(days=1), _png(5001))
    same_face_same_user = grouping.Row(3, 3, 1, START + timedelta(days=2), _png(5002))
    later_other_face = grouping.Row(4, 4, 1, START + timedelta(days=3), _png(9000))
    found = grouping.groups([one, same_face_other_user, same_face_same_user, later_other_face], 600, 6)
    assert found == {1: 1, 2: 2, 3: 1, 4: 4}


def test_a_group_keeps_its_slice_when_rows_arrive_later():
    rows, _ = _leaky_rows()
    before = grouping.split(rows[:80], 20, 15, 600, 6)
    after = grouping.split(rows, 20, 15, 600, 6)
    assert all(after[i] == s for i, s in before.items())


def test_an_unreadable_crop_still_gets_a_slice():
    rows = [grouping.Row(1, 1, 1, START, b"not an image"), grouping.Row(2, 2, 1, START + timedelta(days=1), b"x")]
    assert set(grouping.split(rows, 20, 15, 600, 6)) == {1, 2}
