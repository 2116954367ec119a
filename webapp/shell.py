"""What the app shell (sidebar and switcher) shows on every page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, g, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .extensions import db
from .htmx import hx_redirect, is_htmx
from .models import AccessGroup, Account
from .policy import ENTER, Verdict, authorize, decide, permissions_for, require_signed_in, visible

# Above this many groups the switcher offers a filter box.
SWITCHER_FILTER_THRESHOLD = 7


@dataclass(frozen=True)
class Shell:
    group: AccessGroup | None
    account: Account | None
    group_count: int
    filter_threshold: int = SWITCHER_FILTER_THRESHOLD


def template_can(action: str, obj: Any) -> bool:
    """For templates hiding a button the view would refuse anyway; not a policy check of the view."""
    return decide(permissions_for(current_user), action, obj) is Verdict.ALLOWED


def shell_context() -> Shell:
    """The group the shell shows: the page's group, else the user's last group they may still enter."""
    cached = g.get("_shell")
    if cached is not None:
        return cached
    perms = permissions_for(current_user)
    group = g.get("access_group")
    if group is None and perms.groups:
        last = getattr(current_user, "last_access_group_id", None)
        group = db.session.get(AccessGroup, last if last in perms.groups else min(perms.groups))
    shell = Shell(
        group=group,
        account=group.account if group is not None else None,
        group_count=len(perms.groups),
    )
    g._shell = shell
    return shell


def enter_group(group_id: int, right: str = ENTER) -> AccessGroup:
    """The group a /g/<group>/ page is about, if the user may do `right` there, made the shell's group.

    A group the user may not enter is a 404 (an open htmx tab of someone who lost access is sent to a
    group they may still enter); one they enter without `right` is a 403.
    """
    require_signed_in()
    group = db.session.scalar(
        visible(select(AccessGroup)).where(AccessGroup.id == group_id).options(joinedload(AccessGroup.account))
    )
    if group is None:
        if is_htmx():
            response = hx_redirect(url_for("auth.index"))
            response.status_code = 404
            abort(response)
        abort(404)
    authorize(right, group)
    g.access_group = group
    return group


def current_account() -> Account:
    """The account a settings page is about: the one of the group the user is working in."""
    require_signed_in()
    account = shell_context().account
    if account is None:
        abort(404)
    return account


def account_for(action: str) -> Account:
    """The current account, once the policy agreed the user may do `action` on it (or stop)."""
    account = current_account()
    authorize(action, account)
    return account
