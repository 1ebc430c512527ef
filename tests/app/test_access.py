"""Every route, asked by an anonymous visitor, another user, the owner, a reviewer and an admin."""
import base64
import io
from datetime import datetime, timezone

import pytest

from app.extensions import db
from app.models.live import LiveSession
from app.services import accounts, reviewers
from app.tasks.retraining import start
from tests.app.conftest import PASSWORD, make_user

ROLES = ["anonymous", "other", "owner", "reviewer", "admin"]
OPEN = dict.fromkeys(ROLES, "ok")
SIGNED_IN = {**OPEN, "anonymous": "login"}
OWNER = {"anonymous": "login", "other": "denied", "owner": "ok", "reviewer": "denied", "admin": "denied"}
REVIEWER = {"anonymous": "login", "other": "denied", "owner": "denied", "reviewer": "ok", "admin": "ok"}
ADMIN = {**REVIEWER, "reviewer": "denied"}
API_SIGNED_IN = {**OPEN, "anonymous": "token"}
API_OWNER = {**OWNER, "anonymous": "token"}
API_ADMIN = {**ADMIN, "anonymous": "token"}

# (method, url, who may) for every rule. The owner has predictions 1-3 (one detection each), live session 1
# with a snapshot and retraining run 1.
# Destructive requests come last, so the rows they remove are there for every request before them.
ROUTES = [
    ("GET", "/", OPEN),
    ("GET", "/login", OPEN),
    ("POST", "/login", OPEN),
    ("GET", "/signup", OPEN),
    ("POST", "/signup", OPEN),
    ("GET", "/api/v1/openapi.json", OPEN),
    ("POST", "/classify", OPEN),  # visitors may try the models; nothing of theirs is kept
    ("GET", "/profile", SIGNED_IN),
    ("POST", "/profile", SIGNED_IN),
    ("GET", "/history", SIGNED_IN),
    ("GET", "/data", SIGNED_IN),
    ("GET", "/data/export.zip", SIGNED_IN),
    ("GET", "/data/everything.zip", SIGNED_IN),
    ("GET", "/live/", OPEN),
    ("GET", "/live/sessions", SIGNED_IN),
    ("GET", "/predictions/1", OWNER),
    ("GET", "/predictions/1/photo", OWNER),
    ("GET", "/detections/1/crop", OWNER),
    ("POST", "/detections/1/feedback", OWNER),
    ("POST", "/detections/1/undo", OWNER),
    ("POST", "/predictions/1/faces", OWNER),
    ("POST", "/predictions/1/number", OWNER),
    ("GET", "/live/sessions/1", OWNER),
    ("GET", "/live/sessions/1/snapshots/0", OWNER),
    ("GET", "/api/v1/tokens", API_SIGNED_IN),
    ("GET", "/api/v1/predictions", API_SIGNED_IN),
    ("GET", "/api/v1/predictions/1", API_OWNER),
    ("GET", "/api/v1/predictions/1/photo", API_OWNER),
    ("GET", "/api/v1/predictions/1/crops/digits/0", API_OWNER),
    ("POST", "/api/v1/predictions/1/feedback", API_OWNER),
    ("POST", "/api/v1/predictions/1/detections", API_OWNER),
    ("GET", "/review", REVIEWER),
    ("GET", "/review/1/crop", REVIEWER),
    ("GET", "/review/1/photo", REVIEWER),  # the owner sees it on the result page; the queue is the reviewers'
    ("POST", "/review/1/boxes", REVIEWER),
    ("POST", "/review/1/skip", REVIEWER),
    ("POST", "/review/1/label", REVIEWER),
    ("POST", "/review/undo", REVIEWER),
    ("POST", "/review/skipped", REVIEWER),
    ("GET", "/models", REVIEWER),
    ("GET", "/models/digits", REVIEWER),
    ("GET", "/models/runs/1", REVIEWER),
    ("GET", "/data/all.zip", ADMIN),
    ("GET", "/admin/reviewers", ADMIN),
    ("POST", "/admin/reviewers", ADMIN),
    ("POST", "/models/digits/retrain", ADMIN),
    ("POST", "/models/versions/1/promote", ADMIN),
    ("POST", "/models/digits/rollback", ADMIN),
    ("POST", "/admin/reviewers/3/revoke", ADMIN),
    ("GET", "/api/v1/loop/versions", API_ADMIN),
    ("GET", "/api/v1/loop/runs", API_ADMIN),
    ("GET", "/api/v1/loop/runs/1", API_ADMIN),
    ("POST", "/api/v1/loop/runs", API_ADMIN),
    ("POST", "/api/v1/loop/versions/1/promote", API_ADMIN),
    ("POST", "/api/v1/loop/digits/rollback", API_ADMIN),
    ("POST", "/api/v1/predictions", API_SIGNED_IN),
    ("POST", "/api/v1/tokens", dict.fromkeys(ROLES, "token")),  # HTTP Basic only: a bearer token is not enough
    ("POST", "/live/sessions/1/delete", OWNER),
    ("DELETE", "/api/v1/predictions/3", API_OWNER),
    ("DELETE", "/api/v1/tokens/1", API_SIGNED_IN),  # the signed-in role's own token: the last API request
    ("POST", "/detections/2/delete", OWNER),
    ("POST", "/predictions/1/delete", OWNER),
    ("POST", "/data/delete", SIGNED_IN),
    ("POST", "/data/delete-account", SIGNED_IN),  # without the password: refused, the account stays
    ("GET", "/live/ws", OPEN),  # the socket handshake: a plain GET is refused alike for everyone
    ("POST", "/profile/tokens/1/revoke", SIGNED_IN),  # revoked already by the API: "no such token"
    ("POST", "/profile/sign-out-everywhere", SIGNED_IN),
    ("POST", "/logout", OPEN),
]


