"""House numbers through the web app and the API: every digit found and read in reading order, the number confirmed
whole, one digit corrected, deleted or added, each landing in its class folder, in SQL and in the export."""
from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from app.extensions import db
from app.models import NOT_A_FACE, Detection, FeedbackEvent, Status
from app.services import health, registry
from ml.data.svhn_boxes import crop_digit
from ml.preprocess import prepare
from ml.recognizers import get
from number_support import render
from test_api import conforms, spec  # noqa: F401 - fixtures


def _photo(encode, text: str, size: int, lines: int = 1):
    image, boxes = render(text, size, np.random.default_rng(len(text) * size), lines)
    return encode(image), boxes


def _inside(found, truth) -> bool:
    """Whether the centre of the found box lies in the true box."""
    x, y = found[0] + found[2] / 2, found[1] + found[3] / 2
    return truth[0] <= x <= truth[0] + truth[2] and truth[1] <= y <= truth[1] + truth[3]


def _rows(app):
    with app.app_context():
        return {d.id: (d.box, d.predicted_label, d.label, d.status, d.source, d.crop_key, d.original_key)
                for d in db.session.scalars(db.select(Detection))}


def _flash(client, response) -> str:
    """The latest message flashed on the page `response` redirects to."""
    page = client.get(response.location).get_data(as_text=True)
    return page.split('data-test="flash-')[-1].split(">", 1)[1].split("<", 1)[0]


def _other(label: str) -> str:
    return "7" if label != "7" else "3"


@pytest.mark.parametrize("text, size, lines", [("126", 20, 1), ("126", 40, 1), ("35", 14, 1), ("4821", 30, 2)])
def test_every_digit_is_found_in_reading_order(upload, token_for, encode, conforms, text, size, lines):  # noqa: F811
    data, boxes = _photo(encode, text, size, lines)
    response = upload(data, ["digits"], api=token_for())
    assert response.status_code == 201
    conforms(response, "/predictions", "post")
    result = response.get_json()["results"][0]
    found = [d["box"] for d in result["digits"]]
    assert len(found) == len(text) and all(_inside(f, t) for f, t in zip(found, boxes))  # two lines: the top first
    assert result["number"] == result["read_number"] == "".join(d["label"] for d in result["digits"])
    assert result["confidence"] == pytest.approx(np.prod([d["confidence"] for d in result["digits"]]), abs=1e-5)


def test_a_plain_crop_is_one_digit(login, upload, plain_png, app):
    client = login()
    page = client.get(upload(plain_png, ["digits"]).location).get_data(as_text=True)
    assert page.count('data-test="digit"') == 1 and 'data-test="detection-count">1 digit<' in page
    (box, predicted, *_), = _rows(app).values()
    assert box == (0, 0, 36, 24) and f'data-test="number">{predicted}<' in page


def test_a_photo_without_digits_says_so_and_is_kept_to_draw_one(client, login, upload, faceless_png, token_for):
    refused = upload(faceless_png, ["digits"])  # a visitor: nothing can be kept to draw on
    assert refused.status_code == 422 and "No digits found in the photo. Sign in to draw" in refused.get_data(as_text=True)
    login()
    page = client.get(upload(faceless_png, ["digits"]).location).get_data(as_text=True)
    assert "No digits found in the photo. Draw a box around each digit on the photo to add it." in page
    assert 'data-test="add-digit"' in page and 'data-test="number">—<' in page and "confirm-number" not in page
    api = upload(faceless_png, ["digits"], api=token_for())
    assert api.status_code == 201 and api.get_json()["results"][0]["digits"] == []


def test_a_visitor_sees_the_number_with_a_box_per_digit(upload, number_png):
    page = upload(number_png, ["digits"]).get_data(as_text=True)
    assert page.count('data-test="digit"') == 3 and 'data-test="number-confidence"' in page
    assert all(f'data-test="box-{i}"' in page for i in (1, 2, 3))


@pytest.fixture
def house(login, upload, number_png):
    """A signed-in client whose one photo is the door number 126, read as detections 1, 2, 3 (left to right)."""
    client = login()
    response = upload(number_png, ["digits"])
    assert response.status_code == 302 and client.get(response.location).status_code == 200  # shows the flashes
    return client


