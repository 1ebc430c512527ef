"""The learning loop in chromium: the model-health dashboard renders its charts with data; the review queue by keyboard."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.models import Status
from app.services import accounts, registry, retraining, training
from loop_support import add_history, base_data, with_loop_settings  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "admin@example.com", "correct horse"
C, X, U = Status.CONFIRMED, Status.CORRECTED, Status.UNREVIEWED
HISTORY = [("1", "1", C, .93, 9), ("2", "2", C, .88, 9), ("3", "5", X, .41, 8), ("4", "4", C, .81, 6),
           ("5", "5", C, .77, 5), ("7", "1", X, .52, 4), ("8", "8", C, .95, 3), ("9", "9", C, .64, 2),
           ("0", "0", C, .91, 1), ("6", "5", X, .38, 1), ("1", "1", C, .97, 0), ("2", "7", X, .45, 0),
           ("3", "3", U, .34, 0), ("4", "4", U, .48, 0), ("8", "8", U, .29, 0)]


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path):  # noqa: F811
    settings = with_loop_settings(app_settings, base_data, tmp_path)
    settings["RETRAIN_HOLDOUT_PERCENT"] = 30
    return settings


@pytest.fixture
def admin_page(app, page):
    """An admin signed in through the login form, with a history of feedback."""
    with app.app_context():
        accounts.create_user(ADMIN, PASSWORD, is_admin=True)
        registry.ensure_baselines()
        add_history(HISTORY)
    page.goto("/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-models")).to_be_visible()
    return page


def retrain_digits(app) -> None:
    """One real retraining run (the slow part, so only the dashboard pays for it): a candidate and a runs row."""
    with app.app_context():
        run, _ = retraining.request("digits", "admin")
        training.execute(run.id)


def test_dashboard_draws_every_chart_with_data(app, admin_page, screenshot):
    page = admin_page
    retrain_digits(app)
    page.get_by_test_id("nav-models").click()
    expect(page.get_by_test_id("model-digits")).to_be_visible()
    page.get_by_test_id("model-digits").get_by_role("link").click()
    expect(page.get_by_test_id("stat-detections")).to_have_text("15")
    page.wait_for_load_state()  # the text shows while the parser still waits for the chart scripts at the end
    for chart in ("versions", "agreement-day", "agreement-week", "histogram", "confidence", "distribution", "per-class"):
        drawn = page.evaluate("id => { const c = Chart.getChart(id); "
                              "return c ? c.data.datasets.reduce((n, d) => n + d.data.filter(v => v != null).length, 0) : -1; }",
                              f"chart-{chart}")
        assert drawn > 0, f"chart {chart} drew {drawn} points"
    versions = page.evaluate("() => Chart.getChart('chart-versions').data.labels")
    assert versions[0].startswith("v1") and versions[1].startswith("v2")
    expect(page.get_by_test_id("runs").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("confusion")).to_contain_text("5")
    screenshot(page, "dashboard")


def press(page, key: str) -> None:
    """Press a shortcut once the page's scripts run: after a form posts, the new page's text can show before
    review.js has loaded, and a key pressed then does nothing."""
    page.wait_for_load_state()
    page.keyboard.press(key)


def test_review_queue_by_keyboard(admin_page, screenshot):
    page = admin_page
    page.goto("/review?recognizer=digits")
    expect(page.get_by_test_id("review-pending")).to_contain_text("3 waiting")
    expect(page.get_by_test_id("review-predicted")).to_have_text("8")  # the lowest confidence, so the smallest margin
    screenshot(page, "review")
    press(page, "3")  # as on a result page, a label's key saves it at once
    expect(page.get_by_test_id("flash-success")).to_contain_text("corrected to “3”")
    expect(page.get_by_test_id("review-pending")).to_contain_text("2 waiting")
    press(page, "s")
    expect(page.get_by_test_id("review-pending")).to_contain_text("1 skipped")
    page.get_by_test_id("review-unskip").click()  # a skipped item can be brought back
    expect(page.get_by_test_id("flash-success")).to_contain_text("1 skipped detection is back in the queue")
    expect(page.get_by_test_id("review-pending")).to_contain_text("2 waiting")
    press(page, "u")
    expect(page.get_by_test_id("flash-success")).to_contain_text("Undone")
    expect(page.get_by_test_id("review-pending")).to_contain_text("3 waiting")
    press(page, "Enter")  # at once: the crop has not been looked at yet
    expect(page.get_by_test_id("review-wait")).to_be_visible()
    expect(page.get_by_test_id("review-pending")).to_contain_text("3 waiting")
    page.wait_for_timeout(800)
    # A held-down Enter's repeats (from the previous item) confirm nothing.
    page.evaluate("() => document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', repeat: true}))")
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("review-pending")).to_contain_text("3 waiting")
    page.keyboard.press("Enter")  # looked at, pressed once: confirms the model's answer
    expect(page.get_by_test_id("flash-success")).to_contain_text("confirmed")
    expect(page.get_by_test_id("review-pending")).to_contain_text("2 waiting")
    press(page, "Backspace")  # a digit's crop that holds no digit, as on a result page
    expect(page.get_by_test_id("flash-success")).to_contain_text("marked not a digit")
    expect(page.get_by_test_id("review-pending")).to_contain_text("1 waiting")
