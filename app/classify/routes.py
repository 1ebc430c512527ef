"""Classify pages: upload, result, feedback, and the stored images behind them."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from app import imaging, storage
from app.classify import bp
from app.classify.forms import AddFaceForm, ClassifyForm, DeleteForm, FeedbackForm, NumberForm
from app.errors.handlers import error_message, respond
from app.models import Detection
from app.services import added_boxes, classification, feedback, numbers, predictions
from app.tasks import queue
from app.tasks.storage import place_images


def _upload_page(form: ClassifyForm, status: int = 200, error: str | None = None):
    return render_template("classify/index.html", form=form, models=classification.availability(),
                           error=error), status


@bp.route("/")
def index():
    """The upload page."""
    return _upload_page(ClassifyForm())


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """A photo over the limit gets the upload page back with the reason, not a bare error page."""
    if request.endpoint != "classify.classify":
        return respond(error)
    # formdata=None: the refused body cannot be read, so the choices start afresh (app.js checks the size first).
    return _upload_page(ClassifyForm(formdata=None), 413, error_message(error))


@bp.route("/classify", methods=["POST"])
def classify():
    """Classify the upload; keep it for signed-in users (then show it by id), else show it once."""
    form = ClassifyForm()
    if not form.validate_on_submit():
        return _upload_page(form, 400)
    try:
        outcome = classification.classify(form.image.data.read(), form.recognizers.data)
    except classification.UploadError as exc:
        return _upload_page(form, exc.status, str(exc))
    except classification.ModelUnavailable as exc:
        return _upload_page(form, 503, str(exc))
    if outcome.found_nothing and not current_user.is_authenticated:
        # Drawing a missed face or digit needs the photo kept, and only signed-in users' photos are.
        return _upload_page(form, 422, f"{outcome.nothing_found} Sign in to draw the boxes yourself, or try a "
                                       "clear, well-lit photo: a front-facing face, or the number close up.")
    if current_user.is_authenticated:
        try:
            prediction = predictions.record(current_user, outcome, form.location(),
                                            consent=form.keeps_location(), use_gps=form.uses_photo_gps())
        except predictions.StorageUnavailable as exc:
            flash(str(exc), "error")
        else:
            if form.uses_photo_gps() and outcome.gps is None:
                flash("This photo has no GPS tag, so no location was kept.", "info")
            elif form.location_from.data == "browser" and form.location() is None:
                flash("Your browser did not share a location, so none was kept.", "info")
            if outcome.found_nothing:
                flash(f"{outcome.nothing_found} Draw a box around each {outcome.things} on the photo to add it.",
                      "info")
            return redirect(url_for("classify.result", prediction_id=prediction.id))
    location = predictions.consented_location(form.keeps_location(), form.location(),
                                              outcome.gps if form.uses_photo_gps() else None)
    return render_template("classify/result.html", prediction=None, results=outcome.results,
                           photo_src=imaging.preview_uri(outcome.image), width=outcome.image.width,
                           height=outcome.image.height, location=location, total_ms=outcome.duration_ms)


def _owned_prediction(prediction_id: int):
    return predictions.owned_prediction(current_user, prediction_id) or abort(404)


def _owned_detection(detection_id: int):
    return predictions.owned_detection(current_user, detection_id) or abort(404)


@bp.route("/predictions/<int:prediction_id>")
@login_required
def result(prediction_id: int):
    """A kept result with its feedback controls."""
    prediction = _owned_prediction(prediction_id)
    return render_template("classify/result.html", prediction=prediction, results=prediction.results,
                           photo_src=url_for("classify.photo", prediction_id=prediction.id),
                           width=prediction.width, height=prediction.height, location=prediction.location,
                           total_ms=sum(r.duration_ms for r in prediction.results),
                           feedback_form=FeedbackForm(), delete_form=DeleteForm(), face_form=AddFaceForm(),
                           number_form=NumberForm(), min_side=added_boxes.min_side)


def _which(detection: Detection) -> str:
    # Numbers restart in each recognizer's section, so the name says which #1 this was.
    return f"{detection.result.recognizer} #{detection.number}"


def _stored(key: str | None) -> Response:
    return storage.send(key)


@bp.route("/predictions/<int:prediction_id>/photo")
@login_required
def photo(prediction_id: int):
    """The stored photo of one of the user's predictions."""
    return _stored(_owned_prediction(prediction_id).photo_key)


@bp.route("/detections/<int:detection_id>/crop")
@login_required
def crop(detection_id: int):
    """The crop the model saw, for one of the user's detections."""
    return _stored(_owned_detection(detection_id).crop_key)


