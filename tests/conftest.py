"""Shared fixtures: tiny real model artifacts, the `app` on SQLite or DATABASE_URL, `client` and `runner`."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from celery.signals import setup_logging  # noqa: E402
from sqlalchemy import MetaData, create_engine, text  # noqa: E402

from app.config import ROOT, database_url  # noqa: E402
from ml.recognizers import RECOGNIZERS  # noqa: E402


@setup_logging.connect
def _leave_logging_to_pytest(**kwargs) -> None:
    """With a receiver here, Celery's test workers keep their hands off the root logger.

    Otherwise they drop its handlers (pytest's log capture among them) and raise its level,
    and every later test that checks a log message fails.
    """


def _sources_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "ml").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _train_tiny(out: Path) -> None:
    from ml.data import Dataset  # noqa: PLC0415 - imports TensorFlow; only when the cache is cold
    from ml.train import TrainConfig, train

    rng = np.random.default_rng(0)
    for name, recognizer in RECOGNIZERS.items():
        n_classes = len(recognizer.classes)
        labels = np.repeat(np.arange(n_classes), 4)
        # Brightness tracks the class, so even one epoch learns something; the noise keeps images distinct.
        base = (labels * (200 // n_classes) + 20).reshape(-1, 1, 1, 1)
        images = np.clip(base + rng.integers(-15, 16, (len(labels), *recognizer.input_shape)), 0, 255)
        data = Dataset(images.astype(np.uint8), labels, recognizer.classes,
                       [f"synthetic/{i}" for i in range(len(labels))], "synthetic", "train")
        train(recognizer, data, out / name, TrainConfig(arch="cnn_tiny", epochs=1, batch_size=16, patience=1))


@pytest.fixture(scope="session")
def artifacts(request) -> Path:
    """A MODELS_DIR with a tiny trained artifact per recognizer, cached until ml/ changes.

    TEST_MODELS_DIR=ml/artifacts runs on the shipped models instead (screenshots that show real labels)."""
    if os.environ.get("TEST_MODELS_DIR"):
        return Path(os.environ["TEST_MODELS_DIR"]).resolve()
    cache = Path(request.config.cache.mkdir(f"visionloop-artifacts-{_sources_hash()}"))
    ready = all((cache / n / f).is_file() for n in RECOGNIZERS for f in ("metadata.json", "model.tflite"))
    if not ready:
        work = cache.with_name(cache.name + ".tmp")
        shutil.rmtree(work, ignore_errors=True)
        _train_tiny(work)
        shutil.rmtree(cache, ignore_errors=True)
        work.rename(cache)
    return cache


@pytest.fixture(scope="session")
def db_url(tmp_path_factory) -> str:
    """DATABASE_URL when set (PostgreSQL in CI), else a fresh SQLite file."""
    if os.environ.get("DATABASE_URL"):
        return database_url(os.environ["DATABASE_URL"])
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def migrated(db_url, artifacts, tmp_path_factory) -> str:
    """The test database emptied, then built by the committed migrations (not create_all)."""
    from app import create_app  # noqa: PLC0415
    from app.schema import upgrade

    engine = create_engine(db_url)
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()
    app = create_app(settings(db_url, artifacts, tmp_path_factory.mktemp("storage")))
    with app.app_context():
        upgrade()
    return db_url


def settings(db_url: str, models_dir: Path, storage_dir: Path, **overrides) -> dict:
    """App config for tests: CSRF off (one test turns it on), tasks run inline."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": db_url,
        "STORAGE_DIR": str(storage_dir),
        "S3_BUCKET": None,
        "MODELS_DIR": str(models_dir),
        "MODEL_CACHE_DIR": str(storage_dir.parent / "model-cache"),
        "RETRAIN_DIR": str(storage_dir.parent / "retrain"),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_STORAGE_URI": "memory://",  # counts start at zero in every app, even when REDIS_URL is set
        "CELERY": {"broker_url": "memory://", "result_backend": "cache+memory://",
                   "task_always_eager": True, "task_eager_propagates": True},
        **overrides,
    }


@pytest.fixture
def app_settings(migrated, artifacts, tmp_path) -> dict:
    """The config `app` is built from; tests may change it before asking for `app`."""
    return settings(migrated, artifacts, tmp_path / "storage")


@pytest.fixture
def live_server(app):
    """The base URL of `app` served by werkzeug in a background thread."""
    from werkzeug.serving import make_server  # noqa: PLC0415

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def app(app_settings):
    """A fresh app on the migrated database; every row is deleted afterwards and ids start again at 1."""
    from app import create_app  # noqa: PLC0415
    from app.extensions import db

    flask_app = create_app(app_settings)
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Restart the id sequences too, as SQLite does once a table is empty: ids start at 1 again.
                names = ", ".join(t.name for t in db.metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of `app`."""
    return app.test_cli_runner()
