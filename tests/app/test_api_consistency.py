"""The API's rules: documented 0-based indices, labels in any case, bounded pages, filters, photo and crop
downloads for the owner only, 429 with Retry-After in the document, one rule for "no face"."""
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import Prediction


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_labels_are_case_insensitive_and_indices_documented_from_0(client, token_for, upload, face_jpeg, spec):
    headers = token_for()
    body = upload(face_jpeg, ["emotion7", "digits"], api=headers).get_json()
    url = f"/api/v1/predictions/{body['id']}/feedback"
    answer = client.post(url, headers=headers, json={"recognizer": "emotion7", "detection": 0, "label": " Surprise"})
    assert answer.status_code == 200
    assert answer.get_json()["results"][0]["detections"][0]["feedback"]["label"] == "surprise"
    missing = client.post(url, headers=headers, json={"recognizer": "emotion7", "detection": 1, "label": "sad"})
    assert missing.status_code == 404 and "indices start at 0" in missing.get_json()["error"]
    described = spec["components"]["schemas"]["FeedbackRequest"]["properties"]["detection"]["description"]
    assert "0-based" in described and "#1 there is index 0" in described


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=two", "per_page=0", "per_page=500", "per_page=1.5",
                                   "recognizer=cats", "status=maybe", "since=yesterday", "until=2026-13-01",
                                   "until=9999-12-31", "since=0001-01-01", "page=99999999999999999999999"])
def test_bad_list_parameters_are_400(client, token_for, query):
    response = client.get(f"/api/v1/predictions?{query}", headers=token_for())
    name = query.split("=")[0]
    assert response.status_code == 400 and name in response.get_json()["error"]


def test_list_filters_by_recognizer_status_and_date(client, token_for, upload, face_jpeg, plain_png, app):
    headers = token_for()
    faces = upload(face_jpeg, ["emotion7"], api=headers).get_json()
    digit = upload(plain_png, ["digits"], api=headers).get_json()
    other = "7" if digit["results"][0]["detections"][0]["label"] != "7" else "3"
    client.post(f"/api/v1/predictions/{digit['id']}/feedback", headers=headers,
                json={"recognizer": "digits", "detection": 0, "label": other})
    with app.app_context():
        db.session.get(Prediction, faces["id"]).created_at = datetime.now(timezone.utc) - timedelta(days=3)
        db.session.commit()
    today = datetime.now(timezone.utc).date()

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/predictions?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [p["id"] for p in response.get_json()["items"]]

    assert ids("") == [digit["id"], faces["id"]]
    assert ids("recognizer=emotion7") == [faces["id"]]
    assert ids("status=corrected") == [digit["id"]] and ids("status=unreviewed") == [faces["id"]]
    assert ids(f"since={today}") == [digit["id"]] and ids(f"until={today - timedelta(days=1)}") == [faces["id"]]
    first = client.get("/api/v1/predictions?per_page=1&since=2000-01-01", headers=headers).get_json()
    assert "since=2000-01-01" in first["next"] and "page=2" in first["next"]


def test_photo_and_crop_for_the_owner_only(client, token_for, upload, face_jpeg):
    owner, other = token_for(), token_for("bob@example.com")
    body = upload(face_jpeg, ["emotion7"], api=owner).get_json()
    photo = client.get(f"/api/v1/predictions/{body['id']}/photo", headers=owner)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:2] == b"\xff\xd8"
    crop = client.get(f"/api/v1/predictions/{body['id']}/crops/emotion7/0", headers=owner)
    assert crop.status_code == 200 and crop.mimetype == "image/png"
    assert client.get(f"/api/v1/predictions/{body['id']}/crops/emotion7/5", headers=owner).status_code == 404
    assert client.get(f"/api/v1/predictions/{body['id']}/photo", headers=other).status_code == 404
    assert client.get(f"/api/v1/predictions/{body['id']}/crops/emotion7/0", headers=other).status_code == 404
    assert client.get(f"/api/v1/predictions/{body['id']}/photo").status_code == 401


def test_429_and_retry_after_are_documented_on_the_limited_routes(spec):
    for path, method in (("/tokens", "post"), ("/predictions", "post"), ("/predictions/{prediction_id}/detections",
                                                                        "post")):
        documented = spec["paths"][path][method]["responses"]["429"]
        assert "Retry-After" in documented["headers"]


def test_no_face_is_201_with_no_detections_alone_or_beside_digits(token_for, upload, faceless_png):
    headers = token_for()
    for recognizers in (["emotion7"], ["emotion7", "digits"]):
        response = upload(faceless_png, recognizers, api=headers)
        assert response.status_code == 201
        assert response.get_json()["results"][0]["detections"] == []
