"""API endpoints: tokens, predictions (create, list, get, feedback, add a face, delete, photo, crops) and the
OpenAPI document."""
from datetime import date

from flask import abort, current_app, g, jsonify, request, url_for

from app import storage
from app.api import bp, openapi, schemas
from app.api.auth import basic_user, token_required
from app.guards import MAX_PAGE
from app.models import NOT_A_FACE, Status
from app.services import accounts, added_boxes, classification, feedback, history, numbers, predictions
from app.tasks import queue
from app.tasks.storage import place_images
from ml.recognizers import RECOGNIZERS


@bp.post("/tokens")
def create_token():
    """Trade HTTP Basic credentials for a bearer token."""
    return jsonify(token=accounts.issue_token(basic_user())), 201


def _location() -> tuple[float, float] | None:
    raw = (request.form.get("latitude"), request.form.get("longitude"))
    if not any(raw):
        return None
    try:
        lat, lon = (float(v) for v in raw)
    except (TypeError, ValueError):
        abort(400, "Send both latitude and longitude as numbers, or neither.")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        abort(400, "latitude must be within -90..90 and longitude within -180..180.")
    return (lat, lon)


@bp.post("/predictions")
@token_required
def create_prediction():
    """Classify the multipart `image` with the comma-separated `recognizers` and keep the result.

    A location is kept only with `location_consent=true`: `latitude`/`longitude` when sent, else the photo's GPS.
    """
    upload = request.files.get("image")
    if upload is None:
        abort(400, 'Send the photo as the multipart field "image".')
    names = request.form.get("recognizers", "")
    location = _location()
    consent = request.form.get("location_consent", "false").strip().lower()
    if consent not in ("true", "false"):
        abort(400, 'location_consent must be "true" or "false".')
    try:
        outcome = classification.classify(upload.read(), names.split(","))
    except classification.UploadError as exc:
        abort(exc.status, str(exc))
    except classification.ModelUnavailable as exc:
        abort(503, str(exc))
    try:
        prediction = predictions.record(g.user, outcome, location, consent=consent == "true")
    except predictions.StorageUnavailable as exc:
        abort(503, str(exc))
    response = jsonify(schemas.prediction(prediction))
    response.headers["Location"] = url_for("api.get_prediction", prediction_id=prediction.id)
    return response, 201


def _whole(name: str, default: int, highest: int | None = None) -> int:
    """A query argument that must be a whole number from 1 (to `highest`); 400 otherwise."""
    raw = request.args.get(name, str(default)).strip()
    value = int(raw) if raw.isdigit() else 0
    if value < 1 or (highest is not None and value > highest):
        abort(400, f"{name} must be a whole number from 1{f' to {highest}' if highest else ''}.")
    return value


def _filters() -> history.Filters:
    """The list's filters from the query string; 400 names the first bad one."""
    recognizer, status = request.args.get("recognizer") or None, request.args.get("status") or None
    if recognizer and recognizer not in RECOGNIZERS:
        abort(400, f"Unknown recognizer {recognizer}; choose one of {', '.join(RECOGNIZERS)}.")
    if status and status not in {s.value for s in Status}:
        abort(400, f"Unknown status {status}; choose one of {', '.join(s.value for s in Status)}.")
    days = {}
    for name in ("since", "until"):
        try:
            days[name] = date.fromisoformat(request.args[name]) if request.args.get(name) else None
        except ValueError:
            abort(400, f"{name} must be a date as YYYY-MM-DD (a UTC day).")
        if days[name] and not history.FIRST_DAY <= days[name] <= history.LAST_DAY:
            abort(400, f"{name} must be a day from {history.FIRST_DAY} to {history.LAST_DAY}.")
    return history.Filters(recognizer, None, days["since"], days["until"], status)


@bp.get("/predictions")
@token_required
def list_predictions():
    """The caller's predictions, newest first, optionally filtered; `next` links the following page."""
    per_page = _whole("per_page", current_app.config["API_PER_PAGE"], predictions.MAX_PER_PAGE)
    page = history.predictions(g.user, _filters(), _whole("page", 1, MAX_PAGE), per_page)
    kept = {k: v for k, v in request.args.items() if k in ("recognizer", "status", "since", "until") and v}
    # BASE_URL or a path, as for the document's servers: the Host header is the client's to forge.
    following = current_app.config["BASE_URL"] + url_for(
        "api.list_predictions", page=page.next_num, per_page=page.per_page, **kept) if page.has_next else None
    return {"items": [schemas.prediction(p) for p in page.items], "next": following}


def _owned(prediction_id: int):
    return predictions.owned_prediction(g.user, prediction_id) or abort(404, "No such prediction.")


