"""Saved live sessions: save or update a stream's mood summary (and opted-in snapshots), list, find, delete."""
from __future__ import annotations

import logging

from sqlalchemy import select

from app import storage
from app.extensions import db
from app.models import LiveSession, User
from app.services.live import FrameError, Stream
from app.services.predictions import StorageUnavailable
from app.storage import StorageError

log = logging.getLogger(__name__)


def snapshot_key(user_id: int, session_id: int, t: int) -> str:
    """Where the snapshot taken `t` seconds into a saved session is stored."""
    return f"live/{user_id}/{session_id}/{t:06d}.jpg"


def save(user: User, stream: Stream) -> LiveSession:
    """Save the stream's summary as a new session, or update the one this stream saved before.

    Snapshots are stored only if the user opted in; StorageUnavailable keeps the previous state.
    """
    if stream.mood.frames == 0:
        raise FrameError("Nothing to save yet: no frame has been classified.")
    session = owned(user, stream.session_id) if stream.session_id else None
    if session is None:
        session = LiveSession(user=user, frame_keys=[])
        db.session.add(session)
    session.started_at, session.ended_at = stream.started_at, stream.last_at
    session.recognizer = stream.recognizer
    session.model_version = ", ".join(stream.model_versions)[:64]
    session.bucket_s = stream.mood.bucket_s
    session.frames, session.faces, session.peak_faces = stream.mood.frames, stream.mood.faces, stream.mood.peak
    session.counts = dict(stream.mood.counts)
    session.buckets = stream.mood.buckets()
    db.session.flush()  # the id names the stored snapshots
    written = []
    try:
        for t, jpeg in sorted(stream.snapshots.items()):
            key = snapshot_key(user.id, session.id, t)
            if key not in session.frame_keys:
                storage.current().put(key, jpeg)
                written.append(key)
    except StorageError as exc:
        db.session.rollback()
        _delete_keys(written)
        log.warning("live session not saved: %s", exc)
        raise StorageUnavailable("Storage is unavailable, so the session was not saved. Try again later.") from None
    session.frame_keys = session.frame_keys + written  # a new list, so the JSON column sees the change
    db.session.commit()
    stream.session_id = session.id
    return session


def owned(user: User, session_id: int) -> LiveSession | None:
    """The user's saved session with this id; None for other users' sessions too."""
    return db.session.scalar(select(LiveSession).where(LiveSession.id == session_id,
                                                       LiveSession.user_id == user.id))


def recent(user: User, page: int, per_page: int):
    """The user's saved sessions, newest first, one page of them."""
    query = (select(LiveSession).where(LiveSession.user_id == user.id)
             .order_by(LiveSession.created_at.desc(), LiveSession.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def delete(session: LiveSession) -> None:
    """Delete the stored snapshots first, then the row; StorageUnavailable keeps everything."""
    try:
        for key in session.frame_keys:
            storage.current().delete(key)
    except StorageError as exc:
        log.warning("live session %s not deleted: %s", session.id, exc)
        raise StorageUnavailable("Storage is unavailable, so nothing was deleted. Try again later.") from None
    db.session.delete(session)
    db.session.commit()


def delete_all(user: User) -> int:
    """Delete every saved session of `user` with its snapshots; how many there were."""
    owned = list(db.session.scalars(select(LiveSession).where(LiveSession.user_id == user.id)))
    for session in owned:
        delete(session)
    return len(owned)


def _delete_keys(keys: list[str]) -> None:
    for key in keys:
        try:
            storage.current().delete(key)
        except StorageError as exc:
            log.warning("could not remove %s after a failed save: %s", key, exc)
