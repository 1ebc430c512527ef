"""The OpenAPI 3.1 document of /api/v1; tests validate real responses against these schemas."""
from __future__ import annotations

from app.api import loop_openapi
from app.guards import MAX_PAGE
from app.models import Status
from app.services.added_boxes import MIN_SIDE
from app.services.predictions import MAX_PER_PAGE
from ml.recognizers import RECOGNIZERS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int, reasons: dict[int, str] | None = None) -> dict:
    usual = {400: "Malformed request or unknown recognizer", 401: "Missing, wrong or expired credentials",
             404: "Not found, or not yours", 413: "Upload larger than the limit",
             409: "The number reads otherwise now", 422: "Not a usable image",
             429: "Too many requests from this address; retry after Retry-After seconds",
             503: "Model or storage unavailable"}
    usual.update(reasons or {})
    found = {str(c): _json(_ref("Error"), usual[c]) for c in codes}
    if 429 in codes:
        found["429"]["headers"] = {"Retry-After": {"description": "seconds to wait before the next try",
                                                   "schema": {"type": "integer"}}}
    return found


def _image(media_type: str, description: str) -> dict:
    return {"description": description, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}


def _examples(**named: tuple[str, dict]) -> dict:
    return {name: {"summary": summary, "value": value} for name, (summary, value) in named.items()}


NUMBER = {"type": "number"}
BOX = {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4,
       "description": "x, y, width, height in photo pixels"}
ADDED = {"index": 1, "box": [212, 40, 96, 110], "source": "user", "label": "happy", "confidence": 0.71,
         "probabilities": {"angry": 0.02, "disgust": 0.0, "fear": 0.03, "happy": 0.71, "neutral": 0.16, "sad": 0.05,
                           "surprise": 0.03}, "feedback": None}
DIGIT = {"index": 0, "box": [20, 31, 15, 38], "source": "detector", "label": "1", "confidence": 0.97,
         "probabilities": {c: 0.97 if c == "1" else 0.003 for c in "0123456789"}, "feedback": None}
NUMBER_RESULT = {
    "recognizer": "digits", "model_version": "3f2a9c41d0e7", "duration_ms": 6.1,
    "detections": [DIGIT, {**DIGIT, "index": 1, "box": [42, 32, 24, 36], "label": "2", "confidence": 0.95},
                   {**DIGIT, "index": 2, "box": [68, 29, 27, 37], "label": "6", "confidence": 0.93}],
    "number": "126", "read_number": "126", "confidence": 0.864,
    "digits": [{"index": 0, "box": [20, 31, 15, 38], "label": "1", "confidence": 0.97},
               {"index": 1, "box": [42, 32, 24, 36], "label": "2", "confidence": 0.95},
               {"index": 2, "box": [68, 29, 27, 37], "label": "6", "confidence": 0.93}]}
SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False,
              "properties": {"error": {"type": "string"}}},
    "Token": {"type": "object", "required": ["token"], "additionalProperties": False,
              "properties": {"token": {"type": "string"}}},
    "TokenInfo": {"type": "object", "additionalProperties": False,
                  "required": ["id", "created_at", "expires_at", "last_used_at", "current"],
                  "properties": {"id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                                 "expires_at": {"type": "string", "format": "date-time"},
                                 "last_used_at": {"type": ["string", "null"], "format": "date-time",
                                                  "description": "to the minute; null before the first use"},
                                 "current": {"type": "boolean", "description": "the token of this request"}}},
    "TokenList": {"type": "object", "additionalProperties": False, "required": ["items"],
                  "properties": {"items": {"type": "array", "items": _ref("TokenInfo")}}},
    "Feedback": {"type": "object", "required": ["status", "label"], "additionalProperties": False,
                 "properties": {"status": {"enum": ["confirmed", "corrected", "not_a_face", "not_a_digit"]},
                                "label": {"type": ["string", "null"],
                                          "description": "the label given; null for a box marked not a face or digit"}}},
    "Digit": {"type": "object", "additionalProperties": False, "required": ["index", "box", "label", "confidence"],
              "properties": {"index": {"type": "integer", "minimum": 0, "description": "its detection's index"},
                             "box": BOX, "label": {"type": "string", "description": "its label now"},
                             "confidence": {**NUMBER, "minimum": 0, "maximum": 1,
                                            "description": "the model's confidence in that label"}}},
    "Detection": {
        "type": "object", "additionalProperties": False,
        "required": ["index", "box", "source", "label", "confidence", "probabilities", "feedback"],
        "properties": {
            "index": {"type": "integer", "minimum": 0,
                      "description": '0-based (the web pages show index + 1, e.g. #1 for index 0); what feedback '
                                     'calls this detection ("detection"); stays when others go'},
            "box": BOX,
            "source": {"enum": ["detector", "user"],
                       "description": "detector: found by the app (a face, or a digit of the number; a small "
                                      "image is one digit's crop, its box the whole image); user: a box someone drew"},
            "label": {"type": "string", "description": "the model's label"},
            "confidence": {**NUMBER, "minimum": 0, "maximum": 1},
            "probabilities": {"type": "object", "additionalProperties": {**NUMBER, "minimum": 0, "maximum": 1}},
            "feedback": {"oneOf": [{"type": "null"}, _ref("Feedback")]},
        },
    },
    "Result": {
        "type": "object", "additionalProperties": False,
        "required": ["recognizer", "model_version", "duration_ms", "detections"],
        "description": "digits also give the house number: what its digits spell now (number), what the reader "
                       "read (read_number), the reader's confidence that every digit of it is right, and the digits "
                       "in reading order (lines top to bottom, each left to right; boxes marked not a digit left out)",
        "properties": {"recognizer": {"enum": list(RECOGNIZERS)}, "model_version": {"type": "string"},
                       "duration_ms": NUMBER, "detections": {"type": "array", "items": _ref("Detection")},
                       "number": {"type": "string", "pattern": "^[0-9]*$"},
                       "read_number": {"type": "string", "pattern": "^[0-9]*$"},
                       "confidence": {**NUMBER, "minimum": 0, "maximum": 1},
                       "digits": {"type": "array", "items": _ref("Digit")}},
        "examples": [NUMBER_RESULT],
    },
    "Location": {"type": "object", "additionalProperties": False, "required": ["latitude", "longitude", "source"],
                 "properties": {"latitude": NUMBER, "longitude": NUMBER, "source": {"enum": ["browser", "exif"]}}},
    "Prediction": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "created_at", "width", "height", "location", "results"],
        "properties": {"id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                       "width": {"type": "integer"}, "height": {"type": "integer"},
                       "location": {"oneOf": [{"type": "null"}, _ref("Location")]},
                       "results": {"type": "array", "items": _ref("Result")}},
    },
    "PredictionList": {"type": "object", "additionalProperties": False, "required": ["items", "next"],
                       "properties": {"items": {"type": "array", "items": _ref("Prediction")},
                                      "next": {"type": ["string", "null"], "format": "uri-reference"}}},
    "FeedbackRequest": {
        "type": "object", "required": ["recognizer"],
        "description": "A label for one detection (the model's confirms, another corrects); not_a_face: true for a "
                       "face recognizer's box that is no face, not_a_digit: true for a digits box that is no digit "
                       "(it leaves the counts and the number; its crop becomes detector data); or, for digits, the "
                       "whole number as it reads now, which confirms every digit not yet labelled.",
        "properties": {"recognizer": {"type": "string"},
                       "detection": {"type": "integer", "minimum": 0,
                                     "description": "the detection's 0-based `index` in the result; the web pages "
                                                    "number detections from 1, so #1 there is index 0"},
                       "label": {"type": "string", "description": "one of the recognizer's classes; case and "
                                                                  "surrounding spaces do not matter"},
                       "not_a_face": {"type": "boolean", "default": False},
                       "not_a_digit": {"type": "boolean", "default": False},
                       "number": {"type": "string", "description": "digits only: the number to confirm"}},
        "oneOf": [{"required": ["detection", "label"]},
                  {"required": ["detection", "not_a_face"], "properties": {"not_a_face": {"const": True}}},
                  {"required": ["detection", "not_a_digit"], "properties": {"not_a_digit": {"const": True}}},
                  {"required": ["number"], "properties": {"recognizer": {"const": "digits"}}}],
    },
    "BoxRequest": {
        "type": "object", "required": ["recognizer", "box"], "additionalProperties": False,
        "properties": {"recognizer": {"enum": list(RECOGNIZERS)},
                       "box": {**BOX, "description": "x, y, width, height in photo pixels: inside the photo, at "
                                                     f"least {MIN_SIDE['face']} px wide and high for a face, "
                                                     f"{MIN_SIDE['digit']} px for a digit"}},
    },
    "PredictionUpload": {
        "type": "object", "required": ["image", "recognizers"],
        "properties": {"image": {"type": "string", "format": "binary"},
                       "recognizers": {"type": "string", "example": "emotion7,digits",
                                       "description": f"comma-separated: {', '.join(RECOGNIZERS)}"},
                       "location_consent": {
                           "type": "string", "enum": ["true", "false"], "default": "false",
                           "description": "Keep a location only when true: latitude/longitude if sent, else the "
                                          "photo's EXIF GPS. Without it no location is stored (EXIF is always "
                                          "stripped from the stored photo)."},
                       "latitude": {**NUMBER, "minimum": -90, "maximum": 90,
                                    "description": "with longitude; used only with location_consent=true"},
                       "longitude": {**NUMBER, "minimum": -180, "maximum": 180,
                                     "description": "with latitude; used only with location_consent=true"}},
    },
}
ID = {"name": "prediction_id", "in": "path", "required": True, "schema": {"type": "integer"}}
LIST_FILTERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
     "description": "out of bounds or not a whole number: 400"},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                                   "default": 20}, "description": "out of bounds: 400"},
    {"name": "recognizer", "in": "query", "schema": {"enum": list(RECOGNIZERS)},
     "description": "only predictions with a detection of this recognizer"},
    {"name": "status", "in": "query", "schema": {"enum": [s.value for s in Status]},
     "description": "only predictions with a detection in this review state"},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "made on or after this UTC day"},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "made on or before this UTC day"},
]


