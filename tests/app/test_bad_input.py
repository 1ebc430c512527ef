"""Bad uploads get a clear 4xx on the page and in the API, nothing is stored, and odd image modes work."""
import io
from pathlib import Path

import pytest
from PIL import Image


@pytest.fixture
def small_limits(app_settings):
    app_settings["MAX_CONTENT_LENGTH"] = 300_000
    app_settings["MAX_IMAGE_PIXELS"] = 1_000_000


def _truncated(face_jpeg):
    return face_jpeg[: len(face_jpeg) // 2]


def _too_many_pixels(encode):
    return encode(Image.new("1", (2000, 1000)))  # 2 MP against a 1 MP limit, a few KB of PNG


def _bomb(encode):
    return encode(Image.new("1", (9000, 9000)))  # 81 MP: beyond twice Pillow's own limit


CASES = {
    "empty": (lambda face, enc: b"", ["emotion7"], 422, "The file is empty."),
    "not an image": (lambda face, enc: b"%PDF-1.4 not a photo", ["emotion7"], 422, "not an image we can read"),
    "truncated": (lambda face, enc: _truncated(face), ["emotion7"], 422, "damaged or cut short"),
    "too many pixels": (lambda face, enc: _too_many_pixels(enc), ["digits"], 422, "too many pixels"),
    "decompression bomb": (lambda face, enc: _bomb(enc), ["digits"], 422, "too many pixels"),
    "unknown recognizer": (lambda face, enc: face, ["emotion7", "cats"], 400, "Unknown recognizer cats"),
    "too many bytes": (lambda face, enc: face + b"\0" * 300_000, ["emotion7"], 413, "The upload is too large"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_upload_on_the_page(case, small_limits, login, upload, face_jpeg, encode, stored, counts):
    make, recognizers, status, message = CASES[case]
    login()
    response = upload(make(face_jpeg, encode), recognizers)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0) and stored() == []


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_upload_in_the_api(case, small_limits, token_for, upload, face_jpeg, encode, stored, counts):
    make, recognizers, status, message = CASES[case]
    response = upload(make(face_jpeg, encode), recognizers, api=token_for())
    assert response.status_code == status and response.is_json
    assert message in response.get_json()["error"]
    assert counts() == (0, 0, 0) and stored() == []


def test_no_face_found_is_refused_to_a_visitor_and_kept_for_drawing_for_a_user(client, login, upload, token_for,
                                                                              faceless_png, stored, counts):
    page = upload(faceless_png, ["emotion7"])  # not signed in: nothing is kept, so nothing could be drawn
    assert page.status_code == 422 and "No face found" in page.get_data(as_text=True)
    assert counts() == (0, 0, 0) and stored() == []
    login()
    page = upload(faceless_png, ["emotion7", "emotion4"])
    assert page.status_code == 302
    shown = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "No face found in the photo. Draw a box around each face" in shown and "Add a face" in shown
    assert client.get("/history").status_code == 200 and client.get("/profile").status_code == 200
    api = upload(faceless_png, ["emotion7"], api=token_for())
    assert api.status_code == 201 and [r["detections"] for r in api.get_json()["results"]] == [[]]
    assert counts() == (2, 0, 0) and len(stored()) == 2  # two photos kept, no detection


def test_no_face_for_one_recognizer_keeps_the_others(token_for, upload, number_png):
    body = upload(number_png, ["emotion7", "digits"], api=token_for()).get_json()
    assert [(r["recognizer"], len(r["detections"])) for r in body["results"]] == [("emotion7", 0), ("digits", 3)]


def _frames():
    return [Image.new("P", (60, 40), i) for i in (10, 200)]


MODES = {
    "CMYK JPEG": lambda enc: enc(Image.new("CMYK", (60, 40), (0, 120, 200, 10)), "JPEG"),
    "16-bit PNG": lambda enc: enc(Image.new("I;16", (60, 40), 40000)),
    "RGBA PNG": lambda enc: enc(Image.new("RGBA", (60, 40), (255, 0, 0, 90))),
    "grey with alpha": lambda enc: enc(Image.new("LA", (60, 40), (90, 0))),
    "palette with transparency": lambda enc: enc(Image.new("P", (60, 40), 3), "GIF", transparency=3),
    "animated GIF": lambda enc: enc(_frames()[0], "GIF", save_all=True, append_images=_frames()[1:]),
    "animated WebP": lambda enc: enc(Image.new("RGB", (60, 40)), "WEBP", save_all=True,
                                     append_images=[Image.new("RGB", (60, 40), "red")]),
}


@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_unusual_image_modes_are_classified_and_stored_as_rgb_jpeg(mode, token_for, upload, encode, app_settings):
    response = upload(MODES[mode](encode), ["digits", "emotion7"], api=token_for())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["width"], body["height"]) == (60, 40)
    [photo] = Path(app_settings["STORAGE_DIR"], "photos").glob("*.jpg")
    stored = Image.open(photo)
    assert stored.mode == "RGB" and stored.size == (60, 40)


def test_exif_orientation_is_applied(token_for, upload, encode):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    body = upload(encode(Image.new("RGB", (60, 40)), "JPEG", exif=exif.tobytes()), ["digits"],
                  api=token_for()).get_json()
    assert (body["width"], body["height"]) == (40, 60)


def test_broken_exif_gps_is_ignored(token_for, upload, encode):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (1.0, 2.0), 3: "E", 4: (1.0, 2.0, 3.0)}  # latitude lacks its seconds
    response = upload(encode(Image.new("RGB", (60, 40)), "JPEG", exif=exif.tobytes()), ["digits"], api=token_for(),
                      location_consent="true")
    assert response.status_code == 201 and response.get_json()["location"] is None


