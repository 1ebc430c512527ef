"""`flask users ...`: account administration from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services import accounts

users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("email")
@click.argument("password")
@click.option("--admin", is_flag=True, help="Give the user administrator rights.")
def create(email: str, password: str, admin: bool) -> None:
    """Create a user who can sign in with EMAIL and PASSWORD."""
    try:
        user = accounts.create_user(email, password, is_admin=admin)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {'admin ' if user.is_admin else ''}user {user.email} (id {user.id})")
