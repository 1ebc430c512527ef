"""The issue-3 journey in chromium: sign up, pick a face photo, read the result, correct it, find it in history."""
from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "grace@example.com", "cobol-1959"
EMOTION7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def sign_up(page, screenshot):
    """Create the account through the form; the site signs the new user in."""
    page.goto("/signup")
    screenshot(page, "signup")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("flash-success")).to_contain_text("Welcome")
    expect(page.get_by_test_id("nav-profile")).to_have_text(EMAIL)


def classify_with_picker(page, screenshot, photo: bytes) -> str:
    """Choose the photo through the dropzone's file picker, submit, and return the predicted label."""
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("dropzone").click()
    chooser.value.set_files({"name": "grace.jpg", "mimeType": "image/jpeg", "buffer": photo})
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#drop-text")).to_contain_text("grace.jpg")
    expect(page.get_by_test_id("recognizer-emotion7")).to_be_checked()
    screenshot(page, "classify")
    page.get_by_test_id("classify-submit").click()
    page.wait_for_url("**/predictions/*")
    return page.get_by_test_id("detection").first.get_by_test_id("label").text_content().strip()


def check_result(page) -> None:
    """The photo has a numbered box; the detection has a label, a confidence and one bar per class."""
    result = page.get_by_test_id("result-emotion7")
    expect(result.get_by_test_id("box-1")).to_be_visible()
    expect(result.get_by_test_id("model-version")).not_to_be_empty()
    detection = result.get_by_test_id("detection").first
    expect(detection.get_by_test_id("confidence")).to_have_text(re.compile(r"^\d+(\.\d)?%$"))
    expect(detection.locator("meter")).to_have_count(len(EMOTION7))
    expect(detection.get_by_test_id("feedback-state")).to_have_text("unreviewed")
    # The photo is drawn from storage inside the SVG; a broken link would leave it without a size.
    loaded = page.evaluate("""() => new Promise(done => {
        const img = new Image(); img.onload = () => done(img.naturalWidth); img.onerror = () => done(0);
        img.src = document.querySelector('[data-test=photo] image').getAttribute('href'); })""")
    assert loaded > 0


def give_feedback(page, predicted: str) -> str:
    """Confirm with Enter, correct with a click, then correct again with a number key; return the final label."""
    detection = page.get_by_test_id("detection").first
    flash = page.get_by_test_id("flash-success")
    page.wait_for_timeout(800)  # Enter confirms only once the photo has been on screen for a moment
    page.keyboard.press("Enter")
    expect(flash).to_have_text(f"Confirmed “{predicted}” for emotion7 #1.")
    expect(detection.get_by_test_id("feedback-state")).to_have_text("confirmed")

    clicked, typed = [c for c in EMOTION7 if c != predicted][:2]
    detection.get_by_test_id(f"feedback-{clicked}").click()
    expect(flash).to_have_text(f"Corrected to “{clicked}” for emotion7 #1.")
    expect(detection.get_by_test_id("confirm")).to_have_count(0)  # after a correction no button says "Confirm"
    expect(detection.get_by_test_id("revert")).to_have_text(f"Change back to the model's “{predicted}”")

    page.wait_for_load_state()  # the new page's text shows before its scripts run, and a key pressed then is lost
    page.keyboard.press(str(EMOTION7.index(typed) + 1))
    expect(flash).to_have_text(f"Corrected to “{typed}” for emotion7 #1.")
    expect(detection.get_by_test_id("feedback-state")).to_have_text("corrected")
    expect(detection.get_by_test_id("label")).to_have_text(typed)
    expect(detection.get_by_test_id("model-said")).to_have_text(f"model said {predicted}")
    expect(detection.locator(".prob.chosen")).to_have_attribute("data-test", f"prob-{typed}")
    return typed


def find_in_history(page, screenshot, label: str, predicted: str) -> None:
    """History lists the detection with its thumbnail and feedback state, and the label filter finds it."""
    page.get_by_test_id("nav-history").click()
    page.get_by_test_id("filter-label").select_option(label)
    page.get_by_test_id("filter-submit").click()
    expect(page.get_by_test_id("history-count")).to_have_text("1 detection")
    item = page.get_by_test_id("history-item")
    expect(item.get_by_test_id("label")).to_have_text(label)
    expect(item.get_by_test_id("feedback-state")).to_have_text("corrected")
    expect(item.get_by_test_id("model-said")).to_have_text(f"model said {predicted}")
    thumbnail = item.get_by_test_id("thumbnail")
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0
    screenshot(page, "history")
    item.get_by_test_id("open-result").click()
    expect(page.locator("[data-detection]:focus")).to_have_count(1)  # the link's #det-… anchor focuses it


def download_my_data(page, screenshot, label: str) -> None:
    """My data counts the labelled crop, and its zip holds the crop in its class folder plus the manifest."""
    page.get_by_test_id("nav-data").click()
    expect(page.get_by_test_id("export-counts").locator("tr", has_text="emotion7")).to_contain_text("1")
    screenshot(page, "my-data")
    with page.expect_download() as download:
        page.get_by_test_id("export-emotion7").click()
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert any(re.fullmatch(rf"(.*/)?emotion7/{label}/[^/]+\.png", n) for n in names), names
    assert any(n.endswith("manifest.csv") for n in names), names


def check_profile_and_log_in_again(page, screenshot) -> None:
    """The profile counts the photo and the three labels; logging out and back in works through the forms."""
    page.get_by_test_id("nav-profile").click()
    expect(page.get_by_test_id("stat-photos")).to_have_text("1")
    expect(page.get_by_test_id("stat-feedback")).to_have_text("3")
    screenshot(page, "profile")
    page.get_by_test_id("nav-logout").click()
    expect(page.get_by_test_id("nav-login")).to_be_visible()
    page.get_by_test_id("nav-login").click()
    screenshot(page, "login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("flash-success")).to_have_text("Signed in.")


def test_sign_up_classify_correct_and_find_in_history(page, screenshot, face_jpeg):
    sign_up(page, screenshot)
    predicted = classify_with_picker(page, screenshot, face_jpeg)
    assert predicted in EMOTION7
    check_result(page)
    final = give_feedback(page, predicted)
    screenshot(page, "result")
    find_in_history(page, screenshot, final, predicted)
    download_my_data(page, screenshot, final)
    check_profile_and_log_in_again(page, screenshot)


def test_a_missing_page_is_a_styled_404_with_the_navigation(page, screenshot):
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_test_id("error-404")).to_be_visible()
    expect(page.get_by_test_id("nav-home")).to_be_visible()
    screenshot(page, "error")
