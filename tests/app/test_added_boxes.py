"""Fixing the detectors' mistakes on the result page: draw a face or digit they missed, mark a box as not a face, undo."""
import csv
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from app.extensions import db
from app.models import NOT_A_FACE, QUICK_MS, Detection, FeedbackEvent, Status
from app.models.base import utcnow
from app.services import accounts, feedback, history, retraining, review, reviewers, training
from app.storage import StorageError
from ml import faces
from ml.preprocess import prepare
from ml.recognizers import get

BOX = {"x": 30, "y": 40, "w": 90, "h": 100}


@pytest.fixture
def kept(login, upload, three_faces_jpeg, app):
    """A signed-in client with one kept emotion7 result of three faces (detections 1-3)."""
    client = login()
    assert upload(three_faces_jpeg, ["emotion7"]).status_code == 302
    return client


def _row(app, detection_id: int):
    with app.app_context():
        d = db.session.get(Detection, detection_id)
        return None if d is None else (d.source, d.status, d.label, d.crop_key, d.original_key)


def _flash(client, response) -> str:
    """The latest message the redirect's page flashes (signing in leaves one of its own before it)."""
    page = client.get(response.location).get_data(as_text=True)
    return page.rsplit('data-test="flash-', 1)[1].split(">", 1)[1].split("<", 1)[0]


def _is_the_face_crop(app, app_settings, detection_id: int) -> bool:
    """Whether the stored crop is the one face crop of ml.faces, then the shared preprocessing: what serving does for a
    detector's box."""
    with app.app_context():
        d = db.session.get(Detection, detection_id)
        crop_key, photo_key, box = d.crop_key, d.result.prediction.photo_key, d.box
    root = app_settings["STORAGE_DIR"]
    photo = Image.open(f"{root}/{photo_key}").convert("RGB")
    expected = prepare(faces.crop(photo, faces.Face(box)), get("emotion7"))
    return np.array_equal(np.asarray(Image.open(f"{root}/{crop_key}"))[..., None], expected)


def test_a_drawn_face_is_cropped_classified_and_kept_like_any_other(kept, app, stored, app_settings):
    response = kept.post("/predictions/1/faces", data={"recognizer": "emotion7", **BOX})
    assert response.status_code == 302 and response.location.endswith("/predictions/1#det-4")
    with app.app_context():
        d = db.session.get(Detection, 4)
        assert (d.source, d.drawn, d.position, d.box) == ("user", True, 3, (30, 40, 90, 100))
        assert d.status == Status.UNREVIEWED
        assert d.model_version == d.result.model_version == d.version
        assert set(d.probabilities) == set(get("emotion7").classes) and d.label == d.predicted_label
        crop_key = d.crop_key
    assert crop_key.startswith("inbox/emotion7/") and stored().count("inbox/emotion7/*.png") == 4
    assert _is_the_face_crop(app, app_settings, 4)
    page = kept.get(response.location).get_data(as_text=True)
    assert "Added face #4:" in page and 'data-test="drawn">drawn by hand' in page
    assert 'data-test="detection-count">4 detections' in page and 'class="box drawn"' in page


def test_a_drawn_face_can_be_labelled_and_deleted_like_any_other(kept, app, stored):
    kept.post("/predictions/1/faces", data={"recognizer": "emotion7", **BOX})
    kept.post("/detections/4/feedback", data={"label": "fear"})
    source, status, label, crop, _ = _row(app, 4)
    assert (source, label, crop) == ("user", "fear", "crops/emotion7/fear/4.png") and status != Status.UNREVIEWED
    assert crop in stored()
    kept.post("/detections/4/delete")
    assert _row(app, 4) is None and crop not in stored()


