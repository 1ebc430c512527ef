"""Upload and classify pages: anonymous tries, kept results, the result page, missing models."""
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from app.extensions import db
from app.models import Prediction


def test_upload_page_offers_every_recognizer_and_both_inputs(client):
    page = client.get("/").get_data(as_text=True)
    for name in ("emotion7", "emotion4", "digits"):
        assert f'data-test="recognizer-{name}"' in page
    assert 'id="image"' in page and 'id="camera-start"' in page and 'data-test="location-photo"' in page
    assert 'name="latitude"' in page and 'name="longitude"' in page and 'name="location_from"' in page


def test_anonymous_result_is_shown_but_nothing_is_kept(client, upload, face_jpeg, stored, counts):
    response = upload(face_jpeg, ["emotion7", "digits"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-test="not-kept"' in page
    assert 'data-test="result-emotion7"' in page and 'data-test="result-digits"' in page
    assert "data:image/jpeg;base64," in page
    assert counts() == (0, 0, 0) and stored() == []


def test_signed_in_result_is_kept_and_shown_by_id(login, upload, three_faces_jpeg, stored, app):
    client = login()
    response = upload(three_faces_jpeg, ["emotion7", "emotion4"])
    assert response.status_code == 302
    prediction_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).get_data(as_text=True)
    section = page.split('data-test="result-emotion7"')[1].split('data-test="result-emotion4"')[0]
    assert [int(n) for n in re.findall(r'data-test="box-(\d+)"', section)] == [1, 2, 3]
    assert section.count('data-test="detection"') == 3
    assert section.count('data-test="prob-') == 3 * 7  # a bar per class per face
    assert section.count("<meter") == 3 * 7
    assert re.search(r'data-test="model-version">[0-9a-f]{12}<', section)
    assert re.search(r'data-test="duration">\d+ ms<', section)
    with app.app_context():
        prediction = db.session.get(Prediction, prediction_id)
        keys = [prediction.photo_key] + [d.crop_key for d in prediction.detections]
        boxes = [d.box for d in prediction.results[0].detections]
    assert stored() == ["inbox/emotion4/*.png"] * 3 + ["inbox/emotion7/*.png"] * 3 + ["photos/*.jpg"]
    assert len(set(keys)) == 1 + 6 and all(Path(app.config["STORAGE_DIR"], k).is_file() for k in keys)
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # numbered left to right
    photo = client.get(f"/predictions/{prediction_id}/photo")
    assert photo.mimetype == "image/jpeg" and Image.open(io.BytesIO(photo.data)).size == (1536, 600)


@pytest.fixture
def gps_jpeg(encode):
    """A JPEG whose EXIF names a camera and a GPS position (Paris); 40×32, so digits reads it as one digit's crop."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 21.0, 0.0)}
    return encode(Image.new("RGB", (40, 32), "white"), "JPEG", exif=exif.tobytes())


def _kept_location(app, response):
    with app.app_context():
        prediction = db.session.get(Prediction, int(response.location.rsplit("/", 1)[1]))
        return prediction.latitude, prediction.longitude, prediction.location_source


@pytest.mark.parametrize("consent, expected", [({"location_from": "photo"}, (48.858333, 2.35, "exif")),
                                               ({"location_from": "browser"}, (None, None, None)),
                                               ({}, (None, None, None))])
def test_exif_gps_is_kept_only_with_consent(login, upload, app, app_settings, gps_jpeg, consent, expected):
    login()
    response = upload(gps_jpeg, ["digits"], **consent)
    assert _kept_location(app, response) == expected
    with app.app_context():
        key = db.session.get(Prediction, int(response.location.rsplit("/", 1)[1])).photo_key
    stored = Image.open(f"{app_settings['STORAGE_DIR']}/{key}")
    assert stored.format == "JPEG" and not stored.getexif() and "exif" not in stored.info


@pytest.mark.parametrize("choice, expected", [("browser", (51.5, -0.12, "browser")),
                                              ("photo", (48.858333, 2.35, "exif"))])
def test_the_location_chosen_is_the_one_kept(login, upload, gps_jpeg, app, choice, expected):
    login()
    response = upload(gps_jpeg, ["digits"], location_from=choice, latitude="51.5", longitude="-0.12")
    assert _kept_location(app, response) == expected


def test_a_chosen_location_that_is_missing_is_said(login, upload, plain_png, gps_jpeg, client):
    login()
    for data, choice, said in ((plain_png, "photo", "This photo has no GPS tag, so no location was kept."),
                               (gps_jpeg, "browser", "Your browser did not share a location, so none was kept.")):
        response = upload(data, ["digits"], location_from=choice)
        assert said in client.get(response.location).get_data(as_text=True)


def test_browser_location_without_consent_is_dropped(login, upload, gps_jpeg, app):
    login()
    response = upload(gps_jpeg, ["digits"], latitude="51.5", longitude="-0.12")
    assert _kept_location(app, response) == (None, None, None)


def test_anonymous_result_shows_location_only_with_consent(client, upload, gps_jpeg):
    shown = upload(gps_jpeg, ["digits"], location_from="photo").get_data(as_text=True)
    assert ">48.8583, 2.3500</a>" in shown
    assert 'href="https://www.openstreetmap.org/?mlat=48.85833&amp;mlon=2.35000#map=15/48.85833/2.35000"' in shown
    hidden = upload(gps_jpeg, ["digits"]).get_data(as_text=True)
    assert 'data-test="location">location —<' in hidden


def test_location_out_of_range_is_refused(login, upload, plain_png, counts):
    login()
    response = upload(plain_png, ["digits"], location_from="browser", latitude="95", longitude="0")
    assert response.status_code == 400 and counts() == (0, 0, 0)


def test_no_recognizer_chosen(client, plain_png):
    response = client.post("/classify", data={"image": (io.BytesIO(plain_png), "a.png")})
    assert response.status_code == 400
    assert "Choose at least one recognizer." in response.get_data(as_text=True)


def test_other_users_cannot_see_a_result_or_its_images(login, upload, plain_png, client):
    login("owner@example.com")
    location = upload(plain_png, ["digits"]).location
    prediction_id = int(location.rsplit("/", 1)[1])
    client.post("/logout")
    assert client.get(location).status_code == 302  # anonymous: log in first
    login("other@example.com")
    assert client.get(location).status_code == 404
    assert client.get(f"/predictions/{prediction_id}/photo").status_code == 404
    assert client.get("/detections/1/crop").status_code == 404


@pytest.fixture
def no_models(app_settings, tmp_path):
    app_settings["MODELS_DIR"] = str(tmp_path / "no-models")


def test_missing_model_is_explained_and_the_site_still_runs(no_models, client, upload, plain_png, counts):
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-test="model-missing-emotion7"' in text and "not available yet" in text
    response = upload(plain_png, ["digits"])
    assert response.status_code == 503 and "The digits model is not available yet" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)
