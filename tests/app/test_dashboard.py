"""Model-health pages: who sees them, what the numbers are, and the admin actions (retrain, promote, roll back)."""
import json
import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import NOT_A_FACE, Detection, Prediction, Result, RetrainRun, RunStatus, Status
from app.models.base import utcnow
from app.services import accounts, health, registry, reviewers
from loop_support import base_data, other_digits, with_loop_settings  # noqa: F401 - fixtures


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path):  # noqa: F811
    settings = with_loop_settings(app_settings, base_data, tmp_path)
    # Queue only: no worker runs here, so "Retrain now" leaves a queued run to look at.
    settings["CELERY"] = {"broker_url": "memory://", "task_ignore_result": True}
    return settings


def add(app, rows):
    """Digits detections from (predicted, label, status, confidence, days_ago) tuples."""
    with app.app_context():
        owner = accounts.find_user("owner@example.com") or accounts.create_user("owner@example.com", "correct horse")
        for predicted, label, status, confidence, days_ago in rows:
            when = utcnow() - timedelta(days=days_ago)
            prediction = Prediction(user=owner, width=32, height=32, created_at=when)
            result = Result(recognizer="digits", model_version="v", duration_ms=1.0)
            result.detections.append(Detection(
                position=0, x=0, y=0, w=32, h=32, predicted_label=predicted, label=label, status=status,
                confidence=confidence, probabilities={predicted: confidence},
                reviewed_at=None if status == Status.UNREVIEWED else when))
            prediction.results.append(result)
            db.session.add(prediction)
        db.session.commit()


ROWS = [("1", "1", Status.CONFIRMED, 0.9, 0), ("1", "1", Status.CONFIRMED, 0.8, 0),
        ("2", "1", Status.CORRECTED, 0.4, 0), ("2", "2", Status.CONFIRMED, 0.7, 8),
        ("3", "3", Status.UNREVIEWED, 0.3, 8)]


def test_health_numbers(app):
    add(app, ROWS)
    with app.app_context():
        registry.ensure_baseline("digits")
        report = health.report("digits")
    assert report["totals"] == {"detections": 5, "reviewed": 4, "agreement": 0.75, "quick": 0}
    assert report["confusion"]["matrix"][1][1] == 2 and report["confusion"]["matrix"][1][2] == 1
    assert report["confusion"]["per_class"]["1"] == {"precision": 1.0, "recall": 2 / 3, "support": 3,
                                                         "predicted": 2}
    assert report["confusion"]["per_class"]["2"]["precision"] == 0.5
    assert report["confidence"]["histogram"] == [0, 0, 0, 1, 1, 0, 0, 1, 1, 1]
    assert report["confidence"]["low_share"] == pytest.approx(2 / 5)
    assert [r["confirmed"] for r in report["agreement"]["day"]] == [1, 2]
    assert len(report["agreement"]["week"]) in (1, 2)
    assert sum(w["n"] for w in report["distribution"]["weekly"]) == 5
    assert report["versions"][0]["label"] == "v1" and report["versions"][0]["status"] == "champion"
    assert sum(report["distribution"]["training"].values()) == pytest.approx(1.0)


def test_only_reviewers_and_admins_see_model_health(app, client, login):
    assert client.get("/models/digits").status_code == 302  # to the login page
    login("user@example.com")
    assert client.get("/models").status_code == 403
    with app.app_context():
        reviewers.grant("user@example.com", None)
    assert client.get("/models").status_code == 200
    assert client.get("/models/nope").status_code == 404
    page = client.get("/models/digits").get_data(as_text=True)
    assert 'data-test="retrain-now"' not in page  # reviewers look; admins act
    assert client.post("/models/digits/retrain").status_code == 403


def test_dashboard_renders_the_data_and_the_versions(app, client, login):
    add(app, ROWS)
    with app.app_context():
        accounts.create_user("admin@example.com", "correct horse", is_admin=True)
    login("admin@example.com")
    overview = client.get("/models").get_data(as_text=True)
    with app.app_context():
        champion = registry.champion("digits").version  # the overview registered the shipped baselines
    row = overview.split('data-test="model-digits"')[1].split("</tr>")[0]
    assert f"v1 <code>{champion}</code>" in row and ">4</td>" in row  # every label is new before the first run
    page = client.get("/models/digits").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="health-data">(.*?)</script>', page, re.S)[1])
    assert data["totals"]["detections"] == 5 and data["recognizer"] == "digits"
    assert 'data-test="stat-agreement">75.0%<' in page
    for chart in ("versions", "agreement-day", "agreement-week", "histogram", "confidence", "distribution", "per-class"):
        assert f'id="chart-{chart}"' in page
    assert "vendor/chart.umd.min.js" in page and client.get("/static/vendor/chart.umd.min.js").status_code == 200
    assert 'data-test="retrain-now"' in page and 'data-test="confusion"' in page


