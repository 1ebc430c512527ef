"""The JSON API: tokens, predictions create/list/get/feedback/delete, JSON errors, and the OpenAPI document."""
import base64
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from PIL import Image

from app.extensions import db
from app.models import ApiToken, FeedbackEvent, Prediction, User
from app.models.base import utcnow


@pytest.fixture
def spec(client):
    """The served OpenAPI document, checked against the OpenAPI 3.1 schema."""
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    return document


@pytest.fixture
def conforms(spec):
    """conforms(response, path, method): the body matches the documented schema of its status."""

    def check(response, path: str, method: str) -> None:
        documented = spec["paths"][path][method]["responses"][str(response.status_code)]
        if "content" not in documented:
            assert not response.data
            return
        schema = documented["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": spec["components"]},
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert not errors, errors

    return check


def test_token_with_basic_auth(client, token_for, conforms):
    headers = token_for()
    assert client.get("/api/v1/predictions", headers=headers).status_code == 200
    wrong = base64.b64encode(b"ada@example.com:nope").decode()
    response = client.post("/api/v1/tokens", headers={"Authorization": f"Basic {wrong}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    conforms(response, "/tokens", "post")
    missing = client.post("/api/v1/tokens")
    assert missing.status_code == 401 and "HTTP Basic" in missing.get_json()["error"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Token abc", "Basic YTpi"])
def test_calls_need_a_valid_bearer_token(client, header, conforms):
    response = client.get("/api/v1/predictions", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    conforms(response, "/predictions", "get")


def test_expired_token_is_refused(client, token_for, app):
    headers = token_for()
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(expires_at=utcnow()))
        db.session.commit()
    response = client.get("/api/v1/predictions", headers=headers)
    assert response.status_code == 401 and "expired" in response.get_json()["error"]


def test_create_get_list(client, token_for, upload, three_faces_jpeg, plain_png, conforms):
    headers = token_for()
    created = upload(three_faces_jpeg, ["emotion7", "digits"], api=headers)
    assert created.status_code == 201
    conforms(created, "/predictions", "post")
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/predictions/{body['id']}"
    emotion, digits = body["results"]
    assert emotion["recognizer"] == "emotion7" and len(emotion["detections"]) == 3
    first = emotion["detections"][0]
    assert set(first["probabilities"]) == {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}
    assert first["label"] == max(first["probabilities"], key=first["probabilities"].get)
    assert first["confidence"] == pytest.approx(max(first["probabilities"].values()), abs=1e-5)
    assert first["feedback"] is None and len(first["box"]) == 4
    assert digits["number"] == "".join(d["label"] for d in digits["digits"])  # faces: few or no digits
    fetched = client.get(f"/api/v1/predictions/{body['id']}", headers=headers)
    conforms(fetched, "/predictions/{prediction_id}", "get")
    assert fetched.get_json() == body
    second = upload(plain_png, ["digits"], api=headers).get_json()
    listed = client.get("/api/v1/predictions", headers=headers)
    conforms(listed, "/predictions", "get")
    assert [p["id"] for p in listed.get_json()["items"]] == [second["id"], body["id"]]
    assert listed.get_json()["next"] is None


@pytest.fixture
def gps_jpeg(encode):
    """A JPEG whose EXIF carries a GPS position (Paris)."""
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 21.0, 0.0)}
    return encode(Image.new("RGB", (100, 80), "white"), "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize("fields, expected", [
    ({}, None),
    ({"latitude": "51.5", "longitude": "-0.12"}, None),  # coordinates without consent are dropped
    ({"location_consent": "false"}, None),
    ({"location_consent": "true"}, {"latitude": 48.858333, "longitude": 2.35, "source": "exif"}),
    ({"location_consent": "true", "latitude": "51.5", "longitude": "-0.12"},
     {"latitude": 51.5, "longitude": -0.12, "source": "browser"}),
])
def test_location_is_kept_only_with_consent(client, token_for, upload, gps_jpeg, conforms, fields, expected):
    created = upload(gps_jpeg, ["digits"], api=token_for(), **fields)
    assert created.status_code == 201
    conforms(created, "/predictions", "post")
    location = created.get_json()["location"]
    if expected is None:
        assert location is None
    else:
        assert location["source"] == expected["source"]
        assert location["latitude"] == pytest.approx(expected["latitude"])
        assert location["longitude"] == pytest.approx(expected["longitude"])


