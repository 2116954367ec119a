"""Command-line tasks: `flask demo seed`, `flask users deactivate`, `flask mail send-pending`,
`flask posts publish-due`, `flask sandbox register-client`, and `flask roster ...` for running Roster
(the background worker, backup and restore)."""
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
    app.cli.add_command(posts_cli)
    app.cli.add_command(sandbox_cli)
    app.cli.add_command(roster_cli)


@click.group("roster")
def roster_cli() -> None:
    """Running Roster: the background worker, backup and restore."""


@roster_cli.command("worker")
@click.option("--threads", default=2, show_default=True, help="Tasks this worker runs at once.")
def worker_command(threads: int) -> None:
    """Publish due posts, deliver mail and purge expired tokens, until stopped (SIGTERM or Ctrl-C).

    Start as many as you like, on as many hosts: with WORKER_QUEUE_URL=redis://... they share one
    queue, and each post and message still goes out once.
    """
    from .worker import run

    run(workers=threads)


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
            click.echo(f"  {role:<34} {email}")


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
    """Send the queued mail that is due now, and schedule retries for what fails (the worker does this each minute)."""
    from .mail import send_pending

    report = send_pending(limit=limit)
    click.echo(f"Mail: {report.sent} sent, {report.retrying} to retry later, {report.failed} given up.")


@click.group("posts")
def posts_cli() -> None:
    """Scheduled posts."""


@posts_cli.command("publish-due")
@click.option("--limit", default=100, show_default=True, help="Most posts to publish in this run.")
def publish_due_command(limit: int) -> None:
    """Publish the posts that are due now, and retry what fails (the worker does this each minute; runs may overlap)."""
    from .publishing import publish_due

    report = publish_due(limit=limit)
    click.echo(f"Posts: {report.published} published, {report.failed} failed ({report.given_up} given up), "
               f"{report.skipped} skipped.")


@click.group("sandbox")
def sandbox_cli() -> None:
    """The built-in sandbox OAuth provider."""


@sandbox_cli.command("register-client")
@click.argument("name")
@click.argument("redirect_uris", nargs=-1, required=True)
def register_client_command(name: str, redirect_uris: tuple[str, ...]) -> None:
    """Let another app named NAME use the sandbox, sending people back to REDIRECT_URIS (exact)."""
    from .sandbox import register_sandbox_client

    client_id, client_secret = register_sandbox_client(name, list(redirect_uris))
    db.session.commit()
    click.echo(f"Registered {name} with the sandbox provider.")
    click.echo(f"  client_id:     {client_id}")
    click.echo(f"  client_secret: {client_secret}  (shown once: only its hash is kept)")
    click.echo("  authorize_url: /sandbox/<network>/authorize  (PKCE with S256 required)")
    click.echo("  token_url:     /sandbox/token")
    click.echo("  userinfo:      /sandbox/userinfo")


@roster_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
def backup_command(file: str, overwrite: bool) -> None:
    """Back up every table and every media file, as of one moment, to one zip FILE.

    Social profile tokens stay encrypted in the backup: restoring it needs the same TOKEN_ENCRYPTION_KEY
    (or, where that is not set, the same SECRET_KEY). The file holds everything in Roster, password
    hashes included: keep it as safe as the database.
    """
    from .backup import write_backup

    click.echo(write_backup(file, overwrite=overwrite).summary())


@roster_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def restore_command(file: str) -> None:
    """Restore a backup FILE into this new, empty database and its media folder.

    Run `flask db upgrade` on the new database first.

    Nothing is written until the backup checks out (every part, every count, the database version): a
    backup that is damaged or from another version, or a database that already has data, is refused. Set TOKEN_ENCRYPTION_KEY (or SECRET_KEY) as on the server that made the backup. The
    database may be another kind than the backup's: a SQLite backup restores into PostgreSQL.
    """
    from .backup import restore_backup

    click.echo(restore_backup(file).summary())
