"""Client approval settings of a profile: whether its posts need approval, and who approves them.

Only clients who can see the profile may approve its posts (DESIGN.md, Client approval): they must
be able to enter its group and must not have removed their own access to it.
"""
from __future__ import annotations

from sqlalchemy import delete, select, update

from . import audit
from .extensions import db
from .models import (
    AccessGroup,
    Membership,
    Post,
    PostStatus,
    ProfileAccessRemoval,
    ProfileApprover,
    Role,
    SocialProfile,
    User,
)
from .organize import entrants_by_group


class ApprovalError(ValueError):
    """Approval settings that are refused; nothing was changed."""


def candidates(profile: SocialProfile) -> list[User]:
    """The clients who can see the profile, and so may approve its posts."""
    account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == profile.access_group_id))
    entrants = entrants_by_group([profile.access_group_id], account_id)[profile.access_group_id]
    removed = select(ProfileAccessRemoval.user_id).where(ProfileAccessRemoval.social_profile_id == profile.id)
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(User.id.in_(entrants), User.id.not_in(removed), Membership.account_id == account_id,
               Membership.role == Role.CLIENT.value)
        .order_by(User.name, User.id)
    ))


def approver_ids(profile: SocialProfile) -> list[int]:
    return list(db.session.scalars(
        select(ProfileApprover.user_id).where(ProfileApprover.social_profile_id == profile.id)))


def set_approval(profile: SocialProfile, needs_approval: bool, chosen: list[int], actor: User) -> None:
    """Save the settings; turning approval on needs at least one approver, each a client who sees it."""
    chosen = list(dict.fromkeys(chosen))
    allowed = {user.id: user for user in candidates(profile)}
    if needs_approval and not chosen:
        raise ApprovalError("Choose at least one approver: posts that need approval need someone to approve them.")
    refused = [user_id for user_id in chosen if user_id not in allowed]
    if refused:
        account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == profile.access_group_id))
        names = db.session.scalars(  # only the account's own people are named
            select(User.name).join(Membership, Membership.user_id == User.id)
            .where(User.id.in_(refused), Membership.account_id == account_id).order_by(User.name)).all()
        who = ", ".join(names) if names else "That person"
        raise ApprovalError(f"Only clients who can see @{profile.handle} can approve its posts; {who} cannot.")
    if not needs_approval:
        chosen = []
    before = {"needs_approval": profile.needs_approval, "approver_ids": sorted(approver_ids(profile))}
    db.session.execute(delete(ProfileApprover).where(ProfileApprover.social_profile_id == profile.id))
    db.session.add_all(ProfileApprover(social_profile_id=profile.id, user_id=user_id) for user_id in chosen)
    released = 0
    if profile.needs_approval and not needs_approval:
        # Nobody is asked any more: what was waiting is scheduled as it stands.
        released = db.session.execute(
            update(Post).where(Post.social_profile_id == profile.id,
                               Post.status == PostStatus.PENDING_APPROVAL.value)
            .values(status=PostStatus.SCHEDULED.value).execution_options(synchronize_session=False)
        ).rowcount
    profile.needs_approval = needs_approval
    account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == profile.access_group_id))
    audit.record(account_id, actor.id, "profile.approval_changed", "social_profile", profile.id, before=before,
                 after={"needs_approval": needs_approval, "approver_ids": sorted(chosen),
                        "pending_posts_scheduled": released})
    db.session.flush()
