"""Signing in and out, and first-run setup."""
from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import accounts, auth_session, policy, zones
from ..extensions import db, limiter
from ..forms.auth import SetupForm, SignInForm
from ..models import AccessGroup, User

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    """Where a signed-in user lands: their last group if they may still enter it, else the first."""
    perms = policy.current_permissions()
    if not perms.groups:
        return url_for("groups.no_group")
    target = user.last_access_group_id
    if target not in perms.groups:
        target = db.session.scalar(
            select(AccessGroup.id)
            .where(AccessGroup.id.in_(perms.access_group_ids))
            .order_by(AccessGroup.is_default.desc(), AccessGroup.name)
            .limit(1)
        )
    return url_for("groups.home", group_id=target)


@bp.get("/")
@policy.public
def index():
    """Send each visitor where they belong: setup, sign-in, or their access group."""
    if not accounts.account_exists():
        return redirect(url_for("auth.setup"), 303)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"), 303)
    return redirect(home_for(current_user), 303)


@bp.route("/setup", methods=["GET", "POST"])
@policy.public
def setup():
    """First-run setup: the agency and its owner. Gone once an account exists."""
    if accounts.account_exists():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        created = accounts.create_first_account(
            form.agency_name.data, form.owner_name.data, form.email.data, form.password.data,
            time_zone=form.time_zone.data or "UTC",
        )
        db.session.commit()
        auth_session.sign_in(created.owner)
        flash(f"Welcome to Roster, {created.owner.name}. {created.account.name} is ready.", "success")
        return redirect(url_for("groups.home", group_id=created.default_group.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/setup.html", form=form, zone_names=zones.zone_names()), status


def _failed_sign_in(response) -> bool:
    return response.status_code == 422


def _email_tried() -> str:
    """The account a sign-in is for, so one email cannot be tried from many addresses.

    Hashed: the counter's key stays small whatever was typed in the field.
    """
    email = accounts.normalize_email(request.form.get("email", ""))
    return "sign-in:" + hashlib.sha256(email.encode()).hexdigest()


# Failed sign-ins count twice: per client address (the real one behind ROSTER_PROXIES) and per email.
@bp.route("/login", methods=["GET", "POST"])
@policy.public
@limiter.limit(
    lambda: current_app.config["SIGN_IN_ADDRESS_RATE_LIMIT"],
    methods=["POST"],
    deduct_when=_failed_sign_in,
)
@limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    key_func=_email_tried,
    methods=["POST"],
    deduct_when=_failed_sign_in,
)
def login():
    """Sign in with email and password."""
    if not accounts.account_exists():
        return redirect(url_for("auth.setup"), 303)
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("auth.index"), 303)
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            auth_session.sign_in(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"), 303)
        current_app.logger.warning(
            "failed sign-in for %r from %s", form.email.data, request.remote_addr
        )
        form.password.errors.append("Email or password is incorrect.")
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out: this session ends on the server too, so a copy of its cookie opens nothing."""
    policy.authorize(policy.SELF, current_user)
    auth_session.sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)
