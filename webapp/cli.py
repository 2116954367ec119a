"""Command-line tasks: `flask demo seed`, `flask users deactivate`, `flask mail send-pending`."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from . import accounts
from .extensions import db
from .models import User


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)


@click.group("demo")
def demo_cli() -> None:
    """The demo agency."""


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the demo agency "Northstar Talent" unless an account already exists."""
    from .demo import DEMO_PASSWORD, seed_demo, demo_logins

    if accounts.account_exists():
        click.echo("An account already exists; the demo is not seeded again.")
    else:
        seed_demo()
        db.session.commit()
        click.echo("Seeded the demo agency Northstar Talent.")
    logins = demo_logins()
    if logins:
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in logins:
            click.echo(f"  {role:<22} {email}")


@click.group("users")
def users_cli() -> None:
    """People who sign in."""


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop EMAIL from signing in and end all their sessions."""
    user = db.session.scalar(select(User).where(User.email == accounts.normalize_email(email)))
    if user is None:
        raise click.ClickException(f"No user has the email {email}.")
    accounts.deactivate(user)
    db.session.commit()
    click.echo(f"{user.email} is deactivated and signed out everywhere.")


@click.group("mail")
def mail_cli() -> None:
    """Outgoing email."""


@mail_cli.command("send-pending")
@click.option("--limit", default=100, show_default=True, help="Most messages to send in this run.")
def send_pending_command(limit: int) -> None:
    """Send the queued mail that is due, and schedule retries for what fails (run it from cron)."""
    from .mail import send_pending

    report = send_pending(limit=limit)
    click.echo(f"Mail: {report.sent} sent, {report.retrying} to retry later, {report.failed} given up.")
