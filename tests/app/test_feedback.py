"""Confirm or correct on the result page: SQL events, class folders in storage, relabelling, ownership."""
import io

import pytest
from PIL import Image

from app.extensions import db
from app.models import Detection, FeedbackEvent, Status
from app.storage import StorageError
from app.tasks.storage import place_images


@pytest.fixture
def kept(login, upload, plain_png, app):
    """A signed-in client and the id of its one digits detection."""
    client = login()
    upload(plain_png, ["digits"])
    with app.app_context():
        return client, db.session.scalar(db.select(Detection.id))


def _detection(app, detection_id):
    with app.app_context():
        d = db.session.get(Detection, detection_id)
        return d.predicted_label, d.label, d.status, d.crop_key, d.original_key


def test_one_click_confirms(kept, app, stored):
    client, detection_id = kept
    predicted = _detection(app, detection_id)[0]
    response = client.post(f"/detections/{detection_id}/feedback", data={"label": predicted})
    assert response.status_code == 302 and response.location.endswith(f"#det-{detection_id}")
    assert _detection(app, detection_id)[1:] == (
        predicted, Status.CONFIRMED, f"crops/digits/{predicted}/{detection_id}.png",
        f"originals/digits/{predicted}/{detection_id}.jpg")
    assert stored() == sorted(["photos/*.jpg", f"crops/digits/{predicted}/{detection_id}.png",
                               f"originals/digits/{predicted}/{detection_id}.jpg"])
    page = client.get(response.location).get_data(as_text=True)
    assert "Confirmed “" in page and 'badge-confirmed' in page


def test_correcting_then_relabelling_moves_the_images_and_logs_every_event(kept, app, stored, app_settings):
    client, detection_id = kept
    predicted = _detection(app, detection_id)[0]
    first, second = [label for label in "0123456789" if label != predicted][:2]
    storage_dir = app_settings["STORAGE_DIR"]
    client.post(f"/detections/{detection_id}/feedback", data={"label": first})
    crop_bytes = open(f"{storage_dir}/crops/digits/{first}/{detection_id}.png", "rb").read()
    client.post(f"/detections/{detection_id}/feedback", data={"label": second})
    assert _detection(app, detection_id)[1:3] == (second, Status.CORRECTED)
    assert stored() == sorted(["photos/*.jpg", f"crops/digits/{second}/{detection_id}.png",
                               f"originals/digits/{second}/{detection_id}.jpg"])
    assert open(f"{storage_dir}/crops/digits/{second}/{detection_id}.png", "rb").read() == crop_bytes
    assert Image.open(io.BytesIO(crop_bytes)).size == (32, 32)  # the crop the model saw
    with app.app_context():
        events = [(e.from_label, e.to_label, e.source, e.user.email)
                  for e in db.session.scalars(db.select(FeedbackEvent).order_by(FeedbackEvent.id))]
    assert events == [(predicted, first, "web", "ada@example.com"), (first, second, "web", "ada@example.com")]
    # Back to the model's label: now a confirmation.
    client.post(f"/detections/{detection_id}/feedback", data={"label": predicted})
    assert _detection(app, detection_id)[1:3] == (predicted, Status.CONFIRMED)


def test_unknown_label_is_refused(kept, app, counts):
    client, detection_id = kept
    response = client.post(f"/detections/{detection_id}/feedback", data={"label": "happy"})
    assert response.status_code == 302
    assert "is not a digits label" in client.get(response.location).get_data(as_text=True)
    assert _detection(app, detection_id)[2] == Status.UNREVIEWED and counts()[2] == 0


def test_others_cannot_give_feedback(kept, client, login, app, counts):
    _, detection_id = kept
    client.post("/logout")
    login("mallory@example.com")
    assert client.post(f"/detections/{detection_id}/feedback", data={"label": "1"}).status_code == 404
    assert counts()[2] == 0


def test_result_page_has_keyboard_shortcuts(kept):
    client, detection_id = kept
    page = client.get("/predictions/1").get_data(as_text=True)
    assert 'data-test="shortcuts"' in page and "app.js" in page
    for digit in "0123456789":  # digits use their own key
        assert f'value="{digit}" data-key="{digit}"' in page
    assert 'data-confirm' in page and f'data-detection-id="{detection_id}"' in page


class FlakyStorage:
    """Wraps storage; copies and moves fail while `down` is set."""

    def __init__(self, inner):
        self.inner, self.down = inner, True

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def copy(self, src, dst):
        if self.down:
            raise StorageError("storage unreachable")
        self.inner.copy(src, dst)

    def move(self, src, dst):
        if self.down:
            raise StorageError("storage unreachable")
        self.inner.move(src, dst)


def test_feedback_is_kept_when_storage_fails_and_images_follow_later(kept, app, monkeypatch):
    client, detection_id = kept
    flaky = FlakyStorage(app.extensions["storage"])
    app.extensions["storage"] = flaky
    queued = []
    monkeypatch.setattr("app.classify.routes.queue", lambda task, *args: queued.append((task.name, args)))
    client.post(f"/detections/{detection_id}/feedback", data={"label": "5"})
    assert _detection(app, detection_id)[1] == "5"
    assert _detection(app, detection_id)[3].startswith("inbox/digits/")  # not moved yet
    assert queued == [("app.tasks.storage.place_images", (detection_id,))]
    flaky.down = False
    place_images.delay(detection_id)  # what the worker does with the queued task
    assert _detection(app, detection_id)[3:] == (f"crops/digits/5/{detection_id}.png",
                                                 f"originals/digits/5/{detection_id}.jpg")