@pytest.mark.parametrize("fields, message", [
    ({**BOX, "x": 1500}, "must lie inside the photo"),
    ({**BOX, "x": -1}, "must lie inside the photo"),
    ({**BOX, "h": 1000}, "must lie inside the photo"),
    ({**BOX, "w": 7}, "at least 8 px wide and high; this one is 7×100 px"),
    ({**BOX, "h": 0}, "at least 8 px"),
    ({**BOX, "x": "left"}, "Draw a box on the photo first"),
    ({**BOX, "y": "12.5"}, "Draw a box on the photo first"),
    ({"x": 1, "y": 1}, "Draw a box on the photo first"),
    ({**BOX, "recognizer": "digits"}, "This photo has no digits result."),
    ({**BOX, "recognizer": "emotion4"}, "This photo has no emotion4 result."),
    ({**BOX, "recognizer": "nope"}, "Unknown recognizer “nope”; known: emotion7, emotion4, digits."),
])
def test_bad_boxes_are_a_message_and_nothing_stored_changes(kept, stored, counts, fields, message):
    before = (stored(), counts())
    response = kept.post("/predictions/1/faces", data={"recognizer": "emotion7", **fields})
    assert response.status_code == 302 and response.location == "/predictions/1"
    assert message in _flash(kept, response)
    assert (stored(), counts()) == before


def test_others_cannot_add_faces_to_a_prediction(kept, client, login, stored, counts):
    before = (stored(), counts())
    client.post("/logout")
    login("mallory@example.com")
    assert client.post("/predictions/1/faces", data={"recognizer": "emotion7", **BOX}).status_code == 404
    assert (stored(), counts()) == before


def test_a_storage_outage_keeps_nothing(kept, app, stored, counts, monkeypatch):
    before = (stored(), counts())
    inner = app.extensions["storage"]
    monkeypatch.setattr(inner, "put", lambda key, data: (_ for _ in ()).throw(StorageError("down")))
    response = kept.post("/predictions/1/faces", data={"recognizer": "emotion7", **BOX})
    assert "Storage is unavailable, so the face was not added" in _flash(kept, response)
    assert (stored(), counts()) == before


def test_a_face_result_without_faces_still_shows_the_photo_to_draw_on(login, upload, faceless_png):
    client = login()
    upload(faceless_png, ["emotion7", "digits"])  # digits reads it whole; emotion7 finds no face
    page = client.get("/predictions/1").get_data(as_text=True)
    emotion = page.split('data-test="result-emotion7"')[1].split('data-test="result-digits"')[0]
    assert "draw one on the photo" in emotion and 'data-test="add-face"' in emotion and "data-draw" in emotion
    digits = page.split('data-test="result-digits"')[1]
    assert 'data-test="add-face"' not in digits and 'data-test="not-a-face"' not in digits


def test_not_a_face_leaves_every_count_and_becomes_detector_data(kept, app, stored):
    response = kept.post("/detections/2/feedback", data={"label": NOT_A_FACE})
    assert _flash(kept, response) == "Marked emotion7 #2 as not a face."
    assert _row(app, 2)[1:] == (Status.NOT_A_FACE, NOT_A_FACE, "crops/emotion7/_not_a_face/2.png",
                                "originals/emotion7/_not_a_face/2.jpg")
    page = kept.get("/predictions/1").get_data(as_text=True)
    assert 'data-test="detection-count">2 detections' in page and 'data-test="not-a-face-count">1 not a face' in page
    assert 'class="box rejected"' in page and 'data-test="undo"' in page
    listing = kept.get("/history").get_data(as_text=True)
    assert 'data-test="history-count">2 detections · 1 marked not a face' in listing
    assert ">not a face</strong>" in listing  # still listed, so the photo can be found, undone or deleted
    assert "<dd data-test=\"stat-detections\">2</dd>" in kept.get("/profile").get_data(as_text=True)
    with app.app_context():
        user = accounts.find_user("ada@example.com")
        assert history.not_faces(user, history.Filters()) == {"face": 1}
        assert 2 not in [d.id for d in review.queue("emotion7", limit=10)] and review.pending("emotion7") == 2
        # Retraining the expression models never sees the negative folder.
        assert retraining.new_labels("emotion7") == 0
        slices, missing = training.feedback_examples("emotion7", utcnow())
        assert all(part == [] for part in slices.values()) and missing == []


def test_not_a_face_can_be_undone_and_the_images_go_back(kept, app, stored):
    before = stored()
    kept.post("/detections/2/feedback", data={"label": NOT_A_FACE})
    response = kept.post("/detections/2/undo")
    assert response.location.endswith("/predictions/1#det-2")
    assert _flash(kept, response).startswith("Undone: emotion7 #2 is back to unreviewed “")
    source, status, label, crop, original = _row(app, 2)
    assert (status, crop, original) == (Status.UNREVIEWED, "inbox/emotion7/2.png", None)
    with app.app_context():
        assert label == db.session.get(Detection, 2).predicted_label and db.session.query(FeedbackEvent).count() == 0
    assert len(stored()) == len(before) and not any("_not_a_face" in k for k in stored())
    assert _flash(kept, kept.post("/detections/2/undo")) == "Nothing to undo."


