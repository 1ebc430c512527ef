"""The live socket: JPEG frames in as binary messages, one JSON reply per frame; commands as JSON text.

Client to server:
  binary                                   a frame (JPEG or PNG); frames queued behind a slow frame are dropped
  {"type": "review", "frame": n, "face": i}  keep face i (0-based) of frame n for the review queue (signed in)
  {"type": "review", "frame": n}            digits: keep frame n with its number's digits for the review queue
  {"type": "snapshots", "on": true|false}   keep one snapshot per bucket for the saved session (opt-in)
  {"type": "save"}                          save or update this stream's session summary (signed in)
Server to client:
  {"type": "ready", "thing": "face"|"digit", ...}  {"type": "result", "frame": n, "faces": [...], "bucket": {...}, ...}
  digits: "digits": [...] instead of "faces", with this frame's "number" and "confidence", and "steady": the number
  most recent frames read ({"number", "confidence", "agree", "of", "frame"}), the one to show
  {"type": "reviewed", ...}  {"type": "snapshots", ...}  {"type": "saved", ...}
  {"type": "error", "message": "...", "frame": n (for a refused frame), "fatal": true (then it closes)}
"""
from __future__ import annotations

import json
import logging

from flask import current_app, request, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.live import bp, capacity, sock
from app.models import User
from app.services import classification, live, live_sessions, predictions
from ml.recognizers import RECOGNIZERS

log = logging.getLogger(__name__)
COMMANDS = ("review", "snapshots", "save")
BUSY = "The database is busy; try again in a moment."


class CommandError(ValueError):
    """A command that cannot be done; the message is safe to show."""


@sock.route("/ws", bp=bp, endpoint="stream")
def stream(ws):
    """One camera connection, from the handshake until either side closes."""
    try:
        recognizer = live.parse_recognizer(request.args.get("recognizer"))
        version = classification.model_for(recognizer).version
        user_id = current_user.id if current_user.is_authenticated else None
    except (live.FrameError, classification.ModelUnavailable) as exc:
        ws.send(_json({"type": "error", "message": str(exc), "fatal": True}))
        return
    except OperationalError as exc:
        log.warning("live stream not started: %s", exc.orig)
        ws.send(_json({"type": "error", "message": BUSY, "fatal": True}))
        return
    client = f"user:{user_id}" if user_id is not None else f"address:{request.remote_addr}"
    slots = current_app.extensions["live_slots"]
    refusal = _refusal() or slots.take(client, user_id is None, capacity.Bounds.from_config(current_app.config))
    db.session.remove()  # a socket lives for minutes: hold no database connection between messages
    if refusal:
        ws.send(_json({"type": "error", "message": refusal, "fatal": True}))  # the thread is free again at once
        return
    try:
        _serve(ws, recognizer, version, user_id)
    finally:
        slots.give_back(client)


def _refusal() -> str | None:
    # A worker without threads would spend its only thread on the socket and be killed at its timeout.
    if not request.environ.get("wsgi.multithread"):
        return "Live mode needs the web server to run with threads (gunicorn --threads); it is off here."
    return None


def _serve(ws, recognizer: str, version: str, user_id: int | None) -> None:
    state = live.Stream(recognizer, live.Limits.from_config(current_app.config))
    ws.send(_json({"type": "ready", "recognizer": recognizer, "classes": list(RECOGNIZERS[recognizer].classes),
                   "thing": RECOGNIZERS[recognizer].thing, "number_frames": state.limits.number_frames,
                   "model_version": version, "bucket_s": state.limits.bucket_s,
                   "max_frame_bytes": state.limits.max_frame_bytes, "signed_in": user_id is not None}))
    idle_s = current_app.config["LIVE_IDLE_S"]
    while True:
        message = ws.receive(timeout=idle_s)
        if message is None:  # nothing for idle_s: give the thread back
            ws.send(_json({"type": "error", "message": f"Closed after {idle_s} s without a frame; press Start to "
                                                       f"go on.", "fatal": True}))
            return
        frame, dropped, commands = _newest(ws, message)
        replies = [_frame_reply(state, frame, dropped)] if frame is not None else []
        replies += [_command_reply(state, user_id, text) for text in commands]
        for reply in replies:
            ws.send(_json(reply))
        db.session.remove()