def test_enter_confirms_the_whole_number_and_every_digit_lands_in_its_folder(house, app, stored):
    rows = _rows(app)
    number = "".join(rows[i][1] for i in (1, 2, 3))
    page = house.get("/predictions/1").get_data(as_text=True)
    assert f'name="number" value="{number}"' in page and "data-confirm-number" in page
    response = house.post("/predictions/1/number", data={"number": number})
    assert _flash(house, response) == f"Confirmed the number “{number}”."
    rows = _rows(app)
    assert {rows[i][3] for i in rows} == {Status.CONFIRMED}
    for i, (_, _, label, _, _, crop, original) in rows.items():
        assert (crop, original) == (f"crops/digits/{label}/{i}.png", f"originals/digits/{label}/{i}.jpg")
        assert crop in stored() and original in stored()
    with app.app_context():
        assert db.session.query(FeedbackEvent).filter_by(source="web").count() == 3
    assert 'data-test="number-state"' in house.get("/predictions/1").get_data(as_text=True)


def test_a_number_confirmed_at_a_glance_keeps_its_time_and_stays_out_of_the_agreement(house, app):
    rows = _rows(app)
    number = "".join(rows[i][1] for i in (1, 2, 3))
    response = house.post("/predictions/1/number", data={"number": number, "seen_ms": 200})
    assert response.location.endswith("/predictions/1#det-3")  # nothing left to label: the focus stays on the number
    with app.app_context():
        assert [e.seen_ms for e in db.session.scalars(db.select(FeedbackEvent))] == [200] * 3
        registry.ensure_baseline("digits")
        report = health.report("digits")
    assert report["totals"]["quick"] == 3 and report["totals"]["reviewed"] == 0
    assert report["numbers"] == {"reviewed": 0, "agreed": 0, "agreement": None, "quick": 1}
    assert _rows(app)[1][3] == Status.CONFIRMED  # still a label for training


def test_after_a_digit_the_focus_goes_to_the_next_in_reading_order(house, app):
    rows = _rows(app)
    house.post("/detections/2/feedback", data={"label": NOT_A_FACE})  # as if the reader had missed the "2"
    house.post("/predictions/1/faces", data={"recognizer": "digits", **dict(zip("xywh", rows[2][0]))})
    # The drawn digit #4 sits between #1 and #3 on the page, so after #1 the focus goes to it, not to #3.
    assert house.post("/detections/1/feedback", data={"label": rows[1][1]}).location.endswith("#det-4")


def test_a_stale_number_is_not_confirmed(house, counts):
    response = house.post("/predictions/1/number", data={"number": "99999"})
    assert "not “99999”: look again" in _flash(house, response) and counts()[2] == 0


def test_one_digit_corrected_then_the_number_confirmed(house, app, stored):
    rows = _rows(app)
    other = _other(rows[2][1])
    house.post("/detections/2/feedback", data={"label": other})
    number = rows[1][1] + other + rows[3][1]
    page = house.get("/predictions/1").get_data(as_text=True)
    assert f'data-test="number">{number}<' in page and 'data-test="reader-said"' in page
    house.post("/predictions/1/number", data={"number": number})
    rows = _rows(app)
    assert [rows[i][3] for i in (1, 2, 3)] == [Status.CONFIRMED, Status.CORRECTED, Status.CONFIRMED]
    assert f"crops/digits/{other}/2.png" in stored() and f"originals/digits/{other}/2.jpg" in stored()


def test_a_box_that_is_no_digit_leaves_the_number_and_undo_brings_it_back(house, app, stored):
    rows = _rows(app)
    response = house.post("/detections/3/feedback", data={"label": NOT_A_FACE})
    assert _flash(house, response) == "Marked digits #3 as not a digit."
    assert "crops/digits/_not_a_digit/3.png" in stored()
    page = house.get("/predictions/1").get_data(as_text=True)
    assert f'data-test="number">{rows[1][1]}{rows[2][1]}<' in page and "1 not a digit" in page
    assert 'data-test="history-count">2 detections · 1 marked not a digit<' in house.get("/history").get_data(as_text=True)
    house.post("/detections/3/undo")
    assert _rows(app)[3][3] == Status.UNREVIEWED and "inbox/digits/3.png" in stored()


