"""Live digits in chromium, whose fake camera plays a house number drifting over a wall: boxes per digit, the number
shown large with how many frames agreed, sent to review and saved without a mood chart."""
from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from number_support import render
from scripts.live_video import number_frames, write_y4m

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(launch, tmp_path_factory):
    """A chromium whose camera shows the number 126 on a plate, 640×480 at 10 frames/s, in a loop."""
    plate = render("126", 60, np.random.default_rng(1))[0]
    video = write_y4m(tmp_path_factory.mktemp("camera") / "number.y4m", number_frames(30, plate), fps=10)
    chromium = launch(f"--use-file-for-fake-video-capture={video}")
    yield chromium
    chromium.close()


def test_the_number_is_read_held_still_sent_to_review_and_saved(open_page, signed_in, screenshot):
    page = signed_in(open_page(permissions=["camera"]))
    page.goto("/live/")
    page.get_by_test_id("live-recognizer").select_option("digits")
    expect(page.get_by_test_id("mood")).to_be_hidden()
    page.get_by_test_id("live-start").click()

    expect(page.get_by_test_id("live-status")).to_contain_text("Live with digits")
    overlay = page.get_by_test_id("live-overlay")
    expect(overlay).to_have_attribute("data-boxes", "3")
    expect(overlay).to_have_attribute("data-number", re.compile(r"^\d{3}$"))
    number = overlay.get_attribute("data-number")
    expect(page.get_by_test_id("live-number")).to_have_text(re.compile(r"^\d{3}$"))
    expect(page.get_by_test_id("live-number")).to_have_attribute("data-agree", "7/7")  # every one of the last 7
    expect(page.get_by_test_id("live-number-agree")).to_contain_text(re.compile(r"\d+% sure; 7 of the last 7 frames"))
    expect(page.get_by_test_id("live-face").locator("visible=true")).to_have_count(3)
    expect(page.get_by_test_id("review-face")).to_have_count(0)  # a number goes to review whole
    screenshot(page, "live-digits")

    page.get_by_test_id("review-number").click()
    expect(page.get_by_test_id("reviewed-link")).to_be_visible()
    expect(page.get_by_test_id("live-notice")).to_contain_text(re.compile(r"Number \d{3} is in the review queue"))
    page.get_by_test_id("live-save").click()
    expect(page.get_by_test_id("saved-link")).to_be_visible()
    page.get_by_test_id("live-stop").click()
    expect(page.get_by_test_id("live-number")).to_have_text("—")

    session = page.get_by_test_id("saved-link").get_attribute("href")
    page.get_by_test_id("reviewed-link").click()
    expect(page.get_by_test_id("digit")).to_have_count(3)  # the normal result page: confirm or correct each digit
    expect(page.get_by_test_id("confirm-number")).to_be_visible()
    page.goto(session)
    expect(page.get_by_test_id("session-number").first).to_contain_text(number)
    expect(page.get_by_test_id("mood-chart")).to_have_count(0)