def test_only_ones_own_latest_feedback_is_undone(kept, app):
    kept.post("/detections/2/feedback", data={"label": NOT_A_FACE})
    with app.app_context():
        reviewer = accounts.create_user("rev@example.com", "correct horse")
        feedback.give(reviewer, db.session.get(Detection, 2), "happy", "review")
    assert "Someone else labelled it since" in _flash(kept, kept.post("/detections/2/undo"))
    _, status, label, crop, _ = _row(app, 2)
    assert (label, crop) == ("happy", "crops/emotion7/happy/2.png") and status in (Status.CONFIRMED, Status.CORRECTED)


def test_undo_after_a_label_goes_back_to_the_label(kept, app):
    kept.post("/detections/1/feedback", data={"label": "sad"})
    kept.post("/detections/1/feedback", data={"label": NOT_A_FACE})
    kept.post("/detections/1/undo")
    source, status, label, crop, original = _row(app, 1)
    assert (label, crop, original) == ("sad", "crops/emotion7/sad/1.png", "originals/emotion7/sad/1.jpg")
    assert status in (Status.CONFIRMED, Status.CORRECTED)


def test_a_digit_marked_not_a_digit_goes_to_the_digits_own_rejected_folder(login, upload, plain_png, app, counts):
    client = login()
    upload(plain_png, ["digits"])
    response = client.post("/detections/1/feedback", data={"label": NOT_A_FACE})
    assert _flash(client, response) == "Marked digits #1 as not a digit."
    _, status, _, crop, original = _row(app, 1)
    assert status == Status.NOT_A_FACE and counts()[2] == 1
    assert (crop, original) == ("crops/digits/_not_a_digit/1.png", "originals/digits/_not_a_digit/1.jpg")


def test_reviewers_mark_not_a_face_with_x_and_undo_it(kept, client, login, app):
    client.post("/logout")
    login("rev@example.com")
    with app.app_context():
        reviewers.grant("rev@example.com", None)
    page = client.get("/review").get_data(as_text=True)
    assert 'data-test="review-not-a-face"' in page and "<kbd>X</kbd>" in page
    shown = int(page.split('data-review-item data-detection-id="')[1].split('"')[0])
    response = client.post(f"/review/{shown}/label", data={"label": NOT_A_FACE})
    assert _flash(client, response) == f"#{shown} marked not a face."
    assert _row(app, shown)[1] == Status.NOT_A_FACE
    assert "2 waiting" in client.get("/review").get_data(as_text=True)
    response = client.post("/review/undo")
    assert _flash(client, response).startswith(f"Undone: #{shown} is back to unreviewed")
    assert "3 waiting" in client.get("/review").get_data(as_text=True)


def test_export_holds_drawn_faces_and_the_negative_crops(kept, app):
    kept.post("/predictions/1/faces", data={"recognizer": "emotion7", **BOX})
    kept.post("/detections/4/feedback", data={"label": "happy"})
    kept.post("/detections/2/feedback", data={"label": NOT_A_FACE})
    archive = zipfile.ZipFile(io.BytesIO(kept.get("/data/export.zip").data))
    assert sorted(archive.namelist()) == ["emotion7/_not_a_face/2.png", "emotion7/happy/4.png", "manifest.csv"]
    rows = {r["detection_id"]: r for r in csv.DictReader(io.StringIO(archive.read("manifest.csv").decode()))}
    assert (rows["2"]["source"], rows["2"]["not_a_face"], rows["2"]["status"]) == ("detector", "true", "not_a_face")
    assert (rows["4"]["source"], rows["4"]["not_a_face"], rows["4"]["label"]) == ("user", "false", "happy")
    assert [rows["4"][k] for k in ("box_x", "box_y", "box_w", "box_h")] == ["30", "40", "90", "100"]
    assert archive.read("emotion7/_not_a_face/2.png")[:8] == b"\x89PNG\r\n\x1a\n"


