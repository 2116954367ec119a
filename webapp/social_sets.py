"""Rules about social sets: create, rename and delete a set in an access group, within the plan."""
from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import func, select

from . import audit, names, plans
from .extensions import db
from .models import AccessGroup, Account, SocialProfile, SocialSet, User
from .names import normalized_name

NAME_MAX_LENGTH = 120


class SocialSetError(ValueError):
    """A change to a social set that cannot be made, with the reason to show."""


def _checked_name(name: str) -> str:
    name = normalized_name(name)
    if not name:
        raise SocialSetError("Enter a name for the social set.")
    if len(name) > NAME_MAX_LENGTH:
        raise SocialSetError(f"Keep the name to {NAME_MAX_LENGTH} characters or fewer.")
    return name


def _name_taken(group: AccessGroup, name: str, except_id: int | None = None) -> bool:
    return names.name_taken(SocialSet, SocialSet.access_group_id, group.id, name, except_id)


def _claiming(group: AccessGroup, name: str, except_id: int | None = None) -> AbstractContextManager[None]:
    return names.claiming(SocialSet, SocialSet.access_group_id, group.id, name, _duplicate(group, name), except_id)


def _duplicate(group: AccessGroup, name: str) -> SocialSetError:
    return SocialSetError(f"“{group.name}” already has a social set called “{name}”.")


def next_position(group: AccessGroup) -> int:
    """The position that puts a new set after every set already in `group`."""
    highest = db.session.scalar(
        select(func.max(SocialSet.position)).where(SocialSet.access_group_id == group.id)
    )
    return 0 if highest is None else highest + 1


def profile_count(social_set: SocialSet) -> int:
    """How many social profiles sit in the set's slots."""
    return db.session.scalar(
        select(func.count(SocialProfile.id)).where(SocialProfile.social_set_id == social_set.id)
    )


def still_holds_message(name: str, profiles: int) -> str:
    """Why a set that still holds profiles cannot be deleted."""
    held = "1 social profile" if profiles == 1 else f"{profiles:,} social profiles"
    pronoun = "it" if profiles == 1 else "them"
    return f"“{name}” still holds {held}. Remove or move {pronoun} before deleting the set."


def create_social_set(group: AccessGroup, name: str, actor: User) -> SocialSet:
    """A new social set at the end of `group`, with a name unique in the group, within the plan's limit."""
    name = _checked_name(name)
    # Two workers creating sets in one account at once must not both pass the plan check:
    # lock the account row (PostgreSQL; SQLite serialises writers anyway).
    db.session.execute(select(Account.id).where(Account.id == group.account_id).with_for_update())
    if _name_taken(group, name):
        raise _duplicate(group, name)
    try:
        plans.check_social_set_limit(group.account)
    except plans.PlanLimitReached as limit:
        raise SocialSetError(str(limit)) from None
    social_set = SocialSet(access_group_id=group.id, name=name, position=next_position(group))
    with _claiming(group, name):
        db.session.add(social_set)
    audit.record(group.account_id, actor.id, "social_set.created", "social_set", social_set.id,
                 after={"name": name, "access_group_id": group.id}, group_id=group.id)
    return social_set


def rename_social_set(social_set: SocialSet, name: str, actor: User) -> bool:
    """Give `social_set` a new name, unique in its group; False when the name did not change."""
    name = _checked_name(name)
    group = social_set.access_group
    if _name_taken(group, name, except_id=social_set.id):
        raise _duplicate(group, name)
    if name == social_set.name:
        return False
    before = social_set.name
    with _claiming(group, name, except_id=social_set.id):
        social_set.name = name
    audit.record(group.account_id, actor.id, "social_set.renamed", "social_set", social_set.id,
                 before={"name": before}, after={"name": name}, group_id=group.id)
    return True


def delete_social_set(social_set: SocialSet, actor: User) -> None:
    """Delete a social set that holds no profiles."""
    held = profile_count(social_set)
    if held:
        raise SocialSetError(still_holds_message(social_set.name, held))
    audit.record(social_set.access_group.account_id, actor.id, "social_set.deleted", "social_set",
                 social_set.id, before={"name": social_set.name, "access_group_id": social_set.access_group_id},
                 group_id=social_set.access_group_id)
    db.session.delete(social_set)
