"""Bluesky: connecting a profile by signing in with its handle and an app password."""
from __future__ import annotations

import time

from flask import Blueprint, flash, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import profiles as rules
from ..extensions import db
from ..forms.bluesky import ConnectForm
from ..htmx import hx_redirect, is_partial, render, retarget
from ..models import Network, SocialProfile, SocialSet
from ..publishers import bluesky
from .profiles import problem_page, server_connection

bp = Blueprint("bluesky", __name__)


@bp.route("/social-sets/<int:set_id>/connect/bluesky", methods=["GET", "POST"])
def connect(set_id: int):
    """Ask for the profile's handle, an app password and its server; sign in there and store the
    profile in the slot (or sign a profile that needs it in again, or offer a transfer)."""
    started = server_connection(set_id, Network.BLUESKY, ConnectForm)
    if isinstance(started, Response):
        return started
    social_set, form, back_url, reconnecting = (started.social_set, started.form, started.back_url,
                                                started.reconnecting)
    if request.method == "GET":
        if reconnecting is not None:
            form.handle.data = reconnecting.handle
            form.service_url.data = reconnecting.service_url or bluesky.DEFAULT_SERVICE
        return _page(social_set, form, reconnecting, back_url)
    if not form.validate_on_submit():
        return _page(social_set, form, reconnecting, back_url, 422)
    try:
        signed_in = bluesky.sign_in(form.service_url.data, form.handle.data, form.app_password.data)
    except bluesky.SignInFailed as failure:
        field = getattr(form, failure.field) if failure.field else None
        if field is not None:
            field.errors = [failure.message]
        return _page(social_set, form, reconnecting, back_url, 422, None if field else failure.message)
    pending = rules.PendingConnection(
        state="", verifier="", user_id=current_user.id, access_group_id=social_set.access_group_id,
        social_set_id=social_set.id, network=Network.BLUESKY.value, expires_at=time.time(),
        origin=form.origin.data, reconnect_profile_id=reconnecting.id if reconnecting else None,
        server_url=signed_in.service_url,
    )
    try:
        outcome = rules.connect_found(session, pending, social_set, bluesky.connection_token(signed_in),
                                      bluesky.connection_profile(signed_in), current_user)
        db.session.commit()
    except rules.ProfileProblem as problem:
        db.session.rollback()
        bluesky.sign_out(signed_in)
        return problem_page(problem, back_url)
    except IntegrityError:  # someone filled the slot at the same moment
        db.session.rollback()
        bluesky.sign_out(signed_in)
        return problem_page(rules.slot_taken(Network.BLUESKY, rules.slot_holder(social_set, Network.BLUESKY)), back_url)
    if isinstance(outcome, rules.TransferOffer):
        bluesky.sign_out(signed_in)  # the profile already has its own sign-in where it is
        response = render("profiles/transfer.html", block="main", refresh_shell=False, page_title="Already connected",
                          offer=outcome, back_url=back_url)
        return retarget(response, "#main", swap="innerHTML") if is_partial() else response
    done = "reconnected in" if reconnecting else "connected to"
    flash(f"Bluesky profile @{outcome.profile.handle} {done} “{social_set.name}”.", "success")
    return hx_redirect(back_url)


def _page(social_set: SocialSet, form: ConnectForm, reconnecting: SocialProfile | None, back_url: str,
          status: int = 200, problem: str | None = None) -> Response:
    return render("bluesky/connect.html", block="connect_form", status=status, refresh_shell=False,
                  page_title="Connect Bluesky", social_set=social_set, form=form, reconnecting=reconnecting,
                  back_url=back_url, problem=problem, app_passwords_url=bluesky.APP_PASSWORDS_URL,
                  action=url_for("bluesky.connect", set_id=social_set.id))
