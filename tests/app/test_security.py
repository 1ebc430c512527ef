"""Abuse limits and browser protections: rate limits, proxy trust, cookie flags, headers, CSRF on every form."""
import base64
import gc
import io

import pytest

from tests.app.conftest import PASSWORD


@pytest.fixture
def tight_limits(app_settings):
    app_settings.update(RATE_LIMIT_LOGIN="3 per minute", RATE_LIMIT_TOKEN="2 per minute",
                        RATE_LIMIT_UPLOAD="2 per minute")


def _basic(email: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_login_is_rate_limited_per_client(tight_limits, client):
    for _ in range(3):
        assert client.post("/login", data={"email": "x@example.com", "password": "guess"}).status_code == 400
    refused = client.post("/login", data={"email": "x@example.com", "password": "guess"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Too Many Requests" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only attempts count, not showing the form
    assert client.post("/signup", data={}).status_code == 400  # signing up has its own budget


def test_token_endpoint_is_rate_limited_with_a_json_error(tight_limits, client, user):
    for _ in range(2):
        assert client.post("/api/v1/tokens", headers=_basic("ada@example.com", "wrong")).status_code == 401
    refused = client.post("/api/v1/tokens", headers=_basic("ada@example.com", PASSWORD))
    assert refused.status_code == 429 and "error" in refused.get_json()


def test_uploads_are_rate_limited_on_the_page_and_the_api(tight_limits, client, plain_png, token_for):
    def page():
        return client.post("/classify", data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"})

    assert [page().status_code for _ in range(3)] == [200, 200, 429]
    headers = token_for()
    api = [client.post("/api/v1/predictions", headers=headers,
                       data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"}).status_code
           for _ in range(3)]
    assert api == [201, 201, 429]


def test_an_admin_token_is_not_throttled_by_the_upload_limit(tight_limits, client, plain_png, token_for, app):
    from tests.app.conftest import make_user  # noqa: PLC0415

    with app.app_context():
        make_user("root@example.com", admin=True)
    admin, user = token_for("root@example.com"), token_for("ada@example.com")

    def send(headers):
        return client.post("/api/v1/predictions", headers=headers,
                           data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"}).status_code

    assert [send(admin) for _ in range(4)] == [201] * 4  # bulk evaluation by an admin
    assert [send(user) for _ in range(3)] == [201, 201, 429]  # everyone else keeps the limit


@pytest.fixture
def limits_off(tight_limits, app_settings):
    app_settings.update(RATELIMIT_ENABLED=False)  # Flask-Limiter's own switch, e.g. for a benchmark


def test_limits_can_be_switched_off(limits_off, client):
    gc.collect()  # the limiter must still be alive when the views call it
    assert [client.post("/login", data={"email": "x@example.com", "password": "guess"}).status_code
            for _ in range(5)] == [400] * 5


@pytest.fixture
def proxied(app_settings):
    app_settings.update(PROXY_HOPS=1, SESSION_COOKIE_SECURE=True, RATE_LIMIT_LOGIN="2 per minute")


def test_proxy_gives_client_addresses_https_and_secure_cookies(proxied, client, user):
    def attempt(address):
        return client.post("/login", data={"email": "ada@example.com", "password": "wrong"},
                           headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"})

    assert [attempt("203.0.113.1").status_code for _ in range(3)] == [400, 400, 429]
    assert attempt("203.0.113.2").status_code == 400  # another client, another budget
    response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD},
                           headers={"X-Forwarded-For": "203.0.113.3", "X-Forwarded-Proto": "https"})
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302 and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_httponly_and_lax_without_https(client, user):
    response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" not in c for c in cookies)
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("url", ["/", "/login", "/api/v1/openapi.json", "/no-such-page"])
def test_security_headers_on_every_response(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "connect-src 'self' ws://localhost" in csp  # the live mode socket
    assert (headers["X-Content-Type-Options"], headers["X-Frame-Options"]) == ("nosniff", "DENY")


def test_token_errors_do_not_tell_which_accounts_exist(client, user):
    known = client.post("/api/v1/tokens", headers=_basic("ada@example.com", "wrong password"))
    unknown = client.post("/api/v1/tokens", headers=_basic("nobody@example.com", "wrong password"))
    assert known.status_code == unknown.status_code == 401 and known.get_json() == unknown.get_json()


@pytest.fixture
def csrf_on(app_settings):
    app_settings["WTF_CSRF_ENABLED"] = True


def _form_posts(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            url = rule.rule
            for arg in rule.arguments:
                url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "digits")
            yield url


def test_every_form_post_needs_a_csrf_token(csrf_on, app, client):
    urls = sorted(set(_form_posts(app)))
    assert len(urls) >= 15
    answers = {url: client.post(url, data={"label": "happy"}).status_code for url in urls}
    assert answers == dict.fromkeys(urls, 400)


@pytest.mark.parametrize("password", ["password123", "PASSWORD123", "aaaaaaaaaa", "abababab"])
def test_easily_guessed_passwords_are_refused(client, password, counts):
    response = client.post("/signup", data={"email": "ada@example.com", "password": password, "confirm": password})
    assert response.status_code == 400 and "too easy to guess" in response.get_data(as_text=True)


def test_unknown_emails_cost_a_password_hash_too(client, user, monkeypatch):
    import werkzeug.security  # noqa: PLC0415

    hashed = []

    def counting(stored, password):
        hashed.append(password)
        return werkzeug.security.check_password_hash(stored, password)

    monkeypatch.setattr("app.services.accounts.check_password_hash", counting)
    monkeypatch.setattr("app.models.accounts.check_password_hash", counting)
    client.post("/login", data={"email": "nobody@example.com", "password": "guess one"})
    client.post("/login", data={"email": "ada@example.com", "password": "guess two"})
    assert hashed == ["guess one", "guess two"]  # so both answers take as long
