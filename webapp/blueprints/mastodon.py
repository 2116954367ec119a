"""Mastodon: connecting a profile from the instance the person names, then off to sign in there."""
from __future__ import annotations

from flask import Blueprint, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import mastodon
from .. import profiles as rules
from ..extensions import db
from ..forms.mastodon import InstanceForm
from ..htmx import hx_redirect, render
from ..models import Network, SocialProfile, SocialSet
from .profiles import server_connection

bp = Blueprint("mastodon", __name__)


@bp.route("/social-sets/<int:set_id>/connect/mastodon", methods=["GET", "POST"])
def connect(set_id: int):
    """Ask which instance the profile lives on; then register Roster there if need be and send the
    person to the instance's sign-in and consent."""
    started = server_connection(set_id, Network.MASTODON, InstanceForm)
    if isinstance(started, Response):
        return started
    social_set, form, back_url, reconnecting = (started.social_set, started.form, started.back_url,
                                                started.reconnecting)
    if request.method == "GET":
        if reconnecting is not None and reconnecting.service_url:
            form.instance.data = mastodon.host_of(reconnecting.service_url)
        return _page(social_set, form, reconnecting, back_url)
    if not form.validate_on_submit():
        return _page(social_set, form, reconnecting, back_url, 422)
    try:
        server_url = mastodon.instance_url(form.instance.data)
        if reconnecting is not None and reconnecting.service_url and server_url != reconnecting.service_url:
            raise mastodon.InstanceProblem(f"@{reconnecting.handle} is on {mastodon.host_of(reconnecting.service_url)}: "
                                           "reconnect it there.")
        client = mastodon.connecting_client(server_url)
    except mastodon.InstanceProblem as problem:
        db.session.rollback()
        form.instance.errors = [problem.message]
        return _page(social_set, form, reconnecting, back_url, 422)
    authorization_url = rules.begin_authorization(session, client, social_set, current_user, form.origin.data,
                                                  reconnecting, server_url=server_url)
    db.session.commit()  # Roster's app on the instance, and the instance's limits
    return hx_redirect(authorization_url)


def _page(social_set: SocialSet, form: InstanceForm, reconnecting: SocialProfile | None, back_url: str,
          status: int = 200) -> Response:
    return render("mastodon/connect.html", block="instance_form", status=status, refresh_shell=False,
                  page_title="Connect Mastodon", social_set=social_set, form=form, reconnecting=reconnecting,
                  back_url=back_url, action=url_for("mastodon.connect", set_id=social_set.id))
