"""Data rights: one zip with everything a user has, and deleting the account with its data, files and tokens."""
import csv
import io
import json
import zipfile
from datetime import timedelta

from app import storage
from app.extensions import db
from app.models import ApiToken, FeedbackEvent, LiveSession, Prediction, User
from app.models.base import utcnow
from app.services import accounts, reviewers

PASSWORD = "correct horse"


def _session_with_snapshot(app, email="ada@example.com") -> None:
    with app.app_context():
        owner = accounts.find_user(email)
        now = utcnow()
        session = LiveSession(user=owner, started_at=now - timedelta(seconds=10), ended_at=now, recognizer="emotion7",
                              model_version="v", bucket_s=5, frames=3, faces=3, peak_faces=1, counts={"happy": 3},
                              buckets=[{"t": 0, "frames": 3, "faces": 3, "peak": 1, "counts": {"happy": 3}}])
        db.session.add(session)
        db.session.flush()
        key = f"live/{owner.id}/{session.id}/000002.jpg"
        storage.current().put(key, b"\xff\xd8snapshot")
        session.frame_keys = [key]
        db.session.commit()


def test_the_export_holds_everything_in_the_documented_layout(app, login, upload, face_jpeg, plain_png):
    client = login()
    upload(face_jpeg, ["emotion7", "digits"], location_from="browser", latitude="48.85", longitude="2.35")
    client.post("/detections/1/feedback", data={"label": "surprise"})
    _session_with_snapshot(app)
    response = client.get("/data/everything.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"README.txt", "account.json", "predictions.json", "feedback.csv", "live_sessions.json",
            "photos/1.jpg", "crops/emotion7/1.png", "crops/digits/2.png", "live/1/000002.jpg"} <= names
    assert json.loads(archive.read("account.json"))["email"] == "ada@example.com"
    [prediction] = json.loads(archive.read("predictions.json"))
    assert prediction["location"] == {"latitude": 48.85, "longitude": 2.35, "source": "browser"}
    assert prediction["photo"] == "photos/1.jpg" and archive.read("photos/1.jpg")[:2] == b"\xff\xd8"
    face = prediction["results"][0]["detections"][0]
    assert face["label"] == "surprise" and face["status"] in ("confirmed", "corrected")
    assert set(face["probabilities"]) == {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}
    assert prediction["results"][1]["detections"][0]["status"] == "unreviewed"  # unreviewed results are there too
    feedback = list(csv.DictReader(io.StringIO(archive.read("feedback.csv").decode())))
    assert [(f["detection_id"], f["to_label"], f["by_you"]) for f in feedback] == [("1", "surprise", "true")]
    [session] = json.loads(archive.read("live_sessions.json"))
    assert session["snapshots"] == ["live/1/000002.jpg"] and session["counts"] == {"happy": 3}
    for layout in ("photos/<prediction id>.jpg", "crops/<recognizer>/<detection id>.png", "feedback.csv"):
        assert layout in archive.read("README.txt").decode()


def test_deleting_the_account_needs_the_password(app, login, upload, plain_png, counts):
    client = login()
    upload(plain_png, ["digits"])
    response = client.post("/data/delete-account", data={"password": "wrong password"})
    assert response.status_code == 400 and "The password is not right" in response.get_data(as_text=True)
    empty = client.post("/data/delete-account", data={"password": ""})
    assert empty.status_code == 400 and "Enter your password to confirm." in empty.get_data(as_text=True)
    with app.app_context():
        assert accounts.find_user("ada@example.com") is not None
    assert counts() == (1, 1, 0)


def test_deleting_the_account_removes_data_files_and_tokens(app, client, login, token_for, upload, plain_png,
                                                            face_jpeg, stored, counts):
    headers = token_for()
    login()
    upload(plain_png, ["digits"])
    _session_with_snapshot(app)
    # Bob's photo, labelled by ada as a reviewer: the label stays, without her name.
    bob = token_for("bob@example.com")
    upload(face_jpeg, ["emotion7"], api=bob)
    with app.app_context():
        reviewers.grant("ada@example.com", None)
        bob_detection = db.session.scalar(db.select(Prediction).where(Prediction.id == 2)).detections[0].id
    assert client.post(f"/review/{bob_detection}/label", data={"label": "sad"}).status_code == 302
    response = client.post("/data/delete-account", data={"password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/profile").status_code == 302  # signed out
    assert client.get("/api/v1/predictions", headers=headers).status_code == 401
    with app.app_context():
        assert accounts.find_user("ada@example.com") is None
        assert db.session.query(LiveSession).count() == 0 and db.session.query(Prediction).count() == 1
        assert db.session.query(ApiToken).join(User).filter(User.email == "ada@example.com").count() == 0
        [event] = db.session.scalars(db.select(FeedbackEvent))
        assert event.user_id is None and event.to_label == "sad"
    left = stored()  # only bob's photo with its labelled crop and original
    assert not any(k.startswith(("live/", "inbox/digits/", "crops/digits/")) for k in left)
    assert [k for k in left if k.startswith("photos/")] == ["photos/*.jpg"]
    assert client.get("/api/v1/predictions", headers=bob).status_code == 200
