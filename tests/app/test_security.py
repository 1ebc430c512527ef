"""Abuse limits and browser protections: rate limits, proxy trust, cookie flags, headers, CSRF on every form."""
import base64
import gc
import io
import re
import time

import pytest

from live_support import live_socket, served  # noqa: F401 - fixtures
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


def test_an_api_upload_looks_its_token_up_once(client, plain_png, token_for, app):
    from sqlalchemy import event  # noqa: PLC0415

    from app.extensions import db  # noqa: PLC0415

    headers, lookups = token_for(), []

    def send():
        return client.post("/api/v1/predictions", headers=headers,
                           data={"image": (io.BytesIO(plain_png), "a.png"), "recognizers": "digits"}).status_code

    def note(conn, cursor, statement, *args):
        lookups.extend([statement] if "FROM api_tokens" in statement else [])

    assert send() == 201  # the token's first use is recorded (a commit, then its row is read again)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert send() == 201
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(lookups) == 1  # the upload limit's admin check and the view share it


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


# Sessions end: logout, password change and "sign out everywhere" end every copy of a session and remember-me cookie.

def _signed_in(client, remember: bool = False):
    response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD,
                                           **({"remember": "y"} if remember else {})})
    assert response.status_code == 302
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")
            if client.get_cookie(name) is not None}


def _restore(client, cookies: dict) -> None:
    for name, value in cookies.items():
        client.set_cookie(name, value)


def test_a_session_cookie_copied_before_logout_is_dead_after_it(client, user):
    copied = _signed_in(client)
    assert client.get("/profile").status_code == 200
    client.post("/logout")
    _restore(client, copied)
    assert client.get("/profile").status_code == 302


def test_a_remember_me_cookie_copied_before_logout_is_dead_after_it(app, client, user):
    remember = _signed_in(client, remember=True)["remember_token"]
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/profile").status_code == 302


def test_a_password_change_signs_out_other_browsers_and_revokes_tokens(app, client, user, token_for):
    other = app.test_client()
    _signed_in(other)
    api = token_for()
    _signed_in(client)
    changed = client.post("/profile", data={"current": PASSWORD, "password": "a new long one",
                                            "confirm": "a new long one"})
    assert changed.status_code == 302
    assert client.get("/profile").status_code == 200  # the browser that changed it stays signed in
    assert other.get("/profile").status_code == 302
    assert client.get("/api/v1/predictions", headers=api).status_code == 401


def test_sign_out_everywhere_ends_every_session_and_token(app, client, user, token_for):
    other = app.test_client()
    _signed_in(other)
    api = token_for()
    copied = _signed_in(client)
    response = client.post("/profile/sign-out-everywhere", follow_redirects=True)
    assert "Signed out of every browser; 1 API tokens revoked." in response.get_data(as_text=True)
    _restore(client, copied)
    assert client.get("/profile").status_code == other.get("/profile").status_code == 302
    assert client.get("/api/v1/predictions", headers=api).status_code == 401


def test_tokens_are_listed_with_their_use_and_can_be_revoked(client, user, token_for):
    first, second = token_for(), token_for()
    assert client.get("/api/v1/predictions", headers=first).status_code == 200
    listed = client.get("/api/v1/tokens", headers=second).get_json()["items"]
    assert [(t["id"], t["current"], t["last_used_at"] is not None) for t in listed] == [(2, True, True),
                                                                                        (1, False, True)]
    assert client.delete("/api/v1/tokens/1", headers=second).status_code == 204
    assert client.get("/api/v1/predictions", headers=first).get_json() == {
        "error": "The token is invalid, expired or revoked."}
    assert client.delete("/api/v1/tokens/1", headers=second).status_code == 404
    assert client.delete("/api/v1/tokens/2", headers=second).status_code == 204  # its own token too
    assert client.get("/api/v1/tokens", headers=second).status_code == 401


