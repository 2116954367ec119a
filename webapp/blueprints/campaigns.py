"""Sidebar › Campaigns: a group's campaigns, their dates and linked social profiles."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import campaigns as rules
from .. import policy, zones
from ..extensions import db
from ..forms.campaigns import CampaignForm
from ..htmx import is_htmx, push_url, render
from ..models import AccessGroup, Campaign, SocialProfile
from ..shell import enter_group

bp = Blueprint("campaigns", __name__, url_prefix="/g/<int:group_id>/campaigns")

# The block of the list page that holds the New campaign form and the list; create and delete swap it.
BLOCK = "campaigns"


# --- helpers -----------------------------------------------------------------------------------------


def _campaign_in(group: AccessGroup, campaign_id: int) -> Campaign:
    """A campaign of `group` only: another group's campaign id is not found, as is one the user may not see."""
    return policy.get_in_group_or_404(Campaign, campaign_id, group)


def _offered(group: AccessGroup) -> list[SocialProfile]:
    """The group's profiles the user can see: the ones they may link (hidden ones are never offered)."""
    return rules.group_profiles(policy.visible(select(SocialProfile)), group)


def _list_context(group: AccessGroup, form: CampaignForm | None = None, show_all: bool = False,
                  showing: int | None = None) -> dict:
    """The list page: the first campaigns in list order (every one if asked, or if the campaign `showing`,
    just created, would not be among them), and how many there are."""
    profiles = _offered(group)
    rows = rules.campaign_rows(policy.visible(select(Campaign)), group, profiles,
                              rules.today(zones.viewer_zone(group.account)))
    if showing is not None and showing not in {row.campaign.id for row in rows[:rules.SHOWN]}:
        show_all = True
    return dict(
        page_title=f"Campaigns · {group.name}",
        group=group,
        rows=rows if show_all else rows[:rules.SHOWN],
        total=len(rows),
        profiles=profiles,
        form=form or CampaignForm(formdata=None),
        may_manage=policy.can(current_user, "campaigns.manage", group),
    )


def _edit_page(group: AccessGroup, campaign: Campaign, form: CampaignForm, profiles: list[SocialProfile],
               status: int = 200) -> Response:
    return render("campaigns/edit.html", block="main", status=status, page_title=f"{campaign.name} · Campaigns",
                  group=group, campaign=campaign, form=form, profiles=profiles)


def _changed(group: AccessGroup, block: str = BLOCK, showing: int | None = None) -> Response:
    """After a change: a 303 to the list for a plain form; for htmx, the list's `block` (with the
    campaign `showing` in it)."""
    if not is_htmx():
        return redirect(url_for("campaigns.index", group_id=group.id), 303)
    return render("campaigns/index.html", block=block, **_list_context(group, showing=showing))


# --- views -------------------------------------------------------------------------------------------


@bp.get("")
def index(group_id: int):
    """The group's campaigns with their dates, status and profiles, for everyone who may enter the group."""
    group = enter_group(group_id)
    show_all = request.args.get("all") == "1"
    return render("campaigns/index.html", block="main", **_list_context(group, show_all=show_all))


@bp.post("")
def create(group_id: int):
    """Create a campaign in the group, linked to some of the profiles the user can see."""
    group = enter_group(group_id, "campaigns.manage")
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = rules.create_campaign(group, form.details(), _offered(group), current_user)
        except rules.CampaignError as problem:
            db.session.rollback()
            form.refuse(problem)
        else:
            db.session.commit()
            flash(f"Campaign “{campaign.name}” created.", "success")
            return _changed(group, showing=campaign.id)
    return render("campaigns/index.html", block=BLOCK, status=422, **_list_context(group, form))


@bp.get("/<int:campaign_id>/edit")
def edit(group_id: int, campaign_id: int):
    """A campaign's name, dates and profiles, to change."""
    group = enter_group(group_id, "campaigns.manage")
    campaign = _campaign_in(group, campaign_id)
    profiles = _offered(group)
    return _edit_page(group, campaign, CampaignForm.of(campaign, profiles), profiles)


@bp.post("/<int:campaign_id>")
def update(group_id: int, campaign_id: int):
    """Save a campaign's name, dates and profiles; links to profiles hidden from the user stay."""
    group = enter_group(group_id, "campaigns.manage")
    campaign = _campaign_in(group, campaign_id)
    profiles = _offered(group)
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            changed = rules.update_campaign(campaign, form.details(), profiles, current_user)
        except rules.CampaignError as problem:
            db.session.rollback()
            form.refuse(problem)
        else:
            db.session.commit()
            flash(f"Campaign “{campaign.name}” saved." if changed else f"“{campaign.name}” is unchanged.",
                  "success")
            response = _changed(group, block="main")
            if is_htmx():
                # The list replaced the edit page, so the address bar follows.
                push_url(response, url_for("campaigns.index", group_id=group.id))
            return response
    return _edit_page(group, campaign, form, profiles, status=422)


@bp.post("/<int:campaign_id>/delete")
def delete(group_id: int, campaign_id: int):
    """Delete one of the group's campaigns, after the confirmation dialog."""
    group = enter_group(group_id, "campaigns.manage")
    campaign = _campaign_in(group, campaign_id)
    name = campaign.name
    rules.delete_campaign(campaign, current_user)
    db.session.commit()
    flash(f"Campaign “{name}” deleted.", "success")
    return _changed(group)
