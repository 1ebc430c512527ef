"""Messages for a person: each says what is wrong, where it is wrong, and no internals."""
import io

import pytest


def test_a_weak_password_is_reported_under_the_password_field(client):
    page = client.post("/signup", data={"email": "ada@example.com", "password": "password123",
                                        "confirm": "password123"}).get_data(as_text=True)
    assert 'data-test="errors-password"' in page and "too easy to guess" in page
    assert 'data-test="errors-email"' not in page


def test_a_weak_new_password_is_reported_under_the_new_password_field(login):
    client = login()
    page = client.post("/profile", data={"current": "correct horse", "password": "11111111",
                                         "confirm": "11111111"}).get_data(as_text=True)
    assert 'data-test="errors-password"' in page and 'data-test="errors-current"' not in page


def test_a_truncated_photo_is_described_without_internals(client, upload, face_jpeg):
    response = upload(face_jpeg[: len(face_jpeg) // 2], ["emotion7"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "damaged or cut short" in page
    assert "not processed" not in page and "image file is truncated" not in page


@pytest.fixture
def small_limit(app_settings):
    app_settings["MAX_CONTENT_LENGTH"] = 300_000


def test_a_photo_over_the_limit_gets_the_upload_page_back(small_limit, client, face_jpeg):
    response = client.post("/classify", data={"image": (io.BytesIO(face_jpeg + b"\0" * 300_000), "big.jpg"),
                                              "recognizers": ["digits"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and 'id="classify-form"' in page
    assert "photos can be at most 0.286102 MB. Choose a smaller photo" in page
    assert 'data-max-bytes="300000"' in page and 'data-failed="1"' in page


def test_the_api_answers_413_in_json(small_limit, token_for, upload, face_jpeg):
    response = upload(face_jpeg + b"\0" * 300_000, ["digits"], api=token_for())
    assert response.status_code == 413 and "The upload is too large" in response.get_json()["error"]


def test_history_says_why_it_is_empty(login, upload, plain_png):
    client = login()
    assert "Nothing here yet" in client.get("/history").get_data(as_text=True)
    upload(plain_png, ["digits"])
    filtered = client.get("/history?recognizer=emotion7").get_data(as_text=True)
    assert "No detections match these filters" in filtered and "Nothing here yet" not in filtered
    beyond = client.get("/history?page=7").get_data(as_text=True)
    assert "There is no page 7: these detections fill 1 page." in beyond and 'data-test="last-page"' in beyond


def test_history_filters_by_review_status(login, upload, plain_png, app):
    client = login()
    upload(plain_png, ["digits"])
    upload(plain_png, ["digits"])
    client.post("/detections/1/feedback", data={"label": "3"})
    for status, count in (("unreviewed", 1), ("corrected", 1), ("confirmed", 0)):
        page = client.get(f"/history?status={status}").get_data(as_text=True)
        assert page.count('data-test="history-item"') == count, status
