"""Notifications: the bell's list, opening one (the policy asked again), Mark all as read, and
Settings › Your account › Notifications."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import notifications as rules
from .. import policy
from ..extensions import db
from ..forms.notifications import MarkAllReadForm, NotificationListQuery, PreferencesForm
from ..htmx import render

bp = Blueprint("notifications", __name__)


def _signed_in_self():
    policy.authorize(policy.SELF, current_user)
    return current_user._get_current_object()


@bp.get("/notifications")
def index():
    """Your notifications, newest first, a page at a time; those about what you may no longer see are left out."""
    _signed_in_self()
    cursor = NotificationListQuery(request.args).start()
    page = rules.history_page(cursor)
    return render("notifications/index.html", block="items", refresh_shell=False, page=page, cursor=cursor,
                  labels=rules.KIND_LABELS, form=MarkAllReadForm(formdata=None), page_title="Notifications")


@bp.get("/notifications/<int:notification_id>/open", endpoint="open")
def open_notification(notification_id: int):
    """Mark one of your notifications read and go to what it is about, if you may still see it."""
    user = _signed_in_self()
    notification = rules.own_or_404(notification_id, user)
    if notification is None:
        abort(404)
    rules.mark_read(notification)
    target = rules.target_of(notification)
    db.session.commit()
    if target.endpoint is not None:
        return redirect(url_for(target.endpoint, **target.values), 303)
    return render("notifications/unavailable.html", target=target, notification=notification,
                  page_title="No longer available")


@bp.post("/notifications/read")
def read_all():
    """Mark all your notifications as read."""
    user = _signed_in_self()
    form = MarkAllReadForm()
    if not form.validate_on_submit():
        abort(400)
    marked = rules.mark_all_read(user)
    db.session.commit()
    flash("All notifications marked as read." if marked else "Nothing was unread.", "success" if marked else "info")
    return redirect(url_for("notifications.index"), 303)


@bp.route("/settings/notifications", methods=["GET", "POST"])
def preferences():
    """Settings › Your account › Notifications: for each kind, email at once, a daily digest, or the app only."""
    user = _signed_in_self()
    form = PreferencesForm()
    if not form.is_submitted():
        form.process(data=rules.preferences(user))
    elif form.validate():
        rules.set_preferences(user, form.choices())
        db.session.commit()
        flash("Notification settings saved.", "success")
        return redirect(url_for("notifications.preferences"), 303)
    status = 422 if form.is_submitted() else 200
    return render("notifications/preferences.html", block="main", form=form, status=status, refresh_shell=False,
                  in_app_only=[rules.KIND_LABELS[kind] for kind in sorted(rules.IN_APP_ONLY)],
                  digest_at=rules.DIGEST_AT, page_title="Notification settings")
