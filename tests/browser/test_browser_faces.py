"""Fixing the face detector in chromium: draw a missed face with the mouse, the keyboard or a finger on a phone; x marks
a box not a face and u takes it back; the dashboard's detector panel charts both."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.extensions import db
from app.models import NOT_A_FACE, USER, Detection, Prediction, Result, Status
from app.models.base import utcnow
from app.services import accounts
from drawing_support import mouse_drag, photo_point, touch_drag

pytestmark = pytest.mark.browser

EMOTION7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
PHONE = {"width": 390, "height": 844}


def classify(page, photo: bytes) -> None:
    """Upload `photo` for emotion7 and wait for the kept result's scripts."""
    page.goto("/")
    page.get_by_test_id("file-input").set_input_files({"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo})
    page.get_by_test_id("classify-submit").click()
    page.wait_for_url("**/predictions/*")
    page.wait_for_load_state()


def drawn_box(app) -> tuple[int, int, int, int]:
    """The box of the face drawn by hand, as stored."""
    with app.app_context():
        return db.session.scalar(db.select(Detection).where(Detection.source == USER)).box


def expect_added(page, number: int) -> None:
    """The new face is on the photo and in the list, with an expression label."""
    expect(page.get_by_test_id("flash-success")).to_contain_text(f"Added face #{number}:")
    detection = page.get_by_test_id("detection").nth(number - 1)
    expect(detection.get_by_test_id("drawn")).to_have_text("drawn by hand")
    expect(detection.get_by_test_id("label")).to_have_text(re.compile("^(" + "|".join(EMOTION7) + ")$"))
    expect(detection.get_by_test_id("feedback-state")).to_have_text("unreviewed")
    expect(page.get_by_test_id(f"box-{number}")).to_have_class("box drawn")
    expect(page.get_by_test_id("detection-count")).to_have_text(f"{number} detections")


def test_draw_a_missed_face_with_the_mouse(page, signed_in, face_jpeg, app, screenshot):
    signed_in(page)
    classify(page, face_jpeg)
    expect(page.get_by_test_id("detection")).to_have_count(1)
    width, height = Image.open(io.BytesIO(face_jpeg)).size
    mouse_drag(page, photo_point(page, 0.04, 0.3), photo_point(page, 0.3, 0.62))
    expect(page.get_by_test_id("draft")).to_be_visible()
    expect(page.get_by_test_id("save-face")).to_be_focused()
    page.keyboard.press("Enter")
    expect_added(page, 2)
    x, y, w, h = drawn_box(app)  # in the photo's own pixels, whatever size it was shown at
    assert abs(x - 0.04 * width) <= 2 and abs(y - 0.3 * height) <= 2
    assert abs(w - 0.26 * width) <= 3 and abs(h - 0.32 * height) <= 3
    screenshot(page, "result-add-face")


def test_keyboard_users_place_a_box_with_the_add_a_face_button(page, signed_in, face_jpeg, app):
    signed_in(page)
    classify(page, face_jpeg)
    page.get_by_test_id("add-face").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("draft")).to_be_visible()
    page.keyboard.press("Escape")  # cancels: nothing drawn, the button is back
    expect(page.get_by_test_id("draft")).to_be_hidden()
    expect(page.get_by_test_id("add-face")).to_be_focused()
    page.keyboard.press("Enter")
    for key in ("ArrowRight", "ArrowRight", "Shift+ArrowDown", "j", "1"):  # the page's own keys stay quiet meanwhile
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    expect_added(page, 2)
    expect(page.get_by_test_id("detection").first.get_by_test_id("feedback-state")).to_have_text("unreviewed")
    width, height = Image.open(io.BytesIO(face_jpeg)).size
    side, step = min(width, height) // 4, max(width, height) // 100
    assert drawn_box(app) == ((width - side) // 2 + 2 * step, (height - side) // 2, side, side + step)


def test_a_finger_draws_a_face_on_a_phone(open_page, signed_in, face_jpeg, app):
    page = open_page(has_touch=True, is_mobile=True)
    page.set_viewport_size(PHONE)
    signed_in(page)
    classify(page, face_jpeg)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    touch_action = "getComputedStyle(document.querySelector('[data-draw] svg')).touchAction"
    assert page.evaluate(touch_action) == "auto"  # until "Add a face", a finger on the photo scrolls the page
    page.get_by_test_id("add-face").tap()
    assert page.evaluate(touch_action) == "none"
    start, end = photo_point(page, 0.1, 0.6), photo_point(page, 0.4, 0.9)
    touch_drag(page, start, end)
    expect(page.get_by_test_id("save-face")).to_be_enabled()
    page.get_by_test_id("save-face").tap()
    expect_added(page, 2)
    x, y, w, h = drawn_box(app)
    width, height = Image.open(io.BytesIO(face_jpeg)).size
    assert abs(x - 0.1 * width) <= 3 and abs(w - 0.3 * width) <= 4 and abs(h - 0.3 * height) <= 4


def test_x_marks_a_face_not_a_face_and_u_takes_it_back(page, signed_in, face_jpeg):
    signed_in(page)
    classify(page, face_jpeg)
    detection = page.get_by_test_id("detection").first
    expect(detection).to_be_focused()
    page.keyboard.press("x")
    expect(page.get_by_test_id("flash-success")).to_have_text("Marked emotion7 #1 as not a face.")
    expect(detection.get_by_test_id("feedback-state")).to_have_text("not a face")
    expect(detection.get_by_test_id("label")).to_have_text("not a face")
    expect(page.get_by_test_id("detection-count")).to_have_text("0 detections")
    expect(page.get_by_test_id("not-a-face-count")).to_have_text("1 not a face")
    expect(page.get_by_test_id("box-1")).to_have_class("box rejected")
    page.wait_for_load_state()
    page.keyboard.press("Enter")  # nothing to confirm on a box that is no face: no error, nothing sent
    page.keyboard.press("u")
    expect(page.get_by_test_id("flash-success")).to_contain_text("Undone: emotion7 #1 is back to unreviewed")
    expect(page.get_by_test_id("detection-count")).to_have_text("1 detection")
    expect(detection.get_by_test_id("not-a-face")).to_be_visible()


def add_detector_history(app) -> None:
    """Drawn faces and boxes marked not a face over the last days, for the detector panel."""
    with app.app_context():
        owner = accounts.create_user("owner@example.com", "correct horse")
        for days, drawn, rejected in ((6, 2, 1), (4, 0, 3), (2, 3, 0), (1, 1, 2), (0, 2, 1)):
            when = utcnow() - timedelta(days=days)
            result = Result(recognizer="emotion7", model_version="v", duration_ms=1.0)
            Prediction(user=owner, width=640, height=480, created_at=when, results=[result])
            for i in range(drawn + rejected + 2):
                source = USER if i < drawn else "detector"
                mark = drawn <= i < drawn + rejected
                result.detections.append(Detection(
                    position=i, x=10 * i, y=0, w=40, h=40, predicted_label="happy", confidence=0.6,
                    probabilities={"happy": 0.6}, source=source, created_at=when,
                    label=NOT_A_FACE if mark else "happy", status=Status.NOT_A_FACE if mark else Status.UNREVIEWED,
                    reviewed_at=when if mark else None))
            db.session.add(result.prediction)
        db.session.commit()


def test_dashboard_detector_panel(app, page, screenshot):
    add_detector_history(app)
    with app.app_context():
        accounts.create_user("admin@example.com", "correct horse", is_admin=True)
    page.goto("/login")
    page.fill("#email", "admin@example.com")
    page.fill("#password", "correct horse")
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("nav-models").click()
    panel = page.get_by_test_id("detector")
    expect(panel.get_by_test_id("stat-added")).to_have_text("8")
    expect(panel.get_by_test_id("stat-rejected")).to_have_text("7")
    expect(panel.get_by_test_id("stat-found")).to_have_text("17")
    page.wait_for_load_state()
    drawn = page.evaluate("() => Chart.getChart('chart-detector').data.datasets"
                          ".map(d => d.data.reduce((a, b) => a + b, 0))")
    assert drawn == [8, 7]
    page.set_viewport_size({"width": 1280, "height": 960})
    screenshot(page, "dashboard-detector")
