"""The learning loop's admin API: versions and runs, start and follow a run, promote, roll back; admins only."""
import numpy as np
import pytest

from app.extensions import db
from app.models import RetrainRun, RunStatus
from app.services import registry, retraining
from loop_support import add_labelled, base_data, other_digits, pattern_image, with_loop_settings  # noqa: F401
from tests.app.conftest import make_user
from tests.app.test_api import conforms, spec  # noqa: F401 - the OpenAPI fixtures


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path):  # noqa: F811
    return with_loop_settings(app_settings, base_data, tmp_path)


@pytest.fixture
def admin(app, token_for):
    with app.app_context():
        make_user("root@example.com", admin=True)
    return token_for("root@example.com")


def test_the_loop_api_is_for_admins_only(client, token_for, conforms):
    for method, path in (("get", "/api/v1/loop/versions"), ("get", "/api/v1/loop/runs"),
                         ("post", "/api/v1/loop/runs"), ("post", "/api/v1/loop/digits/rollback")):
        assert getattr(client, method)(path).status_code == 401
        refused = getattr(client, method)(path, headers=token_for(), json={"recognizer": "digits"})
        assert refused.status_code == 403 and "admins" in refused.get_json()["error"]


def test_start_follow_and_list_a_run(client, admin, app, conforms, login):
    rng = np.random.default_rng(2)
    with app.app_context():
        add_labelled([pattern_image(rng) for _ in range(6)], "4")
    started = client.post("/api/v1/loop/runs", headers=admin, json={"recognizer": "digits"})
    conforms(started, "/loop/runs", "post")
    assert started.status_code == 202, started.get_json()
    run = started.get_json()
    followed = client.get(f"/api/v1/loop/runs/{run['id']}", headers=admin)  # the eager worker has finished it
    conforms(followed, "/loop/runs/{run_id}", "get")
    body = followed.get_json()
    assert body["status"] in ("promoted", "rejected") and not body["active"] and body["phase"] == body["status"]
    assert body["gate"]["base_test"]["n"] == 40 and "difference" in body["gate"]["gate"] and body["reason"]
    listed = client.get("/api/v1/loop/runs?recognizer=digits", headers=admin)
    conforms(listed, "/loop/runs", "get")
    assert [r["id"] for r in listed.get_json()["items"]] == [run["id"]]
    assert client.get("/api/v1/loop/runs?recognizer=faces", headers=admin).status_code == 400
    assert client.post("/api/v1/loop/runs", headers=admin, json={"recognizer": "nope"}).status_code == 400
    assert client.get("/api/v1/loop/runs/999", headers=admin).status_code == 404
    page = login("root@example.com").get("/models/digits").get_data(as_text=True)
    assert f"Gate of run {run['id']}" in page and "Feedback gate slice" in page and "Per class (recall)" in page
    assert body["reason"].split(";")[0].replace("'", "&#39;") in page


def test_a_second_start_while_one_runs_is_a_conflict(client, admin, app, conforms):
    with app.app_context():
        first = retraining.request("digits", "cli")[0].id
    refused = client.post("/api/v1/loop/runs", headers=admin, json={"recognizer": "digits"})
    conforms(refused, "/loop/runs", "post")
    assert refused.status_code == 409 and f"Run {first}" in refused.get_json()["error"]


def test_promote_and_roll_back(client, admin, app, other_digits, conforms):  # noqa: F811
    with app.app_context():
        baseline = registry.ensure_baseline("digits")
        other = registry.register("digits", other_digits, "retrain", parent=baseline)
        baseline_version, other_id, other_version = baseline.version, other.id, other.version
    listed = client.get("/api/v1/loop/versions?recognizer=digits", headers=admin)
    conforms(listed, "/loop/versions", "get")
    assert {v["version"] for v in listed.get_json()["items"]} == {baseline_version, other_version}
    promoted = client.post(f"/api/v1/loop/versions/{other_id}/promote", headers=admin)
    conforms(promoted, "/loop/versions/{version_id}/promote", "post")
    assert promoted.get_json()["status"] == "champion" and promoted.get_json()["parent"] == baseline_version
    restored = client.post("/api/v1/loop/digits/rollback", headers=admin)
    conforms(restored, "/loop/{recognizer}/rollback", "post")
    assert restored.get_json()["version"] == baseline_version
    again = client.post("/api/v1/loop/digits/rollback", headers=admin)
    assert again.status_code == 409 and "no earlier champion" in again.get_json()["error"]
    assert client.post("/api/v1/loop/versions/999/promote", headers=admin).status_code == 404
    with app.app_context():
        assert db.session.query(RetrainRun).filter(RetrainRun.status == RunStatus.RUNNING).count() == 0
