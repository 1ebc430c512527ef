"""Live pages: the camera view, and the signed-in user's saved sessions."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from app import storage
from app.classify.forms import DeleteForm
from app.guards import page_number
from app.live import bp
from app.security import from_this_site
from app.services import classification, live, live_sessions, predictions
from ml.recognizers import RECOGNIZERS


class UnsupportedVersion(HTTPException):
    """426: the WebSocket handshake asked for a protocol version other than RFC 6455's (13)."""

    code = 426
    description = "Live mode speaks WebSocket version 13 (RFC 6455); this client asked for another."

    def get_headers(self, environ=None, scope=None):
        """The usual headers plus the version the server speaks, as RFC 6455 asks."""
        return [*super().get_headers(environ, scope), ("Sec-WebSocket-Version", "13")]


@bp.before_request
def check_socket_handshake():
    """Refuse a socket opened by another site's page (the handshake carries this site's cookies), or one in a
    protocol version the server does not speak."""
    if request.endpoint != "live.stream":
        return
    origin = request.headers.get("Origin")
    if origin and not from_this_site(origin):
        abort(403, "Live mode only accepts connections from its own pages.")
    if request.headers.get("Sec-WebSocket-Version", "13").strip() != "13":
        raise UnsupportedVersion()


@bp.route("/")
def index():
    """The camera page."""
    problems = classification.availability()
    recognizers = [RECOGNIZERS[name] for name in live.LIVE_RECOGNIZERS]
    # The page builds the socket's URL from its own (ws: or wss:), so a proxy in front needs no configuration.
    ws_path = urlsplit(url_for("live.stream")).path
    return render_template("live/index.html", recognizers=recognizers, problems=problems, ws_path=ws_path,
                           max_fps=current_app.config["LIVE_MAX_FPS"],
                           bucket_s=current_app.config["LIVE_BUCKET_S"],
                           max_snapshots=current_app.config["LIVE_MAX_SNAPSHOTS"],
                           number_frames=current_app.config["LIVE_NUMBER_FRAMES"])


@bp.route("/sessions")
@login_required
def sessions():
    """The user's saved sessions, newest first."""
    page = live_sessions.recent(current_user, page_number(),
                                current_app.config["LIVE_SESSIONS_PER_PAGE"])
    return render_template("live/sessions.html", page=page)


def _owned(session_id: int):
    return live_sessions.owned(current_user, session_id) or abort(404)


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    """One saved session: its mood chart and totals (for digits: the numbers read and when), and any snapshots kept
    by choice."""
    saved = _owned(session_id)
    return render_template("live/session.html", session=saved, classes=RECOGNIZERS[saved.recognizer].classes,
                           delete_form=DeleteForm())


@bp.route("/sessions/<int:session_id>/snapshots/<int:index>")
@login_required
def snapshot(session_id: int, index: int):
    """One snapshot of a saved session (there are some only when the user opted in)."""
    keys = _owned(session_id).frame_keys
    if not 0 <= index < len(keys):
        abort(404)
    return storage.send(keys[index])


@bp.route("/sessions/<int:session_id>/delete", methods=["POST"])
@login_required
def delete(session_id: int):
    """Delete a saved session and its snapshots."""
    saved = _owned(session_id)
    if DeleteForm().validate_on_submit():
        try:
            live_sessions.delete(saved)
        except predictions.StorageUnavailable as exc:
            flash(str(exc), "error")
            return redirect(url_for("live.session", session_id=session_id))
        flash("Deleted the live session.", "success")
    return redirect(url_for("live.sessions"))
