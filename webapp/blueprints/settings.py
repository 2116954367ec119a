"""Settings pages of the signed-in user."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_user
from werkzeug.security import check_password_hash

from .. import accounts, policy
from ..extensions import db
from ..forms import ChangePasswordForm
from ..htmx import render
from ..models import AuditEvent, Membership
from sqlalchemy import select

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
            accounts.change_password(user, form.new_password.data)
            account_ids = db.session.scalars(
                select(Membership.account_id).where(Membership.user_id == user.id)
            ).all()
            for account_id in account_ids:
                db.session.add(AuditEvent(
                    account_id=account_id, actor_id=user.id, verb="user.password_changed",
                    object_type="user", object_id=user.id,
                ))
            db.session.commit()
            login_user(user)  # this session carries the new version and stays signed in
            flash("Password changed. Your other sessions were signed out.", "success")
            return redirect(url_for("settings.account"), 303)
    status = 422 if form.is_submitted() else 200
    return render("settings/account.html", block="main", form=form, status=status, refresh_shell=False)
