"""Requests that race each other: each pair (or crowd) is sent at the same moment from threads, many times, and must
answer without a 5xx and leave rows and stored files that agree."""
from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from app.extensions import db
from app.models import Reviewer, User
from app.storage import StorageError
from app.storage.local import LocalStorage
from tests.app.conftest import PASSWORD, make_user

ROUNDS = 6


@pytest.fixture
def app_settings(app_settings):
    """No rate limits: every request here comes from one address, many at once."""
    return {**app_settings, "RATELIMIT_ENABLED": False}


def at_once(*calls):
    """Run every call in its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def clients(app):
    """clients(n, email=None): n test clients of `app`, signed in as `email` when given (created on first use)."""

    def make(n: int, email: str | None = None):
        made = [app.test_client() for _ in range(n)]
        if email:
            with app.app_context():
                if db.session.scalar(db.select(User).where(User.email == email)) is None:
                    make_user(email, admin=email.startswith("root"))
            for c in made:
                assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        return made

    return make


def _keep(client, photo: bytes, recognizer: str) -> tuple[int, list[int]]:
    response = client.post("/classify", data={"image": (io.BytesIO(photo), "a.png"), "recognizers": recognizer})
    assert response.status_code == 302, response.data
    prediction_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).get_data(as_text=True)
    import re  # noqa: PLC0415

    return prediction_id, sorted({int(i) for i in re.findall(r"/detections/(\d+)/feedback", page)})


def test_deleting_a_prediction_while_it_gets_feedback(clients, plain_png, stored, counts):
    one, two = clients(2, "ada@example.com")
    for _ in range(ROUNDS):
        prediction_id, (detection_id,) = _keep(one, plain_png, "digits")
        answers = at_once(lambda: one.post(f"/detections/{detection_id}/feedback", data={"label": "3"}),
                          lambda: two.post(f"/predictions/{prediction_id}/delete"))
        assert [a.status_code for a in answers][1] == 302 and answers[0].status_code in (302, 404)
    assert counts() == (0, 0, 0) and stored() == []  # no crop or original left behind


def test_deleting_the_last_two_detections_at_once_deletes_the_prediction(clients, face_jpeg, stored, counts):
    one, two = clients(2, "ada@example.com")
    face = Image.open(io.BytesIO(face_jpeg)).convert("RGB")
    pair = Image.new("RGB", (face.width * 2, face.height), "white")
    pair.paste(face, (0, 0))
    pair.paste(face, (face.width, 0))
    photo = io.BytesIO()
    pair.save(photo, "JPEG", quality=90)
    for _ in range(ROUNDS):
        _, detections = _keep(one, photo.getvalue(), "emotion7")
        assert len(detections) == 2
        answers = at_once(*[lambda c=c, d=d: c.post(f"/detections/{d}/delete") for c, d in zip((one, two), detections)])
        assert [a.status_code for a in answers] == [302, 302]
    assert counts() == (0, 0, 0) and stored() == []


def test_two_people_labelling_one_detection_at_once_leave_one_crop_and_one_original(clients, app, plain_png, stored):
    one, two = clients(2, "ada@example.com")
    for _ in range(ROUNDS):
        _, (detection_id,) = _keep(one, plain_png, "digits")
        answers = at_once(lambda: one.post(f"/detections/{detection_id}/feedback", data={"label": "3"}),
                          lambda: two.post(f"/detections/{detection_id}/feedback", data={"label": "7"}))
        assert [a.status_code for a in answers] == [302, 302]
        mine = [k for k in stored() if k.rsplit("/", 1)[1].split(".")[0] == str(detection_id)]
        assert sorted(k.split("/")[0] for k in mine) == ["crops", "originals"], mine
        with app.app_context():
            from app.models import Detection  # noqa: PLC0415

            label = db.session.get(Detection, detection_id).label
        assert all(f"/digits/{label}/" in k for k in mine)  # the folder of the label that won


def test_six_sign_ups_of_one_email_at_once_make_one_account(clients, app):
    for round_ in range(ROUNDS):
        email = f"same{round_}@example.com"
        form = {"email": email, "password": "long enough", "confirm": "long enough"}
        answers = at_once(*[lambda c=c: c.post("/signup", data=form) for c in clients(6)])
        assert sorted(a.status_code for a in answers) == [302] + [400] * 5
        assert all("already exists" in a.get_data(as_text=True) for a in answers if a.status_code == 400)
    with app.app_context():
        assert db.session.query(User).count() == ROUNDS


def test_three_reviewer_grants_at_once(clients, app):
    admins = clients(3, "root@example.com")
    for round_ in range(ROUNDS):
        email = f"reviewer{round_}@example.com"
        with app.app_context():
            make_user(email)
        answers = at_once(*[lambda c=c: c.post("/admin/reviewers", data={"email": email}) for c in admins])
        assert [a.status_code for a in answers] == [302] * 3
    with app.app_context():
        assert db.session.query(Reviewer).count() == ROUNDS


def test_a_write_survives_its_folder_being_pruned_by_a_delete(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path)
    real = __import__("tempfile").mkstemp
    pruned = []

    def prune_first(*args, **kwargs):
        if not pruned:  # another request deleted the folder's last file between mkdir and this
            pruned.append(kwargs["dir"])
            kwargs["dir"].rmdir()
        return real(*args, **kwargs)

    monkeypatch.setattr("app.storage.local.tempfile.mkstemp", prune_first)
    store.put("photos/a.jpg", b"photo")
    assert pruned and store.get("photos/a.jpg") == b"photo"


def test_uploads_and_deletes_in_one_folder_at_once(tmp_path):
    store = LocalStorage(tmp_path)
    errors = []

    def churn(name: str):
        for i in range(300):
            try:
                store.put(f"photos/{name}{i}.jpg", b"x")
                store.delete(f"photos/{name}{i}.jpg")
            except StorageError as exc:
                errors.append(str(exc))

    at_once(*[lambda n=n: churn(n) for n in "abcd"])
    assert errors == []
