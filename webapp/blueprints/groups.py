"""Access group pages: the group home and the access group switcher."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import getting_started, policy, review
from .approvals import PANEL_LIMIT
from ..extensions import db
from ..forms.groups import GroupFilterForm
from ..htmx import hx_redirect, is_htmx, render
from ..models import AccessGroup, Network, Post, PostStatus, Role, SocialSet
from ..shell import enter_group
from ..zones import account_zone

bp = Blueprint("groups", __name__)

UPCOMING_LIMIT = 10
# Where the switcher's options lead, by the section of the page the user is on.
SECTION_ENDPOINTS = {"home": "groups.home", "profiles": "profiles.index", "calendar": "calendar.index",
                     "media": "media.index", "campaigns": "campaigns.index"}
SWITCHER_LIMIT = 50


@bp.app_url_defaults
def _keep_access_group(endpoint: str, values: dict) -> None:
    """Links to group pages stay in the current group unless told otherwise."""
    group = g.get("access_group")
    if group is not None and "group_id" not in values:
        if current_app.url_map.is_endpoint_expecting(endpoint, "group_id"):
            values["group_id"] = group.id


@bp.get("/g/<int:group_id>/")
def home(group_id: int):
    """The group's overview: its social sets and profiles, media count and upcoming posts."""
    group = enter_group(group_id)
    perms = policy.current_permissions()

    social_sets = db.session.scalars(
        policy.visible(select(SocialSet).where(SocialSet.access_group_id == group.id))
        .options(selectinload(SocialSet.profiles))
        .order_by(SocialSet.position, SocialSet.id)
    ).all()
    for social_set in social_sets:
        social_set.visible_profiles = [
            p for p in social_set.profiles if p.id not in perms.removed_profiles
        ]
    media_count = group.media_count if policy.can(current_user, "media.view", group) else None
    upcoming, drafts = [], []
    if policy.can(current_user, "posts.view", group):
        # Drafts without a time have no day in the calendar: they are listed here.
        drafts = db.session.scalars(
            policy.visible(select(Post))
            .where(Post.access_group_id == group.id, Post.status == PostStatus.DRAFT.value,
                   Post.scheduled_at.is_(None))
            .options(joinedload(Post.social_profile))
            .order_by(Post.updated_at.desc(), Post.id.desc())
            .limit(UPCOMING_LIMIT)
        ).all()
        upcoming = db.session.scalars(
            policy.visible(select(Post))
            .where(
                Post.access_group_id == group.id,
                Post.scheduled_at >= datetime.now(timezone.utc),
                Post.status != PostStatus.PUBLISHED.value,
            )
            .options(joinedload(Post.social_profile))
            .order_by(Post.scheduled_at, Post.id)
            .limit(UPCOMING_LIMIT)
        ).all()
    # An approver sees what waits for them here first (the sidebar's count comes from the same query).
    waiting = review.waiting_for(current_user, group.account)
    waiting_posts = (review.pending_posts_for(current_user, group.account_id, access_group_id=group.id,
                                              limit=PANEL_LIMIT) if waiting.count else [])
    _remember_group(group)
    return render(
        "groups/home.html",
        **_getting_started(group, social_sets, media_count),
        waiting=waiting,
        waiting_posts=waiting_posts,
        groups={group.id: group.name},
        block="main",
        page_title=group.name,
        group=group,
        networks=list(Network),
        social_sets=social_sets,
        media_count=media_count,
        upcoming=upcoming,
        drafts=drafts,
        zone=account_zone(group.account),
    )


def _checklist_links(group: AccessGroup, done: dict[str, bool]) -> dict[str, tuple[str, str]]:
    """For each open checklist item this user may act on: (what to do, where to do it)."""
    links = {}
    if policy.can(current_user, "groups.manage", group):
        links["social_set"] = ("Create a social set", url_for("access_groups.edit", group_id=group.id,
                                                             _anchor="new-set-name"))
    if done["social_set"] and policy.can(current_user, "profiles.connect", group):
        links["profiles"] = ("Connect profiles", url_for("profiles.index", group_id=group.id))
    if policy.can(current_user, "team.invite", group.account):
        links["people"] = ("Invite someone", url_for("team.index", group=group.id, _anchor="invite-heading"))
    elif policy.can(current_user, "group.users", group):
        links["people"] = ("Add people", url_for("access_groups.edit", group_id=group.id, tab="users"))
    if policy.can(current_user, "media.upload", group):
        links["media"] = ("Upload media", url_for("media.index", group_id=group.id))
    if done["profiles"] and policy.can(current_user, "posts.create", group):
        links["post"] = ("Create a post", url_for("posts.new", group_id=group.id))
    return {key: link for key, link in links.items() if not done[key]}


def _getting_started(group: AccessGroup, social_sets: list[SocialSet], media_count: int | None) -> dict:
    """The Overview's way in: the checklist for those who manage the group, next steps for a client,
    and whom to ask for what the viewer may not do."""
    manages = policy.can(current_user, "groups.manage", group)
    checklist = getting_started.checklist(group) if manages else None
    links = _checklist_links(group, {item.key: item.done for item in checklist.items}) if checklist else {}
    is_client = policy.current_permissions().role_in(group.account_id) == Role.CLIENT.value
    start = getting_started.client_start(social_sets, current_user) if is_client else None
    needs_someone = media_count is None or (not social_sets and not manages)
    return {
        "checklist": checklist,
        "checklist_links": links,
        "client_start": start,
        "may_manage_sets": manages,
        "ask": getting_started.who_to_ask(group) if needs_someone else [],
    }


@bp.post("/g/<int:group_id>/checklist/dismiss")
def dismiss_checklist(group_id: int):
    """Put the group's getting-started checklist away, for everyone who manages the group."""
    group = enter_group(group_id, "groups.manage")
    getting_started.dismiss_checklist(group, current_user._get_current_object())
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("groups.home", group_id=group.id), 303)
    return render("groups/home.html", block="checklist", refresh_shell=False, group=group, checklist=None)


def _remember_group(group: AccessGroup) -> None:
    """Remember the last group used, so the next sign-in starts there."""
    if current_user.last_access_group_id != group.id:
        current_user.last_access_group_id = group.id
        db.session.commit()


@bp.get("/g/<int:group_id>/switcher")
def switcher(group_id: int):
    """The groups this user may enter, filtered as they type: the switcher's list, or a page."""
    group = enter_group(group_id)
    form = GroupFilterForm(request.args)
    query = policy.visible(select(AccessGroup)).order_by(AccessGroup.name, AccessGroup.id)
    valid = form.validate()
    text = (form.q.data or "").strip() if valid else ""
    section = (form.section.data if valid else None) or "home"
    if text:
        query = query.where(func.lower(AccessGroup.name).contains(text.lower(), autoescape=True))
    groups = db.session.scalars(query.limit(SWITCHER_LIMIT + 1)).all()
    return render(
        "groups/switch.html",
        block="options",
        refresh_shell=False,
        group=group,
        groups=groups[:SWITCHER_LIMIT],
        more=len(groups) > SWITCHER_LIMIT,
        form=form,
        filtering=bool(text),
        option_endpoint=SECTION_ENDPOINTS[section],
    )


@bp.get("/welcome")
def no_group():
    """For a signed-in user who may not enter any access group yet."""
    policy.authorize(policy.SELF, current_user)
    perms = policy.current_permissions()
    if perms.groups:
        return hx_redirect(url_for("auth.index"))
    return render("groups/none.html", refresh_shell=False,
                  ask=getting_started.agency_contacts(current_user._get_current_object()))
