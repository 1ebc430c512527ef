"""The OpenAPI 3.1 document of /api/v1; tests validate real responses against these schemas."""
from __future__ import annotations

from ml.recognizers import RECOGNIZERS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    reasons = {400: "Malformed request or unknown recognizer", 401: "Missing, wrong or expired credentials",
               404: "Not found, or not yours", 413: "Upload larger than the limit",
               422: "Not a usable image, or no face found", 503: "Model or storage unavailable"}
    return {str(c): _json(_ref("Error"), reasons[c]) for c in codes}


NUMBER = {"type": "number"}
SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False,
              "properties": {"error": {"type": "string"}}},
    "Token": {"type": "object", "required": ["token"], "additionalProperties": False,
              "properties": {"token": {"type": "string"}}},
    "Feedback": {"type": "object", "required": ["status", "label"], "additionalProperties": False,
                 "properties": {"status": {"enum": ["confirmed", "corrected"]}, "label": {"type": "string"}}},
    "Detection": {
        "type": "object", "additionalProperties": False,
        "required": ["box", "label", "confidence", "probabilities", "feedback"],
        "properties": {
            "box": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4,
                    "description": "x, y, width, height in photo pixels"},
            "label": {"type": "string", "description": "the model's label"},
            "confidence": {**NUMBER, "minimum": 0, "maximum": 1},
            "probabilities": {"type": "object", "additionalProperties": {**NUMBER, "minimum": 0, "maximum": 1}},
            "feedback": {"oneOf": [{"type": "null"}, _ref("Feedback")]},
        },
    },
    "Result": {
        "type": "object", "additionalProperties": False,
        "required": ["recognizer", "model_version", "duration_ms", "detections"],
        "properties": {"recognizer": {"enum": list(RECOGNIZERS)}, "model_version": {"type": "string"},
                       "duration_ms": NUMBER, "detections": {"type": "array", "items": _ref("Detection")}},
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
                                      "next": {"type": ["string", "null"], "format": "uri"}}},
    "FeedbackRequest": {
        "type": "object", "required": ["recognizer", "detection", "label"],
        "properties": {"recognizer": {"type": "string"}, "detection": {"type": "integer", "minimum": 0},
                       "label": {"type": "string"}},
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


def _paths() -> dict:
    return {
        "/tokens": {"post": {
            "summary": "Get a bearer token", "security": [{"basic": []}],
            "responses": {"201": _json(_ref("Token"), "A new token"), **_errors(401)}}},
        "/predictions": {
            "post": {"summary": "Classify a photo and keep the result",
                     "requestBody": {"required": True, "content": {
                         "multipart/form-data": {"schema": _ref("PredictionUpload")}}},
                     "responses": {"201": _json(_ref("Prediction"), "The kept prediction"),
                                   **_errors(400, 401, 413, 422, 503)}},
            "get": {"summary": "Your predictions, newest first",
                    "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                                   {"name": "per_page", "in": "query",
                                    "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                    "responses": {"200": _json(_ref("PredictionList"), "One page"), **_errors(401)}}},
        "/predictions/{prediction_id}": {
            "parameters": [ID],
            "get": {"summary": "One prediction", "responses": {"200": _json(_ref("Prediction"), "The prediction"),
                                                               **_errors(401, 404)}},
            "delete": {"summary": "Delete a prediction and its stored images",
                       "responses": {"204": {"description": "Deleted"}, **_errors(401, 404, 503)}}},
        "/predictions/{prediction_id}/feedback": {
            "parameters": [ID],
            "post": {"summary": "Confirm (same label) or correct (another label) one detection",
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": _ref("FeedbackRequest")}}},
                     "responses": {"200": _json(_ref("Prediction"), "The prediction with the feedback"),
                                   **_errors(400, 401, 404)}}},
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
        "paths": _paths(),
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic", "description": "email and password"},
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }
