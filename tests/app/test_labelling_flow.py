"""One labelling flow on the result page and the review queue: the time on screen is kept, quick confirmations stay
out of the agreement, focus goes to the next unreviewed detection, buttons say what they do, skips come back."""
from app.extensions import db
from app.models import Detection, FeedbackEvent, Status
from app.services import health, registry, reviewers
from tests.app.test_review import _spread, queue_rows  # noqa: F401 - a fixture


def test_time_on_screen_is_kept_and_quick_confirmations_leave_the_agreement(app, client, login, queue_rows):
    ids = queue_rows(a=_spread(0.5, 0.4), b=_spread(0.6, 0.3), c=_spread(0.7, 0.2))
    login("rev@example.com")
    with app.app_context():
        reviewers.grant("rev@example.com", None)
    for name, label, seen in (("a", "1", 150), ("b", "1", 2400), ("c", "5", 90)):  # blind, looked at, a correction
        client.post(f"/review/{ids[name]}/label", data={"label": label, "seen_ms": seen})
    with app.app_context():
        assert [e.seen_ms for e in db.session.scalars(db.select(FeedbackEvent).order_by(FeedbackEvent.id))] == [
            150, 2400, 90]
        registry.ensure_baseline("digits")
        report = health.report("digits")
    # Without the rule: 2 confirmed of 3, 66.7%. The blind confirmation of a is left out: 1 of 2.
    assert report["totals"]["reviewed"] == 2 and report["totals"]["agreement"] == 0.5
    assert report["totals"]["quick"] == 1
    assert sum(map(sum, report["confusion"]["matrix"])) == 2
    with app.app_context():
        # Still confirmed: the label counts for training, only not for the agreement.
        assert db.session.get(Detection, ids["a"]).status == Status.CONFIRMED


def test_after_a_label_the_focus_goes_to_the_next_unreviewed_detection(login, upload, three_faces_jpeg):
    client = login()
    upload(three_faces_jpeg, ["emotion7"])
    first = client.post("/detections/2/feedback", data={"label": "sad"})
    assert first.location.endswith("/predictions/1#det-3")
    second = client.post("/detections/3/feedback", data={"label": "sad"})
    assert second.location.endswith("/predictions/1#det-1")  # wraps round to the one left
    client.post("/detections/1/feedback", data={"label": "sad"})
    assert client.post("/detections/2/feedback", data={"label": "happy"}).location.endswith("#det-2")


def test_buttons_say_what_they_do_after_a_correction(login, upload, face_jpeg, app):
    client = login()
    upload(face_jpeg, ["emotion7", "digits"])
    with app.app_context():
        predicted = db.session.get(Detection, 1).predicted_label
    before = client.get("/predictions/1").get_data(as_text=True)
    assert f"Confirm “{predicted}”" in before
    other = next(c for c in ("happy", "sad") if c != predicted)
    response = client.post("/detections/1/feedback", data={"label": other})
    page = client.get(response.location).get_data(as_text=True)
    face = page.split('id="det-1"')[1].split('id="det-2"')[0]
    assert 'data-test="confirm"' not in face and f"Change back to the model's “{predicted}”" in face
    assert f'aria-label="Keep {other}"' in face and f'aria-label="Correct to {predicted}"' not in face
    assert "Corrected to “" in page and "for emotion7 #1." in page  # the section's name: digits has a #1 too


def test_skipped_detections_can_be_brought_back(app, client, login, queue_rows):
    ids = queue_rows(a=_spread(0.5, 0.4), b=_spread(0.6, 0.3))
    login("rev@example.com")
    with app.app_context():
        reviewers.grant("rev@example.com", None)
    client.post(f"/review/{ids['a']}/skip")
    page = client.get("/review").get_data(as_text=True)
    assert "1 waiting" in page and 'data-test="review-unskip"' in page
    response = client.post("/review/skipped")
    assert response.status_code == 302
    page = client.get("/review").get_data(as_text=True)
    assert "2 waiting" in page and f'data-detection-id="{ids["a"]}"' in page and "review-unskip" not in page
