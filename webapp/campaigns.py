"""Rules about campaigns: a group's named, dated campaigns and the social profiles they are for.

A campaign belongs to one access group and links some of that group's profiles. Someone who changes
a campaign chooses among the profiles they can see; links to profiles hidden from them stay as they are.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from typing import Any

from sqlalchemy import Select, select

from . import audit, names
from .extensions import db
from .models import AccessGroup, Campaign, CampaignProfile, Network, SocialProfile, User
from .names import normalized_name

NAME_MAX_LENGTH = 120
NETWORK_ORDER = {network.value: position for position, network in enumerate(Network)}


class CampaignError(ValueError):
    """A change to a campaign that cannot be made: the message says why, `field` which input is at fault."""

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CampaignDetails:
    """What a campaign form says: the name, the dates and the ids of the profiles to link."""

    name: str
    starts_on: date | None = None
    ends_on: date | None = None
    profile_ids: tuple[int, ...] = ()


class Status(enum.Enum):
    """Where a campaign stands today; the order is the list's order."""

    RUNNING = "Running"
    UPCOMING = "Upcoming"
    UNDATED = "No dates"
    ENDED = "Ended"


def today(zone: tzinfo = timezone.utc) -> date:
    """The date campaigns are measured against: today in the viewer's zone, as every time Roster shows."""
    return datetime.now(zone).date()


def status_on(campaign: Campaign, day: date) -> Status:
    """Whether `campaign` is upcoming, running or ended on `day`, or has no dates at all."""
    if campaign.starts_on is None and campaign.ends_on is None:
        return Status.UNDATED
    if campaign.starts_on is not None and day < campaign.starts_on:
        return Status.UPCOMING
    if campaign.ends_on is not None and campaign.ends_on < day:
        return Status.ENDED
    return Status.RUNNING


def profile_order(profile: SocialProfile) -> tuple[int, str, int]:
    """Profiles in the networks' usual order (the slots' order), then by handle."""
    return NETWORK_ORDER.get(profile.network, len(NETWORK_ORDER)), profile.handle.lower(), profile.id


@dataclass(frozen=True)
class CampaignRow:
    """One campaign as the list shows it: where it stands, and the linked profiles the user may see."""

    campaign: Campaign
    status: Status
    profiles: list[SocialProfile]

    def sort_key(self) -> tuple[int, float, str, int]:
        """Running ones ending soonest, upcoming ones starting soonest, undated newest, ended latest first."""
        campaign = self.campaign
        if self.status is Status.RUNNING:
            moment = campaign.ends_on.toordinal() if campaign.ends_on else float("inf")
        elif self.status is Status.UPCOMING:
            moment = campaign.starts_on.toordinal()
        elif self.status is Status.UNDATED:
            moment = -campaign.created_at.timestamp()
        else:
            moment = -campaign.ends_on.toordinal()
        return list(Status).index(self.status), moment, campaign.name.lower(), campaign.id


def group_profiles(scoped: Select, group: AccessGroup) -> list[SocialProfile]:
    """The group's profiles among `scoped` (the policy's select of profiles), in network order."""
    profiles = db.session.scalars(scoped.where(SocialProfile.access_group_id == group.id))
    return sorted(profiles, key=profile_order)


SHOWN = 20  # campaigns the list shows before "Show all", running and upcoming ones first


def campaign_rows(
    scoped: Select, group: AccessGroup, profiles: Sequence[SocialProfile], day: date
) -> list[CampaignRow]:
    """The group's campaigns in list order, each with its status on `day` and its links among `profiles`.

    `scoped` is the policy's select of campaigns; `profiles` are those the user may see (`group_profiles`).
    Two queries, whatever the number of campaigns: the links are read by group, not campaign by campaign.
    """
    campaigns = db.session.scalars(scoped.where(Campaign.access_group_id == group.id)).all()
    links = db.session.execute(
        select(CampaignProfile.campaign_id, CampaignProfile.social_profile_id)
        .join(Campaign, Campaign.id == CampaignProfile.campaign_id)
        .where(Campaign.access_group_id == group.id)
    )
    seen = {profile.id: profile for profile in profiles}
    linked: dict[int, list[SocialProfile]] = {}
    for campaign_id, profile_id in links:
        if profile_id in seen:
            linked.setdefault(campaign_id, []).append(seen[profile_id])
    rows = [
        CampaignRow(campaign, status_on(campaign, day), sorted(linked.get(campaign.id, []), key=profile_order))
        for campaign in campaigns
    ]
    return sorted(rows, key=CampaignRow.sort_key)


