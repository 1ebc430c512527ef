"""Live mode for signed-in users: one face to the review queue, saved session summaries, snapshots only by opt-in."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import LiveSession, Prediction, Status
from app.services import classification, review
from app.storage import StorageError
from live_support import blank_frame, five_faces, live_socket, number_frame, served  # noqa: F401 - fixtures


@pytest.fixture
def app_settings(app_settings):
    """Buckets long enough that every frame of a test lands in the first one."""
    return {**app_settings, "LIVE_BUCKET_S": 600}


def test_one_face_goes_to_the_review_queue_and_takes_the_normal_feedback_path(app, login, live_socket, five_faces):
    client = login()
    with live_socket(signed_in=True) as ws:
        result = ws.ask(five_faces)
        face = result["faces"][2]
        reviewed = ws.ask({"type": "review", "frame": result["frame"], "face": 2})
    assert reviewed["type"] == "reviewed" and reviewed["face"] == 2 and reviewed["label"] == face["label"]
    assert reviewed["url"].endswith(f"/predictions/{reviewed['prediction_id']}")
    with app.app_context():
        prediction = db.session.get(Prediction, reviewed["prediction_id"])
        assert (prediction.width, prediction.height) == (640, 480) and prediction.photo_key
        [detection] = prediction.detections
        assert detection.box == tuple(face["box"]) and detection.label == face["label"]
        assert detection.status == Status.UNREVIEWED and detection.crop_key.startswith("inbox/emotion7/")
        assert [d.id for d in review.queue("emotion7", limit=10)] == [detection.id]
        detection_id = detection.id
    other = next(label for label in ("happy", "sad") if label != face["label"])

    page = client.get(reviewed["url"])
    assert page.status_code == 200 and b'data-test="box-1"' in page.data
    assert client.post(f"/detections/{detection_id}/feedback", data={"label": other}).status_code == 302
    with app.app_context():
        corrected = db.session.get(Prediction, reviewed["prediction_id"]).detections[0]
        assert corrected.status == Status.CORRECTED and corrected.label == other
        assert corrected.crop_key == f"crops/emotion7/{other}/{detection_id}.png"
        assert review.queue("emotion7") == []


def test_a_face_of_an_earlier_frame_can_be_sent_until_it_is_forgotten(app, login, live_socket, five_faces):
    login()
    with live_socket(signed_in=True) as ws:
        first = ws.ask(five_faces)["frame"]
        for _ in range(8):  # LIVE_RECENT_FRAMES: the first frame is still kept after seven more
            ws.ask(five_faces)
        gone = ws.ask({"type": "review", "frame": first, "face": 0})
        assert gone["type"] == "error" and "no longer kept" in gone["message"]
        assert ws.ask({"type": "review", "frame": first + 1, "face": 4})["type"] == "reviewed"
        twice = ws.ask({"type": "review", "frame": first + 1, "face": 4})  # a double click keeps one record
        assert twice == {"type": "error", "message": f"Face #5 of frame {first + 1} is already in the review queue."}
        missing = ws.ask({"type": "review", "frame": first + 1, "face": 5})
        assert missing == {"type": "error", "message": f"Frame {first + 1} has no face #6."}
        for bad in ({"type": "review"}, {"type": "review", "frame": "1", "face": 0},
                    {"type": "review", "frame": first + 1, "face": True}):
            assert "names a frame and a face" in ws.ask(bad)["message"]
    with app.app_context():
        assert db.session.query(Prediction).count() == 1


def test_the_number_shown_goes_to_review_with_every_digit_and_is_confirmed_whole(app, login, live_socket,
                                                                                 number_frame, blank_frame):
    client = login()
    with live_socket("?recognizer=digits", signed_in=True) as ws:
        read = ws.ask(number_frame[0])
        shown = ws.ask(blank_frame)["steady"]  # the number is still shown: it is sent with the frame that read it
        assert (shown["number"], shown["frame"]) == (read["number"], read["frame"])
        reviewed = ws.ask({"type": "review", "frame": shown["frame"]})
    assert reviewed == {"type": "reviewed", "frame": read["frame"], "number": read["number"],
                        "prediction_id": reviewed["prediction_id"], "url": reviewed["url"]}
    with app.app_context():
        prediction = db.session.get(Prediction, reviewed["prediction_id"])
        [result] = prediction.results
        assert (prediction.width, prediction.height) == (640, 480) and prediction.photo_key
        assert result.recognizer == "digits" and result.number == result.read_number == read["number"]
        assert [d.box for d in result.in_reading_order] == [tuple(d["box"]) for d in read["digits"]]
        assert all(d.status == Status.UNREVIEWED and d.crop_key.startswith("inbox/digits/") for d in result.detections)
        assert len(review.queue("digits", limit=10)) == 3

    page = client.get(reviewed["url"]).get_data(as_text=True)
    assert f'data-test="number">{read["number"]}<' in page and 'data-test="confirm-number"' in page
    confirmed = client.post(f"/predictions/{reviewed['prediction_id']}/number", data={"number": read["number"]})
    assert confirmed.status_code == 302
    with app.app_context():
        assert {d.status for d in db.session.get(Prediction, reviewed["prediction_id"]).detections} == {Status.CONFIRMED}
        assert review.queue("digits") == []


def test_a_number_is_sent_once_per_frame_and_only_from_a_frame_that_read_one(app, login, live_socket, number_frame,
                                                                             blank_frame):
    login()
    with live_socket("?recognizer=digits", signed_in=True) as ws:
        read = ws.ask(number_frame[0])["frame"]
        blank = ws.ask(blank_frame)["frame"]
        for bad in ({"type": "review"}, {"type": "review", "frame": read, "face": 0},
                    {"type": "review", "frame": True}):
            assert "A number's review names its frame" in ws.ask(bad)["message"]
        assert ws.ask({"type": "review", "frame": blank}) == {"type": "error",
                                                              "message": f"Frame {blank} read no number."}
        assert ws.ask({"type": "review", "frame": read})["type"] == "reviewed"
        assert ws.ask({"type": "review", "frame": read}) == {
            "type": "error", "message": f"The number of frame {read} is already in the review queue."}
        gone = ws.ask({"type": "review", "frame": 99})
        assert gone == {"type": "error", "message": "Frame 99 is no longer kept; send the number shown now."}
    with app.app_context():
        assert db.session.query(Prediction).count() == 1


def test_a_saved_digits_session_lists_the_numbers_read_and_has_no_mood_chart(app, login, live_socket, number_frame,
                                                                            blank_frame):
    client = login()
    with live_socket("?recognizer=digits", signed_in=True) as ws:
        number = ws.ask(number_frame[0])["number"]
        for frame in (number_frame[0], blank_frame, blank_frame, blank_frame):
            ws.ask(frame)
        saved = ws.ask({"type": "save"})
    assert saved["frames"] == 5
    with app.app_context():
        session = db.session.get(LiveSession, saved["session_id"])
        # Two frames with the number, three without: the fourth frame ties and still shows it.
        assert session.reads_numbers and session.counts == {number: 4}
        assert session.numbers == [{"number": number, "from_s": 0, "to_s": 600, "frames": 4}]
        assert (session.frames, session.faces, session.peak_faces) == (5, 4, 1)

    page = client.get(saved["url"]).get_data(as_text=True)
    assert 'data-test="session-number"><td><strong>' + number + "</strong>" in page
    assert "0:00–0:00" in page and 'data-test="session-number-frames">4<' in page
    assert "data-series=" not in page and "Room mood" not in page and "Expressions" not in page
    listing = client.get("/live/sessions").get_data(as_text=True)
    assert f'data-test="session-top">read {number}</span>' in listing and "faces" not in listing.split("history-list")[1]


def test_saving_keeps_the_mood_summary_and_never_a_frame(app, login, live_socket, five_faces, stored):
    client = login()
    with live_socket(signed_in=True) as ws:
        assert ws.ask({"type": "save"}) == {"type": "error",
                                            "message": "Nothing to save yet: no frame has been classified."}
        faces = [ws.ask(five_faces)["faces"] for _ in range(3)]
        saved = ws.ask({"type": "save"})
        assert saved["type"] == "saved" and saved["frames"] == 3 and saved["snapshots"] == 0
        ws.ask(five_faces)
        again = ws.ask({"type": "save"})
    assert again["session_id"] == saved["session_id"] and again["frames"] == 4  # the same session, updated
    assert stored() == []
    with app.app_context():
        session = db.session.get(LiveSession, saved["session_id"])
        assert (session.frames, session.faces, session.peak_faces) == (4, 20, 5)
        expected = {}
        for label in [f["label"] for frame in faces for f in frame] + [f["label"] for f in faces[0]]:
            expected[label] = expected.get(label, 0) + 1
        assert session.counts == expected
        assert session.buckets == [{"t": 0, "frames": 4, "faces": 20, "peak": 5, "counts": expected}]
        assert session.frame_keys == [] and session.recognizer == "emotion7" and session.bucket_s == 600

    page = client.get(again["url"])
    assert page.status_code == 200 and b'data-test="snapshot"' not in page.data
    assert b"data-series=" in page.data
    history = client.get("/history")
    assert f'data-session-id="{saved["session_id"]}"'.encode() in history.data
    listing = client.get("/live/sessions")
    assert b"1 saved session" in listing.data


def test_opted_in_snapshots_are_stored_shown_and_deleted_with_the_session(app, login, live_socket, five_faces,
                                                                          stored):
    client = login()
    with live_socket(signed_in=True) as ws:
        ws.ask(five_faces)  # before opting in: not kept
        assert ws.ask({"type": "snapshots", "on": True}) == {"type": "snapshots", "on": True, "kept": 0, "max": 120}
        ws.ask(five_faces)
        ws.ask(five_faces)  # the same bucket: one snapshot per bucket
        saved = ws.ask({"type": "save"})
    assert saved["snapshots"] == 1
    [key] = stored()
    assert key == f"live/{_user_id(app)}/{saved['session_id']}/000000.jpg"

    snapshot = client.get(f"/live/sessions/{saved['session_id']}/snapshots/0")
    assert snapshot.status_code == 200 and snapshot.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(snapshot.data))
    assert image.size == (640, 480) and not image.getexif()
    assert client.get(f"/live/sessions/{saved['session_id']}/snapshots/1").status_code == 404
    assert b'data-test="snapshot"' in client.get(saved["url"]).data

    response = client.post(f"/live/sessions/{saved['session_id']}/delete")
    assert response.status_code == 302 and response.location.endswith("/live/sessions")
    assert stored() == []
    with app.app_context():
        assert db.session.query(LiveSession).count() == 0


def test_opting_out_again_keeps_no_more_snapshots(live_socket, login, five_faces):
    login()
    with live_socket(signed_in=True) as ws:
        ws.ask({"type": "snapshots", "on": True})
        assert ws.ask({"type": "snapshots", "on": False})["on"] is False
        ws.ask(five_faces)
        assert ws.ask({"type": "save"})["snapshots"] == 0


def _user_id(app) -> int:
    from app.services import accounts  # noqa: PLC0415

    with app.app_context():
        return accounts.find_user("ada@example.com").id


@pytest.mark.parametrize("path", ["/live/sessions", "/live/sessions/1", "/live/sessions/1/snapshots/0"])
def test_saved_sessions_need_a_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


def test_other_users_sessions_are_not_found(client, login, live_socket, five_faces, stored):
    login()
    with live_socket(signed_in=True) as ws:
        ws.ask({"type": "snapshots", "on": True})
        ws.ask(five_faces)
        saved = ws.ask({"type": "save"})
    client.post("/logout")
    intruder = login("mallory@example.com")
    for path in (f"/live/sessions/{saved['session_id']}", f"/live/sessions/{saved['session_id']}/snapshots/0"):
        assert intruder.get(path).status_code == 404
    assert intruder.post(f"/live/sessions/{saved['session_id']}/delete").status_code == 404
    assert b"0 saved sessions" in intruder.get("/live/sessions").data
    assert len(stored()) == 1


def test_the_live_page_offers_saving_only_to_signed_in_users(client, login):
    page = client.get("/live/")
    assert page.status_code == 200 and b'data-ws-path="/live/ws"' in page.data
    assert b'data-test="live-anonymous"' in page.data and b'data-test="live-save"' not in page.data
    signed = login().get("/live/")
    assert b'data-test="live-save"' in signed.data and b'data-signed-in="true"' in signed.data


def test_deleting_all_my_data_takes_the_live_sessions_and_snapshots_too(app, login, live_socket, five_faces,
                                                                          stored):
    client = login()
    with live_socket(signed_in=True) as ws:
        ws.ask({"type": "snapshots", "on": True})
        ws.ask(five_faces)
        ws.ask({"type": "save"})
    assert len(stored()) == 1
    assert client.post("/data/delete", data={"confirm": "y"}).status_code == 302
    assert stored() == []
    with app.app_context():
        assert db.session.query(LiveSession).count() == 0


class DownStorage:
    """Storage that refuses every write."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put(self, key, data):
        raise StorageError("storage unreachable")