def test_retrain_now_queues_once_and_reports_progress(app, client, login):
    with app.app_context():
        accounts.create_user("admin@example.com", "correct horse", is_admin=True)
    login("admin@example.com")
    first = client.post("/models/digits/retrain", follow_redirects=True).get_data(as_text=True)
    assert "queued as run" in first and 'data-test="run-progress"' in first
    second = client.post("/models/digits/retrain", follow_redirects=True).get_data(as_text=True)
    assert "is already queued" in second
    with app.app_context():
        run = db.session.query(RetrainRun).one()
        assert run.status == RunStatus.QUEUED and run.task_id and run.trigger == "admin"
    status = client.get(f"/models/runs/{run.id}").get_json()
    assert status["status"] == "queued" and status["active"] and status["text"] == "queued"
    assert client.get("/models/runs/999").status_code == 404


def test_admin_promotes_and_rolls_back_from_the_page(app, client, login, other_digits):  # noqa: F811
    with app.app_context():
        accounts.create_user("admin@example.com", "correct horse", is_admin=True)
        baseline = registry.ensure_baseline("digits").version
        other = registry.register("digits", other_digits, "retrain")
        other_id, other_version = other.id, other.version
    login("admin@example.com")
    page = client.post(f"/models/versions/{other_id}/promote", follow_redirects=True).get_data(as_text=True)
    assert "is now the champion" in page
    with app.app_context():
        assert registry.champion("digits").version == other_version
    page = client.post("/models/digits/rollback", follow_redirects=True).get_data(as_text=True)
    assert "Rolled back" in page
    page = client.post("/models/digits/rollback", follow_redirects=True).get_data(as_text=True)
    assert "no earlier champion" in page
    with app.app_context():
        assert registry.champion("digits").version == baseline
    assert client.post("/models/versions/999/promote").status_code == 404


def test_the_detector_panel_counts_drawn_faces_and_rejected_boxes_per_day(app, client, login, upload,
                                                                         three_faces_jpeg):
    kept = login()
    upload(three_faces_jpeg, ["emotion7"])
    kept.post("/predictions/1/faces", data={"recognizer": "emotion7", "x": 30, "y": 40, "w": 90, "h": 100})
    kept.post("/detections/1/feedback", data={"label": NOT_A_FACE})
    kept.post("/detections/3/feedback", data={"label": NOT_A_FACE})
    kept.post("/detections/3/undo")
    with app.app_context():
        assert health.report("emotion7")["totals"]["detections"] == 3  # a box that is no face says nothing of the model
        report = health.detector()
    today = utcnow().date().isoformat()
    assert report["totals"] == {"found": 3, "added": 1, "rejected": 1}
    assert report["daily"] == [{"period": today, "added": 1, "rejected": 1}]
    client.post("/logout")
    login("root@example.com")
    with app.app_context():
        reviewers.grant("root@example.com", None)
    page = client.get("/models").get_data(as_text=True)
    assert 'data-test="stat-added">1<' in page and 'data-test="stat-rejected">1<' in page
    assert 'id="chart-detector"' in page and 'id="detector-data"' in page and "dashboard.js" in page


def test_every_rate_shows_its_sample_and_warns_when_it_is_small(app, client, login):
    add(app, ROWS)
    with app.app_context():
        accounts.create_user("admin@example.com", "correct horse", is_admin=True)
    login("admin@example.com")
    page = client.get("/models/digits").get_data(as_text=True)
    assert 'data-test="sample-agreement">n=4 · too few to trust (under 30)<' in page
    row = page.split('data-test="per-class-1"')[1].split("</tr>")[0]
    assert "100.0% <small class=\"sample few\">n=2 · too few" in row and "66.7% <small class=\"sample few\">n=3" in row
    add(app, [("1", "1", Status.CONFIRMED, 0.9, 0)] * 30)
    page = client.get("/models/digits").get_data(as_text=True)
    assert 'data-test="sample-agreement">n=34<' in page
