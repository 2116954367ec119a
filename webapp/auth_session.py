"""Who is signed in: loading the user from the session, and what happens when nobody is."""
from __future__ import annotations

from flask import Flask, redirect, request, url_for

from .extensions import db, login_manager
from .htmx import hx_redirect, is_htmx
from .models import User


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session holds `<user id>:<session version>`; an older version has been signed out."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


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
