"""The committed migrations build exactly the schema the models describe, and can be undone."""
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from app.schema import init_migrations


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_upgrade_downgrade_upgrade(app_settings, tmp_path):
    app = create_app({**app_settings, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite'}"})
    init_migrations(app)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} == tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == tables


def test_web_workers_do_not_import_alembic_but_flask_db_works(tmp_path):
    """Alembic costs every web worker 11 MB: only `flask db ...` loads it."""
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    probe = "import sys, wsgi; print('alembic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
    flask = [str(Path(sys.executable).parent / "flask")]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    current = subprocess.run([*flask, "db", "current"], env=env, check=True, capture_output=True, text=True)
    assert "(head)" in current.stdout


def test_drawn_faces_revision_keeps_existing_detections(app_settings, tmp_path):
    """a3dd1151402e dates every existing detection by its photo and marks it found by the detector; going back,
    a box marked not a face reads as corrected, the one status the earlier schema has for it."""
    app = create_app({**app_settings, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'data.sqlite'}"})
    init_migrations(app)
    taken = "2026-11-30 08:00:00.000000"
    rows = [
        "INSERT INTO users (id, email, password_hash, is_admin, created_at) VALUES (1, 'a@example.com', 'x', 0, "
        f"'{taken}')",
        f"INSERT INTO predictions (id, user_id, created_at, width, height) VALUES (1, 1, '{taken}', 640, 480)",
        "INSERT INTO results (id, prediction_id, recognizer, model_version, duration_ms) VALUES (1, 1, 'emotion7', "
        "'v1', 1.0)",
        *(f"INSERT INTO detections (id, result_id, position, x, y, w, h, predicted_label, confidence, probabilities, "
          f"label, status) VALUES ({i}, 1, {i - 1}, 0, 0, 10, 10, 'happy', 0.9, '{{}}', 'happy', 'unreviewed')"
          for i in (1, 2)),
    ]
    with app.app_context():
        upgrade(revision="32b62d991cf3")
        with db.engine.begin() as connection:
            for row in rows:
                connection.execute(text(row))
        upgrade(revision="a3dd1151402e")
        with db.engine.begin() as connection:
            found = connection.execute(text("SELECT source, created_at, model_version FROM detections")).all()
            assert found == [("detector", taken, None)] * 2
            connection.execute(text("UPDATE detections SET status = 'not_a_face', label = '_not_a_face' WHERE id = 2"))
        downgrade(revision="32b62d991cf3")
        columns = {c["name"] for c in inspect(db.engine).get_columns("detections")}
        assert not columns & {"source", "created_at", "model_version"}
        with db.engine.connect() as connection:
            statuses = connection.execute(text("SELECT id, status FROM detections ORDER BY id")).all()
        assert statuses == [(1, "unreviewed"), (2, "corrected")]
