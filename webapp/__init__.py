"""Roster: a self-hosted workspace for social-media and talent agencies."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, SecurityError
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from . import urls
from .extensions import compress, csrf, db, limiter, login_manager, migrate

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Roster app; `config` overrides settings read from the environment."""
    app = Flask(__name__, instance_relative_config=True)
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config_module.from_environment(instance_path))
    if config:
        app.config.update(config)
        app.config["SECRET_KEY_GIVEN"] |= "SECRET_KEY" in config
    urls.configure(app)
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)
    # A request may carry one upload of the largest size allowed, plus its form fields.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["MEDIA_MAX_BYTES"] + 1024 * 1024

    # First of the after-request hooks, so it runs last: it compresses the body every other hook left.
    compress.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from . import auth_session

    auth_session.init_login(app)
    _register_blueprints(app)
    _register_security(app)
    _register_errors(app)
    _register_templates(app)

    from .cli import register_cli

    register_cli(app)
    from .logs import init_logging

    init_logging(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .blueprints import (
        access_groups, access_review, auth, calendar, campaigns, groups, health, invitations, media, members,
        organize, posts, profiles, review, settings, social_sets, team, user_groups,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(groups.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(access_groups.bp)
    app.register_blueprint(social_sets.bp)
    app.register_blueprint(team.bp)
    app.register_blueprint(invitations.bp)
    app.register_blueprint(profiles.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(organize.bp)
    app.register_blueprint(posts.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(user_groups.bp)
    app.register_blueprint(access_review.bp)
    app.register_blueprint(health.bp)
    from .blueprints import passwords

    app.register_blueprint(passwords.bp)
    from .blueprints import brand

    app.register_blueprint(brand.bp)
    from .blueprints import notifications

    app.register_blueprint(notifications.bp)
    from .blueprints import approvals

    app.register_blueprint(approvals.bp)
    from .blueprints import activity

    app.register_blueprint(activity.bp)
    from .blueprints import mastodon

    app.register_blueprint(mastodon.bp)
    from .blueprints import bluesky

    app.register_blueprint(bluesky.bp)
    from .blueprints import page_picker

    app.register_blueprint(page_picker.bp)
    from .blueprints import linkedin

    app.register_blueprint(linkedin.bp)
    if app.config["SANDBOX_PROVIDER"]:
        from . import sandbox

        app.register_blueprint(sandbox.bp)


def _register_security(app: Flask) -> None:
    from .policy import check_policy_was_asked, public

    public(app.view_functions["static"])

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.after_request(check_policy_was_asked)

    @app.errorhandler(SecurityError)
    def _untrusted_host(error):
        # The request named a host Roster is not served at (TRUSTED_HOSTS). No page is built: its
        # links would need a host, and the only right one is ROSTER_URL.
        message = f"Roster is not served at this address. Open {app.config['ROSTER_URL']} instead.\n"
        return message, 400, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


def _register_errors(app: Flask) -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    from .htmx import is_htmx
    from .media import human_size

    def _error_page(status: int, title: str, message: str):
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(404)
    def _not_found(error):
        return _error_page(404, "Page not found", "This page does not exist, or you do not have access to it.")

    @app.errorhandler(403)
    def _forbidden(error):
        # A view may say why (abort(403, description=...)); otherwise the general words.
        said = error.description if error.description != Forbidden.description else None
        return _error_page(403, "Not allowed", said or "You can see this, but you are not allowed to do that here.")

    @app.errorhandler(CSRFError)
    def _csrf_failed(error):
        # Every form carries a token tied to the session; this answers one that lost it (a page left
        # open past the sign-in, or a form sent from another site). Nothing was changed.
        message = "This page was open too long to send. Nothing was changed: reload the page and try again."
        if is_htmx():  # shown in the page's flash area (app.js reads it from the error response)
            return render_template("errors/_message.html", message=message), 400
        return _error_page(400, "This page has expired", message)

    @app.errorhandler(429)
    def _too_many(error):
        return _error_page(
            429, "Too many attempts", "Too many failed sign-ins. Wait a minute, then try again."
        )

    @app.errorhandler(413)
    def _too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] - 1024 * 1024
        message = f"That file is too large. Files may be up to {human_size(limit)}."
        if is_htmx():
            return render_template("errors/_message.html", message=message), 413
        return _error_page(413, "File too large", message)

    @app.errorhandler(500)
    def _server_error(error):
        return _error_page(500, "Something went wrong", "The error was logged. Try again in a moment.")

    def _lost_the_database(error: DBAPIError) -> bool:
        """The connection broke mid-request, or none could be made: nothing the statement did wrong."""
        if error.connection_invalidated:
            return True
        # SQLAlchemy raises a failed connect with no statement. SQLite also reports a mistaken statement
        # ("no such table") as an OperationalError: that is a bug to surface, not an outage.
        return isinstance(error, OperationalError) and error.statement is None

    def _render_without_the_database(template: str, **context: Any) -> str:
        # render_template runs the context processors, and Flask-Login's loads the signed-in user: a
        # query, which fails again while the database is away. The error templates need none of them.
        return app.jinja_env.get_template(template).render(**context)

    @app.errorhandler(DBAPIError)
    def _database_unreachable(error: DBAPIError):
        # The database restarted or the network to it dropped, before or during this request: the
        # transaction went with the connection. The pool checks connections before lending them
        # (pool_pre_ping), so the first request after the database is back gets a fresh one.
        if not _lost_the_database(error):
            raise error
        # Closing ends the transaction and lets the connection go without expiring what the request
        # read, as a rollback would: reading the signed-in user later (the access log does) must not query.
        try:
            db.session.close()
        except DBAPIError:
            pass
        # The driver's own words name the host and port at most; the SQL and its parameters stay out.
        detail = str(error.orig).strip().partition("\n")[0]
        app.logger.warning("The database could not be reached (%s): %s", type(error.orig).__name__, detail)
        message = "Nothing was lost. Try again in a minute."
        if is_htmx():
            body = _render_without_the_database("errors/_message.html", message=message)
        else:
            # Loading a page again is safe and is the way on; a refused form is sent again from its page.
            retry = request.full_path.rstrip("?") if request.method == "GET" else None
            body = _render_without_the_database("errors/error.html", status=503, retry_url=retry,
                                                title="Roster can't reach its database", message=message)
        return body, 503, {"Retry-After": "30", "Vary": "HX-Request"}



def _register_templates(app: Flask) -> None:
    from .templating import register_templating

    register_templating(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys on and write-ahead logging for the embedded SQLite database."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
