"""Review queue: reviewers only, least confident first, label, skip, undo, and the role granted by admins."""
import pytest

from app.extensions import db
from app.models import Detection, FeedbackEvent, Prediction, Result, Status
from app.services import accounts, review, reviewers


@pytest.fixture
def queue_rows(app):
    """Unreviewed digits detections with known probabilities; returns their ids by name."""

    def make(**named) -> dict[str, int]:
        with app.app_context():
            owner = accounts.find_user("owner@example.com") or accounts.create_user("owner@example.com", "correct horse")
            ids = {}
            for name, probs in named.items():
                prediction = Prediction(user=owner, width=32, height=32)
                result = Result(recognizer="digits", model_version="v", duration_ms=1.0)
                top = max(probs, key=probs.get)
                detection = Detection(position=0, x=0, y=0, w=32, h=32, predicted_label=top, label=top,
                                      confidence=probs[top], probabilities=probs)
                result.detections.append(detection)
                prediction.results.append(result)
                db.session.add(prediction)
                db.session.flush()
                prediction.photo_key = f"photos/{prediction.id}.png"
                detection.crop_key = f"inbox/digits/{detection.id}.png"
                app.extensions["storage"].put(prediction.photo_key, b"photo")
                app.extensions["storage"].put(detection.crop_key, b"crop")
                ids[name] = detection.id
            db.session.commit()
            return ids

    return make


def _spread(top: float, second: float | None = None) -> dict:
    """Digits probabilities with `top` first, `second` next, the rest shared evenly."""
    probs = {"1": top} if second is None else {"1": top, "2": second}
    rest = [c for c in "0123456789" if c not in probs]
    share = (1 - sum(probs.values())) / len(rest)
    probs.update({c: share for c in rest})
    return probs


def test_queue_is_smallest_margin_first_even_beyond_the_first_window(app, queue_rows):
    ids = queue_rows(torn=_spread(0.55, 0.45), **{f"flat{i}": _spread(0.30 + i * 0.001) for i in range(80)})
    with app.app_context():
        first = review.queue(None, set(), 3)
        assert first[0].id == ids["torn"]  # highest confidence, but the closest call
        assert [d.id for d in first[1:]] == [ids["flat0"], ids["flat1"]]
        assert review.pending("digits") == 81 and review.pending("emotion7") == 0
        assert review.queue(None, {ids["torn"]}, 1)[0].id == ids["flat0"]


def test_only_reviewers_and_admins_see_the_queue(app, client, login, queue_rows):
    queue_rows(a=_spread(0.5, 0.4))
    login("someone@example.com")
    assert client.get("/review").status_code == 403
    assert client.post("/review/1/skip").status_code == 403
    with app.app_context():
        reviewers.grant("someone@example.com", None)
    page = client.get("/review")
    assert page.status_code == 200 and 'data-test="review-item"' in page.get_data(as_text=True)
    assert 'data-test="nav-review"' in page.get_data(as_text=True)


def test_label_skip_and_undo(app, client, login, queue_rows, stored):
    ids = queue_rows(first=_spread(0.5, 0.49), second=_spread(0.6, 0.3))
    login("rev@example.com")
    with app.app_context():
        reviewers.grant("rev@example.com", None)
    page = client.get("/review?recognizer=digits").get_data(as_text=True)
    assert f'data-detection-id="{ids["first"]}"' in page and "2 waiting" in page
    response = client.post(f"/review/{ids['first']}/label", data={"label": "7", "recognizer": "digits"})
    assert response.status_code == 302 and response.location.endswith("/review?recognizer=digits")
    with app.app_context():
        detection = db.session.get(Detection, ids["first"])
        assert detection.status == Status.CORRECTED and detection.label == "7"
        assert detection.events[-1].source == "review" and detection.crop_key.startswith("crops/digits/7/")
    page = client.get("/review?recognizer=digits").get_data(as_text=True)
    assert f'data-detection-id="{ids["second"]}"' in page and "1 waiting" in page
    client.post(f"/review/{ids['second']}/skip", data={"recognizer": "digits"})
    assert 'data-test="review-empty"' in client.get("/review?recognizer=digits").get_data(as_text=True)
    client.post("/review/undo", data={"recognizer": "digits"})
    with app.app_context():
        detection = db.session.get(Detection, ids["first"])
        assert detection.status == Status.UNREVIEWED and detection.label == "1" and detection.reviewed_at is None
        assert db.session.query(FeedbackEvent).count() == 0
        assert detection.crop_key == f"inbox/digits/{ids['first']}.png" and detection.original_key is None
    assert all(not k.startswith(("crops/", "originals/")) for k in stored())
    page = client.get("/review?recognizer=digits").get_data(as_text=True)
    assert f'data-detection-id="{ids["first"]}"' in page
    assert "Nothing to undo" in client.post("/review/undo", follow_redirects=True).get_data(as_text=True)


def test_bad_review_input_is_a_message_not_a_500(app, client, login, queue_rows):
    ids = queue_rows(a=_spread(0.5, 0.4))
    login("rev@example.com")
    with app.app_context():
        reviewers.grant("rev@example.com", None)
    assert client.post("/review/999999/label", data={"label": "1"}).status_code == 404
    wrong = client.post(f"/review/{ids['a']}/label", data={"label": "happy"}, follow_redirects=True)
    assert wrong.status_code == 200 and "not a digits label" in wrong.get_data(as_text=True)
    assert client.get("/review?recognizer=<script>").status_code == 200
    assert client.get("/review/999999/crop").status_code == 404


def test_admin_grants_and_revokes_the_role(app, client, login):
    with app.app_context():
        accounts.create_user("boss@example.com", "correct horse", is_admin=True)
        accounts.create_user("helper@example.com", "correct horse")
    login("boss@example.com")
    assert client.post("/admin/reviewers", data={"email": "helper@example.com"}).status_code == 302
    with app.app_context():
        user = accounts.find_user("helper@example.com")
        assert reviewers.is_reviewer(user)
        user_id = user.id
    unknown = client.post("/admin/reviewers", data={"email": "ghost@example.com"})
    assert unknown.status_code == 400 and "No account" in unknown.get_data(as_text=True)
    client.post(f"/admin/reviewers/{user_id}/revoke")
    with app.app_context():
        assert not reviewers.is_reviewer(accounts.find_user("helper@example.com"))
    client.post("/logout")
    login("helper@example.com")
    assert client.get("/admin/reviewers").status_code == 403


def test_reviewer_role_from_the_cli(app, runner):
    with app.app_context():
        accounts.create_user("cli@example.com", "correct horse")
    assert runner.invoke(args=["reviewers", "grant", "cli@example.com"]).exit_code == 0
    with app.app_context():
        assert reviewers.is_reviewer(accounts.find_user("cli@example.com"))
    assert runner.invoke(args=["reviewers", "revoke", "cli@example.com"]).exit_code == 0
    assert runner.invoke(args=["reviewers", "grant", "nobody@example.com"]).exit_code != 0