@bp.get("/predictions/<int:prediction_id>")
@token_required
def get_prediction(prediction_id: int):
    """One of the caller's predictions."""
    return schemas.prediction(_owned(prediction_id))


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@bp.post("/predictions/<int:prediction_id>/feedback")
@token_required
def give_feedback(prediction_id: int):
    """`{"recognizer", "detection": i, "label"}`: the predicted label confirms, another corrects;
    `{"recognizer", "detection": i, "not_a_face": true}` marks a face recognizer's box as no face (digits:
    `"not_a_digit"`); `{"recognizer": "digits", "number": "126"}` confirms the whole number."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, 'Send a JSON object {"recognizer": ..., "detection": <index>, "label": ...}.')
    if "number" in body:
        return _confirm_number(prediction_id, body)
    recognizer, index, label = body.get("recognizer"), body.get("detection"), body.get("label")
    flag = f"not_a_{RECOGNIZERS[recognizer].thing}" if recognizer in RECOGNIZERS else "not_a_face"
    not_a_face = body.get(flag, False)
    if not isinstance(not_a_face, bool) or (not_a_face and "label" in body):
        abort(400, f'"{flag}" must be true or false, and a box marked {flag.replace("_", " ")} takes no "label".')
    if not_a_face:
        label = NOT_A_FACE
    if not isinstance(recognizer, str) or not isinstance(label, str) or not _integer(index):
        abort(400, '"recognizer" and "label" (unless "not_a_face" is true) must be strings and "detection" an '
                   'integer index.')
    prediction = _owned(prediction_id)
    found = _detections(prediction, recognizer, index)
    if not found:
        abort(404, f"This prediction has no {recognizer} detection with index {index} (indices start at 0: the "
                   "detection numbered #1 on the page is index 0).")
    try:
        outcome = feedback.give(g.user, found[0], label, "api")
    except feedback.FeedbackError as exc:
        abort(400, str(exc))
    if outcome.images_pending:
        queue(place_images, found[0].id)
    return schemas.prediction(prediction)


def _detections(prediction, recognizer: str, index: int) -> list:
    return [d for r in prediction.results if r.recognizer == recognizer for d in r.detections if d.position == index]


@bp.get("/predictions/<int:prediction_id>/photo")
@token_required
def get_photo(prediction_id: int):
    """The stored photo (JPEG, without EXIF) of one of the caller's predictions."""
    return storage.send(_owned(prediction_id).photo_key)


@bp.get("/predictions/<int:prediction_id>/crops/<recognizer>/<int:index>")
@token_required
def get_crop(prediction_id: int, recognizer: str, index: int):
    """The crop (PNG) the model saw for one detection of one of the caller's predictions."""
    found = _detections(_owned(prediction_id), recognizer, index)
    if not found:
        abort(404, f"This prediction has no {recognizer} detection with index {index}.")
    return storage.send(found[0].crop_key)


def _confirm_number(prediction_id: int, body: dict):
    """`{"recognizer": "digits", "number": "126"}`: confirm every digit of the number as it reads now."""
    if body.get("recognizer") != numbers.DIGITS or not isinstance(body["number"], str) or "detection" in body:
        abort(400, 'Confirm a number with {"recognizer": "digits", "number": "<the number as it reads now>"}.')
    prediction = _owned(prediction_id)
    try:
        outcomes = numbers.confirm(g.user, numbers.digits_result(prediction), body["number"], "api")
    except numbers.NumberError as exc:
        abort(exc.status, str(exc))
    for outcome in outcomes:
        if outcome.images_pending:
            queue(place_images, outcome.event.detection_id)
    return schemas.prediction(prediction)


@bp.post("/predictions/<int:prediction_id>/detections")
@token_required
def add_detection(prediction_id: int):
    """`{"recognizer", "box": [x, y, w, h]}`: classify a face or digit the detector missed and keep it as a
    detection (a digit joins the number in reading order)."""
    body = request.get_json(silent=True)
    recognizer, box = (body.get("recognizer"), body.get("box")) if isinstance(body, dict) else (None, None)
    if not isinstance(recognizer, str) or not (isinstance(box, list) and len(box) == 4
                                               and all(_integer(v) for v in box)):
        abort(400, 'Send a JSON object {"recognizer": ..., "box": [x, y, width, height]} with the box in whole '
                   'pixels of the photo.')
    try:
        detection = added_boxes.add(_owned(prediction_id), recognizer, tuple(box))
    except added_boxes.BoxError as exc:
        abort(exc.status, str(exc))
    except (classification.ModelUnavailable, predictions.StorageUnavailable) as exc:
        abort(503, str(exc))
    return schemas.detection(detection), 201


@bp.delete("/predictions/<int:prediction_id>")
@token_required
def delete_prediction(prediction_id: int):
    """Delete a prediction and its stored images."""
    try:
        predictions.delete_prediction(_owned(prediction_id))
    except predictions.StorageUnavailable as exc:
        abort(503, str(exc))
    return "", 204


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    # BASE_URL or a relative server: the request's Host header is the client's to forge.
    return openapi.document(current_app.config["BASE_URL"] + url_for("api.openapi_document").rsplit("/", 1)[0])
