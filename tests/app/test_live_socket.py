"""The live socket's protocol over a real WebSocket: frames in, detections and mood out, bad input answered."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from simple_websocket import ConnectionClosed, ConnectionError as RefusedError
from sqlalchemy.exc import OperationalError

from app.live import DEFAULTS
from app.services import classification
from live_support import TIMEOUT_S, blank_frame, five_faces, live_socket, number_frame, served  # noqa: F401
from ml.recognizers import get

EMOTION7 = get("emotion7")


@pytest.fixture
def app_settings(app_settings):
    """Buckets long enough that every frame of a test lands in the first one."""
    return {**app_settings, "LIVE_BUCKET_S": 600}


def test_ready_names_the_model_and_a_frame_gets_every_face(live_socket, five_faces):
    with live_socket(ready=False) as ws:
        ready = ws.reply()
        assert ready["type"] == "ready" and ready["recognizer"] == "emotion7"
        assert ready["classes"] == list(EMOTION7.classes) and ready["model_version"]
        assert ready["signed_in"] is False and ready["bucket_s"] == 600

        first = ws.ask(five_faces)
        assert first["type"] == "result" and first["frame"] == 1
        assert (first["width"], first["height"]) == (640, 480)
        assert len(first["faces"]) == 5
        for face in first["faces"]:
            x, y, w, h = face["box"]
            assert 0 <= x < 640 and 0 <= y < 480 and 60 <= w <= 150 and 60 <= h <= 150
            assert face["label"] in EMOTION7.classes and 0 < face["confidence"] <= 1
        assert first["bucket"] == {"t": 0, "frames": 1, "faces": 5, "peak": 5,
                                   "counts": _counts(first["faces"])}

        second = ws.ask(five_faces)
        assert second["frame"] == 2 and len(second["faces"]) == 5
        assert second["bucket"]["frames"] == 2 and second["bucket"]["faces"] == 10


def test_emotion4_is_chosen_by_query(live_socket, five_faces):
    with live_socket("?recognizer=emotion4", ready=False) as ws:
        assert ws.reply()["classes"] == list(get("emotion4").classes)
        assert {f["label"] for f in ws.ask(five_faces)["faces"]} <= set(get("emotion4").classes)


@pytest.mark.parametrize("query", ["?recognizer=nope", "?recognizer=digits%20or%20faces"])
def test_an_unknown_recognizer_is_refused_and_the_socket_closes(live_socket, query):
    with live_socket(query, ready=False) as ws:
        error = ws.reply()
        assert error["type"] == "error" and error["fatal"] is True
        assert error["message"].startswith("Live mode works with emotion7, emotion4, digits, not ")
        with pytest.raises(ConnectionClosed):
            ws.client.receive(timeout=TIMEOUT_S)


def _inside(box, truth) -> bool:
    x, y = box[0] + box[2] / 2, box[1] + box[3] / 2
    return truth[0] <= x <= truth[0] + truth[2] and truth[1] <= y <= truth[1] + truth[3]


def test_digits_read_every_digit_of_a_frame_and_show_the_number_most_frames_read(live_socket, number_frame,
                                                                                   blank_frame):
    frame, truth = number_frame
    with live_socket("?recognizer=digits", ready=False) as ws:
        ready = ws.reply()
        assert ready["recognizer"] == "digits" and ready["thing"] == "digit" and ready["number_frames"] == 7
        read = ws.ask(frame)
        assert read["type"] == "result" and "faces" not in read and (read["width"], read["height"]) == (640, 480)
        assert len(read["digits"]) == 3 and all(_inside(d["box"], t) for d, t in zip(read["digits"], truth))
        assert read["number"] == "".join(d["label"] for d in read["digits"])
        assert 0 < read["confidence"] <= 1
        assert read["steady"] == {"number": read["number"], "confidence": read["confidence"], "agree": 1, "of": 1,
                                  "frame": 1}

        gone = ws.ask(blank_frame)  # one frame without it: a tie, and the number shown holds
        assert gone["digits"] == [] and gone["number"] == "" and gone["confidence"] == 0
        assert gone["steady"] == {**read["steady"], "of": 2}
        assert ws.ask(blank_frame)["steady"] == {"number": "", "confidence": 0, "agree": 2, "of": 3, "frame": None}
        # The mood counts the number shown as the frame's label, so a saved session knows what was read when.
        assert ws.ask(frame)["bucket"] == {"t": 0, "frames": 4, "faces": 2, "peak": 1,
                                           "counts": {read["number"]: 2}}


def test_frames_sent_faster_than_answered_are_dropped_not_queued(live_socket, five_faces):
    sent = 8
    with live_socket() as ws:
        for _ in range(sent):
            ws.client.send(five_faces)
        answered = []
        while sum(1 + r["dropped"] for r in answered) < sent:
            answered.append(ws.reply())
    assert all(r["type"] == "result" for r in answered)
    assert len(answered) < sent  # the burst arrived while the first frame was being classified
    assert [r["frame"] for r in answered] == list(range(1, len(answered) + 1))


def _counts(faces: list[dict]) -> dict:
    counts = {}
    for face in faces:
        counts[face["label"]] = counts.get(face["label"], 0) + 1
    return counts


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "gray").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("frame, message", [
    (b"these are not pixels", "not an image we can read"),
    (b"", "The file is empty"),
    (_png((2000, 1100)), "too many pixels"),
])
def test_a_bad_frame_gets_a_readable_error_and_the_stream_goes_on(live_socket, five_faces, frame, message):
    with live_socket() as ws:
        error = ws.ask(frame)
        assert error == {"type": "error", "frame": 1, "message": error["message"]}
        assert message in error["message"]
        assert ws.ask(five_faces)["frame"] == 2


def test_a_truncated_frame_is_refused(live_socket, five_faces):
    with live_socket() as ws:
        error = ws.ask(five_faces[: len(five_faces) // 2])
        assert error["type"] == "error" and "damaged or cut short" in error["message"] and "not processed" not in error["message"]


def test_an_oversized_frame_gets_an_error_and_a_huge_message_closes_the_socket(live_socket, five_faces):
    limit = DEFAULTS["LIVE_MAX_FRAME_BYTES"]
    with live_socket() as ws:
        error = ws.ask(five_faces + b"\0" * limit)
        assert error["type"] == "error" and "too large" in error["message"] and "1024 KB" in error["message"]
        assert ws.ask(five_faces)["type"] == "result"
        ws.client.send(b"\0" * (4 * limit + 1))  # beyond what the server reads at all: 1009, message too big
        with pytest.raises(ConnectionClosed) as closed:
            ws.client.receive(timeout=TIMEOUT_S)
        assert closed.value.reason == 1009


@pytest.mark.parametrize("text", ["hello", "[1, 2]", json.dumps({"type": "dance"}), json.dumps({"frame": 1}),
                                  "\x00\xff", "{" * 10_000, "[" * 100_000])
def test_garbage_commands_get_an_error_listing_what_is_understood(live_socket, five_faces, text):
    with live_socket() as ws:
        ws.client.send(text)
        error = ws.reply()
        assert error["type"] == "error" and "review, snapshots, save" in error["message"]
        assert ws.ask(five_faces)["type"] == "result"


def test_another_sites_page_cannot_open_the_socket(live_socket):
    with pytest.raises(RefusedError) as refused:
        with live_socket(origin="http://evil.example"):
            pass
    assert str(refused.value) == "Connection error: 403"
    # simple_websocket's client sends Host without the port; a page of that host is the site's own.
    with live_socket(origin="http://127.0.0.1") as ws:
        assert ws.client.connected


def test_a_plain_request_to_the_socket_is_a_client_error(client):
    response = client.get("/live/ws")
    assert response.status_code == 400


def test_anonymous_users_can_neither_save_nor_send_to_review(live_socket, five_faces, number_frame):
    with live_socket() as ws:
        result = ws.ask(five_faces)
        review = ws.ask({"type": "review", "frame": result["frame"], "face": 0})
        assert review == {"type": "error", "message": "Sign in to send faces to review."}
        assert ws.ask({"type": "save"}) == {"type": "error", "message": "Sign in to save a session."}
    with live_socket("?recognizer=digits") as ws:
        result = ws.ask(number_frame[0])
        review = ws.ask({"type": "review", "frame": result["frame"]})
        assert review == {"type": "error", "message": "Sign in to send numbers to review."}



def test_a_busy_database_at_the_start_is_a_readable_fatal_error(live_socket, monkeypatch):
    def locked(_name):
        raise OperationalError("SELECT model_versions", {}, Exception("database is locked"))

    monkeypatch.setattr("app.services.classification.model_for", locked)
    with live_socket(ready=False) as ws:
        assert ws.reply() == {"type": "error", "message": "The database is busy; try again in a moment.", "fatal": True}
        with pytest.raises(ConnectionClosed):
            ws.client.receive(timeout=TIMEOUT_S)


@pytest.mark.parametrize("second_look", [False, True])
def test_live_frames_are_read_without_the_second_look_unless_configured(app, live_socket, number_frame,
                                                                        monkeypatch, second_look):
    assert app.config["LIVE_SECOND_LOOK"] is False  # the default
    app.config["LIVE_SECOND_LOOK"] = second_look  # read when a stream starts
    looks, reader_for = [], classification.reader_for
    monkeypatch.setattr(classification, "reader_for",
                        lambda model, look=True: looks.append(look) or reader_for(model, look))
    with live_socket("?recognizer=digits") as ws:
        assert len(ws.ask(number_frame[0])["digits"]) == 3
    assert looks == [second_look]
