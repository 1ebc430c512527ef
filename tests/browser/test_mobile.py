"""Every page at a phone's width (390 px): nothing wider than the screen, so no page scrolls sideways."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

import numpy as np

from app.extensions import db
from app.models import LiveSession, RetrainRun, RunStatus, Status
from app.models.base import utcnow
from app.services import accounts, gate, registry
from loop_support import add_history

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ADMIN, PASSWORD = "admin@example.com", "correct horse"
C, X, U = Status.CONFIRMED, Status.CORRECTED, Status.UNREVIEWED
# One day of feedback: the dashboard's charts must still read.
HISTORY = [("1", "1", C, .93, 0), ("2", "2", C, .88, 0), ("3", "5", X, .41, 0), ("4", "4", U, .48, 0)]


def _judged_run() -> RetrainRun:
    """A rejected digits run with the gate's real figures: its card, wide tables and all, must fit a phone too."""
    rng = np.random.default_rng(0)

    def evidence(n: int) -> gate.Evidence:
        labels = rng.integers(0, 10, n)
        return gate.Evidence(labels, rng.dirichlet(np.ones(10), n), rng.dirichlet(np.ones(10), n))

    verdict = gate.decide(evidence(200), evidence(40), [str(d) for d in range(10)],
                          gate.Rules(margin=0.01, confidence=0.95, min_gate=30, max_ece_increase=0.02))
    return RetrainRun(recognizer="digits", trigger="admin", status=RunStatus.REJECTED, started_at=utcnow(),
                      finished_at=utcnow(), reason=verdict.reason, gate=verdict.figures)


def _overflow(page) -> list[str]:
    """The elements that stick out past the viewport when the page scrolls sideways (inside a box that scrolls on
    its own, such as a wide table, is fine)."""
    return page.evaluate("""() => {
        const limit = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= limit) return [];
        const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement)
            if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true; return false; };
        const wide = [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > limit + 1 && !scrolls(e))
            .slice(0, 6).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}px`);
        // Text spilling out of a box that stays narrow (a line that does not wrap) widens the page too.
        return wide.length ? wide : [`the page: ${document.documentElement.scrollWidth}px of text`];
    }""")


@pytest.fixture
def phone(app, open_page, face_jpeg):
    """A phone-sized page signed in as an admin with a kept photo, a day of labels and a saved live session."""
    with app.app_context():
        accounts.create_user(ADMIN, PASSWORD, is_admin=True)
        registry.ensure_baselines()
        add_history(HISTORY)
        db.session.add(_judged_run())
        owner = accounts.find_user(ADMIN)
        now = utcnow()
        db.session.add(LiveSession(user=owner, started_at=now - timedelta(seconds=40), ended_at=now,
                                   recognizer="emotion7", model_version="v", bucket_s=5, frames=120, faces=110,
                                   peak_faces=2, counts={"happy": 80, "neutral": 30},
                                   buckets=[{"t": 0, "frames": 60, "faces": 55, "peak": 2, "counts": {"happy": 40}},
                                            {"t": 5, "frames": 60, "faces": 55, "peak": 1,
                                             "counts": {"happy": 40, "neutral": 15}}]))
        db.session.commit()
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True, permissions=["camera"])
    page.goto("/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.set_input_files("#image", files=[{"name": "face.jpg", "mimeType": "image/jpeg", "buffer": face_jpeg}])
    page.get_by_test_id("recognizer-digits").check()
    page.get_by_test_id("classify-submit").click()
    expect(page.get_by_test_id("result-emotion7")).to_be_visible()
    return page


PAGES = ["/", "/predictions/1", "/history", "/profile", "/review", "/models", "/models/digits", "/live/",
         "/live/sessions", "/live/sessions/1", "/data", "/admin/reviewers", "/no-such-page"]


def test_every_page_fits_a_phone(phone, screenshot):
    wide = {}
    for path in PAGES:
        phone.goto(path)
        phone.wait_for_load_state()
        found = _overflow(phone)
        if found:
            wide[path] = found
    phone.goto("/models/digits")
    phone.wait_for_load_state()
    expect(phone.get_by_test_id("gate")).to_be_visible()  # the gate card was among the pages checked above
    # One day of labels and one version: bars, not a lone dot on a line.
    for chart in ("chart-confidence", "chart-versions"):
        assert phone.evaluate("id => Chart.getChart(id).config.type", chart) == "bar"
    screenshot(phone, "mobile-dashboard")
    phone.goto("/live/")
    screenshot(phone, "mobile-live")
    assert wide == {}, "\n".join(f"{p}: {v}" for p, v in wide.items())


def test_signed_out_pages_fit_a_phone(open_page):
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ("/", "/login", "/signup"):
        page.goto(path)
        assert _overflow(page) == [], path
