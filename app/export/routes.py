"""Data pages: download everything or the labelled crops as a zip, delete all of one's data or the account."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired

from app.export import bp
from app.guards import known_recognizer
from app.services import account_data, accounts, export, predictions, reviewers
from ml.recognizers import RECOGNIZERS


class DeleteAllForm(FlaskForm):
    """Deleting everything needs an explicit tick."""

    confirm = BooleanField("I understand that my photos, crops and labels are deleted for good.",
                           validators=[DataRequired("Tick the box to confirm.")])


class DeleteAccountForm(FlaskForm):
    """Deleting the account needs the password."""

    password = PasswordField("Your password", validators=[DataRequired("Enter your password to confirm.")])


def _recognizer() -> str | None:
    return known_recognizer(request.args.get("recognizer") or None)


def _zip(detections, who: str, recognizer: str | None):
    name = f"visionloop-{who}-{recognizer or 'all'}-{date.today().isoformat()}.zip"
    return send_file(export.write_zip(detections), mimetype="application/zip", as_attachment=True,
                     download_name=name)


@bp.route("/data")
@login_required
def index():
    """What the user has labelled, the export links and the delete-all form."""
    return _page(DeleteAccountForm(formdata=None))


def _page(account_form: DeleteAccountForm, status: int = 200):
    counts = {name: len(export.labelled(current_user, name)) for name in RECOGNIZERS}
    return render_template("export/index.html", counts=counts, form=DeleteAllForm(), account_form=account_form), status


@bp.route("/data/everything.zip")
@login_required
def everything_zip():
    """Everything the user has: photos, crops, results with probabilities, feedback, locations, live sessions."""
    return send_file(account_data.write_zip(current_user, reviewers.roles(current_user)), mimetype="application/zip",
                     as_attachment=True, download_name=f"visionloop-my-data-{date.today().isoformat()}.zip")


@bp.route("/data/export.zip")
@login_required
def own_zip():
    """The user's labelled crops in class folders, with manifest.csv."""
    recognizer = _recognizer()
    return _zip(export.labelled(current_user, recognizer), "mine", recognizer)


@bp.route("/data/all.zip")
@login_required
def all_zip():
    """Everyone's labelled crops (admins): the dataset the loop trains on."""
    if not current_user.is_admin:
        abort(403, "Only admins can export everyone's data.")
    recognizer = _recognizer()
    return _zip(export.labelled(None, recognizer), "everyone", recognizer)


@bp.post("/data/delete")
@login_required
def delete_all():
    """Delete every prediction of the user with all stored images."""
    form = DeleteAllForm()
    if not form.validate_on_submit():
        flash("Tick the box to confirm.", "error")
        return redirect(url_for("export.index"))
    try:
        count = export.delete_all(current_user)
    except predictions.StorageUnavailable as exc:
        flash(str(exc), "error")
    else:
        flash(f"Deleted {count} photos with their crops and labels.", "success")
    return redirect(url_for("export.index"))


@bp.post("/data/delete-account")
@login_required
def delete_account():
    """Delete the account with all its data, stored files and API tokens, after the password is given."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            account_data.delete_account(current_user, form.password.data)
        except (accounts.AccountError, predictions.StorageUnavailable) as exc:
            form.password.errors.append(str(exc))
        else:
            logout_user()
            flash("Your account and everything in it are deleted.", "success")
            return redirect(url_for("classify.index"))
    return _page(form, 400)