def test_another_users_token_cannot_be_revoked(client, token_for):
    ada, bob = token_for("ada@example.com"), token_for("bob@example.com")
    assert client.delete("/api/v1/tokens/1", headers=bob).status_code == 404
    assert client.get("/api/v1/predictions", headers=ada).status_code == 200


def test_the_profile_lists_tokens_and_revokes_one(client, user, token_for):
    api = token_for()
    _signed_in(client)
    page = client.get("/profile").get_data(as_text=True)
    assert 'data-test="token-1"' in page and "<td>never</td>" in page  # issuing a token is not a use
    response = client.post("/profile/tokens/1/revoke", follow_redirects=True)
    assert "Token revoked." in response.get_data(as_text=True) and 'data-test="tokens-empty"' in response.get_data(
        as_text=True)
    assert client.get("/api/v1/predictions", headers=api).status_code == 401


def test_deleting_all_my_data_revokes_tokens(client, user, token_for):
    api = token_for()
    _signed_in(client)
    assert client.post("/data/delete", data={"confirm": "y"}).status_code == 302
    assert client.get("/api/v1/predictions", headers=api).status_code == 401


def test_a_forged_host_is_not_echoed_into_the_openapi_servers(app_settings, request):
    client = request.getfixturevalue("client")
    assert client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).get_json()["servers"] == [
        {"url": "/api/v1"}]
    client.application.config["BASE_URL"] = "https://visionloop.example.org"
    assert client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).get_json()["servers"] == [
        {"url": "https://visionloop.example.org/api/v1"}]


def test_a_forged_host_is_not_echoed_into_the_next_page_link(client, token_for, upload, plain_png):
    headers = token_for()
    for _ in range(2):
        upload(plain_png, ["digits"], api=headers)
    forged = {**headers, "Host": "evil.example"}
    link = client.get("/api/v1/predictions?per_page=1", headers=forged).get_json()["next"]
    assert link.startswith("/api/v1/predictions?") and "evil" not in link
    client.application.config["BASE_URL"] = "https://visionloop.example.org"
    link = client.get("/api/v1/predictions?per_page=1", headers=forged).get_json()["next"]
    assert link.startswith("https://visionloop.example.org/api/v1/predictions?")


# Cross-site requests: a valid CSRF token is not enough when the browser says the request came from elsewhere.

@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}])
def test_a_post_from_another_site_is_refused_even_with_a_valid_csrf_token(csrf_on, client, user, headers):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
    refused = client.post("/login", data=form, headers=headers)
    assert refused.status_code == 403 and "came from another site" in refused.get_data(as_text=True)
    assert client.get_cookie("remember_token") is None and client.get("/profile").status_code == 302
    assert client.post("/login", data=form, headers={"Origin": "http://localhost",
                                                     "Sec-Fetch-Site": "same-origin"}).status_code == 302


def test_api_writes_from_another_site_are_refused_and_plain_clients_pass(client, user, token_for):
    api = token_for()
    assert client.delete("/api/v1/predictions/1", headers={**api, "Origin": "http://evil.example"}).status_code == 403
    assert client.delete("/api/v1/predictions/1", headers=api).status_code == 404  # no Origin: curl, scripts
    assert client.get("/api/v1/predictions", headers={**api, "Sec-Fetch-Site": "cross-site"}).status_code == 200


# Cookies follow the scheme the app believes, whoever told it (gunicorn's own X-Forwarded-Proto trust for a local
# proxy, or PROXY_HOPS).

def _cookies_after_login(client, **request) -> list[str]:
    response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD, "remember": "y"},
                           **request)
    assert response.status_code == 302
    return response.headers.getlist("Set-Cookie")


def test_cookies_are_secure_whenever_the_request_is_https(client, user):
    cookies = _cookies_after_login(client, base_url="https://localhost")  # as gunicorn marks a local proxy's
    assert len(cookies) == 2 and all(c.endswith("; Secure") or "; Secure;" in c for c in cookies)


def test_cookies_are_secure_behind_a_trusted_https_proxy_with_default_cookie_settings(app_settings, request):
    app_settings.update(PROXY_HOPS=1)
    request.getfixturevalue("user")
    cookies = _cookies_after_login(request.getfixturevalue("client"), headers={"X-Forwarded-Proto": "https"})
    assert len(cookies) == 2 and all("Secure" in c for c in cookies)


def test_the_proxy_headers_are_not_trusted_by_default(client, user):
    cookies = _cookies_after_login(client, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert cookies and not any("Secure" in c for c in cookies)


# Live sockets each hold a thread: bounded in all, for visitors and per person, and closed when idle.

@pytest.fixture
def few_sockets(app_settings):
    app_settings.update(LIVE_MAX_SOCKETS=3, LIVE_MAX_ANONYMOUS_SOCKETS=1, LIVE_MAX_SOCKETS_PER_CLIENT=2)


def _refused(live_socket, **options) -> str:
    with live_socket(ready=False, **options) as ws:
        reply = ws.reply()
    assert reply["type"] == "error" and reply["fatal"] is True, reply
    return reply["message"]


def _all_given_back(app) -> bool:
    deadline = time.monotonic() + 10
    while app.extensions["live_slots"].count() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server notices a close a moment later
    return app.extensions["live_slots"].count() == 0


def test_live_sockets_are_bounded_for_visitors_in_all_and_per_person(few_sockets, app, live_socket, login):
    login()
    with live_socket(signed_in=True), live_socket(signed_in=True):
        with live_socket():  # the third and last place
            assert _refused(live_socket, signed_in=True) == "Live mode is full right now; try again in a minute."
        assert "already have 2 live connections" in _refused(live_socket, signed_in=True)
    with live_socket():
        assert "Signed-in users have places kept" in _refused(live_socket)  # visitors hold at most one
    assert _all_given_back(app)


def test_an_idle_live_socket_is_closed(app_settings, request):
    app_settings["LIVE_IDLE_S"] = 0.5
    live_socket = request.getfixturevalue("live_socket")
    with live_socket() as ws:
        assert ws.reply() == {"type": "error", "message": "Closed after 0.5 s without a frame; press Start to go on.",
                              "fatal": True}


def test_live_sockets_are_refused_by_a_server_without_threads(app):
    from app.live.websocket import _refusal  # noqa: PLC0415

    with app.test_request_context("/live/ws", environ_overrides={"wsgi.multithread": False}):
        assert "needs the web server to run with threads" in _refusal()
    with app.test_request_context("/live/ws", environ_overrides={"wsgi.multithread": True}):
        assert _refusal() is None


def test_failed_sign_ins_are_limited_per_account_across_addresses(app_settings, request):
    app_settings.update(PROXY_HOPS=1, RATE_LIMIT_ACCOUNT="3 per minute")
    client = request.getfixturevalue("client")
    request.getfixturevalue("user")

    def attempt(address: str, password: str = "wrong", email: str = "Ada@example.com"):
        return client.post("/login", data={"email": email, "password": password},
                           headers={"X-Forwarded-For": address}).status_code

    assert [attempt(f"203.0.113.{i}") for i in range(4)] == [400, 400, 400, 429]
    assert attempt("203.0.113.9", PASSWORD) == 429  # the account waits, whoever asks
    basic = client.post("/api/v1/tokens", headers={**_basic("ada@example.com", "wrong"),
                                                    "X-Forwarded-For": "203.0.113.10"})
    assert basic.status_code == 429
    assert attempt("203.0.113.11", email="bob@example.com") == 400  # other accounts are not affected


def test_sign_up_tells_a_taken_email_but_slowly(app_settings, request):
    app_settings.update(RATE_LIMIT_SIGNUP="2 per minute")
    client = request.getfixturevalue("client")
    request.getfixturevalue("user")
    form = {"email": "ada@example.com", "password": "long enough", "confirm": "long enough"}
    first = client.post("/signup", data=form)
    assert first.status_code == 400 and "already exists" in first.get_data(as_text=True)  # documented in README
    assert [client.post("/signup", data=form).status_code for _ in range(2)] == [400, 429]