def _paths() -> dict:
    return {
        "/tokens": {
            "post": {"summary": "Get a bearer token", "security": [{"basic": []}],
                     "responses": {"201": _json(_ref("Token"), "A new token"), **_errors(401, 429)}},
            "get": {"summary": "Your tokens (never the secrets), newest first",
                    "responses": {"200": _json(_ref("TokenList"), "The tokens"), **_errors(401)}}},
        "/tokens/{token_id}": {
            "parameters": [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "delete": {"summary": "Revoke a token (the one in use too); a password change revokes them all",
                       "responses": {"204": {"description": "Revoked"}, **_errors(401, 404)}}},
        "/predictions": {
            "post": {"summary": "Classify a photo and keep the result",
                     "requestBody": {"required": True, "content": {
                         "multipart/form-data": {"schema": _ref("PredictionUpload")}}},
                     "responses": {"201": {
                         "description": "The kept prediction; a face recognizer that found no face, or digits that "
                                        "found no digit, has no detections (add one with POST "
                                        "/predictions/{prediction_id}/detections)",
                         "content": {"application/json": {"schema": _ref("Prediction"), "examples": _examples(
                             house_number=("A door number read digit by digit", {
                                 "id": 7, "created_at": "2026-12-04T09:30:00Z", "width": 149, "height": 96,
                                 "location": None, "results": [NUMBER_RESULT]}))}}},
                                   **_errors(400, 401, 413, 422, 429, 503)}},
            "get": {"summary": "Your predictions, newest first, optionally filtered",
                    "parameters": LIST_FILTERS,
                    "responses": {"200": _json(_ref("PredictionList"), "One page; `next` keeps the filters"),
                                  **_errors(400, 401)}}},
        "/predictions/{prediction_id}": {
            "parameters": [ID],
            "get": {"summary": "One prediction", "responses": {"200": _json(_ref("Prediction"), "The prediction"),
                                                               **_errors(401, 404)}},
            "delete": {"summary": "Delete a prediction and its stored images",
                       "responses": {"204": {"description": "Deleted"}, **_errors(401, 404, 503)}}},
        "/predictions/{prediction_id}/photo": {
            "parameters": [ID],
            "get": {"summary": "The stored photo (re-encoded, no EXIF)",
                    "responses": {"200": _image("image/jpeg", "The photo"), **_errors(401, 404, 503)}}},
        "/predictions/{prediction_id}/crops/{recognizer}/{index}": {
            "parameters": [ID, {"name": "recognizer", "in": "path", "required": True,
                                "schema": {"enum": list(RECOGNIZERS)}},
                           {"name": "index", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0}, "description": "the detection's index"}],
            "get": {"summary": "The crop the model saw for one detection",
                    "responses": {"200": _image("image/png", "The crop"), **_errors(401, 404, 503)}}},
        "/predictions/{prediction_id}/feedback": {
            "parameters": [ID],
            "post": {"summary": "Confirm (same label) or correct (another label) one detection",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": _ref("FeedbackRequest"),
                         "examples": _examples(
                             confirm=("Confirm or correct a label", {"recognizer": "emotion7", "detection": 0,
                                                                     "label": "happy"}),
                             not_a_face=("Mark a box as not a face", {"recognizer": "emotion7", "detection": 2,
                                                                      "not_a_face": True}),
                             confirm_number=("Confirm a whole house number", {"recognizer": "digits",
                                                                              "number": "126"}),
                             correct_digit=("Correct one digit", {"recognizer": "digits", "detection": 1,
                                                                  "label": "7"}),
                             not_a_digit=("Delete a box that is no digit", {"recognizer": "digits", "detection": 2,
                                                                            "not_a_digit": True}))}}},
                     "responses": {"200": _json(_ref("Prediction"), "The prediction with the feedback"),
                                   **_errors(400, 401, 404, 409, 422, reasons={
                                       409: "The number reads otherwise now (send it as it reads)",
                                       422: "No digits to confirm"})}}},
        "/predictions/{prediction_id}/detections": {
            "parameters": [ID],
            "post": {"summary": "Add a face or digit the detector missed: the box is classified and kept as a "
                                "detection (a digit joins the number in reading order)",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": _ref("BoxRequest"),
                         "examples": _examples(face=("A face drawn on the photo",
                                                     {"recognizer": "emotion7", "box": [212, 40, 96, 110]}),
                                               digit=("A digit the reader missed",
                                                      {"recognizer": "digits", "box": [96, 28, 26, 38]}))}}},
                     "responses": {
                         "201": {"description": "The new detection (source user, no feedback yet)",
                                 "content": {"application/json": {"schema": _ref("Detection"),
                                                                  "examples": _examples(added=("Added", ADDED))}}},
                         **_errors(400, 401, 404, 422, 429, 503, reasons={
                             400: "Malformed request, or an unknown recognizer",
                             404: "Not found, not yours, or no result of that recognizer on the photo",
                             422: "The box is not inside the photo, or too small"})}}},
        "/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3.1 document"}}}},
    }


def document(server_url: str) -> dict:
    """The whole document, with `server_url` as the base of every path."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "VisionLoop API", "version": "1.0.0",
                 "description": "Classify photos with VisionLoop's recognizers, then confirm or correct them."},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {**_paths(), **loop_openapi.PATHS},
        "components": {"schemas": {**SCHEMAS, **loop_openapi.SCHEMAS}, "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic", "description": "email and password"},
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }
