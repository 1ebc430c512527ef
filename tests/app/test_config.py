"""Configuration comes from the environment variables the issue names, with embedded defaults."""
import json
import os
import subprocess
import sys

from app.config import INSTANCE, ROOT, celery_settings, database_url

PRINT_CONFIG = """
import json
from app import create_app
app = create_app()
keys = ["SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "STORAGE_DIR", "S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL",
        "REDIS_URL", "CELERY", "MODELS_DIR"]
print(json.dumps({**{k: app.config[k] for k in keys}, "storage": type(app.extensions["storage"]).__name__}))
"""
NAMES = ("SECRET_KEY", "DATABASE_URL", "STORAGE_DIR", "S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL", "REDIS_URL",
         "MODELS_DIR")


def _config_with(env: dict, tmp_path) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    # instance/config.py is read too: start from a copy of the code without one.
    result = subprocess.run([sys.executable, "-c", PRINT_CONFIG], env={**clean, **env, "AWS_DEFAULT_REGION": "x"},
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_url():
    assert database_url(None) == f"sqlite:///{INSTANCE / 'visionloop.sqlite'}"
    assert database_url("postgres://u:p@db:5432/x") == "postgresql+psycopg2://u:p@db:5432/x"
    assert database_url("postgresql://u@h/x") == "postgresql+psycopg2://u@h/x"
    assert database_url("postgresql+psycopg2://u@h/x") == "postgresql+psycopg2://u@h/x"
    assert database_url("sqlite:////tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"


def test_celery_broker_is_embedded_without_redis():
    embedded = celery_settings(None)
    assert embedded["broker_url"] == f"sqla+sqlite:///{INSTANCE / 'celery-broker.sqlite'}"
    assert embedded["result_backend"] == f"db+sqlite:///{INSTANCE / 'celery-results.sqlite'}"
    redis = celery_settings("redis://127.0.0.1:6379/0")
    assert redis["broker_url"] == redis["result_backend"] == "redis://127.0.0.1:6379/0"


def test_environment_reaches_the_app(tmp_path):
    config = _config_with({"SECRET_KEY": "s3cret", "DATABASE_URL": "postgres://u@db/x", "S3_BUCKET": "pics",
                           "S3_PREFIX": "vl", "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                           "REDIS_URL": "redis://cache:6379/1", "MODELS_DIR": str(tmp_path)}, tmp_path)
    assert config["SECRET_KEY"] == "s3cret"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u@db/x"
    assert (config["S3_BUCKET"], config["S3_PREFIX"], config["S3_ENDPOINT_URL"], config["storage"]) == (
        "pics", "vl", "http://127.0.0.1:9000", "S3Storage")
    assert config["CELERY"]["broker_url"] == "redis://cache:6379/1"
    assert config["MODELS_DIR"] == str(tmp_path)


def test_embedded_defaults(tmp_path):
    config = _config_with({"STORAGE_DIR": str(tmp_path / "files")}, tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and "/instance/" in config[
        "SQLALCHEMY_DATABASE_URI"]
    assert config["storage"] == "LocalStorage" and config["STORAGE_DIR"] == str(tmp_path / "files")
    assert config["CELERY"]["broker_url"].startswith("sqla+sqlite:///")
    assert config["MODELS_DIR"] == str(ROOT / "ml" / "artifacts")
