"""Accounts: sign up, log in and out, profile, password change, CSRF, safe redirects."""
import re

import pytest

from app.extensions import db
from app.models import User


def test_signup_creates_a_hashed_account_and_signs_in(client, app):
    response = client.post("/signup", data={"email": " Ada@Example.com ", "password": "long enough",
                                            "confirm": "long enough"})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.email == "ada@example.com" and "long enough" not in user.password_hash
        assert user.check_password("long enough") and not user.check_password("Long enough")


@pytest.mark.parametrize("data, message", [
    ({"email": "ada@example.com", "password": "short", "confirm": "short"}, "at least 8 characters"),
    ({"email": "ada@example.com", "password": "long enough", "confirm": "different!"}, "Passwords differ."),
    ({"email": "not-an-email", "password": "long enough", "confirm": "long enough"}, "Invalid email address."),
    ({"email": "", "password": "", "confirm": ""}, "This field is required."),
])
def test_signup_rules(client, data, message, counts):
    response = client.post("/signup", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_signup_with_a_taken_email(client, user):
    response = client.post("/signup", data={"email": "ADA@example.com", "password": "long enough",
                                            "confirm": "long enough"})
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_login_logout(client, user):
    wrong = client.post("/login", data={"email": "ada@example.com", "password": "wrong password"})
    assert wrong.status_code == 400 and "Wrong email or password." in wrong.get_data(as_text=True)
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "wrong password"})
    assert "Wrong email or password." in unknown.get_data(as_text=True)  # same words: no account probing
    assert client.post("/login", data={"email": "ada@example.com", "password": "correct horse"}).status_code == 302
    assert 'data-test="nav-logout"' in client.get("/").get_data(as_text=True)
    assert client.get("/logout").status_code == 405  # a link cannot log anyone out
    client.post("/logout")
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/history?label=happy", "/history?label=happy"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_login_redirects_only_within_the_site(client, user, target, expected):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "ada@example.com", "password": "correct horse"})
    assert response.location == expected


def test_profile_shows_counts_and_changes_password(login, upload, plain_png):
    client = login()
    upload(plain_png, ["digits"])
    client.post("/detections/1/feedback", data={"label": "1"})
    page = client.get("/profile").get_data(as_text=True)
    assert re.search(r'data-test="stat-photos">1<', page) and re.search(r'data-test="stat-feedback">1<', page)
    wrong = client.post("/profile", data={"current": "nope", "password": "new password", "confirm": "new password"})
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    changed = client.post("/profile", data={"current": "correct horse", "password": "new password",
                                            "confirm": "new password"})
    assert changed.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": "ada@example.com", "password": "new password"}).status_code == 302


@pytest.fixture
def csrf_on(app_settings):
    app_settings["WTF_CSRF_ENABLED"] = True


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_forms_need_a_csrf_token(csrf_on, client, counts, face_jpeg, token_for, upload):
    refused = client.post("/signup", data={"email": "ada@example.com", "password": "long enough",
                                           "confirm": "long enough"})
    assert refused.status_code == 400 and "The form expired" in refused.get_data(as_text=True)
    token = _token(client.get("/signup").get_data(as_text=True))
    accepted = client.post("/signup", data={"email": "ada@example.com", "password": "long enough",
                                            "confirm": "long enough", "csrf_token": token})
    assert accepted.status_code == 302
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/profile").status_code == 200
    assert upload(face_jpeg, ["emotion7"]).status_code == 400  # the classify form too
    # The API authenticates with bearer tokens, not cookies, so it needs no CSRF token.
    assert upload(face_jpeg, ["emotion7"], api=token_for("api@example.com")).status_code == 201
