"""Base data that travels with a deployment: `flask data import`, retraining from storage, missing data in words."""
import json
import shutil

import boto3
import numpy as np
import pytest

from app import create_app
from app.config import embedded_broker_folder
from app.extensions import db
from app.models import RetrainRun, RunStatus
from app.services import base_data, registry, retraining, training
from loop_support import add_labelled, base_data as base_folder, pattern_image, with_loop_settings  # noqa: F401


@pytest.fixture
def app_settings(app_settings, base_folder, tmp_path):  # noqa: F811
    return with_loop_settings(app_settings, base_folder, tmp_path)


def test_import_copies_the_dataset_with_a_manifest_of_hashes(app, runner, base_folder, stored):  # noqa: F811
    result = runner.invoke(args=["data", "import", "digits", str(base_folder)])
    assert result.exit_code == 0, result.output
    assert "imported 120 files" in result.output and "base/digits/" in result.output
    with app.app_context():
        manifest = base_data.stored_manifest("digits")
        store = app.extensions["storage"]
        assert len(manifest["files"]) == 120 and manifest["source"] == str(base_folder)
        entry = next(e for e in manifest["files"] if e["path"] == "train/3/0.png")
        assert store.get("base/digits/train/3/0.png") == (base_folder / "train/3/0.png").read_bytes()
        import hashlib  # noqa: PLC0415

        assert entry["sha256"] == hashlib.sha256((base_folder / "train/3/0.png").read_bytes()).hexdigest()
    assert "digits: storage base/digits/, 120 files" in runner.invoke(args=["data", "status"]).output


def test_import_refuses_a_missing_or_empty_source(runner, tmp_path):
    missing = runner.invoke(args=["data", "import", "digits", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no such folder" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(args=["data", "import", "digits", str(tmp_path / "empty")])
    assert empty.exit_code == 1 and "no images or box CSV found" in empty.output


def test_retraining_reads_base_data_from_storage_when_the_folder_is_gone(app, base_folder, tmp_path):  # noqa: F811
    copy = tmp_path / "copy"
    shutil.copytree(base_folder, copy)
    app.config["TRAIN_DATA"] = {**app.config["TRAIN_DATA"], "digits": str(copy)}
    with app.app_context():
        base_data.import_dataset("digits", str(copy))
        shutil.rmtree(copy)  # a fresh machine: only the storage has it
        registry.ensure_baseline("digits")
        add_labelled([pattern_image(np.random.default_rng(1)) for _ in range(4)], "2")
        run = training.execute(retraining.request("digits", "cli")[0].id)
        assert run.status in (RunStatus.PROMOTED, RunStatus.REJECTED), run.reason
        assert run.candidate.manifest_summary["base_data"].startswith("storage base/digits/")
        body = json.loads(app.extensions["storage"].get(run.candidate.manifest_key))
        assert len(body["parts"]["base_train"]) + len(body["parts"]["base_validation"]) == 80


def test_a_run_without_base_data_says_so_and_keeps_the_label_count(app, login, tmp_path):
    from tests.app.conftest import make_user  # noqa: PLC0415

    app.config["TRAIN_DATA"] = {**app.config["TRAIN_DATA"], "digits": str(tmp_path / "gone")}
    with app.app_context():
        registry.ensure_baseline("digits")
        make_user("root@example.com", admin=True)
        add_labelled([pattern_image(np.random.default_rng(2)) for _ in range(5)], "1")
        assert retraining.new_labels("digits") == 5
        run = training.execute(retraining.request("digits", "schedule")[0].id)
        assert run.status == RunStatus.FAILED and run.progress == {"stage": "failed"}
        assert run.reason.startswith("Retraining needs digits's base data, and there is none")
        assert "flask data import digits DIR" in run.reason
        assert retraining.new_labels("digits") == 5 and retraining.due("digits")  # the schedule tries again
    page = login("root@example.com").get("/models/digits").get_data(as_text=True)
    assert "Retraining needs digits&#39;s base data" in page and "5 new labels since the last run" in page


def test_a_damaged_stored_dataset_is_refused(app, base_folder):  # noqa: F811
    with app.app_context():
        base_data.import_dataset("digits", str(base_folder))
        app.extensions["storage"].put("base/digits/train/3/0.png", b"tampered")
        with pytest.raises(base_data.MissingBaseData, match="damaged"):
            base_data.root("digits")


def test_the_embedded_broker_lives_beside_the_database(tmp_path):
    assert embedded_broker_folder(f"sqlite:///{tmp_path}/a.sqlite", "/x") == (tmp_path, "a.")
    assert embedded_broker_folder("postgresql+psycopg2://u@h/db", tmp_path) == (tmp_path, "")
    one = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/one/vl.sqlite", "REDIS_URL": None})
    two = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/two/vl.sqlite", "REDIS_URL": None})
    assert one.config["CELERY"]["broker_url"] == f"sqla+sqlite:///{tmp_path}/one/vl.celery-broker.sqlite"
    assert one.config["CELERY"]["broker_url"] != two.config["CELERY"]["broker_url"]


def test_import_reads_an_s3_source(app, runner, base_folder, bucket, moto_url):  # noqa: F811
    source = boto3.client("s3", endpoint_url=moto_url)
    files = sorted(p for p in base_folder.rglob("*") if p.is_file())
    for path in files:
        source.put_object(Bucket=bucket, Key=f"datasets/svhn/{path.relative_to(base_folder).as_posix()}",
                          Body=path.read_bytes())
    app.config["S3_ENDPOINT_URL"] = moto_url
    result = runner.invoke(args=["data", "import", "digits", f"s3://{bucket}/datasets/svhn"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        manifest = base_data.stored_manifest("digits")
        assert len(manifest["files"]) == len(files) == 120
        assert app.extensions["storage"].get("base/digits/train/3/0.png") == (base_folder / "train/3/0.png").read_bytes()
