"""Faults the site must survive: a locked SQLite database, an unreachable broker or database, a silent S3."""
import io
import socket
import sqlite3
import threading
import time

import pytest

from app.extensions import db
from app.models import Detection
from app.tasks.storage import place_images
from tests.app.conftest import make_user


@pytest.fixture
def sqlite_path(app_settings) -> str:
    url = app_settings["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        pytest.skip("locking is SQLite's; PostgreSQL waits on row locks by itself")
    app_settings.update(SQLITE_BUSY_MS=20, SQLITE_RETRIES=3)  # retries after 0.1, 0.2, 0.4 s
    return url.removeprefix("sqlite:///")


@pytest.fixture
def hold_lock(sqlite_path, app):  # after `app`, so the lock is gone before `app` empties the tables
    """hold_lock(seconds): another connection locks the whole database for that long."""
    holders = []

    def hold(seconds: float) -> None:
        other = sqlite3.connect(sqlite_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")
        holders.append(other)
        timer = threading.Timer(seconds, other.rollback)
        timer.start()
        holders.append(timer)

    yield hold
    for holder in holders:
        (holder.cancel if isinstance(holder, threading.Timer) else holder.close)()


def test_a_briefly_locked_database_is_waited_out(hold_lock, login, client, plain_png, counts):
    login()
    hold_lock(0.25)
    started = time.monotonic()
    response = client.post("/classify", data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"})
    assert response.status_code == 302 and counts()[0] == 1  # the retry read the photo again
    assert time.monotonic() - started >= 0.2


def test_a_database_that_stays_locked_answers_503_not_500(hold_lock, login, client, plain_png, counts, stored):
    login()
    hold_lock(30)
    assert client.get("/history").status_code == 200  # write-ahead log: readers never wait for a writer
    response = client.post("/classify", data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"})
    assert response.status_code == 503 and "Retry-After" in response.headers  # the upload limit's, on this route
    assert "database is busy" in response.get_data(as_text=True)
    assert counts()[0] == 0 and stored() == []  # every attempt removed the files it had written


@pytest.fixture
def dead_broker(app_settings):
    app_settings["CELERY"] = {"broker_url": "redis://127.0.0.1:1/0", "broker_connection_timeout": 0.5,
                              "task_publish_retry": False, "task_ignore_result": True}


def test_without_a_broker_pages_work_and_retraining_says_it_is_unavailable(dead_broker, app, login, client,
                                                                           plain_png, upload):
    with app.app_context():
        make_user("root@example.com", admin=True)
    login("root@example.com")
    assert upload(plain_png, ["digits"]).status_code == 302
    for url in ("/", "/history", "/models", "/models/digits", "/review"):
        assert client.get(url).status_code == 200, url
    page = client.post("/models/digits/retrain", follow_redirects=True).get_data(as_text=True)
    assert "Retraining is unavailable" in page and "broker" in page


@pytest.fixture
def silent_s3(monkeypatch):
    """The URL of an "S3" that accepts connections and never answers, with test credentials set."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.listen(64)  # the kernel completes every handshake; nobody ever reads or answers
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_silent_s3_fails_fast_and_feedback_keeps_the_label_and_moves_later(silent_s3, kept_detection, app,
                                                                           monkeypatch):
    from app.storage import from_config  # noqa: PLC0415

    client, detection_id = kept_detection
    local = app.extensions["storage"]
    app.extensions["storage"] = from_config({"S3_BUCKET": "bucket", "S3_ENDPOINT_URL": silent_s3,
                                             "S3_CONNECT_TIMEOUT_S": 0.5, "S3_READ_TIMEOUT_S": 0.5, "S3_ATTEMPTS": 2})
    queued = []
    monkeypatch.setattr("app.classify.routes.queue", lambda task, *args: queued.append(args))
    started = time.monotonic()
    response = client.post(f"/detections/{detection_id}/feedback", data={"label": "5"})
    assert response.status_code == 302 and time.monotonic() - started < 6  # 2 × 0.5 s reads plus back-off
    assert queued == [(detection_id,)]
    with app.app_context():
        assert db.session.get(Detection, detection_id).label == "5"
    app.extensions["storage"] = local  # S3 answers again: the queued move is done
    place_images.delay(detection_id)
    with app.app_context():
        assert db.session.get(Detection, detection_id).crop_key == f"crops/digits/5/{detection_id}.png"


@pytest.fixture
def kept_detection(login, upload, plain_png, app):
    client = login()
    upload(plain_png, ["digits"])
    with app.app_context():
        return client, db.session.scalar(db.select(Detection.id))


@pytest.fixture
def dead_database(app, app_settings):
    """dead_database(): an app like `app` whose database cannot be reached (nothing listens on port 1)."""
    from app import create_app  # noqa: PLC0415

    def build():
        return create_app({**app_settings, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://nobody@127.0.0.1:1/none"})

    return build


def test_an_unreachable_database_answers_503_pages_and_json_with_retry_after(dead_database, login, token_for):
    signed_in = login()
    cookie = signed_in.get_cookie("session").value
    api = token_for()
    down = dead_database().test_client()
    down.set_cookie("session", cookie)
    page = down.get("/history")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "The database is unavailable right now" in page.get_data(as_text=True) and "Log in" in page.get_data(
        as_text=True)  # rendered for a visitor: the user could not be loaded
    answer = down.get("/api/v1/predictions", headers=api)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert answer.get_json() == {"error": "The database is unavailable right now; please try again in a minute."}
