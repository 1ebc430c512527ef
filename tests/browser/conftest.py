"""Real-browser fixtures: Debian's chromium driven by Playwright against the app served on a free local port.

Screenshots go to a temporary folder; set SCREENSHOT_DIR=docs/screenshots to refresh the committed ones.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync",
        "--use-fake-device-for-media-stream"]  # a test-pattern camera for getUserMedia
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000
PASSWORD = "correct horse"


@pytest.fixture(scope="session")
def playwright():
    """The session's one Playwright driver: a second sync_playwright() in the same thread refuses to start."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as driver:
        driver.selectors.set_test_id_attribute("data-test")  # the templates' hook for tests
        yield driver


@pytest.fixture(scope="session")
def launch(playwright):
    """launch(*extra_args): a headless Debian chromium with the shared flags (a module may add its own)."""

    def start(*extra_args: str):
        return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, *extra_args])

    return start


@pytest.fixture(scope="session")
def browser(launch):
    """One chromium for the session (launching it is the slow part)."""
    chromium = launch()
    yield chromium
    chromium.close()


@pytest.fixture
def app_settings(app_settings) -> dict:
    """The shared test config with CSRF on: the browser submits the real forms, tokens included."""
    return {**app_settings, "WTF_CSRF_ENABLED": True}


def _console_error(message) -> bool:
    # Chromium logs every 4xx page as a failed load; refused uploads are meant to be 4xx pages, and the
    # response hook below reports the failed loads that are bugs (assets) more precisely.
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def _broken_asset(response) -> bool:
    return response.status >= 400 and response.request.resource_type != "document"


@pytest.fixture
def open_page(browser, live_server):
    """open_page(**context_options): a fresh page on the live server, 1280×800 unless `viewport` says otherwise.

    A script error, a console error or a broken asset (image, script, stylesheet) fails the test.
    """
    contexts, errors = [], []

    def open_(**options):
        context = browser.new_context(**{"viewport": VIEWPORT, **options}, base_url=live_server, locale="en-GB",
                                      timezone_id="UTC")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = context.new_page()
        tab.on("console", lambda message: _console_error(message) and errors.append(f"{tab.url}: {message.text}"))
        tab.on("pageerror", lambda error: errors.append(f"{tab.url}: uncaught {error}"))
        tab.on("response", lambda response: _broken_asset(response) and errors.append(
            f"{tab.url}: {response.status} for {response.url}"))
        return tab

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], "console errors:\n" + "\n".join(errors)


@pytest.fixture
def page(open_page):
    """A page with the default context."""
    return open_page()


@pytest.fixture
def signed_in(app):
    """signed_in(page): create a user and log the page in through the login form."""
    from app.services import accounts  # noqa: PLC0415

    def sign_in(tab, email: str = "ada@example.com"):
        with app.app_context():
            accounts.create_user(email, PASSWORD)
        tab.goto("/login")
        tab.fill("#email", email)
        tab.fill("#password", PASSWORD)
        tab.get_by_test_id("login-submit").click()
        expect(tab.get_by_test_id("nav-profile")).to_have_text(email)
        return tab

    return sign_in


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where screenshots go: SCREENSHOT_DIR, else a temporary folder (a test run leaves the repo clean)."""
    target = os.environ.get("SCREENSHOT_DIR")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(screenshot_dir):
    """screenshot(page, name, part=None): save the viewport (or the element `part` locates, whole) as <name>.png,
    palette-quantized so it stays small for the README."""

    def save(tab, name: str, part=None) -> Path:
        tab.evaluate("window.scrollTo(0, 0)")  # pages opened at a #det-… anchor scroll; the README shows tops
        raw = (part or tab).screenshot(animations="disabled", caret="hide")
        # 256 colours keep UI screenshots sharp at a fraction of the size of a full-colour PNG.
        image = Image.open(io.BytesIO(raw)).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
        path = screenshot_dir / f"{name}.png"
        image.save(path, optimize=True)
        return path

    return save


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """A real portrait with one face that the cascade finds (Grace Hopper, shipped with matplotlib)."""
    import matplotlib.cbook  # noqa: PLC0415

    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()