def test_location_consent_must_be_true_or_false(client, token_for, upload, plain_png):
    response = upload(plain_png, ["digits"], api=token_for(), location_consent="maybe")
    assert response.status_code == 400 and "location_consent" in response.get_json()["error"]


def test_openapi_documents_location_consent(spec):
    fields = spec["components"]["schemas"]["PredictionUpload"]["properties"]
    assert fields["location_consent"]["enum"] == ["true", "false"]
    assert {"latitude", "longitude"} <= set(fields)


def test_list_is_paginated_with_next_links(client, token_for, upload, plain_png, conforms):
    headers = token_for()
    ids = [upload(plain_png, ["digits"], api=headers).get_json()["id"] for _ in range(3)]
    seen, url = [], "/api/v1/predictions?per_page=2"
    while url:
        response = client.get(url, headers=headers)
        conforms(response, "/predictions", "get")
        seen += [p["id"] for p in response.get_json()["items"]]
        url = response.get_json()["next"]
    assert seen == ids[::-1]


def test_page_size_over_the_cap_is_refused(client, token_for, app):
    headers = token_for()
    with app.app_context():
        owner = db.session.scalar(db.select(User))
        db.session.add_all(Prediction(user=owner, width=1, height=1) for _ in range(101))
        db.session.commit()
    refused = client.get("/api/v1/predictions?per_page=100000", headers=headers)
    assert refused.status_code == 400 and "per_page must be a whole number from 1 to 100" in refused.get_json()["error"]
    body = client.get("/api/v1/predictions?per_page=100", headers=headers).get_json()
    assert len(body["items"]) == 100 and "per_page=100&" in body["next"] + "&"


def test_feedback_confirms_and_corrects(client, token_for, upload, plain_png, conforms, app, stored):
    headers = token_for()
    body = upload(plain_png, ["digits"], api=headers).get_json()
    predicted = body["results"][0]["detections"][0]["label"]
    url = f"/api/v1/predictions/{body['id']}/feedback"
    confirmed = client.post(url, headers=headers, json={"recognizer": "digits", "detection": 0, "label": predicted})
    conforms(confirmed, "/predictions/{prediction_id}/feedback", "post")
    assert confirmed.get_json()["results"][0]["detections"][0]["feedback"] == {"status": "confirmed",
                                                                                "label": predicted}
    other = "8" if predicted != "8" else "2"
    corrected = client.post(url, headers=headers, json={"recognizer": "digits", "detection": 0, "label": other})
    detection = corrected.get_json()["results"][0]["detections"][0]
    assert detection["feedback"] == {"status": "corrected", "label": other} and detection["label"] == predicted
    assert f"crops/digits/{other}/1.png" in stored()
    with app.app_context():
        assert [(e.from_label, e.to_label, e.source) for e in db.session.scalars(db.select(FeedbackEvent))] == [
            (predicted, predicted, "api"), (predicted, other, "api")]


@pytest.mark.parametrize("payload, status", [
    (None, 400),
    ({"recognizer": "digits", "detection": "0", "label": "1"}, 400),
    ({"recognizer": "digits", "detection": True, "label": "1"}, 400),
    ({"recognizer": "digits", "detection": 0, "label": "happy"}, 400),
    ({"recognizer": "digits", "detection": 5, "label": "1"}, 404),
    ({"recognizer": "emotion7", "detection": 0, "label": "happy"}, 404),
])
def test_bad_feedback(client, token_for, upload, plain_png, payload, status, conforms, counts):
    headers = token_for()
    body = upload(plain_png, ["digits"], api=headers).get_json()
    response = client.post(f"/api/v1/predictions/{body['id']}/feedback", headers=headers, json=payload)
    assert response.status_code == status
    conforms(response, "/predictions/{prediction_id}/feedback", "post")
    assert counts()[2] == 0


def test_delete_removes_rows_and_images(client, token_for, upload, plain_png, conforms, stored, counts):
    headers = token_for()
    body = upload(plain_png, ["digits"], api=headers).get_json()
    client.post(f"/api/v1/predictions/{body['id']}/feedback", headers=headers,
                json={"recognizer": "digits", "detection": 0, "label": "4"})
    response = client.delete(f"/api/v1/predictions/{body['id']}", headers=headers)
    assert response.status_code == 204
    conforms(response, "/predictions/{prediction_id}", "delete")
    assert stored() == [] and counts() == (0, 0, 0)
    gone = client.get(f"/api/v1/predictions/{body['id']}", headers=headers)
    assert gone.status_code == 404
    conforms(gone, "/predictions/{prediction_id}", "get")


