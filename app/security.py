"""Abuse limits and browser protections: rate limits, proxy trust, same-origin writes, cookie flags and headers."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

# Endpoint → the config key holding its limit. Only POSTs count: showing the login form costs nothing.
LIMITED = {
    "auth.login": "RATE_LIMIT_LOGIN",
    "auth.signup": "RATE_LIMIT_SIGNUP",  # it tells whether an email has an account: kept slow on purpose
    "api.create_token": "RATE_LIMIT_TOKEN",
    "classify.classify": "RATE_LIMIT_UPLOAD",
    "api.create_prediction": "RATE_LIMIT_UPLOAD",
    "classify.add_face": "RATE_LIMIT_UPLOAD",  # each drawn face is classified, as an upload is
    "api.add_detection": "RATE_LIMIT_UPLOAD",
}


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})  # "none": typed in the address bar, a bookmark


def init_app(app: Flask) -> None:
    """Trust the configured proxy hops, rate-limit the sensitive endpoints, refuse cross-site writes, mark cookies
    Secure over HTTPS, add security headers."""
    app.wsgi_app = secure_cookies(app.wsgi_app)  # inside ProxyFix, so it sees the scheme the proxy reported
    if app.config["PROXY_HOPS"]:
        # Heroku's router terminates TLS: without this every client shares one address and looks like plain HTTP.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    _init_limits(app)
    app.before_request(refuse_cross_site)
    app.after_request(_headers)


def from_this_site(origin: str) -> bool:
    """Whether an Origin header names this site (its host and port; "null" never does)."""
    return urlsplit(origin).netloc == request.host


def refuse_cross_site():
    """403 for a state-changing request that a browser says came from another site, whatever token it carries."""
    if request.method in SAFE_METHODS:
        return
    # A leaked CSRF token or a cached HTTP Basic login is not enough: the browser's own word on where the request
    # came from must agree. Clients that are not browsers send neither header.
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if (fetch_site is not None and fetch_site not in SAME_ORIGIN_FETCHES) or (
            origin is not None and not from_this_site(origin)):
        abort(403, "This request came from another site, so it was refused. Use VisionLoop's own pages.")


def secure_cookies(wsgi_app):
    """WSGI middleware: every cookie set over HTTPS (as the app sees the scheme) gets the Secure flag."""

    def app(environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return wsgi_app(environ, start_response)

        def start(status, headers, exc_info=None):
            headers = [(name, _with_secure(value) if name.lower() == "set-cookie" else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app


def _with_secure(cookie: str) -> str:
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"


def _init_limits(app: Flask) -> None:
    # One limiter per app, so every app (and every test) counts from zero; Redis shares counts between workers.
    limiter = Limiter(get_remote_address, storage_uri=app.config["RATELIMIT_STORAGE_URI"],
                      headers_enabled=True, swallow_errors=True)  # a Redis outage must not lock everyone out
    limiter.init_app(app)
    # The wrapped views hold the limiter only weakly, and with RATELIMIT_ENABLED off Flask-Limiter keeps no
    # reference of its own: without this one it would be collected and every limited view would fail.
    app.extensions["rate_limiter"] = limiter
    for endpoint, key in LIMITED.items():
        if endpoint in app.view_functions:
            exempt = admin_caller if key == "RATE_LIMIT_UPLOAD" else None
            limit = limiter.limit(lambda key=key: current_app.config[key], methods=["POST"], exempt_when=exempt)
            app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    # Failed sign-ins per account, from every address together: a guesser with many addresses is slowed too.
    per_account = limiter.shared_limit(lambda: current_app.config["RATE_LIMIT_ACCOUNT"], "account",
                                       key_func=_account, methods=["POST"], exempt_when=lambda: not _account(),
                                       deduct_when=lambda response: response.status_code in (400, 401))
    for endpoint in ("auth.login", "api.create_token"):
        app.view_functions[endpoint] = per_account(app.view_functions[endpoint])


def _account() -> str:
    """The account a sign-in names (form email or HTTP Basic user), normalised; empty when none."""
    auth = request.authorization
    email = request.form.get("email") or (auth.username if auth is not None and auth.type == "basic" else "")
    return f"account:{email.strip().lower()}" if email and email.strip() else ""


def admin_caller() -> bool:
    """Whether an admin sends this request (signed in, or with an admin's API token): bulk evaluation of a model
    is an admin's job, so the per-user upload limit does not apply to them."""
    from flask_login import current_user  # noqa: PLC0415

    from app.api.auth import token_row  # noqa: PLC0415

    if current_user.is_authenticated:
        return bool(current_user.is_admin)
    row = token_row()
    return bool(row and row.user.is_admin)


def content_security_policy() -> str:
    """The CSP for this request: only our own scripts, styles and sockets; images also from data:/blob: URLs."""
    socket = f"{'wss' if request.is_secure else 'ws'}://{request.host}"  # older browsers do not map 'self' to ws:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # anonymous results are previews in data: URIs; live snapshots are blobs
        "media-src 'self' blob:",
        f"connect-src 'self' {socket}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
