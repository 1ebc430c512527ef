"""The committed migrations build exactly the schema the models describe, and can be undone."""
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
