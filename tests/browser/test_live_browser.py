"""Live mode in chromium, whose fake camera plays a generated video of five faces: boxes, mood, review, save."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from scripts.live_video import frames, write_y4m

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(launch, tmp_path_factory):
    """A chromium whose camera shows five drifting portraits, 640×480 at 10 frames/s, in a loop."""
    video = write_y4m(tmp_path_factory.mktemp("camera") / "five-faces.y4m", frames(30), fps=10)
    chromium = launch(f"--use-file-for-fake-video-capture={video}")
    yield chromium
    chromium.close()


@pytest.fixture
def app_settings(app_settings):
    """One-second mood buckets, so the chart grows within a short test."""
    return {**app_settings, "LIVE_BUCKET_S": 1}


def drawn_pixels(page) -> int:
    """How many pixels of the overlay the boxes and labels cover."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('#live-overlay');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
        return n; }""")


def test_boxes_follow_the_faces_the_mood_fills_in_and_the_session_is_saved(open_page, signed_in, screenshot):
    page = signed_in(open_page(permissions=["camera"]))
    page.get_by_test_id("nav-live").click()
    page.get_by_test_id("live-snapshots").check()
    page.get_by_test_id("live-start").click()

    expect(page.get_by_test_id("live-status")).to_contain_text("Live with emotion7")
    expect(page.get_by_test_id("live-overlay")).to_have_attribute("data-boxes", "5")
    assert drawn_pixels(page) > 5 * 4 * 100  # five boxes of at least 100 px a side, and their labels
    expect(page.get_by_test_id("live-face").locator("visible=true")).to_have_count(5)
    expect(page.get_by_test_id("live-faces-now")).to_have_text("5")
    expect(page.get_by_test_id("live-fps")).to_contain_text("frames/s")
    expect(page.get_by_test_id("mood-chart")).to_have_attribute("data-buckets", re.compile(r"^([3-9]|\d\d+)$"))
    expect(page.get_by_test_id("mood-summary")).to_contain_text(re.compile(r"In the last \d+ s: mostly \w+ \(\d+% of \d+ faces"))
    expect(page.get_by_test_id("mood-legend").locator("li")).to_have_count(8)  # seven expressions and the faces line
    page.set_viewport_size({"width": 1280, "height": 1280})  # the README shows the video and the chart below it
    screenshot(page, "live")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_test_id("review-face").nth(1).click()
    expect(page.get_by_test_id("reviewed-link")).to_be_visible()
    page.get_by_test_id("live-save").click()
    expect(page.get_by_test_id("saved-link")).to_be_visible()
    expect(page.get_by_test_id("live-saved")).to_contain_text("snapshots")
    page.get_by_test_id("live-stop").click()
    expect(page.get_by_test_id("live-overlay")).to_have_attribute("data-boxes", "0")
    expect(page.get_by_test_id("live-fps")).to_have_text("—")  # no frozen figures over a stopped camera
    expect(page.get_by_test_id("live-faces-now")).to_have_text("—")

    page.get_by_test_id("saved-link").click()
    expect(page.get_by_test_id("session-frames")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_test_id("mood-chart")).to_have_attribute("data-buckets", re.compile(r"^([3-9]|\d\d+)$"))
    expect(page.get_by_test_id("snapshot").first).to_be_visible()
    page.get_by_test_id("nav-history").click()
    expect(page.get_by_test_id("live-session")).to_have_count(1)
    expect(page.get_by_test_id("history-item")).to_have_count(1)  # the face sent to review


def test_visitors_see_boxes_but_keep_nothing(open_page):
    page = open_page(permissions=["camera"])
    page.goto("/live/")
    page.get_by_test_id("live-start").click()
    expect(page.get_by_test_id("live-overlay")).to_have_attribute("data-boxes", "5")
    expect(page.get_by_test_id("live-face").first).to_be_visible()
    expect(page.get_by_test_id("review-face")).to_have_count(0)
    expect(page.get_by_test_id("live-anonymous")).to_be_visible()


def overlay_pixels_left_of(page, right: int) -> int:
    """How many pixels of the overlay left of column `right` are drawn on."""
    return page.evaluate("""right => {
        const canvas = document.querySelector('#live-overlay');
        const data = canvas.getContext('2d').getImageData(0, 0, right, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
        return n; }""", right)


def test_a_label_at_the_right_edge_stays_inside_the_video(open_page):
    page = open_page(permissions=["camera"])
    edge = {}

    def one_face_at_the_right_edge(socket):
        """The real server's answers, with its faces swapped for one small box touching the frame's right edge."""
        server = socket.connect_to_server()

        def relay(message):
            reply = json.loads(message)
            if reply.get("type") == "result":
                edge["x"] = reply["width"] - 40
                reply["faces"] = [{"box": [edge["x"], reply["height"] // 2, 40, 40], "label": "surprise",
                                   "confidence": 0.97}]
            socket.send(json.dumps(reply))

        server.on_message(relay)

    page.route_web_socket(re.compile(r"/live/ws"), one_face_at_the_right_edge)
    page.goto("/live/")
    page.get_by_test_id("live-start").click()
    expect(page.get_by_test_id("live-overlay")).to_have_attribute("data-boxes", "1")
    # The label ("1 surprise 97%") is wider than the box: kept inside the frame, it reaches left of the box and its
    # stroke; drawn from the box's left edge, it would be cut off at the frame's edge and nothing would lie there.
    assert overlay_pixels_left_of(page, edge["x"] - 8) > 0