@bp.route("/predictions/<int:prediction_id>/faces", methods=["POST"])
@login_required
def add_face(prediction_id: int):
    """Classify a face or digit the user drew on the photo (one the detector missed) and keep it as a new detection."""
    prediction = _owned_prediction(prediction_id)
    form = AddFaceForm()
    if not form.validate_on_submit():
        flash(form.INVALID, "error")
        return redirect(url_for("classify.result", prediction_id=prediction.id))
    try:
        detection = added_boxes.add(prediction, form.recognizer.data, form.box())
    except (added_boxes.BoxError, classification.ModelUnavailable, predictions.StorageUnavailable) as exc:
        flash(str(exc), "error")
        return redirect(url_for("classify.result", prediction_id=prediction.id))
    flash(added_boxes.summary(detection), "success")
    return redirect(url_for("classify.result", prediction_id=prediction.id, _anchor=f"det-{detection.id}"))


@bp.route("/detections/<int:detection_id>/feedback", methods=["POST"])
@login_required
def give_feedback(detection_id: int):
    """Confirm (the predicted label) or correct (any other label) a detection, or mark its box not a face."""
    detection = _owned_detection(detection_id)
    back = url_for("classify.result", prediction_id=detection.result.prediction_id, _anchor=f"det-{detection.id}")
    form = FeedbackForm()
    if not form.validate_on_submit():
        flash("Pick a label.", "error")
        return redirect(back)
    try:
        outcome = feedback.give(current_user, detection, form.label.data, "web", form.seen_ms.data)
    except feedback.FeedbackError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if outcome.images_pending:
        queue(place_images, detection.id)
    which = _which(detection)
    if detection.not_a_face:
        flash(f"Marked {which} as not a {detection.thing}.", "success")
    else:
        verb = "Confirmed" if outcome.event.to_label == detection.predicted_label else "Corrected to"
        flash(f"{verb} “{outcome.event.to_label}” for {which}.", "success")
    following = predictions.next_unreviewed(detection)
    return redirect(url_for("classify.result", prediction_id=detection.result.prediction_id,
                            _anchor=f"det-{following.id}"))


@bp.route("/predictions/<int:prediction_id>/number", methods=["POST"])
@login_required
def confirm_number(prediction_id: int):
    """Confirm the whole house number: every digit not yet labelled keeps the label it has."""
    prediction = _owned_prediction(prediction_id)
    back = url_for("classify.result", prediction_id=prediction.id, _anchor="result-digits")
    form = NumberForm()
    if not form.validate_on_submit():
        flash("Confirm the number shown on the page.", "error")
        return redirect(back)
    try:
        outcomes = numbers.confirm(current_user, numbers.digits_result(prediction), form.number.data, "web",
                                   form.seen_ms.data)
    except numbers.NumberError as exc:
        flash(str(exc), "error")
        return redirect(back)
    for outcome in outcomes:
        if outcome.images_pending:
            queue(place_images, outcome.event.detection_id)
    flash(f"Confirmed the number “{form.number.data}”.", "success")
    if not outcomes:
        return redirect(back)
    following = predictions.next_unreviewed(outcomes[-1].event.detection)  # as after one label: on to the next
    return redirect(url_for("classify.result", prediction_id=prediction.id, _anchor=f"det-{following.id}"))


@bp.route("/detections/<int:detection_id>/undo", methods=["POST"])
@login_required
def undo_feedback(detection_id: int):
    """Take back the user's latest feedback on a detection: a box marked not a face is a face again."""
    detection = _owned_detection(detection_id)
    if FlaskForm().validate_on_submit():
        try:
            placed = feedback.undo(current_user, detection)
        except feedback.UndoError as exc:
            flash(str(exc), "error")
        else:
            if not placed:
                queue(place_images, detection.id)
            flash(f"Undone: {_which(detection)} is back to {detection.state}.", "success")
    return redirect(url_for("classify.result", prediction_id=detection.result.prediction_id,
                            _anchor=f"det-{detection.id}"))


@bp.route("/predictions/<int:prediction_id>/delete", methods=["POST"])
@login_required
def delete(prediction_id: int):
    """Delete a prediction with its stored photo and crops."""
    prediction = _owned_prediction(prediction_id)
    if DeleteForm().validate_on_submit():
        try:
            predictions.delete_prediction(prediction)
        except predictions.StorageUnavailable as exc:
            flash(str(exc), "error")
            return redirect(url_for("classify.result", prediction_id=prediction_id))
        flash("Deleted the photo and its results.", "success")
    return redirect(url_for("history.index"))