# From the review queue: a reviewer opens the item's whole photo and draws what the detector missed, through the same
# service as the result page.

def _reviewer(client, login, app, email: str = "rev@example.com"):
    """`client` signed out of the owner's account and into a reviewer's."""
    client.post("/logout")
    login(email)
    with app.app_context():
        reviewers.grant(email, None)
    return client


def _item(page: str) -> int:
    return int(page.split('data-review-item data-detection-id="')[1].split('"')[0])


def test_a_reviewer_draws_a_missed_face_on_the_items_photo(kept, client, login, app, app_settings, stored):
    _reviewer(client, login, app)
    page = client.get("/review?recognizer=emotion7").get_data(as_text=True)
    shown = _item(page)
    assert 'data-test="review-photo"' in page and 'data-test="review-photo" open' not in page  # closed until asked for
    assert f'<image data-href="/review/{shown}/photo"' in page  # and fetched by review.js only when opened
    assert 'class="box current"' in page and "<kbd>P</kbd>" in page
    assert f'action="/review/{shown}/boxes?queue=emotion7"' in page
    assert f'data-quick-ms="{QUICK_MS}"' in page  # the wait review.js reads, from the server's constant
    with app.app_context():
        photo_key = db.session.get(Detection, shown).result.prediction.photo_key
    photo = client.get(f"/review/{shown}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data == open(f"{app_settings['STORAGE_DIR']}/{photo_key}", "rb").read()

    response = client.post(f"/review/{shown}/boxes?queue=emotion7", data={"recognizer": "emotion7", **BOX})
    assert response.status_code == 302 and response.location == "/review?recognizer=emotion7&photo=1#review-photo"
    assert _flash(client, response).startswith("Added face #4: “")
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-test="review-photo" open>' in page and '<image href="/review/' in page  # open, with the new box
    assert _row(app, 4)[:2] == ("user", Status.UNREVIEWED) and _is_the_face_crop(app, app_settings, 4)
    with app.app_context():
        detection = db.session.get(Detection, 4)
        assert detection.result.prediction.user.email == "ada@example.com"  # on the owner's photo
        assert review.pending("emotion7") == 4  # and in the queue like any detection
    client.post("/logout")
    login("ada@example.com")
    assert 'data-test="drawn">drawn by hand' in client.get("/predictions/1").get_data(as_text=True)


def test_a_reviewer_draws_a_missed_digit_on_the_items_photo(login, upload, number_png, client, app):
    login()
    upload(number_png, ["digits"])
    _reviewer(client, login, app)
    shown = _item(client.get("/review").get_data(as_text=True))
    response = client.post(f"/review/{shown}/boxes", data={"recognizer": "digits", "x": 2, "y": 2, "w": 20, "h": 40})
    assert response.location == "/review?photo=1#review-photo"
    message = _flash(client, response)
    assert message.startswith("Added digit #4: “") and "The number reads " in message
    with app.app_context():
        detection = db.session.get(Detection, 4)
        assert (detection.thing, detection.source, detection.box) == ("digit", "user", (2, 2, 20, 40))


def test_only_reviewers_see_the_photo_and_draw_in_the_queue(kept, client, login, app, stored, counts):
    before = (stored(), counts())
    box = {"recognizer": "emotion7", **BOX}
    assert client.get("/review/1/photo").status_code == 403  # the owner, without the role: the result page is theirs
    assert client.post("/review/1/boxes", data=box).status_code == 403
    client.post("/logout")
    login("mallory@example.com")
    assert client.get("/review/1/photo").status_code == 403
    assert client.post("/review/1/boxes", data=box).status_code == 403
    _reviewer(client, login, app, "mallory@example.com")
    assert client.get("/review/999999/photo").status_code == 404
    assert client.post("/review/999999/boxes", data=box).status_code == 404
    for fields, message in (({**box, "w": 7}, "at least 8 px wide and high"), ({**box, "x": "left"}, "Draw a box"),
                            ({**box, "recognizer": "digits"}, "This photo has no digits result.")):
        response = client.post("/review/1/boxes", data=fields)
        assert response.location == "/review?photo=1#review-photo" and message in _flash(client, response)
    assert (stored(), counts()) == before
