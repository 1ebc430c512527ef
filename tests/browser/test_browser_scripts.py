"""The page scripts in chromium: drag and drop, camera, location on consent, keyboard moves between detections."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LONDON = {"latitude": 51.5074, "longitude": -0.1278}


def drop_file(page, selector: str, data: bytes, name: str, mime: str) -> None:
    """Drag a file over the element and drop it, as a file manager would."""
    transfer = page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            return transfer; }""",
        [base64.b64encode(data).decode(), name, mime])
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    expect(page.locator(selector)).to_have_class("dropzone over")
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})
    expect(page.locator(selector)).to_have_class("dropzone")


def test_drop_a_photo_share_location_and_run_two_recognizers(open_page, face_jpeg):
    page = open_page(permissions=["geolocation"], geolocation=LONDON)
    page.goto("/")
    expect(page.get_by_test_id("camera-snap")).to_be_hidden()

    drop_file(page, "#dropzone", face_jpeg, "dropped.jpg", "image/jpeg")
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#drop-text")).to_contain_text("dropped.jpg")
    page.get_by_test_id("location-browser").check()
    expect(page.locator("#location-status")).to_contain_text("Your location is added")
    page.get_by_test_id("recognizer-digits").check()
    page.get_by_test_id("classify-submit").click()

    expect(page.get_by_test_id("not-kept")).to_be_visible()
    expect(page.get_by_test_id("location")).to_have_text("location 51.5074, -0.1278")
    expect(page.get_by_test_id("map-link")).to_have_attribute("href", "https://www.openstreetmap.org/?mlat=51.50740"
                                                                      "&mlon=-0.12780#map=15/51.50740/-0.12780")
    expect(page.get_by_test_id("result-emotion7").get_by_test_id("box-1")).to_be_visible()
    expect(page.get_by_test_id("result-digits").get_by_test_id("detection-count")).to_contain_text("digit")


def test_camera_snapshot_becomes_the_upload(open_page):
    page = open_page(permissions=["camera"])  # chromium's fake camera (a test pattern) stands in for a webcam
    page.goto("/")
    page.get_by_test_id("camera-start").click()
    expect(page.locator("#camera-video")).to_be_visible()
    # Not page.wait_for_function: once its first check fails it polls with eval, which our CSP forbids.
    expect(page.locator("#camera-video")).not_to_have_js_property("videoWidth", 0)
    page.get_by_test_id("camera-snap").click()

    expect(page.locator("#drop-text")).to_contain_text("camera.jpg")
    expect(page.locator("#camera-video")).to_be_hidden()
    expect(page.get_by_test_id("camera-start")).to_be_visible()
    assert page.evaluate("document.querySelector('#image').files[0].type") == "image/jpeg"


def test_a_file_that_is_not_an_image_gets_a_message(page):
    page.goto("/")
    page.get_by_test_id("file-input").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"these are not pixels"})
    with page.expect_response("**/classify") as response:
        page.get_by_test_id("classify-submit").click()
    assert 400 <= response.value.status < 500
    expect(page.get_by_test_id("classify-error")).to_be_visible()
    expect(page.get_by_test_id("dropzone")).to_be_visible()


def three_faces(face_jpeg: bytes) -> bytes:
    """The portrait three times side by side: three faces, numbered left to right."""
    face = Image.open(io.BytesIO(face_jpeg)).convert("RGB")
    canvas = Image.new("RGB", (face.width * 3, face.height), "white")
    for i in range(3):
        canvas.paste(face, (i * face.width, 0))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_keys_move_between_faces_and_label_the_focused_one(page, signed_in, face_jpeg):
    signed_in(page)
    page.get_by_test_id("file-input").set_input_files(
        {"name": "three.jpg", "mimeType": "image/jpeg", "buffer": three_faces(face_jpeg)})
    page.get_by_test_id("classify-submit").click()
    detections = page.get_by_test_id("detection")
    expect(detections).to_have_count(3)
    expect(detections.nth(0)).to_be_focused()

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(detections.nth(1)).to_be_focused()
    predicted = detections.nth(1).get_by_test_id("label").text_content().strip()
    key, label = ("2", "disgust") if predicted == "angry" else ("1", "angry")
    page.keyboard.press(key)

    expect(page.get_by_test_id("flash-success")).to_have_text(f"Corrected to “{label}” for emotion7 #2.")
    expect(detections.nth(2)).to_be_focused()  # the next face still to label, ready for the next key
    states = [s.strip() for s in detections.get_by_test_id("feedback-state").all_text_contents()]
    assert states == ["unreviewed", "corrected", "unreviewed"]
    page.wait_for_load_state()
    page.keyboard.press(key)  # labels #3; the one left is #1, before it on the page
    expect(page.get_by_test_id("flash-success")).to_contain_text("for emotion7 #3.")
    expect(detections.nth(0)).to_be_focused()