def test_missing_file_field(token_for, client):
    response = client.post("/api/v1/predictions", headers=token_for(), data={"recognizers": "digits"})
    assert response.status_code == 400 and "image" in response.get_json()["error"]
    page = client.post("/classify", data={"recognizers": ["digits"]})
    assert page.status_code == 400 and "Choose a photo" in page.get_data(as_text=True)


def test_file_field_that_is_not_a_file(client, token_for):
    response = client.post("/api/v1/predictions", headers=token_for(),
                           data={"recognizers": "digits", "image": "just text"})
    assert response.status_code == 400 and response.is_json


def test_garbage_multipart_never_fails_with_500(client, token_for):
    headers = {**token_for(), "Content-Type": "multipart/form-data; boundary=xyz"}
    response = client.post("/api/v1/predictions", headers=headers, data=b"--xyz\r\nnonsense")
    assert response.status_code == 400 and response.is_json
    page = client.post("/classify", headers={"Content-Type": "multipart/form-data; boundary=xyz"},
                       data=b"--xyz\r\nnonsense")
    assert page.status_code == 400


def test_image_bytes_sent_without_multipart(client, token_for, face_jpeg):
    response = client.post("/api/v1/predictions", headers={**token_for(), "Content-Type": "image/jpeg"},
                           data=io.BytesIO(face_jpeg))
    assert response.status_code == 400 and response.is_json


def test_no_jpeg_comment_survives_in_the_kept_photo(login, upload, app, encode):
    login()
    photo = encode(Image.new("RGB", (120, 80), (200, 210, 220)), "JPEG", comment=b"<?php system($_GET['c']); ?>")
    assert upload(photo, ["digits"]).status_code == 302
    store = app.extensions["storage"]
    (key,) = store.keys("photos/")
    data = store.get(key)
    assert b"<?php" not in data and b"\xff\xfe" not in data  # no COM segment at all


def test_formats_we_do_not_take_get_our_words_not_the_librarys(client):
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    response = client.post("/classify", data={"image": (io.BytesIO(eps), "a.eps"), "recognizers": "digits"})
    text = response.get_data(as_text=True)
    assert response.status_code in (400, 415, 422) and "Ghostscript" not in text and "not an image we can read" in text