# --- creating, changing and deleting -----------------------------------------------------------------


def _taken(group: AccessGroup, name: str) -> CampaignError:
    return CampaignError(f"“{group.name}” already has a campaign called “{name}”.")


def _name_taken(group: AccessGroup, name: str, except_id: int | None = None) -> bool:
    return names.name_taken(Campaign, Campaign.access_group_id, group.id, name, except_id)


def _claiming(group: AccessGroup, name: str, except_id: int | None = None) -> AbstractContextManager[None]:
    return names.claiming(Campaign, Campaign.access_group_id, group.id, name, _taken(group, name), except_id)


def _profiles_word(count: int) -> str:
    return "1 profile" if count == 1 else f"{count} profiles"


def _checked(
    group: AccessGroup, details: CampaignDetails, offered: Iterable[SocialProfile], except_id: int | None = None
) -> tuple[str, list[SocialProfile]]:
    """The tidied name and the profiles to link, or CampaignError naming the first problem."""
    name = normalized_name(details.name)
    if not name:
        raise CampaignError("Enter a name for the campaign.")
    if len(name) > NAME_MAX_LENGTH:
        raise CampaignError(f"Keep the name to {NAME_MAX_LENGTH} characters or fewer.")
    if _name_taken(group, name, except_id):
        raise _taken(group, name)
    if details.starts_on and details.ends_on and details.ends_on < details.starts_on:
        raise CampaignError("The end date cannot be before the start date.", field="ends_on")
    # Only profiles of this group may be linked, whatever the caller offered.
    linkable = {profile.id: profile for profile in offered if profile.access_group_id == group.id}
    chosen = list(dict.fromkeys(details.profile_ids))
    refused = [profile_id for profile_id in chosen if profile_id not in linkable]
    if refused:
        verb = "is" if len(refused) == 1 else "are"
        raise CampaignError(
            f"{_profiles_word(len(refused))} you chose {verb} not among the social profiles of “{group.name}” "
            "you can see, so nothing was saved. Choose from the list.",
            field="profiles",
        )
    return name, [linkable[profile_id] for profile_id in chosen]


def _group_of(campaign: Campaign) -> AccessGroup:
    """The campaign's group: the one the view loaded, from the session, without another query."""
    return db.session.get(AccessGroup, campaign.access_group_id)


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    """A campaign's state for the audit log."""
    return {
        "access_group_id": campaign.access_group_id,
        "name": campaign.name,
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else None,
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
        "profile_ids": sorted(profile.id for profile in campaign.profiles),
    }


def create_campaign(
    group: AccessGroup, details: CampaignDetails, offered: Iterable[SocialProfile], actor: User
) -> Campaign:
    """A new campaign in `group`, named uniquely there, linked to chosen profiles among `offered`."""
    name, profiles = _checked(group, details, offered)
    campaign = Campaign(access_group_id=group.id, name=name, starts_on=details.starts_on,
                        ends_on=details.ends_on, profiles=profiles)
    with _claiming(group, name):
        db.session.add(campaign)
    audit.record(group.account_id, actor.id, "campaign.created", "campaign", campaign.id,
                 after=_snapshot(campaign), group_id=group.id)
    return campaign


def update_campaign(
    campaign: Campaign, details: CampaignDetails, offered: Iterable[SocialProfile], actor: User
) -> bool:
    """Change a campaign's name, dates and links among `offered`; False when nothing changed.

    Links to profiles that were not offered (hidden from the user) are kept.
    """
    offered = list(offered)
    group = _group_of(campaign)
    name, chosen = _checked(group, details, offered, except_id=campaign.id)
    before = _snapshot(campaign)
    offered_ids = {profile.id for profile in offered}
    kept = [profile for profile in campaign.profiles if profile.id not in offered_ids]
    campaign.starts_on, campaign.ends_on = details.starts_on, details.ends_on
    campaign.profiles = kept + chosen
    after = {**_snapshot(campaign), "name": name}
    if after == before:
        return False
    with _claiming(group, name, except_id=campaign.id):
        campaign.name = name
    audit.record(group.account_id, actor.id, "campaign.updated", "campaign", campaign.id,
                 before=before, after=after, group_id=group.id)
    return True


def delete_campaign(campaign: Campaign, actor: User) -> None:
    """Delete a campaign; its links go with it, the profiles and their posts stay."""
    audit.record(_group_of(campaign).account_id, actor.id, "campaign.deleted", "campaign", campaign.id,
                 before=_snapshot(campaign), group_id=campaign.access_group_id)
    db.session.delete(campaign)
