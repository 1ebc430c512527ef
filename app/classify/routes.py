"""Classify pages: upload, result, feedback, and the stored images behind them."""
from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app import imaging, storage
from app.classify import bp
from app.classify.forms import ClassifyForm, DeleteForm, FeedbackForm
from app.services import classification, feedback, predictions
from app.tasks import queue
from app.tasks.storage import place_images


def _upload_page(form: ClassifyForm, status: int = 200, error: str | None = None):
    return render_template("classify/index.html", form=form, models=classification.availability(),
                           error=error), status


@bp.route("/")
def index():
    """The upload page."""
    return _upload_page(ClassifyForm())


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
    if current_user.is_authenticated:
        try:
            prediction = predictions.record(current_user, outcome, form.location(),
                                            consent=form.use_location.data)
        except predictions.StorageUnavailable as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for("classify.result", prediction_id=prediction.id))
    location = predictions.consented_location(form.use_location.data, form.location(), outcome.gps)
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
                           feedback_form=FeedbackForm(), delete_form=DeleteForm())


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


@bp.route("/detections/<int:detection_id>/feedback", methods=["POST"])
@login_required
def give_feedback(detection_id: int):
    """Confirm (the predicted label) or correct (any other label) a detection."""
    detection = _owned_detection(detection_id)
    back = url_for("classify.result", prediction_id=detection.result.prediction_id, _anchor=f"det-{detection.id}")
    form = FeedbackForm()
    if not form.validate_on_submit():
        flash("Pick a label.", "error")
        return redirect(back)
    try:
        outcome = feedback.give(current_user, detection, form.label.data, "web")
    except feedback.FeedbackError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if outcome.images_pending:
        queue(place_images, detection.id)
    verb = "Confirmed" if outcome.event.to_label == detection.predicted_label else "Corrected to"
    flash(f"{verb} “{outcome.event.to_label}” for #{detection.number}.", "success")
    return redirect(back)


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
