"""The review queue in chromium: a reviewer opens the item's whole photo (P, or a tap on a phone) and draws a face the
detector missed on someone else's photo, with the mouse or a finger, as on the result page."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.extensions import db
from app.models import USER, Detection
from app.services import reviewers
from drawing_support import mouse_drag, photo_point, touch_drag

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
OWNER, REVIEWER = "ada@example.com", "rev@example.com"


@pytest.fixture
def queue(app, signed_in, face_jpeg):
    """queue(page): the owner classifies a portrait (one face found), then a reviewer signs in on `page` and opens the
    review queue; returns the page's requests for the photo so far."""

    def open_(page) -> list[str]:
        signed_in(page, OWNER)
        page.get_by_test_id("file-input").set_input_files({"name": "photo.jpg", "mimeType": "image/jpeg",
                                                           "buffer": face_jpeg})
        page.get_by_test_id("classify-submit").click()
        page.wait_for_url("**/predictions/*")
        page.get_by_test_id("nav-logout").click()
        signed_in(page, REVIEWER)
        with app.app_context():
            reviewers.grant(REVIEWER, None)
        photos = []
        page.on("request", lambda request: "/photo" in request.url and photos.append(request.url))
        page.goto("/review")
        page.wait_for_load_state()
        return photos

    return open_


def drawn(app) -> tuple[tuple[int, int, int, int], str]:
    """The box drawn by hand, as stored, and the email of the photo's owner."""
    with app.app_context():
        detection = db.session.scalar(db.select(Detection).where(Detection.source == USER))
        return detection.box, detection.result.prediction.user.email


def expect_added(page) -> None:
    """The face is added, and the photo stays open with the new box beside the item's own."""
    expect(page.get_by_test_id("flash-success")).to_contain_text("Added face #2:")
    expect(page.get_by_test_id("review-photo")).to_have_attribute("open", "")
    expect(page.get_by_test_id("box-2")).to_have_class(re.compile(r"\bdrawn\b"))
    expect(page.locator(".box.current")).to_have_count(1)  # whichever of the two is next in the queue


def test_p_shows_the_photo_and_a_missed_face_is_drawn_with_the_mouse(page, queue, app, face_jpeg, screenshot):
    photos = queue(page)
    expect(page.get_by_test_id("review-keys")).to_contain_text("P shows the whole photo")
    expect(page.get_by_test_id("photo")).to_be_hidden()
    assert photos == []  # the photo is fetched only when asked for: the crop is what is labelled
    page.keyboard.press("p")
    expect(page.get_by_test_id("photo")).to_be_visible()
    expect(page.get_by_test_id("add-face")).to_be_focused()
    expect(page.get_by_test_id("review-show-photo")).to_contain_text("Hide the photo")
    mouse_drag(page, photo_point(page, 0.04, 0.3), photo_point(page, 0.3, 0.62))
    expect(page.get_by_test_id("save-face")).to_be_focused()
    for key in ("1", "s", "p"):  # the queue's keys stay quiet while a box is drawn
        page.keyboard.press(key)
    expect(page.get_by_test_id("photo")).to_be_visible()
    page.keyboard.press("Enter")
    expect_added(page)
    (x, y, w, h), owner = drawn(app)
    assert owner == OWNER  # on the owner's photo, in its own pixels
    width, height = Image.open(io.BytesIO(face_jpeg)).size
    assert abs(x - 0.04 * width) <= 2 and abs(y - 0.3 * height) <= 2
    assert abs(w - 0.26 * width) <= 3 and abs(h - 0.32 * height) <= 3
    expect(page.get_by_test_id("review-pending")).to_contain_text("2 waiting")  # the drawn face is in the queue too
    screenshot(page, "review-photo", page.get_by_test_id("review"))
    page.wait_for_load_state()
    page.keyboard.press("p")  # hides the photo again
    expect(page.get_by_test_id("photo")).to_be_hidden()
    expect(page.get_by_test_id("review-show-photo")).to_be_focused()


def test_a_box_placed_with_the_keyboard_alone(page, queue, app, face_jpeg):
    queue(page)
    page.keyboard.press("p")
    expect(page.get_by_test_id("add-face")).to_be_focused()
    page.keyboard.press("Enter")  # the focused button's own Enter, not the queue's "confirm the model's answer"
    expect(page.get_by_test_id("draft")).to_be_visible()
    for key in ("ArrowRight", "Shift+ArrowDown", "Enter"):
        page.keyboard.press(key)
    expect_added(page)
    width, height = Image.open(io.BytesIO(face_jpeg)).size
    side, step = min(width, height) // 4, max(width, height) // 100
    assert drawn(app)[0] == ((width - side) // 2 + step, (height - side) // 2, side, side + step)
    expect(page.get_by_test_id("review-pending")).to_contain_text("2 waiting")  # the item was not labelled


def test_a_reviewer_draws_a_face_with_a_finger_on_a_phone(open_page, queue, app, face_jpeg):
    page = open_page(has_touch=True, is_mobile=True, viewport=PHONE)
    queue(page)
    page.get_by_test_id("review-show-photo").tap()
    expect(page.get_by_test_id("photo")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    page.get_by_test_id("add-face").tap()
    touch_drag(page, photo_point(page, 0.1, 0.6), photo_point(page, 0.4, 0.9))
    expect(page.get_by_test_id("save-face")).to_be_enabled()
    page.get_by_test_id("save-face").tap()
    expect_added(page)
    (x, _, w, h), owner = drawn(app)
    width, height = Image.open(io.BytesIO(face_jpeg)).size
    assert owner == OWNER and abs(x - 0.1 * width) <= 3 and abs(w - 0.3 * width) <= 4 and abs(h - 0.3 * height) <= 4
