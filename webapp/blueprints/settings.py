"""Settings pages of the signed-in user."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from werkzeug.security import check_password_hash

from .. import accounts, auth_session, policy
from ..extensions import db
from ..forms.settings import ChangePasswordForm
from ..htmx import render

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/account", methods=["GET", "POST"])
def account():
    """Your account: change your password (which signs you out everywhere else)."""
    policy.authorize(policy.SELF, current_user)
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            user = current_user._get_current_object()
            accounts.change_password(user, form.new_password.data, keep=auth_session.current_session())
            accounts.record_own_change(user, "user.password_changed")
            db.session.commit()
            flash("Password changed. Your other sessions were signed out.", "success")
            return redirect(url_for("settings.account"), 303)
    status = 422 if form.is_submitted() else 200
    return render("settings/account.html", block="main", form=form, status=status, refresh_shell=False)


@bp.post("/account/sign-out-elsewhere")
def sign_out_elsewhere():
    """End every other session of yours; this one stays signed in."""
    policy.authorize(policy.SELF, current_user)
    user = current_user._get_current_object()
    ended = accounts.end_sessions(user, keep=auth_session.current_session())
    accounts.record_own_change(user, "user.signed_out_elsewhere", after={"sessions_ended": ended})
    db.session.commit()
    if ended == 0:
        flash("You were not signed in anywhere else.", "info")
    else:
        flash(f"Signed out of {ended} other session{'' if ended == 1 else 's'}. This one stays signed in.", "success")
    return redirect(url_for("settings.account"), 303)
