"""Review pages: one unreviewed detection at a time, least confident first; label, skip, undo."""
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app import storage
from app.classify.forms import AddFaceForm
from app.extensions import db
from app.models import Detection, User
from app.review import bp
from app.review.forms import GrantForm, LabelForm, QueueForm
from app.services import added_boxes, classification, feedback, predictions, review, reviewers
from app.tasks import queue
from app.tasks.storage import place_images
from ml.recognizers import RECOGNIZERS

SKIPPED, UNDO = "review_skipped", "review_undo"


def _require_reviewer() -> None:
    if not reviewers.is_reviewer(current_user):
        abort(403, "Only reviewers can label other people's predictions. Ask an admin for the role.")


def _recognizer(value: str | None) -> str | None:
    return value if value in RECOGNIZERS else None


def _back(recognizer: str | None, photo: bool = False):
    # url_for leaves out the arguments that are None.
    return redirect(url_for("review.index", recognizer=recognizer, photo=1 if photo else None,
                            _anchor="review-photo" if photo else None))


@bp.route("/review")
@login_required
def index():
    """The next detection to label, with the queue's size; `recognizer` narrows the queue, `photo` opens the photo."""
    _require_reviewer()
    recognizer = _recognizer(request.args.get("recognizer"))
    skipped = set(session.get(SKIPPED, []))
    found = review.queue(recognizer, skipped, 1)
    item = found[0] if found else None
    return render_template("review/index.html", item=item, recognizer=recognizer,
                           margin=review.margin(item) if item else None,
                           pending=review.pending(recognizer, skipped), skipped=len(skipped),
                           can_undo=bool(session.get(UNDO)), label_form=LabelForm(), queue_form=QueueForm(),
                           show_photo=bool(request.args.get("photo")), face_form=AddFaceForm(),
                           min_side=added_boxes.min_side)


def _detection(detection_id: int) -> Detection:
    _require_reviewer()
    return db.session.get(Detection, detection_id) or abort(404)


@bp.post("/review/<int:detection_id>/label")
@login_required
def label(detection_id: int):
    """Confirm (the predicted label) or correct (another label) one detection, or mark its box not a face."""
    detection = _detection(detection_id)
    form = LabelForm()
    recognizer = _recognizer(form.recognizer.data)
    if not form.validate_on_submit():
        flash("Pick a label.", "error")
        return _back(recognizer)
    try:
        outcome = review.label(current_user, detection, form.label.data, form.seen_ms.data)
    except feedback.FeedbackError as exc:
        flash(str(exc), "error")
        return _back(recognizer)
    if outcome.images_pending:
        queue(place_images, detection.id)
    session[UNDO] = [*session.get(UNDO, []), detection.id][-50:]
    if detection.not_a_face:
        flash(f"#{detection.id} marked not a {detection.thing}.", "success")
    else:
        verb = "confirmed" if outcome.event.to_label == detection.predicted_label else "corrected to"
        flash(f"#{detection.id} {verb} “{outcome.event.to_label}”.", "success")
    return _back(recognizer)


@bp.post("/review/<int:detection_id>/skip")
@login_required
def skip(detection_id: int):
    """Leave a detection for later (for this session) and show the next one."""
    _detection(detection_id)
    form = QueueForm()
    if form.validate_on_submit():
        session[SKIPPED] = [*session.get(SKIPPED, []), detection_id][-500:]
    return _back(_recognizer(form.recognizer.data))


@bp.post("/review/skipped")
@login_required
def unskip():
    """Bring the detections skipped this session back into the queue."""
    _require_reviewer()
    form = QueueForm()
    if form.validate_on_submit():
        count = len(session.pop(SKIPPED, []))
        flash(f"{count} skipped {'detection is' if count == 1 else 'detections are'} back in the queue.", "success")
    return _back(_recognizer(form.recognizer.data))


@bp.post("/review/undo")
@login_required
def undo():
    """Take back this reviewer's latest label and show that detection again."""
    _require_reviewer()
    form = QueueForm()
    recognizer = _recognizer(form.recognizer.data)
    stack = list(session.get(UNDO, []))
    if not form.validate_on_submit() or not stack:
        flash("Nothing to undo.", "error")
        return _back(recognizer)
    detection_id = stack.pop()
    session[UNDO] = stack
    detection = db.session.get(Detection, detection_id)
    if detection is None:
        flash("That detection was deleted meanwhile.", "error")
        return _back(recognizer)
    try:
        placed = feedback.undo(current_user, detection)
    except feedback.UndoError as exc:
        flash(str(exc), "error")
    else:
        if not placed:
            queue(place_images, detection.id)
        session[SKIPPED] = [i for i in session.get(SKIPPED, []) if i != detection_id]
        flash(f"Undone: #{detection_id} is back to {detection.state}.", "success")
    return _back(recognizer)


@bp.route("/review/<int:detection_id>/crop")
@login_required
def crop(detection_id: int):
    """The crop the model saw, for reviewers."""
    return storage.send(_detection(detection_id).crop_key, max_age=600)


@bp.route("/review/<int:detection_id>/photo")
@login_required
def photo(detection_id: int):
    """The whole photo the detection was found on, for reviewers: where a face or digit the detector missed is drawn."""
    return storage.send(_detection(detection_id).result.prediction.photo_key, max_age=600)


@bp.post("/review/<int:detection_id>/boxes")
@login_required
def add_box(detection_id: int):
    """Classify a face or digit a reviewer drew on the item's photo and keep it, as the result page does."""
    prediction = _detection(detection_id).result.prediction
    recognizer = _recognizer(request.args.get("queue"))
    form = AddFaceForm()
    if not form.validate_on_submit():
        flash(form.INVALID, "error")
        return _back(recognizer, photo=True)
    try:
        detection = added_boxes.add(prediction, form.recognizer.data, form.box())
    except (added_boxes.BoxError, classification.ModelUnavailable, predictions.StorageUnavailable) as exc:
        flash(str(exc), "error")
        return _back(recognizer, photo=True)
    flash(added_boxes.summary(detection), "success")
    return _back(recognizer, photo=True)


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only admins can manage roles.")


@bp.route("/admin/reviewers", methods=["GET", "POST"])
@login_required
def manage():
    """Admins list users and grant the reviewer role by email."""
    _require_admin()
    form = GrantForm()
    if form.validate_on_submit():
        try:
            user = reviewers.grant(form.email.data, current_user)
        except reviewers.RoleError as exc:
            form.email.errors.append(str(exc))
        else:
            flash(f"{user.email} is now a reviewer.", "success")
            return redirect(url_for("review.manage"))
    return render_template("review/reviewers.html", form=form, users=reviewers.listing(),
                           revoke_form=QueueForm()), 400 if form.errors else 200


@bp.post("/admin/reviewers/<int:user_id>/revoke")
@login_required
def revoke(user_id: int):
    """Take the reviewer role away."""
    _require_admin()
    user = db.session.get(User, user_id) or abort(404)
    if QueueForm().validate_on_submit():
        reviewers.revoke(user.email)
        flash(f"{user.email} is no longer a reviewer.", "success")
    return redirect(url_for("review.manage"))