def test_users_only_reach_their_own_predictions(client, token_for, upload, plain_png, stored):
    owner = token_for("owner@example.com")
    body = upload(plain_png, ["digits"], api=owner).get_json()
    intruder = token_for("intruder@example.com")
    url = f"/api/v1/predictions/{body['id']}"
    assert client.get(url, headers=intruder).status_code == 404
    assert client.delete(url, headers=intruder).status_code == 404
    assert client.post(url + "/feedback", headers=intruder,
                       json={"recognizer": "digits", "detection": 0, "label": "1"}).status_code == 404
    assert client.get("/api/v1/predictions", headers=intruder).get_json() == {"items": [], "next": None}
    assert client.get(url, headers=owner).status_code == 200 and len(stored()) == 2


def test_errors_are_json(client, token_for):
    headers = token_for()
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and list(missing.get_json()) == ["error"]
    not_allowed = client.put("/api/v1/predictions", headers=headers)
    assert not_allowed.status_code == 405 and not_allowed.is_json and "GET" in not_allowed.headers["Allow"]
    assert client.post("/api/v1/predictions", headers=headers, json={}).status_code == 400


def test_openapi_documents_every_api_route(app, spec):
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert routes == documented
    assert spec["servers"][0]["url"] == "/api/v1"  # relative: a forged Host header is not echoed


def test_add_a_face_the_detector_missed(client, token_for, upload, three_faces_jpeg, conforms, stored):
    headers = token_for()
    body = upload(three_faces_jpeg, ["emotion7"], api=headers).get_json()
    url = f"/api/v1/predictions/{body['id']}/detections"
    added = client.post(url, headers=headers, json={"recognizer": "emotion7", "box": [30, 40, 90, 100]})
    assert added.status_code == 201
    conforms(added, "/predictions/{prediction_id}/detections", "post")
    face = added.get_json()
    assert (face["index"], face["box"], face["source"], face["feedback"]) == (3, [30, 40, 90, 100], "user", None)
    assert face["label"] == max(face["probabilities"], key=face["probabilities"].get)
    fetched = client.get(f"/api/v1/predictions/{body['id']}", headers=headers).get_json()
    assert fetched["results"][0]["detections"][3] == face
    assert [d["source"] for d in fetched["results"][0]["detections"]] == ["detector"] * 3 + ["user"]
    labelled = client.post(f"/api/v1/predictions/{body['id']}/feedback", headers=headers,
                           json={"recognizer": "emotion7", "detection": face["index"], "label": "happy"})
    assert labelled.get_json()["results"][0]["detections"][3]["feedback"]["label"] == "happy"
    assert "crops/emotion7/happy/4.png" in stored()


@pytest.mark.parametrize("payload, status", [
    (None, 400),
    ({"recognizer": "emotion7"}, 400),
    ({"recognizer": "emotion7", "box": [30, 40, 90]}, 400),
    ({"recognizer": "emotion7", "box": ["30", 40, 90, 100]}, 400),
    ({"recognizer": "emotion7", "box": [30.5, 40, 90, 100]}, 400),
    ({"recognizer": "emotion7", "box": [True, 40, 90, 100]}, 400),
    ({"recognizer": "emotion7", "box": "30,40,90,100"}, 400),
    ({"recognizer": 7, "box": [30, 40, 90, 100]}, 400),
    ({"recognizer": "nope", "box": [30, 40, 90, 100]}, 400),
    ({"recognizer": "digits", "box": [30, 40, 90, 100]}, 404),
    ({"recognizer": "emotion4", "box": [30, 40, 90, 100]}, 404),
    ({"recognizer": "emotion7", "box": [1500, 40, 90, 100]}, 422),
    ({"recognizer": "emotion7", "box": [-5, 40, 90, 100]}, 422),
    ({"recognizer": "emotion7", "box": [30, 40, 7, 100]}, 422),
])
def test_bad_faces_are_refused_and_nothing_is_kept(client, token_for, upload, three_faces_jpeg, payload, status,
                                                   conforms, counts, stored):
    headers = token_for()
    body = upload(three_faces_jpeg, ["emotion7"], api=headers).get_json()
    before = (counts(), stored())
    response = client.post(f"/api/v1/predictions/{body['id']}/detections", headers=headers, json=payload)
    assert response.status_code == status and response.get_json()["error"]
    conforms(response, "/predictions/{prediction_id}/detections", "post")
    assert (counts(), stored()) == before