def _outcome(status: int, location: str | None) -> str:
    if status == 302 and location and location.startswith("/login"):
        return "login"
    if status == 401:
        return "token"
    if status in (403, 404):
        return "denied"
    assert status < 500, status
    return "ok"


def test_the_table_names_every_route(app):
    def endpoint(method: str, url: str) -> str:
        scheme = "ws" if url == "/live/ws" else "http"  # the socket's rule matches websocket requests only
        return app.url_map.bind("localhost", url_scheme=scheme).match(url, method=method)[0]

    listed = {(endpoint(method, url), method) for method, url, _ in ROUTES}
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert listed == routes


@pytest.fixture
def world(app_settings, request, plain_png):
    """Four people (ids 1-4 in ROLES order after anonymous) and the owner's predictions, live session and run."""
    # No broker: "Retrain now" records a failed run at once instead of training a model inside the test.
    app_settings["CELERY"] = {"broker_url": "redis://127.0.0.1:1/0", "broker_connection_timeout": 0.2,
                              "task_publish_retry": False, "task_ignore_result": True}
    app, client = request.getfixturevalue("app"), request.getfixturevalue("client")
    with app.app_context():
        for role in ROLES[1:]:
            make_user(f"{role}@example.com", admin=role == "admin")
        reviewers.grant("reviewer@example.com", None)
        owner = accounts.find_user("owner@example.com")
        app.extensions["storage"].put("live/1/0.jpg", b"snapshot")
        now = datetime.now(timezone.utc)
        db.session.add(LiveSession(user=owner, started_at=now, ended_at=now, recognizer="emotion7",
                                   model_version="v", bucket_s=5, frames=1, faces=1, peak_faces=1, counts={},
                                   buckets=[], frame_keys=["live/1/0.jpg"]))
        db.session.commit()
        assert start("digits", "admin")[0].id == 1
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    for expected in (1, 2, 3):
        response = client.post("/classify", data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"})
        assert response.location == f"/predictions/{expected}"
    client.post("/logout")
    return client


def _sign_in(client, role: str) -> dict:
    """Log `client` in as `role` and return its API headers."""
    if role == "anonymous":
        return {}
    client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD})
    basic = base64.b64encode(f"{role}@example.com:{PASSWORD}".encode()).decode()
    token = client.post("/api/v1/tokens", headers={"Authorization": f"Basic {basic}"}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


JSON_BODIES = {"feedback": {"recognizer": "digits", "detection": 0, "label": "5"},
               "detections": {"recognizer": "digits", "box": [0, 0, 10, 10]}}  # the owner's: a drawn digit, 201


def _send(client, method: str, url: str, headers: dict, photo: bytes):
    if url.startswith("/api/v1/predictions/") and url.rsplit("/", 1)[1] in JSON_BODIES:
        return client.open(url, method=method, headers=headers, json=JSON_BODIES[url.rsplit("/", 1)[1]])
    form = {"image": (io.BytesIO(photo), "a.png"), "recognizers": "digits", "label": "5", "email": "other@example.com"}
    return client.open(url, method=method, data=form, headers=headers if url.startswith("/api/") else {})


@pytest.mark.parametrize("role", ROLES)
def test_access(role, world, plain_png):
    headers = _sign_in(world, role)
    wrong = {}
    for method, url, allowed in ROUTES:
        response = _send(world, method, url, headers, plain_png)
        outcome = _outcome(response.status_code, response.location)
        if outcome != allowed[role]:
            wrong[(method, url)] = (outcome, response.status_code)
    assert wrong == {}


# Bad numbers and odd headers are the client's mistake: a 4xx, never a 500.

@pytest.mark.parametrize("url, status", [
    ("/history?page=99999999999999999999999", 400),
    ("/live/sessions?page=99999999999999999999999", 400),
    ("/predictions/99999999999999999999999", 404),
    ("/predictions/9223372036854775808/photo", 404),
    ("/detections/99999999999999999999999/crop", 404),
])
def test_numbers_past_64_bits_are_client_errors(login, url, status):
    assert login().get(url).status_code == status


def test_api_numbers_past_64_bits_are_client_errors(client, token_for):
    api = token_for()
    assert client.get("/api/v1/predictions?page=99999999999999999999999", headers=api).status_code == 400
    assert client.get("/api/v1/predictions/99999999999999999999999", headers=api).status_code == 404
    assert client.delete("/api/v1/tokens/99999999999999999999999", headers=api).status_code == 404


def test_out_of_range_dates_are_shown_as_filter_errors(login):
    page = login().get("/history?since=0001-01-01&until=9999-12-31")
    assert page.status_code == 200 and "Choose a day from 1970-01-01 to 9998-12-31." in page.get_data(as_text=True)


def test_a_line_break_in_next_is_not_a_header(client, user):
    response = client.post("/login?next=/%0d%0aSet-Cookie:%20evil=1", data={"email": "ada@example.com",
                                                                          "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert all("evil" not in c for c in response.headers.getlist("Set-Cookie"))


def test_a_websocket_handshake_in_another_version_is_426(client):
    response = client.get("/live/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                               "Sec-WebSocket-Version": "8"})
    assert response.status_code == 426 and response.headers["Sec-WebSocket-Version"] == "13"
