"""Client approval settings of a profile: whether its posts need approval, and who approves them.

Only clients who can see the profile may approve its posts (DESIGN.md, Client approval): they must
be able to enter its group and must not have removed their own access to it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_, update

from . import audit, brand, policy, zones
from .extensions import db
from .mail import queue_mail, render_mail
from .models import (
    AccessGroup,
    Account,
    Membership,
    Post,
    PostStatus,
    ProfileApprover,
    Role,
    SocialProfile,
    User,
    utcnow,
)
from .urls import external_url


class ApprovalError(ValueError):
    """Approval settings that are refused; nothing was changed."""


def candidates(profile: SocialProfile) -> list[User]:
    """The clients who can see the profile now, and so may approve its posts."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .join(AccessGroup, AccessGroup.account_id == Membership.account_id)
        .where(AccessGroup.id == profile.access_group_id, Membership.role == Role.CLIENT.value,
               policy.sees_profile(User.id, profile.id, utcnow()))
        .order_by(User.name, User.id)
    ))


def approver_ids(profile: SocialProfile) -> list[int]:
    """The profile's approvers whose duty counts now."""
    return list(db.session.scalars(
        select(ProfileApprover.user_id)
        .where(ProfileApprover.social_profile_id == profile.id,
               policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, utcnow()))
        .order_by(ProfileApprover.user_id)))


def without_approver(profile_ids: list[int], now: datetime | None = None) -> set[int]:
    """Those of these profiles that need approval but have nobody whose duty counts now."""
    if not profile_ids:
        return set()
    someone = (
        select(ProfileApprover.user_id)
        .where(ProfileApprover.social_profile_id == SocialProfile.id,
               policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, now or utcnow()))
    )
    return set(db.session.scalars(
        select(SocialProfile.id)
        .where(SocialProfile.id.in_(profile_ids), SocialProfile.needs_approval.is_(True), ~someone.exists())
    ))


def end_lost_duties(account_id: int, actor: User | None, because: str,
                    now: datetime | None = None) -> list[tuple[int, int]]:
    """Clear the approver duty of everyone in the account who may no longer see its profile.

    Called in the transaction of every change that can take access away, so a duty never
    outlives the access it needs. Each ended duty is audited; a profile that needs approval and is
    left with nobody to give it is reported once to the owner and admins. Returns the ended
    (profile, user) pairs.
    """
    now = now or utcnow()
    db.session.flush()
    lost = db.session.execute(
        select(ProfileApprover.social_profile_id, ProfileApprover.user_id, SocialProfile.access_group_id)
        .join(SocialProfile, SocialProfile.id == ProfileApprover.social_profile_id)
        .join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(AccessGroup.account_id == account_id,
               ~policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, now))
        .order_by(ProfileApprover.social_profile_id, ProfileApprover.user_id)
    ).all()
    if not lost:
        return []
    pairs = [(profile_id, user_id) for profile_id, user_id, _ in lost]
    db.session.execute(delete(ProfileApprover).where(
        tuple_(ProfileApprover.social_profile_id, ProfileApprover.user_id).in_(pairs)))
    for profile_id, user_id, group_id in lost:
        audit.record(account_id, actor.id if actor else None, "profile.approver_removed", "social_profile",
                     profile_id, before={"approver_id": user_id}, after={"because": because}, group_id=group_id)
    stranded = without_approver(sorted({profile_id for profile_id, _ in pairs}), now)
    if stranded:
        _tell_admins_nobody_approves(account_id, sorted(stranded))
    return pairs


def _tell_admins_nobody_approves(account_id: int, profile_ids: list[int]) -> None:
    """Email the owner and admins that these profiles need approval and nobody can give it."""
    profiles = list(db.session.scalars(
        select(SocialProfile).where(SocialProfile.id.in_(profile_ids)).order_by(SocialProfile.handle)))
    admins = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == account_id, Membership.role.in_(policy.ADMIN_ROLES),
               policy.membership_live(utcnow()))
        .order_by(User.id)
    ).all()
    links = {profile.id: external_url("profiles.approval", group_id=profile.access_group_id,
                                      profile_id=profile.id) for profile in profiles}
    account = db.session.get(Account, account_id)
    count = len(profiles)
    subject = (f"No one can approve posts for @{profiles[0].handle}" if count == 1
               else f"No one can approve posts for {count} profiles")
    for admin in admins:
        text_body, html_body = render_mail("approver_needed", recipient=admin, profiles=profiles, links=links,
                                           account=account, style=zones.style_for(admin, account))
        queue_mail(admin.email, subject, text_body, html_body, sender_name=brand.sender_name(account))


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
                        "pending_posts_scheduled": released}, group_id=profile.access_group_id)
    db.session.flush()
