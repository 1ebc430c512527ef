"""Deletes ask first in chromium: dismissing keeps the photo, accepting deletes it; the account goes with its
password."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_deletes_ask_for_confirmation(page, signed_in, face_jpeg):
    signed_in(page)
    page.set_input_files("#image", files=[{"name": "face.jpg", "mimeType": "image/jpeg", "buffer": face_jpeg}])
    page.get_by_test_id("classify-submit").click()
    expect(page.get_by_test_id("result-emotion7")).to_be_visible()
    page.goto("/history")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_test_id("delete").click()
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    assert asked and "Delete this detection (emotion7 #1)" in asked[0]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete").click()
    expect(page.get_by_test_id("history-empty")).to_contain_text("Nothing here yet")

    page.goto("/data")
    page.fill("#password", "correct horse")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete-account").click()
    expect(page.get_by_test_id("flash-success")).to_contain_text("Your account and everything in it are deleted.")
    expect(page.get_by_test_id("nav-profile")).to_have_count(0)
