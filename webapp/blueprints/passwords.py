"""Getting back in: "Forgot password?", the emailed reset link, and setting a new password from it.

These pages are public: the emailed token is the credential, and each view checks it itself. The
first visit moves the token's hash into the session and redirects to the clean URL, so the token
stays out of the address bar, the history and any Referer. Opening the link changes nothing (mail
scanners open links too): only posting the form uses it.
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from .. import accounts, auth_session, policy
from .. import password_resets as rules
from ..extensions import db, limiter
from ..forms.passwords import ForgotPasswordForm, ResetPasswordForm
from ..models import User

bp = Blueprint("passwords", __name__, url_prefix="/password")

# The session key holding the hash of the link being used (never the token itself).
SESSION_KEY = "password_reset"
SENT = "If an account uses that address, we have emailed a link to set a new password. It works for one hour."
TOO_MANY = ("Too many reset links were asked for from here or for this address. Wait an hour, then try "
            "again. A link sent earlier still works for an hour after it was sent.")


@bp.after_request
def _keep_the_link_private(response: Response) -> Response:
    """Never send the page's address on, never keep a copy: the link is a credential."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _email_asked() -> str:
    """The address a link is asked for, so one address cannot be flooded from many clients.

    Hashed: the counter's key stays small whatever was typed in the field."""
    email = accounts.normalize_email(request.form.get("email", ""))
    return "password-reset:" + hashlib.sha256(email.encode()).hexdigest()


@bp.errorhandler(429)
def _too_many(error):
    """Refused by a rate limit: the form again, saying so, and nothing about the address."""
    form = ForgotPasswordForm()
    return render_template("passwords/forgot.html", form=form, refused=TOO_MANY), 429


# Every request counts twice: per client address (the real one behind ROSTER_PROXIES) and per email.
@bp.route("/forgot", methods=["GET", "POST"])
@policy.public
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_ADDRESS_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT"], key_func=_email_asked,
               methods=["POST"])
def forgot():
    """Ask for a reset link by email; the answer is the same whether or not anyone uses the address."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        rules.request_for(form.email.data)
        db.session.commit()
        flash(SENT, "info")
        return redirect(url_for("auth.login"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("passwords/forgot.html", form=form, refused=None), status


def _closed():
    """A link that sets nothing (used, expired, replaced or unknown): one page for all, and a way on."""
    session.pop(SESSION_KEY, None)
    return render_template("passwords/closed.html"), 404


@bp.get("/reset/<token>")
@policy.public
def open_link(token: str):
    """The emailed link: keep its hash in the session and go to the clean URL; a dead link says so."""
    token_hash = rules.hash_of(token)
    if rules.find_open(token_hash) is None:
        return _closed()
    session[SESSION_KEY] = token_hash
    return redirect(url_for("passwords.reset"), 303)


@bp.route("/reset", methods=["GET", "POST"])
@policy.public
def reset():
    """Set a new password from the link in the session: it works once, then signs the person in."""
    link = rules.find_open(session.get(SESSION_KEY))
    if link is None:
        return _closed()
    email = db.session.get_one(User, link.user_id).email
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = rules.use(link, form.new_password.data)
        except rules.ResetClosed:
            db.session.rollback()
            return _closed()
        auth_session.sign_in(user)  # a fresh session; commits the new password with it
        flash("Your password was changed. You are signed in; your other sessions were signed out.", "success")
        return redirect(url_for("auth.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("passwords/reset.html", form=form, email=email), status