def _newest(ws, message) -> tuple[bytes | None, int, list[str]]:
    """The newest frame already waiting, how many older ones it replaces, and the commands among them.

    Frames pile up only when a client sends faster than the server answers; classifying the stale
    ones would only add latency, so they are skipped. Commands are all kept, in order.
    """
    frame, dropped, commands = None, 0, []
    while message is not None:
        if isinstance(message, str):
            commands.append(message)
        else:
            dropped += frame is not None
            frame = bytes(message)
        message = ws.receive(timeout=0)
    return frame, dropped, commands


def _frame_reply(state: live.Stream, data: bytes, dropped: int) -> dict:
    try:
        frame = state.process(data)
    except (live.FrameError, classification.ModelUnavailable) as exc:
        return {"type": "error", "frame": state.frames_seen, "message": str(exc)}
    except Exception:  # noqa: BLE001 - one bad frame must not end a session; the traceback is logged
        log.exception("live frame %s failed", state.frames_seen)
        return {"type": "error", "frame": state.frames_seen, "message": "That frame could not be classified."}
    found = [{"box": list(d.box), "label": d.label, "confidence": round(d.confidence, 4)}
             for d in frame.detections]
    reply = {"type": "result", "frame": frame.number, "width": frame.image.width, "height": frame.image.height,
             "ms": frame.duration_ms, "model_version": frame.model_version, "dropped": dropped,
             "bucket": frame.bucket.as_dict()}
    if frame.steady is None:
        return {**reply, "faces": found}
    read = live.reading(frame.number, frame.detections)
    return {**reply, "digits": found, "number": read.number, "confidence": round(read.confidence, 4),
            "steady": frame.steady.as_dict()}


def _command_reply(state: live.Stream, user_id: int | None, text: str) -> dict:
    try:
        command = _parse(text)
        if command["type"] == "snapshots":
            state.keep_snapshots = command.get("on") is True
            return {"type": "snapshots", "on": state.keep_snapshots, "kept": len(state.snapshots),
                    "max": state.limits.max_snapshots}
        user = _signed_in(user_id, command["type"], state.digits)
        if command["type"] == "review":
            return _review(user, state, command)
        saved = live_sessions.save(user, state)
        return {"type": "saved", "session_id": saved.id, "frames": saved.frames, "snapshots": len(saved.frame_keys),
                "url": url_for("live.session", session_id=saved.id)}
    except (CommandError, live.FrameError, predictions.StorageUnavailable) as exc:
        return {"type": "error", "message": str(exc)}
    except OperationalError as exc:  # SQLite locked by a writer, or the database gone for a moment
        db.session.rollback()
        log.warning("live command not done: %s", exc.orig)
        return {"type": "error", "message": BUSY}
    except Exception:  # noqa: BLE001 - as for frames: report, log, keep the session going
        db.session.rollback()
        log.exception("live command failed: %.200s", text)
        return {"type": "error", "message": "That request failed on our side; it has been logged."}


def _review(user: User, state: live.Stream, command: dict) -> dict:
    frame, face = command.get("frame"), command.get("face")
    if state.digits and not (_is_int(frame) and face is None):
        raise CommandError('A number\'s review names its frame: {"type": "review", "frame": 3}.')
    if not state.digits and not (_is_int(frame) and _is_int(face)):
        raise CommandError('A review names a frame and a face: {"type": "review", "frame": 3, "face": 0}.')
    prediction = live.send_to_review(user, state, frame, face)
    reply = {"type": "reviewed", "frame": frame, "prediction_id": prediction.id,
             "url": url_for("classify.result", prediction_id=prediction.id)}
    if state.digits:
        return {**reply, "number": prediction.results[0].number}
    return {**reply, "face": face, "label": prediction.detections[0].label}


def _parse(text: str) -> dict:
    try:
        command = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the decoder goes
        command = None
    if not isinstance(command, dict) or command.get("type") not in COMMANDS:
        raise CommandError(f"Send frames as binary messages, and commands as JSON objects whose type is one of "
                           f"{', '.join(COMMANDS)}.")
    return command


def _signed_in(user_id: int | None, action: str, digits: bool) -> User:
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        verb = f"send {'numbers' if digits else 'faces'} to review" if action == "review" else "save a session"
        raise CommandError(f"Sign in to {verb}.")
    return user


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))
