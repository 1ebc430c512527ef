"""Live camera mode: frames over a WebSocket, faces and labels (or a house number's digits) drawn live, the room's
mood, saved sessions."""
from flask import Blueprint, Flask
from flask_sock import Sock

from app.live import capacity

bp = Blueprint("live", __name__, url_prefix="/live")
sock = Sock()

# Defaults an instance config.py or the tests may override.
DEFAULTS = {
    "LIVE_BUCKET_S": 5,
    "LIVE_MAX_FRAME_BYTES": 1024 * 1024,  # a 640×480 JPEG is 30–80 KB
    "LIVE_MAX_FRAME_PIXELS": 1920 * 1080,
    "LIVE_MAX_BUCKETS": 1440,  # two hours of 5 s buckets; older ones drop off the summary
    "LIVE_MAX_SNAPSHOTS": 120,  # opted-in snapshots, one per bucket: the first ten minutes
    "LIVE_RECENT_FRAMES": 8,  # frames whose faces (or number) can still be sent to review
    "LIVE_NUMBER_FRAMES": 7,  # the number shown is the one most of this many latest frames read
    "LIVE_DETECT_SIDE": 480,  # px: frames are searched for faces at this long side (faces from ~12 px at 640)
    "LIVE_MAX_FPS": 15,  # the page sends no faster than this, however fast the server answers
    "LIVE_SESSIONS_PER_PAGE": 20,
    "LIVE_IDLE_S": 120,  # a socket that sends nothing for this long is closed (a paused or forgotten tab)
}


def init_app(app: Flask) -> None:
    """Configure live mode and register its pages and socket."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["live_slots"] = capacity.Slots()
    # Messages over this close the socket (1009); frames between LIVE_MAX_FRAME_BYTES and this get a
    # readable error instead, and the connection stays up.
    app.config.setdefault("SOCK_SERVER_OPTIONS", {
        "ping_interval": 25, "receive_bytes": 64 * 1024,
        "max_message_size": 4 * app.config["LIVE_MAX_FRAME_BYTES"]})
    sock.init_app(app)
    app.register_blueprint(bp)


from app.live import routes, websocket  # noqa: E402,F401 - routes attach themselves to bp