def test_a_missed_digit_is_drawn_cropped_like_the_readers_and_joins_the_number(house, app, app_settings):
    rows = _rows(app)
    box = rows[1][0]
    house.post("/detections/1/feedback", data={"label": NOT_A_FACE})  # as if the reader had missed the "1"
    response = house.post("/predictions/1/faces", data={"recognizer": "digits", **dict(zip("xywh", box))})
    assert _flash(house, response).startswith("Added digit #4: “")
    drawn_box, predicted, _, status, source, crop, _ = _rows(app)[4]
    assert (drawn_box, status, source) == (box, Status.UNREVIEWED, "user")
    page = house.get("/predictions/1").get_data(as_text=True)
    assert f'data-test="number">{predicted}{rows[2][1]}{rows[3][1]}<' in page  # the drawn digit reads first
    root = app_settings["STORAGE_DIR"]
    with app.app_context():
        photo_key = db.session.get(Detection, 4).result.prediction.photo_key
    expected = prepare(crop_digit(Image.open(f"{root}/{photo_key}"), *box), get("digits"))
    assert np.array_equal(np.asarray(Image.open(f"{root}/{crop}")), expected)


def test_a_drawn_digit_may_be_thin_but_not_a_speck(house, counts):
    before = counts()
    response = house.post("/predictions/1/faces", data={"recognizer": "digits", "x": 5, "y": 5, "w": 3, "h": 20})
    assert "at least 4 px wide and high; this one is 3×20 px" in _flash(house, response) and counts() == before
    house.post("/predictions/1/faces", data={"recognizer": "digits", "x": 5, "y": 5, "w": 4, "h": 20})
    assert counts()[1] == before[1] + 1


def test_history_review_and_dashboard_speak_of_numbers(house, app, client, login):
    rows = _rows(app)
    number = "".join(rows[i][1] for i in (1, 2, 3))
    listing = house.get("/history").get_data(as_text=True)
    assert listing.count(f'data-test="number">of “{number}”') == 3
    with app.app_context():
        from app.services import reviewers  # noqa: PLC0415

        reviewers.grant("ada@example.com", None)
    queue = house.get("/review?recognizer=digits").get_data(as_text=True)
    assert f"of the number read as “{number}”" in queue and 'data-test="review-not-a-digit"' in queue
    house.post("/predictions/1/number", data={"number": number})
    with app.app_context():
        registry.ensure_baseline("digits")
        report = health.report("digits")
    assert report["numbers"] == {"reviewed": 1, "agreed": 1, "agreement": 1.0, "quick": 0}
    assert report["totals"]["agreement"] == 1.0
    page = house.get("/models/digits").get_data(as_text=True)
    assert 'data-test="stat-number-agreement">100.0%' in page


def test_the_export_has_the_numbers_as_format_1(house, app):
    rows = _rows(app)
    house.post("/detections/3/feedback", data={"label": NOT_A_FACE})
    house.post("/predictions/1/number", data={"number": rows[1][1] + rows[2][1]})
    archive = zipfile.ZipFile(io.BytesIO(house.get("/data/export.zip?recognizer=digits").data))
    assert "digits/_not_a_digit/3.png" in archive.namelist() and "digits/photos/train/1.jpg" in archive.namelist()
    boxes = list(csv.DictReader(io.StringIO(archive.read("digits/labels.csv").decode())))
    assert [(b["image"], b["box_index"], b["label"]) for b in boxes] == [
        ("1.jpg", "0", str(int(rows[1][1]) or 10)), ("1.jpg", "1", str(int(rows[2][1]) or 10))]
    assert [tuple(int(b[k]) for k in ("left", "top", "width", "height")) for b in boxes] == [rows[1][0], rows[2][0]]


