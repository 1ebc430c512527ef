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


@users.command("grant-admin")
@click.argument("email")
def grant_admin(email: str) -> None:
    """Make the existing account EMAIL an administrator."""
    _set_admin(email, True)
    click.echo(f"{email} is an administrator")


@users.command("revoke-admin")
@click.argument("email")
def revoke_admin(email: str) -> None:
    """Take administrator rights away from EMAIL."""
    _set_admin(email, False)
    click.echo(f"{email} is no longer an administrator")


def _set_admin(email: str, admin: bool) -> None:
    try:
        accounts.set_admin(email, admin)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
