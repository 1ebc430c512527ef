"""Model registry: baselines registered on first use, versions on predictions, CLI, promotion, rollback, hot swap."""
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.extensions import db
from app.models import ModelVersion, VersionStatus
from app.services import champions, registry
from loop_support import base_data, other_digits, with_loop_settings  # noqa: F401 - fixtures


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path):  # noqa: F811 - every test here runs on the loop settings
    return with_loop_settings(app_settings, base_data, tmp_path)


def _digits_version(client, token_for, upload, plain_png) -> str:
    response = upload(plain_png, ["digits"], api=token_for())
    assert response.status_code == 201, response.data
    return response.get_json()["results"][0]["model_version"]


def test_first_prediction_registers_the_shipped_baseline_and_records_its_version(
        app, client, token_for, upload, plain_png, app_settings):
    version = _digits_version(client, token_for, upload, plain_png)
    with app.app_context():
        baseline = registry.champion("digits")
        assert baseline.version == version and baseline.source == "baseline" and baseline.number == 1
        assert baseline.status == VersionStatus.CHAMPION and baseline.promoted_at is not None
        stored = sorted(k.rsplit("/", 1)[1] for k in app.extensions["storage"].keys(baseline.artifact_key))
    assert stored == ["metadata.json", "model.keras", "model.tflite", "validation.txt"]
    assert _digits_version(client, token_for, upload, plain_png) == version  # registered once
    with app.app_context():  # what its training held out travels with it: retraining calibrates on those images
        held = (registry.materialize(baseline) / "validation.txt").read_text()
    assert held == (Path(app_settings["MODELS_DIR"]) / "digits" / "validation.txt").read_text()


