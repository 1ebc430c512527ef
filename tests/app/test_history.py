"""History: every detection with thumbnail, label, confidence, time, location and state; filters; pages; delete."""
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import Detection, Prediction


@pytest.fixture
def history(login, upload, plain_png, three_faces_jpeg, app):
    """Two uploads: three faces on emotion7 (3 days ago, with a location) and a digit (now)."""
    client = login()
    upload(three_faces_jpeg, ["emotion7"], location_from="browser", latitude="48.85", longitude="2.35")
    upload(plain_png, ["digits"])
    with app.app_context():
        first = db.session.get(Prediction, 1)
        first.created_at = datetime.now(timezone.utc) - timedelta(days=3)
        db.session.commit()
    return client


def _items(page: str) -> list[str]:
    return page.split('data-test="history-item"')[1:]


def test_history_lists_every_detection_newest_first(history):
    page = history.get("/history").get_data(as_text=True)
    items = _items(page)
    assert len(items) == 4
    assert 'data-test="recognizer">digits<' in items[0]
    for item in items:
        for part in ("thumbnail", "label", "confidence", "time", "location", "feedback-state"):
            assert f'data-test="{part}"' in item
    assert "48.8500, 2.3500" in items[1] and "—" in items[0]
    thumb = history.get("/detections/1/crop")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"


def test_a_corrected_label_shows_the_models_confidence_beside_what_the_model_said(history, app):
    with app.app_context():
        predicted = db.session.get(Detection, 1).predicted_label
    other = next(c for c in ("happy", "sad") if c != predicted)
    history.post("/detections/1/feedback", data={"label": other})
    item = next(i for i in _items(history.get("/history").get_data(as_text=True)) if 'data-detection-id="1"' in i)
    said, meta = item.split('class="meta"')
    assert f'data-test="model-said">model said {predicted}</span> <span data-test="confidence"' in said
    assert 'data-test="confidence"' not in meta  # not beside the corrected label, as if it were its confidence


def test_filters(history, app):
    with app.app_context():
        labels = [d.label for d in db.session.scalars(db.select(Detection).order_by(Detection.id))]
    assert len(_items(history.get("/history?recognizer=digits").get_data(as_text=True))) == 1
    assert len(_items(history.get("/history?recognizer=emotion7").get_data(as_text=True))) == 3
    by_label = _items(history.get(f"/history?label={labels[0]}").get_data(as_text=True))
    assert len(by_label) == labels.count(labels[0])
    today = datetime.now(timezone.utc).date()
    assert len(_items(history.get(f"/history?since={today}").get_data(as_text=True))) == 1
    assert len(_items(history.get(f"/history?until={today - timedelta(days=1)}").get_data(as_text=True))) == 3
    empty = history.get(f"/history?since={today + timedelta(days=1)}").get_data(as_text=True)
    assert 'data-test="history-empty"' in empty


def test_invalid_filters_are_reported_not_fatal(history):
    response = history.get("/history?since=yesterday&recognizer=cats&page=-3")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-test="errors-since"' in page and 'data-test="errors-recognizer"' in page
    assert len(_items(page)) == 4


def test_pagination(history, app):
    app.config["HISTORY_PER_PAGE"] = 3
    first = history.get("/history").get_data(as_text=True)
    assert len(_items(first)) == 3 and 'data-test="page-next"' in first and "Page 1 of 2" in first
    second = history.get("/history?page=2").get_data(as_text=True)
    assert len(_items(second)) == 1 and 'data-test="page-prev"' in second
    filtered = history.get("/history?recognizer=emotion7&page=1").get_data(as_text=True)
    assert "page-next" not in filtered


def test_deleting_a_detection_removes_its_images(history, app, stored):
    history.post("/detections/1/feedback", data={"label": "happy"})
    assert "crops/emotion7/happy/1.png" in stored() and "originals/emotion7/happy/1.jpg" in stored()
    response = history.post("/detections/1/delete", data={"next": "/history?recognizer=emotion7"})
    assert response.status_code == 302 and response.location == "/history?recognizer=emotion7"
    assert not any(k.endswith("/1.png") and not k.startswith("photos/") for k in stored())
    assert "photos/*.jpg" in stored()  # two faces of that photo remain
    history.post("/detections/2/delete")
    history.post("/detections/3/delete")
    assert stored() == ["inbox/digits/*.png", "photos/*.jpg"]
    with app.app_context():
        assert db.session.query(Prediction).count() == 1


def test_delete_redirect_stays_on_this_site(history):
    response = history.post("/detections/4/delete", data={"next": "https://evil.example/history"})
    assert response.location == "/history"


def test_deleting_a_whole_prediction(history, app, stored):
    response = history.post("/predictions/1/delete")
    assert response.status_code == 302 and response.location == "/history"
    assert stored() == ["inbox/digits/*.png", "photos/*.jpg"]


def test_users_see_and_delete_only_their_own(history, client, login, stored):
    before = stored()
    client.post("/logout")
    login("mallory@example.com")
    assert 'data-test="history-empty"' in client.get("/history").get_data(as_text=True)
    assert client.post("/detections/1/delete").status_code == 404
    assert client.post("/predictions/1/delete").status_code == 404
    assert stored() == before


def test_history_needs_login(client):
    response = client.get("/history")
    assert response.status_code == 302 and "/login?next=" in response.location
