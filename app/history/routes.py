"""History page and deleting single detections."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.classify.forms import DeleteForm
from app.guards import page_number
from app.history import bp
from app.history.forms import FilterForm
from app.navigation import local_path
from app.services import history, live_sessions, predictions


@bp.route("/history")
@login_required
def index():
    """The user's detections, filtered and paginated; invalid filters are shown and ignored."""
    form = FilterForm(request.args)
    valid = form.validate()
    filters = history.Filters()
    if valid:
        filters = history.Filters(form.recognizer.data or None, form.label.data or None,
                                  form.since.data, form.until.data, form.status.data or None)
    page = history.detections(current_user, filters, page_number(),
                              current_app.config["HISTORY_PER_PAGE"])
    args = {k: v for k, v in request.args.items() if k != "page" and v} if valid else {}
    sessions = live_sessions.recent(current_user, 1, 3)  # the latest few; /live/sessions lists them all
    return render_template("history/index.html", form=form, page=page, args=args, delete_form=DeleteForm(),
                           sessions=sessions, not_faces=history.not_faces(current_user, filters))


@bp.route("/detections/<int:detection_id>/delete", methods=["POST"])
@login_required
def delete(detection_id: int):
    """Delete one detection and its stored images."""
    detection = predictions.owned_detection(current_user, detection_id) or abort(404)
    if DeleteForm().validate_on_submit():
        try:
            predictions.delete_detection(detection)
        except predictions.StorageUnavailable as exc:
            flash(str(exc), "error")
        else:
            flash("Deleted.", "success")
    return redirect(local_path(request.form.get("next"), url_for("history.index")))
