"""Database migrations (Flask-Migrate on Alembic), loaded only where they run: web workers never import Alembic,
which would cost each of them 11 MB."""
from __future__ import annotations

import click
from flask import Flask, current_app

from app.config import ROOT
from app.extensions import db


def init_migrations(app: Flask) -> None:
    """Attach Flask-Migrate to `app`: what `flask db ...` and flask_migrate's functions read."""
    from flask_migrate import Migrate  # noqa: PLC0415 - see the module docstring

    # render_as_batch: SQLite can only alter tables by copying them.
    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)


def upgrade() -> None:
    """Bring the current app's database to the newest revision."""
    from flask_migrate import upgrade as alembic_upgrade  # noqa: PLC0415

    init_migrations(current_app)
    alembic_upgrade()


class MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's command group, taken over when it runs (the CLI has an app context then)."""

    def _commands(self) -> click.Group:
        from flask_migrate.cli import db as commands  # noqa: PLC0415

        if "migrate" not in current_app.extensions:
            init_migrations(current_app)
        self.params, self.callback = commands.params, commands.callback  # its --directory and --x-arg
        return commands

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        self._commands()
        return super().make_context(info_name, args, parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._commands().get_command(ctx, name)


migration_commands = MigrationCommands("db", help="Perform database migrations (Flask-Migrate).")
