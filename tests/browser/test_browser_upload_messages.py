"""The upload page in chromium: a photo over the limit is refused before it is sent, and after an error the
chosen file and choices are still there."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings(app_settings) -> dict:
    return {**app_settings, "MAX_CONTENT_LENGTH": 200_000}


def choose(page, data: bytes, name: str) -> None:
    """Pick a file in the photo input, as the file chooser would."""
    page.set_input_files("#image", files=[{"name": name, "mimeType": "image/jpeg", "buffer": data}])


def test_a_photo_over_the_limit_is_refused_in_the_browser(page, face_jpeg):
    page.goto("/")
    requests = []
    page.on("request", lambda request: request.method == "POST" and requests.append(request.url))
    choose(page, face_jpeg + b"\0" * 300_000, "big.jpg")
    expect(page.get_by_test_id("image-size-error")).to_contain_text("big.jpg is 353 KB; photos can be at most 195 KB")
    page.get_by_test_id("recognizer-digits").check()
    page.get_by_test_id("classify-submit").click()
    expect(page.get_by_test_id("image-size-error")).to_be_visible()
    assert requests == [] and page.url.endswith("/")
    expect(page.get_by_test_id("recognizer-digits")).to_be_checked()


def test_after_an_error_the_chosen_photo_and_choices_are_kept(page, face_jpeg):
    page.goto("/")
    choose(page, face_jpeg[: len(face_jpeg) // 2], "cut.jpg")
    page.get_by_test_id("recognizer-emotion7").uncheck()
    page.get_by_test_id("recognizer-digits").check()
    page.get_by_test_id("location-photo").check()
    page.get_by_test_id("classify-submit").click()
    expect(page.get_by_test_id("classify-error")).to_contain_text("damaged or cut short")
    expect(page.locator("#drop-text")).to_contain_text("cut.jpg")
    assert page.eval_on_selector("#image", "input => input.files.length") == 1
    expect(page.get_by_test_id("recognizer-digits")).to_be_checked()
    expect(page.get_by_test_id("recognizer-emotion7")).not_to_be_checked()
    expect(page.get_by_test_id("location-photo")).to_be_checked()