def test_the_api_confirms_corrects_deletes_and_adds_digits(client, token_for, upload, number_png, conforms,  # noqa: F811
                                                          stored, app):
    headers = token_for()
    body = upload(number_png, ["digits"], api=headers).get_json()
    url = f"/api/v1/predictions/{body['id']}/feedback"
    path = "/predictions/{prediction_id}/feedback"
    first, second, third = body["results"][0]["digits"]
    other = _other(second["label"])
    corrected = client.post(url, headers=headers, json={"recognizer": "digits", "detection": 1, "label": other})
    conforms(corrected, path, "post")
    assert corrected.get_json()["results"][0]["number"] == first["label"] + other + third["label"]
    deleted = client.post(url, headers=headers, json={"recognizer": "digits", "detection": 2, "not_a_digit": True})
    conforms(deleted, path, "post")
    result = deleted.get_json()["results"][0]
    assert result["detections"][2]["feedback"] == {"status": "not_a_digit", "label": None}
    assert [d["index"] for d in result["digits"]] == [0, 1] and result["read_number"] == body["results"][0]["number"]
    added = client.post(f"/api/v1/predictions/{body['id']}/detections", headers=headers,
                        json={"recognizer": "digits", "box": third["box"]})
    assert added.status_code == 201 and added.get_json()["source"] == "user" and added.get_json()["index"] == 3
    conforms(added, "/predictions/{prediction_id}/detections", "post")
    now = client.get(f"/api/v1/predictions/{body['id']}", headers=headers).get_json()["results"][0]["number"]
    stale = client.post(url, headers=headers, json={"recognizer": "digits", "number": now + "1"})
    assert stale.status_code == 409 and f"now reads “{now}”" in stale.get_json()["error"]
    conforms(stale, path, "post")
    confirmed = client.post(url, headers=headers, json={"recognizer": "digits", "number": now})
    conforms(confirmed, path, "post")
    statuses = [d["feedback"]["status"] for d in confirmed.get_json()["results"][0]["detections"]]
    assert statuses == ["confirmed", "corrected", "not_a_digit", "confirmed"]
    assert f"crops/digits/{other}/2.png" in stored() and "crops/digits/_not_a_digit/3.png" in stored()
    with app.app_context():
        assert [e.source for e in db.session.scalars(db.select(FeedbackEvent))] == ["api"] * 4


@pytest.mark.parametrize("payload, status", [
    ({"recognizer": "emotion7", "number": "12"}, 400),
    ({"recognizer": "digits", "number": 126}, 400),
    ({"recognizer": "digits", "number": "1", "detection": 0}, 400),
    ({"recognizer": "digits", "detection": 0, "not_a_face": True}, 400),  # a digit's box is not_a_digit
    ({"recognizer": "digits", "detection": 0, "not_a_digit": "yes"}, 400),
    ({"recognizer": "digits", "detection": 0, "not_a_digit": True, "label": "1"}, 400),
])
def test_bad_number_feedback_is_refused(client, token_for, upload, number_png, payload, status, conforms,  # noqa: F811
                                        counts):
    headers = token_for()
    body = upload(number_png, ["digits"], api=headers).get_json()
    response = client.post(f"/api/v1/predictions/{body['id']}/feedback", headers=headers, json=payload)
    assert response.status_code == status and response.get_json()["error"]
    conforms(response, "/predictions/{prediction_id}/feedback", "post")
    assert counts()[2] == 0


def test_nothing_to_confirm_on_a_photo_without_digits(client, token_for, upload, faceless_png):
    headers = token_for()
    body = upload(faceless_png, ["digits"], api=headers).get_json()
    response = client.post(f"/api/v1/predictions/{body['id']}/feedback", headers=headers,
                           json={"recognizer": "digits", "number": ""})
    assert response.status_code == 422 and "draw a box around each digit" in response.get_json()["error"]


def test_retraining_learns_from_the_digit_crops_people_confirmed(house, app):
    from app.models.base import utcnow  # noqa: PLC0415
    from app.services import training  # noqa: PLC0415

    rows = _rows(app)
    other = _other(rows[2][1])
    house.post("/detections/2/feedback", data={"label": other})
    house.post("/predictions/1/number", data={"number": rows[1][1] + other + rows[3][1]})
    with app.app_context():
        slices, missing = training.feedback_examples("digits", utcnow())
    # A number's digits come from one photo: one group, so they all land in one slice, never split across them.
    (train,) = [part for part in slices.values() if part]
    assert not missing
    labels = [rows[1][1], other, rows[3][1]]
    assert [(e.key, e.label) for e in train] == [(f"crops/digits/{label}/{i}.png", label)
                                                 for i, label in enumerate(labels, start=1)]
    assert all(Image.open(io.BytesIO(e.data)).size == (32, 32) for e in train)  # one digit each, not the photo


def test_the_reader_reads_with_the_current_digits_champion(app, artifacts):
    from app import serving  # noqa: PLC0415

    detector = app.config["NUMBER_DETECTOR_DIR"]
    champion, promoted = serving.load(artifacts / "digits"), serving.load(get("digits").shipped_dir)
    reader = serving.number_reader(detector, champion)
    assert serving.number_reader(detector, champion) is reader and reader.classifier is champion.classifier
    swapped = serving.number_reader(detector, promoted)  # a promotion: the next reading uses the new champion
    assert swapped is not reader and swapped.classifier is promoted.classifier