def test_only_the_owner_adds_faces(client, token_for, upload, three_faces_jpeg, counts, stored, conforms):
    body = upload(three_faces_jpeg, ["emotion7"], api=token_for("owner@example.com")).get_json()
    before = (counts(), stored())
    response = client.post(f"/api/v1/predictions/{body['id']}/detections", headers=token_for("eve@example.com"),
                           json={"recognizer": "emotion7", "box": [30, 40, 90, 100]})
    assert response.status_code == 404
    conforms(response, "/predictions/{prediction_id}/detections", "post")
    assert (counts(), stored()) == before


def test_feedback_marks_a_box_not_a_face(client, token_for, upload, three_faces_jpeg, conforms, stored):
    headers = token_for()
    body = upload(three_faces_jpeg, ["emotion7"], api=headers).get_json()
    url = f"/api/v1/predictions/{body['id']}/feedback"
    marked = client.post(url, headers=headers, json={"recognizer": "emotion7", "detection": 1, "not_a_face": True})
    assert marked.status_code == 200
    conforms(marked, "/predictions/{prediction_id}/feedback", "post")
    assert marked.get_json()["results"][0]["detections"][1]["feedback"] == {"status": "not_a_face", "label": None}
    assert "crops/emotion7/_not_a_face/2.png" in stored()
    again = client.post(url, headers=headers, json={"recognizer": "emotion7", "detection": 1, "label": "sad",
                                                    "not_a_face": False})
    assert again.get_json()["results"][0]["detections"][1]["feedback"]["label"] == "sad"
    assert "crops/emotion7/sad/2.png" in stored() and not any("_not_a_face" in k for k in stored())


@pytest.mark.parametrize("payload", [
    {"recognizer": "emotion7", "detection": 0, "not_a_face": "yes"},
    {"recognizer": "emotion7", "detection": 0, "not_a_face": True, "label": "sad"},
    {"recognizer": "emotion7", "detection": 0, "not_a_face": False},
    {"recognizer": "digits", "detection": 0, "not_a_face": True},
])
def test_bad_not_a_face_feedback(client, token_for, upload, three_faces_jpeg, plain_png, payload, conforms, counts):
    headers = token_for()
    photo = plain_png if payload["recognizer"] == "digits" else three_faces_jpeg
    body = upload(photo, [payload["recognizer"]], api=headers).get_json()
    response = client.post(f"/api/v1/predictions/{body['id']}/feedback", headers=headers, json=payload)
    assert response.status_code == 400
    conforms(response, "/predictions/{prediction_id}/feedback", "post")
    assert counts()[2] == 0


def test_openapi_documents_faces_with_examples(spec):
    operation = spec["paths"]["/predictions/{prediction_id}/detections"]["post"]
    media = operation["requestBody"]["content"]["application/json"]
    assert media["examples"]["face"]["value"] == {"recognizer": "emotion7", "box": [212, 40, 96, 110]}
    assert set(operation["responses"]) == {"201", "400", "401", "404", "422", "429", "503"}
    feedback = spec["paths"]["/predictions/{prediction_id}/feedback"]["post"]["requestBody"]["content"]
    assert feedback["application/json"]["examples"]["not_a_face"]["value"]["not_a_face"] is True
    schemas = spec["components"]["schemas"]
    validator = Draft202012Validator({**schemas["FeedbackRequest"], "components": spec["components"]})
    assert validator.is_valid({"recognizer": "emotion7", "detection": 0, "not_a_face": True})
    assert not validator.is_valid({"recognizer": "emotion7", "detection": 0, "not_a_face": True, "label": "sad"})
    example = operation["responses"]["201"]["content"]["application/json"]["examples"]["added"]["value"]
    assert Draft202012Validator({**schemas["Detection"], "components": spec["components"]}).is_valid(example)
