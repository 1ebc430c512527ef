"""Faults the site must survive: a locked SQLite database, an unreachable broker."""
import io
import sqlite3
import threading
import time

import pytest

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
