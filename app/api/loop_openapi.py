"""The OpenAPI part for the learning loop's admin API (app.api.loop); merged into app.api.openapi's document."""
from __future__ import annotations

from ml.recognizers import RECOGNIZERS

STRING_OR_NULL = {"type": ["string", "null"]}
WHEN = {"type": ["string", "null"], "format": "date-time"}
COMPARISON = {
    "type": "object", "description": "Candidate against champion on the same images, paired: accuracy before and "
    "after, the difference with one-sided bounds at `confidence` (low, high), b (only the champion right), c (only "
    "the candidate right), McNemar mid-p values, per class (recall), and the ECE before and after.",
    "properties": {"n": {"type": "integer"}, "before": {"type": ["number", "null"]},
                   "after": {"type": ["number", "null"]}, "difference": {"type": ["number", "null"]},
                   "low": {"type": ["number", "null"]}, "high": {"type": ["number", "null"]},
                   "b": {"type": "integer"}, "c": {"type": "integer"}, "p_better": {"type": "number"},
                   "p_worse": {"type": "number"}, "confidence": {"type": "number"},
                   "ece_before": {"type": "number"}, "ece_after": {"type": "number"},
                   "per_class": {"type": "object"}}}
SCHEMAS = {
    "ModelVersion": {
        "type": "object", "required": ["id", "recognizer", "number", "version", "status", "source", "parent"],
        "properties": {"id": {"type": "integer"}, "recognizer": {"enum": list(RECOGNIZERS)},
                       "number": {"type": "integer"}, "version": {"type": "string"},
                       "status": {"enum": ["candidate", "champion", "archived"]},
                       "source": {"enum": ["baseline", "retrain"]}, "parent": STRING_OR_NULL,
                       "created_at": {"type": "string", "format": "date-time"}, "promoted_at": WHEN,
                       "metrics": {"type": "object"}, "manifest_sha256": STRING_OR_NULL,
                       "artifact_key": {"type": "string"}, "note": STRING_OR_NULL}},
    "ModelVersionList": {"type": "object", "required": ["items"],
                         "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/ModelVersion"}}}},
    "RetrainRun": {
        "type": "object",
        "required": ["id", "recognizer", "status", "active", "phase", "progress", "reason", "gate", "url"],
        "properties": {
            "id": {"type": "integer"}, "recognizer": {"enum": list(RECOGNIZERS)},
            "status": {"enum": ["queued", "running", "promoted", "rejected", "failed"]},
            "active": {"type": "boolean"}, "trigger": {"type": "string"}, "created_at": WHEN, "started_at": WHEN,
            "finished_at": WHEN, "duration_s": {"type": ["number", "null"]},
            "phase": {**STRING_OR_NULL, "description": "loading data, training, evaluating the champion, evaluating "
                      "the candidate, registering while active; the outcome once finished"},
            "progress": {"type": "object", "description": "stage, epoch, epochs, batch, batches, percent, eta_s"},
            "text": {"type": "string"}, "reason": {**STRING_OR_NULL, "description": "the gate's reason, in words"},
            "parent": STRING_OR_NULL, "candidate": STRING_OR_NULL,
            "gate": {"type": "object", "description": "decision, rules, and the paired comparisons on base_test "
                     "and gate (empty until judged)",
                     "properties": {"decision": {"type": "string"}, "rules": {"type": "object"},
                                    "base_test": COMPARISON, "gate": COMPARISON}},
            "url": {"type": "string", "format": "uri"}}},
    "RetrainRunList": {"type": "object", "required": ["items"],
                       "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/RetrainRun"}}}},
    "RetrainRequest": {"type": "object", "required": ["recognizer"],
                       "properties": {"recognizer": {"enum": list(RECOGNIZERS)}}},
}


def _json(name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _errors(*codes: int) -> dict:
    reasons = {400: "Malformed request or unknown recognizer", 401: "Missing, wrong or expired token",
               403: "The token's owner is not an admin", 404: "No such run, version or recognizer",
               409: "A run already holds the recognizer's lock, or nothing to promote or roll back to"}
    return {str(c): _json("Error", reasons[c]) for c in codes}


FILTER = [{"name": "recognizer", "in": "query", "schema": {"enum": list(RECOGNIZERS)}}]
PATHS = {
    "/loop/versions": {"get": {"summary": "Admin: every model version, newest first", "tags": ["loop"],
                               "parameters": FILTER,
                               "responses": {"200": _json("ModelVersionList", "Versions"), **_errors(400, 401, 403)}}},
    "/loop/runs": {
        "get": {"summary": "Admin: the latest retraining runs", "tags": ["loop"], "parameters": FILTER,
                "responses": {"200": _json("RetrainRunList", "Runs"), **_errors(400, 401, 403)}},
        "post": {"summary": "Admin: start a retraining run", "tags": ["loop"],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/RetrainRequest"}}}},
                 "responses": {"202": _json("RetrainRun", "Queued; follow it at `url`"),
                               **_errors(400, 401, 403, 409)}}},
    "/loop/runs/{run_id}": {"get": {
        "summary": "Admin: follow one run (phase, progress, gate figures, outcome)", "tags": ["loop"],
        "parameters": [{"name": "run_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _json("RetrainRun", "The run"), **_errors(401, 403, 404)}}},
    "/loop/versions/{version_id}/promote": {"post": {
        "summary": "Admin: make a version the champion", "tags": ["loop"],
        "parameters": [{"name": "version_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _json("ModelVersion", "The new champion"), **_errors(401, 403, 404, 409)}}},
    "/loop/{recognizer}/rollback": {"post": {
        "summary": "Admin: bring back the previous champion", "tags": ["loop"],
        "parameters": [{"name": "recognizer", "in": "path", "required": True, "schema": {"enum": list(RECOGNIZERS)}}],
        "responses": {"200": _json("ModelVersion", "The restored champion"), **_errors(401, 403, 404, 409)}}},
}
