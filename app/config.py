"""Configuration from environment variables, with embedded defaults that need no server."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
DATASETS = ROOT.parent / "shared" / "datasets"


def database_url(value: str | None) -> str:
    """The SQLAlchemy URL: DATABASE_URL (Heroku's postgres:// fixed) or SQLite in instance/."""
    if not value:
        return f"sqlite:///{INSTANCE / 'visionloop.sqlite'}"
    scheme, sep, rest = value.partition("://")
    if sep and scheme in ("postgres", "postgresql"):
        # SQLAlchemy dropped the "postgres" alias Heroku still hands out, and 2.1 defaults to psycopg 3:
        # name the driver that requirements.txt installs.
        return f"postgresql+psycopg2://{rest}"
    return value


def embedded_broker_folder(database_uri: str, instance_path: str | Path) -> tuple[Path, str]:
    """Where the embedded broker's files go, and their name prefix: beside a SQLite database (named after it),
    else in the instance folder; so two instances never share a queue, and an app's web and worker always do."""
    if database_uri.startswith("sqlite:///") and database_uri != "sqlite:///:memory:":
        path = Path(database_uri.removeprefix("sqlite:///"))
        return path.parent, f"{path.stem}."
    return Path(instance_path), ""


def celery_settings(redis_url: str | None, folder: Path = INSTANCE, name: str = "") -> dict:
    """Broker and result backend: Redis when REDIS_URL is set, else SQLite files in `folder`."""
    if redis_url:
        broker, backend = redis_url, redis_url
    else:
        broker = f"sqla+sqlite:///{folder / f'{name}celery-broker.sqlite'}"
        backend = f"db+sqlite:///{folder / f'{name}celery-results.sqlite'}"
    # On a cold shutdown (SIGTERM with REMAP_SIGTERM=SIGQUIT, as `make run` and the Procfile run it) running tasks
    # get this long to finish before they are cancelled, so the worker is gone within 10 s.
    return {"broker_url": broker, "result_backend": backend, "task_ignore_result": True,
            "broker_connection_retry_on_startup": True, "worker_soft_shutdown_timeout": 2.0}


class Config:
    """Settings read from the environment when the module is imported."""

    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-change-me"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    STORAGE_DIR = os.environ.get("STORAGE_DIR") or str(INSTANCE / "storage")
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_PREFIX = os.environ.get("S3_PREFIX", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL")
    # A store that accepts connections but never answers fails a request after ATTEMPTS × (CONNECT + READ) s.
    S3_CONNECT_TIMEOUT_S = float(os.environ.get("S3_CONNECT_TIMEOUT_S", "3"))
    S3_READ_TIMEOUT_S = float(os.environ.get("S3_READ_TIMEOUT_S", "10"))
    S3_ATTEMPTS = int(os.environ.get("S3_ATTEMPTS", "2"))
    REDIS_URL = os.environ.get("REDIS_URL")
    CELERY = celery_settings(REDIS_URL)
    MODELS_DIR = os.environ.get("MODELS_DIR") or str(ROOT / "ml" / "artifacts")
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024
    # Security: PROXY_HOPS is how many proxies in front may set X-Forwarded-For/-Proto/-Host (1 behind Heroku's
    # router or nginx); 0 trusts none. Cookies get Secure whenever the request is HTTPS as the app sees it,
    # are never read by scripts, and are not sent on cross-site POSTs.
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
    SESSION_COOKIE_HTTPONLY = REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = REMEMBER_COOKIE_SAMESITE = "Lax"
    # The site's public address (https://visionloop.example.org) where absolute URLs are needed; none: relative.
    BASE_URL = (os.environ.get("BASE_URL") or "").rstrip("/")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATE_LIMIT_LOGIN = os.environ.get("RATE_LIMIT_LOGIN", "10 per minute; 100 per hour")
    RATE_LIMIT_TOKEN = os.environ.get("RATE_LIMIT_TOKEN", "10 per minute; 100 per hour")
    RATE_LIMIT_SIGNUP = os.environ.get("RATE_LIMIT_SIGNUP", "5 per minute; 30 per hour")
    RATE_LIMIT_ACCOUNT = os.environ.get("RATE_LIMIT_ACCOUNT", "10 per 10 minutes; 50 per day")  # failures only
    RATE_LIMIT_UPLOAD = os.environ.get("RATE_LIMIT_UPLOAD", "60 per minute")
    # SQLite: how long a connection waits for another's lock, then how often the request is retried.
    SQLITE_BUSY_MS = int(os.environ.get("SQLITE_BUSY_MS", "5000"))
    SQLITE_RETRIES = int(os.environ.get("SQLITE_RETRIES", "3"))
    MAX_IMAGE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", "40000000"))
    # Faces are searched on a copy with this long side (ml.faces.DETECT_SIDE): at 640 faces from ~16 px of a
    # 640 px photo; detection time grows with the side squared.
    FACE_DETECT_SIDE = int(os.environ.get("FACE_DETECT_SIDE", "640"))
    # The digit detector of the number reader (ml.numbers); its digits are read by the digits champion.
    NUMBER_DETECTOR_DIR = os.environ.get("NUMBER_DETECTOR_DIR") or str(ROOT / "ml" / "artifacts" / "digit_detector")
    # Live frames are read without the reader's second look at large photos (it costs several times the first look,
    # and a person holding the camera can step closer instead); 1 turns it on (scripts/bench_live.py measures both).
    LIVE_SECOND_LOOK = os.environ.get("LIVE_SECOND_LOOK", "0") == "1"
    # Live sockets each hold one of a web worker's WEB_THREADS threads (the Procfile's --threads): they may take
    # at most LIVE_MAX_SOCKETS of them, visitors half of those, one person LIVE_MAX_SOCKETS_PER_CLIENT; the rest
    # always serve pages.
    WEB_THREADS = int(os.environ.get("WEB_THREADS", "16"))
    LIVE_MAX_SOCKETS = int(os.environ.get("LIVE_MAX_SOCKETS", str(max(1, WEB_THREADS - 4))))
    LIVE_MAX_ANONYMOUS_SOCKETS = int(os.environ.get("LIVE_MAX_ANONYMOUS_SOCKETS", str(max(1, LIVE_MAX_SOCKETS // 2))))
    LIVE_MAX_SOCKETS_PER_CLIENT = int(os.environ.get("LIVE_MAX_SOCKETS_PER_CLIENT", "2"))
    HISTORY_PER_PAGE = 20
    API_PER_PAGE = 20
    TOKEN_DAYS = int(os.environ.get("TOKEN_DAYS", "30"))
    PASSWORD_HASH_METHOD = "scrypt"  # tests use a cheap method; memory-hard hashing is for real accounts
    # Learning loop: where base data lives, and what bounds a retraining run.
    TRAIN_DATA = {
        "emotion7": os.environ.get("TRAIN_DATA_EMOTION7") or str(DATASETS / "fer2013"),
        "emotion4": os.environ.get("TRAIN_DATA_EMOTION4") or str(DATASETS / "fer2013"),
        "digits": os.environ.get("TRAIN_DATA_DIGITS") or str(DATASETS / "svhn" / "labels.csv"),
    }
    MODEL_CACHE_DIR = os.environ.get("MODEL_CACHE_DIR") or str(INSTANCE / "model-cache")
    RETRAIN_DIR = os.environ.get("RETRAIN_DIR") or str(INSTANCE / "retrain")
    RETRAIN_EPOCHS = int(os.environ.get("RETRAIN_EPOCHS", "4"))
    RETRAIN_LEARNING_RATE = float(os.environ.get("RETRAIN_LEARNING_RATE", "0.0003"))
    RETRAIN_BATCH_SIZE = int(os.environ.get("RETRAIN_BATCH_SIZE", "32"))
    RETRAIN_BASE_PER_CLASS = int(os.environ.get("RETRAIN_BASE_PER_CLASS", "400"))
    RETRAIN_TEST_PER_CLASS = int(os.environ.get("RETRAIN_TEST_PER_CLASS", "0"))  # 0: the whole test split
    RETRAIN_FEEDBACK_REPEAT = int(os.environ.get("RETRAIN_FEEDBACK_REPEAT", "3"))
    RETRAIN_HOLDOUT_PERCENT = int(os.environ.get("RETRAIN_HOLDOUT_PERCENT", "20"))
    RETRAIN_MIN_NEW_LABELS = int(os.environ.get("RETRAIN_MIN_NEW_LABELS", "50"))
    RETRAIN_INTERVAL_S = int(os.environ.get("RETRAIN_INTERVAL_S", str(6 * 3600)))
    RETRAIN_STALE_S = int(os.environ.get("RETRAIN_STALE_S", "180"))
    RETRAIN_QUEUED_TIMEOUT_S = int(os.environ.get("RETRAIN_QUEUED_TIMEOUT_S", str(6 * 3600)))
    RETRAIN_HEARTBEAT_S = float(os.environ.get("RETRAIN_HEARTBEAT_S", "10"))
    PROMOTION_MARGIN = float(os.environ.get("PROMOTION_MARGIN", "0.01"))
    # The gate's statistics (app.services.gate) and honest hold-outs (ml.grouping); see README "Retraining".
    PROMOTION_CONFIDENCE = float(os.environ.get("PROMOTION_CONFIDENCE", "0.95"))
    RETRAIN_MIN_GATE = int(os.environ.get("RETRAIN_MIN_GATE", "30"))
    RETRAIN_MAX_ECE_INCREASE = float(os.environ.get("RETRAIN_MAX_ECE_INCREASE", "0.02"))
    RETRAIN_VALIDATION_PERCENT = int(os.environ.get("RETRAIN_VALIDATION_PERCENT", "15"))
    RETRAIN_SESSION_GAP_S = float(os.environ.get("RETRAIN_SESSION_GAP_S", "600"))
    RETRAIN_SIMILAR_BITS = int(os.environ.get("RETRAIN_SIMILAR_BITS", "6"))
    RETRAIN_DISTILL = float(os.environ.get("RETRAIN_DISTILL", "0.8"))
    RETRAIN_FREEZE = float(os.environ.get("RETRAIN_FREEZE", "0"))
    # Recognizers whose batch norm keeps the base data's statistics while fine-tuning: it calibrates the face
    # models better, but the digit model needs the new domain's statistics (see README "Retraining").
    RETRAIN_FREEZE_NORM = frozenset(os.environ.get("RETRAIN_FREEZE_NORM", "emotion7,emotion4").replace(" ", "")
                                    .split(",")) - {""}
    BASE_DATA_CACHE_DIR = os.environ.get("BASE_DATA_CACHE_DIR") or str(INSTANCE / "base-data")
    CHAMPION_CHECK_S = float(os.environ.get("CHAMPION_CHECK_S", "5"))
    LOW_CONFIDENCE = float(os.environ.get("LOW_CONFIDENCE", "0.5"))