def test_with_storage_down_nothing_is_kept_and_the_stream_goes_on(app, login, live_socket, five_faces, stored):
    login()
    with app.app_context():
        classification.model_for("emotion7")  # the registry stores the baseline on first use, while storage works
    app.extensions["storage"] = DownStorage(app.extensions["storage"])
    with live_socket(signed_in=True) as ws:
        ws.ask({"type": "snapshots", "on": True})
        frame = ws.ask(five_faces)["frame"]
        assert "Storage is unavailable" in ws.ask({"type": "review", "frame": frame, "face": 0})["message"]
        assert "Storage is unavailable" in ws.ask({"type": "save"})["message"]
        assert ws.ask(five_faces)["type"] == "result"
    assert stored() == []
    with app.app_context():
        assert db.session.query(LiveSession).count() == 0 and db.session.query(Prediction).count() == 0


def test_a_busy_database_gets_a_message_not_a_dropped_socket(login, live_socket, five_faces, monkeypatch):
    login()

    def locked(*_args):
        raise OperationalError("INSERT INTO live_sessions", {}, Exception("database is locked"))

    monkeypatch.setattr("app.services.live_sessions.save", locked)
    with live_socket(signed_in=True) as ws:
        ws.ask(five_faces)
        assert ws.ask({"type": "save"}) == {"type": "error", "message": "The database is busy; try again in a moment."}
        assert ws.ask(five_faces)["type"] == "result"