def test_models_list_json_shows_every_baseline(app, runner):
    result = runner.invoke(args=["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sorted(r["recognizer"] for r in rows) == ["digits", "emotion4", "emotion7"]
    for row in rows:
        assert row["status"] == "champion" and row["source"] == "baseline" and len(row["version"]) == 12
        assert row["created_at"].endswith("+00:00") and set(row["metrics"]) == {"base_test", "feedback"}
    only = json.loads(runner.invoke(args=["models", "list", "digits", "--json"]).output)
    assert [r["recognizer"] for r in only] == ["digits"]
    table = runner.invoke(args=["models", "list"]).output
    assert "digits" in table and "champion" in table


def test_promote_and_rollback_from_the_cli(app, runner, other_digits):  # noqa: F811
    with app.app_context():
        baseline = registry.ensure_baseline("digits").version
        other = registry.register("digits", other_digits, "retrain").version
    assert runner.invoke(args=["models", "promote", other]).exit_code == 0
    with app.app_context():
        assert registry.champion("digits").version == other
        assert registry.find(baseline).status == VersionStatus.ARCHIVED
    result = runner.invoke(args=["models", "rollback", "digits"])
    assert result.exit_code == 0 and baseline in result.output
    with app.app_context():
        assert registry.champion("digits").version == baseline
        assert registry.find(other).status == VersionStatus.ARCHIVED
    again = runner.invoke(args=["models", "rollback", "digits"])
    assert again.exit_code != 0 and "no earlier champion" in again.output
    missing = runner.invoke(args=["models", "promote", "nope"])
    assert missing.exit_code != 0 and "no model version" in missing.output


def test_database_allows_one_champion_per_recognizer(app, other_digits):  # noqa: F811
    with app.app_context():
        registry.ensure_baseline("digits")
        other = registry.register("digits", other_digits, "retrain")
        other.status = VersionStatus.CHAMPION
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_web_process_picks_up_a_new_champion_without_restart(
        app, client, token_for, upload, plain_png, app_settings, other_digits):  # noqa: F811
    first = _digits_version(client, token_for, upload, plain_png)
    admin_process = create_app(app_settings)  # a second process on the same database and storage
    with admin_process.app_context():
        second = registry.register("digits", other_digits, "retrain")
        registry.promote(second)
        second = second.version
    assert _digits_version(client, token_for, upload, plain_png) == second != first
    with admin_process.app_context():
        registry.rollback("digits")
    assert _digits_version(client, token_for, upload, plain_png) == first


def test_champion_is_checked_at_most_every_interval(app, client, token_for, upload, plain_png, other_digits):  # noqa: F811
    app.config["CHAMPION_CHECK_S"] = 3600
    first = _digits_version(client, token_for, upload, plain_png)
    with app.app_context():
        registry.promote(registry.register("digits", other_digits, "retrain"))
    assert _digits_version(client, token_for, upload, plain_png) == first
    app.config["CHAMPION_CHECK_S"] = 0
    assert _digits_version(client, token_for, upload, plain_png) != first


def test_broken_new_champion_leaves_the_previous_one_serving(
        app, client, token_for, upload, plain_png, other_digits):  # noqa: F811
    first = _digits_version(client, token_for, upload, plain_png)
    with app.app_context():
        broken = registry.register("digits", other_digits, "retrain")
        app.extensions["storage"].put(f"{broken.artifact_key}/model.tflite", b"not a model")
        registry.promote(broken)
        broken_version = broken.version
    assert _digits_version(client, token_for, upload, plain_png) == first
    with app.app_context():
        assert broken_version in champions.errors()["digits"]
        assert db.session.scalar(db.select(ModelVersion).where(ModelVersion.version == broken_version)) is not None


def test_missing_shipped_model_is_reported_not_crashed(app, client, app_settings, tmp_path, artifacts):
    models = tmp_path / "models"
    shutil.copytree(artifacts / "emotion7", models / "emotion7")
    app.config["MODELS_DIR"] = str(models)
    page = client.get("/")
    assert page.status_code == 200
    with app.app_context():
        assert registry.champion("digits") is None and registry.champion("emotion7") is not None


def _release_shipping(digits_dir, app_settings, artifacts, tmp_path) -> dict:
    """A newer release's settings: the same database and storage, a MODELS_DIR whose digits model is `digits_dir`."""
    models = tmp_path / "release-2"
    for name in ("emotion7", "emotion4"):
        shutil.copytree(artifacts / name, models / name)
    shutil.copytree(digits_dir, models / "digits")
    return {**app_settings, "MODELS_DIR": str(models)}


def test_a_newer_shipped_baseline_replaces_the_earlier_shipped_champion(
        app, app_settings, artifacts, tmp_path, other_digits):  # noqa: F811
    with app.app_context():
        first = champions.model_for("digits").version
    upgraded = create_app(_release_shipping(other_digits, app_settings, artifacts, tmp_path))
    for _ in range(2):  # a second process of the new release registers nothing more
        with upgraded.app_context():
            served = champions.model_for("digits").version
            versions = registry.versions("digits")
        upgraded.extensions.pop("champions")
    assert served != first and [v.version for v in versions] == [served, first]
    assert versions[0].status == VersionStatus.CHAMPION and versions[0].note == "shipped baseline of a newer release"
    assert versions[1].status == VersionStatus.ARCHIVED


def test_a_newer_shipped_baseline_waits_as_a_candidate_behind_a_retrained_champion(
        app, app_settings, artifacts, tmp_path, other_digits):  # noqa: F811
    with app.app_context():
        registry.ensure_baseline("digits")
        retrained = registry.register("digits", other_digits, "retrain")
        registry.promote(retrained)
        retrained = retrained.version
    newer = shutil.copytree(artifacts / "digits", tmp_path / "newer-digits")
    meta = json.loads((newer / "metadata.json").read_text())
    (newer / "metadata.json").write_text(json.dumps({**meta, "calibration": {"temperature": 0.5}}))
    upgraded = create_app(_release_shipping(newer, app_settings, artifacts, tmp_path))
    with upgraded.app_context():
        assert champions.model_for("digits").version == retrained
        candidate = registry.versions("digits")[0]
        assert candidate.status == VersionStatus.CANDIDATE and candidate.source == "baseline"
