"""Honest hold-outs for feedback: split by group, never by row.

Feedback rows that would leak into each other's slice are put in one group (union-find), and a whole group goes
to one slice: the boxes of one photo; one user's uploads in one session (less than `session_gap_s` apart: a
burst of selfies, frames of one sequence); and one user's near-identical faces (a difference hash of the crop
within `similar_bits` bits). A group's slice follows a hash of its first row's id, so a group keeps its slice
while it does not merge with another. Repeating feedback for training happens after this split, never before.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ml.preprocess import ImageError, open_image

TRAIN, VALIDATION, GATE = "train", "validation", "gate"


@dataclass(frozen=True)
class Row:
    """One labelled feedback crop and what ties it to others: its photo, its user and the upload time."""

    id: int
    photo: int
    user: int
    uploaded_at: datetime
    data: bytes


def difference_hash(data: bytes) -> int | None:
    """A 64-bit difference hash of an image (9x8 grey, brighter-than-right-neighbour bits); None if unreadable."""
    try:
        image = open_image(data).convert("L").resize((9, 8))
    except (ImageError, OSError, ValueError):
        return None
    pixels = np.asarray(image, dtype=np.int16)
    bits = (pixels[:, 1:] > pixels[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


class _Groups:
    def __init__(self, ids):
        self.parent = {i: i for i in ids}

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the smallest id names the group: stable as rows arrive


def groups(rows: list[Row], session_gap_s: float, similar_bits: int) -> dict[int, int]:
    """Each row's group, named by its smallest row id."""
    found = _Groups([r.id for r in rows])
    first_of_photo: dict[int, int] = {}
    by_user: dict[int, list[Row]] = {}
    for row in rows:
        found.join(row.id, first_of_photo.setdefault(row.photo, row.id))
        by_user.setdefault(row.user, []).append(row)
    for mine in by_user.values():
        mine.sort(key=lambda r: (r.uploaded_at, r.id))
        for earlier, later in zip(mine, mine[1:]):
            if (later.uploaded_at - earlier.uploaded_at).total_seconds() < session_gap_s:
                found.join(earlier.id, later.id)
        hashes = [(r.id, h) for r in mine if (h := difference_hash(r.data)) is not None]
        for i, (a, ha) in enumerate(hashes):
            for b, hb in hashes[i + 1:]:
                if (ha ^ hb).bit_count() <= similar_bits:
                    found.join(a, b)
    return {r.id: found.find(r.id) for r in rows}


def slice_of(group: int, gate_percent: int, validation_percent: int) -> str:
    """The slice a group belongs to, fixed by its name: gate, validation or train."""
    bucket = int.from_bytes(hashlib.sha256(f"feedback-group-{group}".encode()).digest()[:4], "big") % 100
    if bucket < gate_percent:
        return GATE
    return VALIDATION if bucket < gate_percent + validation_percent else TRAIN


def split(rows: list[Row], gate_percent: int, validation_percent: int, session_gap_s: float,
          similar_bits: int) -> dict[int, str]:
    """Each row's slice; rows of one group always share it."""
    named = groups(rows, session_gap_s, similar_bits)
    return {row_id: slice_of(group, gate_percent, validation_percent) for row_id, group in named.items()}
