"""Settings pages of the signed-in user."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from werkzeug.security import check_password_hash

from .. import accounts, agency, auth_session, policy, zones
from ..brand import DEFAULT_ACCENT
from ..extensions import db
from ..forms.agency import AgencyForm, TimeZoneForm
from ..forms.settings import ChangePasswordForm
from ..htmx import render
from ..shell import account_for, shell_context

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
    return render("settings/account.html", block="main", form=form, status=status, refresh_shell=False,
                  **_zone_context())


def _zone_context(zone_form: TimeZoneForm | None = None) -> dict:
    """The "Time zone" part of Your account: the form, and the agency's zone it offers."""
    user = current_user._get_current_object()
    account = shell_context().account
    if zone_form is None:
        zone_form = TimeZoneForm(formdata=None, zone_choice="own" if user.time_zone else "agency",
                                 time_zone=user.time_zone or "")
    return dict(zone_form=zone_form, zone_names=zones.zone_names(), agency_zone=account.time_zone if account else None,
                effective_zone=zones.user_zone(user, account).key)


@bp.post("/account/time-zone")
def time_zone():
    """Your account: read times in the agency's time zone, or in your own."""
    policy.authorize(policy.SELF, current_user)
    form = TimeZoneForm()
    if not form.validate_on_submit():
        return render("settings/account.html", block="main", status=422, refresh_shell=False,
                      form=ChangePasswordForm(formdata=None), **_zone_context(form))
    user = current_user._get_current_object()
    before = user.time_zone
    user.time_zone = form.time_zone.data if form.zone_choice.data == "own" else None
    if user.time_zone != before:
        accounts.record_own_change(user, "user.time_zone_changed", after={"time_zone": user.time_zone})
    db.session.commit()
    flash(f"Times now show in {user.time_zone}." if user.time_zone else "Times now show in the agency's time zone.",
          "success")
    return redirect(url_for("settings.account", _anchor="time-zone"), 303)


@bp.route("/agency", methods=["GET", "POST"])
def agency_settings():
    """Settings › Agency: the agency's name, time zone, week start, clock and brand (owner and admins)."""
    account = account_for("agency.manage")
    form = AgencyForm(obj=account)
    if not form.is_submitted():
        form.accent_color.data = account.accent_color or DEFAULT_ACCENT
        form.week_start.data = account.week_start or "monday"
        form.clock.data = account.clock or "24h"
    if form.validate_on_submit():
        old_logo, new_logo = account.logo_key, account.logo_key
        try:
            if form.logo.data:
                new_logo = agency.store_logo(agency.logo_png(form.logo.data.stream))
            elif form.remove_logo.data:
                new_logo = None
        except agency.LogoError as problem:
            form.logo.errors = [str(problem)]
        else:
            changes = agency.AgencyChanges(
                name=form.name.data, time_zone=form.time_zone.data, week_start=form.week_start.data,
                clock=form.clock.data, accent_color=form.accent_color.data.lower(), logo_key=new_logo)
            changed = agency.update_agency(account, changes, current_user._get_current_object())
            db.session.commit()
            if new_logo != old_logo:
                agency.drop_logo(old_logo)
            flash("Agency settings saved." if changed else "Nothing changed.", "success" if changed else "info")
            return redirect(url_for("settings.agency_settings"), 303)
    status = 422 if form.is_submitted() else 200
    return render("settings/agency.html", block="main", status=status, refresh_shell=False, account=account,
                  form=form, zone_names=zones.zone_names(), logo_url=_logo_url(account))


def _logo_url(account) -> str | None:
    if not account.logo_key:
        return None
    return url_for("brand.logo", account_id=account.id, key=account.logo_key)


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
