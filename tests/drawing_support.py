"""Drawing a box on a photo in chromium, as the result page and the review queue take it: by mouse or by finger."""
from __future__ import annotations


def photo_point(page, fx: float, fy: float) -> tuple[float, float]:
    """The screen position of a point given as fractions of the displayed photo."""
    box = page.get_by_test_id("photo").locator("svg").bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def mouse_drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A mouse dragged from `start` to `end` with the button held."""
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def touch_drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger dragged across the screen at a finger's pace, as chromium receives it from a touchscreen; it rests
    at the end, as a finger does, or chromium would take a fling and swallow the next tap to stop it."""
    cdp = page.context.new_cdp_session(page)
    steps, clock = 10, page.evaluate("Date.now() / 1000")
    points = [(start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
              for i in range(steps + 1)] + [end] * 5
    for i, (x, y) in enumerate(points):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart" if i == 0 else "touchMove",
                                              "touchPoints": [{"x": x, "y": y}], "timestamp": clock + i * 0.05})
    cdp.send("Input.dispatchTouchEvent",
             {"type": "touchEnd", "touchPoints": [], "timestamp": clock + len(points) * 0.05})
    cdp.detach()
