"""Who is signed in: sessions kept on the server, the cookie that names one, and what happens when nobody is."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from . import accounts
from .extensions import db, login_manager
from .htmx import hx_redirect, is_htmx
from .models import User, UserSession, utcnow

# How stale a session's last-seen time may get before a request refreshes it (a write per request is waste).
SEEN_EVERY = timedelta(minutes=5)


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_note_session_seen)


@login_manager.user_loader
def load_user(cookie_value: str) -> User | None:
    """The cookie holds `<session id>:<secret>`; an unknown, ended or lapsed session signs nobody in."""
    session_id, _, secret = cookie_value.partition(":")
    if not session_id.isdigit() or not secret:
        return None
    record = accounts.live_session(int(session_id), secret)
    if record is None:
        return None
    g.user_session = record
    return record.user


def current_session() -> UserSession | None:
    """The server-side record of this request's session, or None when nobody is signed in."""
    if not current_user.is_authenticated:
        return None
    return g.get("user_session")


def sign_in(user: User) -> None:
    """Start a fresh session for `user`: nothing of the browser's earlier session, or its sign-in, is kept."""
    earlier = current_session()
    if earlier is not None:
        earlier.ended_at = utcnow()
    session.clear()
    record, secret = accounts.start_session(user)
    db.session.commit()
    login_user(user)
    # Flask-Login hands this value to the user loader on every request: it names the session, not the user.
    session["_user_id"] = f"{record.id}:{secret}"
    g.user_session = record


def sign_out() -> None:
    """End this session on the server and forget it in the browser; other sessions stay signed in."""
    record = current_session()
    if record is not None:
        record.ended_at = utcnow()
        db.session.commit()
    logout_user()
    session.clear()


def _note_session_seen() -> None:
    """Refresh the session's last-seen time now and then; before the view runs, so the commit holds nothing of it."""
    if request.endpoint == "static":
        return
    record = current_session()
    if record is not None and utcnow() - record.last_seen_at >= SEEN_EVERY:
        record.last_seen_at = utcnow()
        db.session.commit()


@login_manager.unauthorized_handler
def send_to_sign_in():
    """A whole-page redirect to sign in; htmx requests get HX-Redirect, never a swapped-in form."""
    next_path = request.full_path.rstrip("?") if request.method == "GET" and not is_htmx() else None
    location = url_for("auth.login", next=next_path) if next_path else url_for("auth.login")
    if is_htmx():
        response = hx_redirect(location)
        response.status_code = 401
        return response
    return redirect(location, 303)
