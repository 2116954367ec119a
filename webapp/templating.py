"""Every global and filter the templates use, registered in one place.

Template helpers read what the request already loaded (the user's permissions, the URL map); none
runs SQL of its own: a page's counts come from its view, in the context.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from . import policy
from .assets import area_styles, module_scripts, module_sources
from .media import human_size
from .models import SocialProfile, utcnow
from .networks import network_setup
from .notifications import unread_count
from .posts import HISTORY_LABELS, public_url, status_label
from .shell import shell_context, template_can
from .social_sets import still_holds_message
from .zones import TimeStyle, viewer_style


def profile_removal(profile: SocialProfile) -> str | None:
    """For hiding a Remove button the view would refuse: "everyone", "own" or None."""
    if template_can("profiles.manage", profile):
        return "everyone"
    perms = policy.permissions_for(current_user)
    account_id = perms.groups.get(profile.access_group_id)
    if account_id is not None and perms.role_in(account_id) == "client" and profile.connected_by_id == current_user.id:
        return "own"
    return None


def profile_connect_method() -> str | None:
    """How an empty slot reaches `profiles.connect`: "POST", "GET", or None while no such view exists."""
    if "profiles.connect" not in current_app.view_functions:
        return None
    methods = set().union(*(rule.methods for rule in current_app.url_map.iter_rules("profiles.connect")))
    return "POST" if "POST" in methods else "GET"


def register_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=template_can,
        shell_context=shell_context,
        post_status=status_label,
        post_public_url=public_url,
        now_utc=utcnow,
        time_style=viewer_style,
        history_labels=HISTORY_LABELS,
        network_setup=network_setup,
        profile_removal=profile_removal,
        profile_connect_method=profile_connect_method,
        social_set_still_holds=still_holds_message,
        # The bell's number: the shell's one query of its own besides `shell_context`, once per request.
        unread_notifications=unread_count,
        # "Waiting for your approval" in the sidebar: one query for clients (only they approve), none for staff.
        waiting_for_approval=waiting_for_approval,
        # What a page loads besides the core style sheet and script: see webapp/assets.py.
        area_styles=area_styles,
        module_scripts=module_scripts,
        module_sources=module_sources,
    )
    app.jinja_env.filters["human_size"] = human_size
    app.jinja_env.filters["local"] = local_time


def waiting_for_approval():
    """The signed-in person's approval duty and pending count in the shell's account, once per request."""
    from .review import waiting_for

    return waiting_for(current_user, shell_context().account if current_user.is_authenticated else None)


def local_time(value, form: str = "datetime", style: TimeStyle | None = None) -> str:
    """`{{ post.scheduled_at|local }}`: a moment in the viewer's zone (or `style`'s, in an email)."""
    return (style or viewer_style()).format(value, form)
