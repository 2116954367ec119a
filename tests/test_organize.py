"""Organize: staged moves of profiles and sets, the impact preview, atomic apply, conflicts, undo."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from webapp import organize as rules
from webapp import policy
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Campaign,
    CampaignProfile,
    GroupUser,
    MediaItem,
    Network,
    Post,
    PostStatus,
    ProfileApprover,
    Role,
    SocialProfile,
    SocialSet,
)

from . import factories
from .html import HTMX


@pytest.fixture
def agency(app):
    """Maya's group (a set with Instagram and TikTok, posts, media, a campaign, an approver) and Leo's."""
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    closed = factories.make_group(account, "Closed")
    maya_set = factories.make_social_set(maya, "Maya Main")
    instagram = factories.make_profile(maya_set, Network.INSTAGRAM, handle="maya")
    tiktok = factories.make_profile(maya_set, Network.TIKTOK, handle="mayadances")
    leo_set = factories.make_social_set(leo, "Leo Main")
    leo_instagram = factories.make_profile(leo_set, Network.INSTAGRAM, handle="leo")
    empty_set = factories.make_social_set(leo, "Leo Spare")
    closed_set = factories.make_social_set(closed, "Closed set")
    admin = factories.make_member(account, Role.ADMIN, groups=[maya, leo], name="Alex Admin")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Manager")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez")
    leo_creator = factories.make_member(account, Role.CLIENT, groups=[leo], name="Leo Park")
    posts = [factories.make_post(instagram, status) for status in
             (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL)]
    photo = factories.make_media(maya, "beach.png")
    posts[0].media_items = [photo]
    campaign = Campaign(access_group_id=maya.id, name="Summer Launch")
    campaign.profiles = [instagram, tiktok]
    db.session.add(campaign)
    instagram.needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=instagram.id, user_id=creator.id))
    db.session.commit()
    return dict(account=account, maya=maya, leo=leo, closed=closed, maya_set=maya_set, leo_set=leo_set,
                empty_set=empty_set, closed_set=closed_set, instagram=instagram, tiktok=tiktok,
                leo_instagram=leo_instagram, owner=factories.owner_of(account), admin=admin, manager=manager,
                creator=creator, leo_creator=leo_creator, posts=posts, photo=photo, campaign=campaign)


def profile_move(profile, social_set, **changes) -> dict:
    move = {"kind": "profile", "id": profile.id, "to": social_set.id, "version": profile.version,
            "to_version": social_set.version}
    move.update(changes)
    return move


def set_move(social_set, group, **changes) -> dict:
    move = {"kind": "set", "id": social_set.id, "to": group.id, "version": social_set.version}
    move.update(changes)
    return move


def post_moves(client, action: str, *moves, headers=HTMX):
    return client.post(f"/settings/organize/{action}", data={"moves": json.dumps(list(moves))}, headers=headers)


def group_of_posts(profile) -> set[int]:
    return set(db.session.scalars(select(Post.access_group_id).where(Post.social_profile_id == profile.id)))


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def plan_for(agency, *moves, organizable=None):
    parsed = rules.parse_moves(json.dumps(list(moves)))
    groups = organizable or [agency["maya"].id, agency["leo"].id]
    return rules.build_plan(parsed, agency["account"].id, groups)


# --- reading staged moves --------------------------------------------------------------------------


@pytest.mark.parametrize("raw, message", [
    ("", "There are no changes to save"),
    ("[]", "There are no changes to save"),
    ("{", "could not be read"),
    ('[{"kind": "profile", "id": 1, "to": 2, "version": 1}]', "could not be read"),  # no to_version
    ('[{"kind": "group", "id": 1, "to": 2, "version": 1}]', "could not be read"),
    ('[{"kind": "set", "id": "1", "to": 2, "version": 1}]', "could not be read"),
    ('[{"kind": "set", "id": 1, "to": 2, "version": true}]', "could not be read"),
    ('[{"kind": "set", "id": 1, "to": 2, "version": 1}, {"kind": "set", "id": 1, "to": 3, "version": 1}]',
     "staged twice"),
    ("[1]", "could not be read"),
])
def test_malformed_staged_moves_are_refused_whole(raw, message):
    with pytest.raises(rules.OrganizeError, match=message):
        rules.parse_moves(raw)


def test_too_many_moves_are_refused():
    moves = [{"kind": "set", "id": n, "to": 1, "version": 1} for n in range(rules.MOVE_LIMIT + 1)]
    with pytest.raises(rules.OrganizeError, match="at most"):
        rules.parse_moves(json.dumps(moves))


# --- the plan and its preview ----------------------------------------------------------------------


def test_the_preview_says_exactly_what_a_profile_move_does(agency):
    plan = plan_for(agency, profile_move(agency["instagram"], agency["empty_set"]))
    impact = rules.preview(plan, agency["account"].id, agency["owner"])
    [item] = impact.profiles
    assert item.change.from_group.id == agency["maya"].id and item.change.to_group.id == agency["leo"].id
    assert item.posts == {"draft": 1, "scheduled": 1, "pending_approval": 1} and item.pending == 1
    assert item.campaigns == ["Summer Launch"]
    assert [user.name for user in item.approvers_losing] == ["Maya Lopez"] and item.approvers_left == 0
    assert [user.name for user in item.losing] == ["Maya Lopez"]
    assert [user.name for user in item.gaining] == ["Leo Park"]
    assert [(m.name, m.group, m.posts) for m in impact.media] == [("beach.png", "Maya Lopez", 1)]
    assert impact.change_count == 1 and impact.post_total == 3


def test_a_movers_preview_never_names_media_of_a_group_she_may_not_enter(agency):
    """The preview asks the policy who the mover is: an item in a group she may not enter is counted, not named."""
    agency["photo"].access_group_id = agency["closed"].id
    db.session.commit()
    plan = plan_for(agency, profile_move(agency["instagram"], agency["empty_set"]))

    def staying(mover):
        [item] = rules.preview(plan, agency["account"].id, mover).media
        return item.hidden, item.name, item.group, item.posts

    assert staying(agency["admin"]) == (True, "", "", 1)  # Alex enters Maya's and Leo's groups only
    assert staying(agency["owner"]) == (False, "beach.png", "Closed", 1)  # the owner enters every group
    factories.add_to_group(agency["admin"], agency["closed"], expires_at=datetime.now(timezone.utc) - timedelta(days=1))
    db.session.commit()
    assert staying(agency["admin"]) == (True, "", "", 1)  # her entry to the closed group has ended
    db.session.execute(update(GroupUser).where(GroupUser.user_id == agency["admin"].id).values(expires_at=None))
    db.session.commit()
    assert staying(agency["admin"]) == (False, "beach.png", "Closed", 1)


def test_a_move_within_a_group_has_no_effects_beyond_the_set(agency):
    other = factories.make_social_set(agency["maya"], "Maya Deals")
    db.session.commit()
    impact = rules.preview(plan_for(agency, profile_move(agency["tiktok"], other)), agency["account"].id,
                           agency["owner"])
    assert impact.profiles == [] and [c.profile.id for c in impact.within_group] == [agency["tiktok"].id]


def test_a_set_move_carries_all_its_profiles(agency):
    impact = rules.preview(plan_for(agency, set_move(agency["maya_set"], agency["leo"])), agency["account"].id,
                           agency["owner"])
    assert {i.change.profile.id for i in impact.profiles} == {agency["instagram"].id, agency["tiktok"].id}
    assert all(not i.change.moved_alone for i in impact.profiles)


@pytest.mark.parametrize("case, error, message", [
    ("clash", rules.OrganizeError, "“Leo Main” would hold two Instagram profiles"),
    ("stale_profile", rules.Conflict, "changed by someone else"),
    ("stale_destination", rules.Conflict, "changed by someone else"),
    ("stale_set", rules.Conflict, "changed by someone else"),
    ("unknown_profile", rules.Conflict, "no longer exists"),
    ("unknown_set", rules.Conflict, "no longer exists"),
    ("closed_source", rules.OrganizeError, "may not organize"),
    ("closed_target", rules.OrganizeError, "may not organize"),
    ("foreign_group", rules.OrganizeError, "may not organize"),
    ("stale_closed_source", rules.OrganizeError, "may not organize"),
    ("foreign_set", rules.Conflict, "no longer exists"),
    ("foreign_profile", rules.Conflict, "no longer exists"),
])
def test_bad_plans_are_refused(agency, case, error, message):
    other = factories.make_account("Rival")
    foreign = factories.default_group(other)
    foreign_set = factories.make_social_set(foreign, "Rival secret set")
    foreign_profile = factories.make_profile(foreign_set, Network.YOUTUBE, handle="rivalsecret")
    db.session.commit()
    move = {
        "clash": profile_move(agency["instagram"], agency["leo_set"]),
        "stale_profile": profile_move(agency["instagram"], agency["empty_set"], version=99),
        "stale_destination": profile_move(agency["instagram"], agency["empty_set"], to_version=99),
        "stale_set": set_move(agency["maya_set"], agency["leo"], version=99),
        "unknown_profile": {"kind": "profile", "id": 999999, "to": agency["empty_set"].id, "version": 1,
                            "to_version": 1},
        "unknown_set": set_move(agency["maya_set"], agency["leo"], id=999999),
        "closed_source": set_move(agency["closed_set"], agency["leo"]),
        "closed_target": set_move(agency["maya_set"], agency["closed"]),
        "foreign_group": set_move(agency["maya_set"], foreign),
        # Stale versions of rows the user may not organize name nothing: another account's rows
        # answer as a made-up id does.
        "stale_closed_source": set_move(agency["closed_set"], agency["leo"], version=99),
        "foreign_set": set_move(foreign_set, agency["leo"], version=99),
        "foreign_profile": profile_move(foreign_profile, agency["empty_set"], version=99),
    }[case]
    with pytest.raises(error, match=message) as refused:
        plan_for(agency, move)
    assert "Closed set" not in str(refused.value) and "rival" not in str(refused.value).lower()


def test_swapping_networks_between_sets_in_one_plan_is_checked_on_the_final_layout(agency):
    """Instagram leaves Maya Main for the spare set while Leo's Instagram comes in: no clash in the end."""
    plan = plan_for(agency, profile_move(agency["instagram"], agency["empty_set"]),
                    profile_move(agency["leo_instagram"], agency["maya_set"]))
    assert len(plan.leaving) == 2


# --- applying, through the views ---------------------------------------------------------------------


def test_applying_moves_the_profile_its_posts_and_not_the_media(agency, auth, client):
    version_before = agency["instagram"].version
    auth.login(agency["admin"])
    preview = post_moves(client, "preview", profile_move(agency["instagram"], agency["empty_set"]))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<html" not in html
    assert "3 posts move with it" in html and "Campaigns in Maya Lopez lose it: Summer Launch." in html
    assert "Approvers who lose it: Maya Lopez." in html and "It will have no approver" in html
    assert "beach.png (Maya Lopez), used by 1 moving post" in html
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.verb == rules.APPLIED)) == 0  # a preview changes nothing

    response = post_moves(client, "apply", profile_move(agency["instagram"], agency["empty_set"]))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Saved 1 change; 3 posts moved with their profiles." in body
    assert re.search(r'hx-post="/settings/organize/undo/\d+"', body)
    instagram = fresh(agency["instagram"])
    assert (instagram.social_set_id, instagram.access_group_id) == (agency["empty_set"].id, agency["leo"].id)
    assert instagram.version == version_before + 1
    assert group_of_posts(instagram) == {agency["leo"].id}
    assert db.session.get(MediaItem, agency["photo"].id).access_group_id == agency["maya"].id
    assert [m.id for m in db.session.get(Post, agency["posts"][0].id).media_items] == [agency["photo"].id]
    assert db.session.scalars(select(CampaignProfile.social_profile_id)).all() == [agency["tiktok"].id]
    assert db.session.scalars(select(ProfileApprover)).all() == []
    verbs = db.session.scalars(select(AuditEvent.verb).order_by(AuditEvent.id)).all()
    assert verbs[-2:] == ["social_profile.moved", rules.APPLIED]


def test_the_source_creator_loses_sight_of_the_profile_and_its_posts(agency, auth, client):
    auth.login(agency["owner"])
    post_moves(client, "apply", set_move(agency["maya_set"], agency["leo"]))
    auth.login(agency["creator"])
    page = client.get(f"/g/{agency['maya'].id}/profiles").get_data(as_text=True)
    assert "@maya" not in page and "@mayadances" not in page
    assert client.get(f"/g/{agency['leo'].id}/profiles").status_code == 404
    auth.login(agency["leo_creator"])
    page = client.get(f"/g/{agency['leo'].id}/profiles").get_data(as_text=True)
    assert "@maya" in page and "@mayadances" in page


def test_a_set_move_is_a_fixed_number_of_statements_whatever_the_posts(agency, auth, client, count_queries):
    auth.login(agency["owner"])

    def apply_and_count(target) -> int:
        social_set = fresh(agency["maya_set"])
        with count_queries() as counter:
            response = post_moves(client, "apply", set_move(social_set, target))
        assert response.status_code == 200
        return sum(1 for s in counter.statements if re.match(r"\s*(UPDATE|DELETE|INSERT)", s, re.I))

    few = apply_and_count(agency["leo"])
    apply_and_count(agency["maya"])
    instagram = fresh(agency["instagram"])
    for _ in range(200):
        factories.make_post(instagram)
    agency["campaign"].profiles = [instagram]  # the same links and approver as the first time
    db.session.add(ProfileApprover(social_profile_id=instagram.id, user_id=agency["creator"].id))
    db.session.commit()
    many = apply_and_count(agency["leo"])
    assert few == many
    assert group_of_posts(fresh(agency["instagram"])) == {agency["leo"].id}


def test_a_stale_apply_changes_nothing_and_shows_the_current_board(agency, auth, client):
    auth.login(agency["owner"])
    move = set_move(agency["maya_set"], agency["leo"])
    assert post_moves(client, "apply", move).status_code == 200
    again = post_moves(client, "apply", set_move(agency["maya_set"], agency["closed"], version=move["version"]))
    assert again.status_code == 409
    assert again.headers["HX-Retarget"] == "#organize"
    assert "Nothing was moved; the board now shows the current state." in again.get_data(as_text=True)
    assert fresh(agency["maya_set"]).access_group_id == agency["leo"].id


def test_a_clash_at_apply_is_explained_in_the_dialog(agency, auth, client):
    auth.login(agency["admin"])
    response = post_moves(client, "apply", profile_move(agency["instagram"], agency["leo_set"]))
    assert response.status_code == 422 and response.headers["HX-Retarget"] == "#organize-dialog-body"
    assert "would hold two Instagram profiles" in response.get_data(as_text=True)
    assert fresh(agency["instagram"]).social_set_id == agency["maya_set"].id


def test_organize_is_for_owner_and_admins(agency, auth, client):
    for user in (agency["manager"], agency["creator"]):
        auth.login(user)
        assert client.get("/settings/organize").status_code == 403
        assert post_moves(client, "apply", set_move(agency["maya_set"], agency["leo"])).status_code == 403
    auth.login(agency["admin"])
    board = client.get("/settings/organize").get_data(as_text=True)
    assert "Maya Lopez" in board and "Leo Park" in board and "Closed set" not in board
    response = post_moves(client, "apply", set_move(agency["closed_set"], agency["leo"]))
    assert response.status_code == 422 and "may not organize" in response.get_data(as_text=True)


# --- undo ------------------------------------------------------------------------------------------


def undo_url(response) -> str:
    return re.search(r'hx-post="(/settings/organize/undo/\d+)"', response.get_data(as_text=True)).group(1)


def test_undo_puts_everything_back_including_links_and_approvers(agency, auth, client):
    auth.login(agency["owner"])
    applied = post_moves(client, "apply", profile_move(agency["instagram"], agency["empty_set"]),
                         set_move(agency["leo_set"], agency["maya"]))
    undone = client.post(undo_url(applied), headers=HTMX)
    assert undone.status_code == 200
    assert "Undone: everything is back where it was." in undone.get_data(as_text=True)
    instagram = fresh(agency["instagram"])
    assert (instagram.social_set_id, instagram.access_group_id) == (agency["maya_set"].id, agency["maya"].id)
    assert group_of_posts(instagram) == {agency["maya"].id}
    assert fresh(agency["leo_set"]).access_group_id == agency["leo"].id
    assert sorted(db.session.scalars(select(CampaignProfile.social_profile_id))) == sorted(
        [agency["instagram"].id, agency["tiktok"].id])
    assert db.session.scalars(select(ProfileApprover.user_id)).all() == [agency["creator"].id]
    assert client.post(undo_url(applied), headers=HTMX).status_code == 409  # only once


def test_undo_refuses_after_a_newer_change_or_the_window(agency, auth, client):
    auth.login(agency["owner"])
    first = post_moves(client, "apply", set_move(agency["maya_set"], agency["leo"]))
    post_moves(client, "apply", set_move(fresh(agency["maya_set"]), agency["closed"]))
    refused = client.post(undo_url(first), headers=HTMX)
    assert refused.status_code == 409 and "Could not undo" in refused.get_data(as_text=True)
    assert fresh(agency["maya_set"]).access_group_id == agency["closed"].id

    latest = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == rules.APPLIED)
                                .order_by(AuditEvent.id.desc())).first()
    latest.created_at = datetime.now(timezone.utc) - timedelta(seconds=rules.UNDO_SECONDS + 10)
    db.session.commit()
    late = client.post(f"/settings/organize/undo/{latest.id}", headers=HTMX)
    assert late.status_code == 409 and "30 seconds" in late.get_data(as_text=True)


def test_only_the_person_who_moved_may_undo(agency, auth, client):
    auth.login(agency["owner"])
    applied = post_moves(client, "apply", set_move(agency["maya_set"], agency["leo"]))
    auth.login(agency["admin"])
    response = client.post(undo_url(applied), headers=HTMX)
    assert response.status_code == 409 and "nothing to undo" in response.get_data(as_text=True)
    assert fresh(agency["maya_set"]).access_group_id == agency["leo"].id


def test_policy_entrants_count_owners_users_tab_and_user_groups_but_not_expired_ones(agency):
    past = datetime.now(timezone.utc) - timedelta(days=1)
    expired = factories.make_member(agency["account"], Role.MANAGER, name="Gone Manager")
    factories.add_to_group(expired, agency["leo"], expires_at=past)
    staff = factories.make_member(agency["account"], Role.MANAGER, name="Via Group")
    factories.make_user_group(agency["account"], "Staff", members=[staff], grants=[agency["leo"]])
    db.session.commit()
    found = policy.entrants_by_group([agency["leo"].id])[agency["leo"].id]
    assert agency["owner"].id in found and agency["leo_creator"].id in found and staff.id in found
    assert expired.id not in found and agency["creator"].id not in found


def test_counts_by_status_use_the_posts_not_the_profile_rows(agency):
    """A profile with no posts moves with a zero count and an empty breakdown."""
    impact = rules.preview(plan_for(agency, profile_move(agency["tiktok"], agency["empty_set"])),
                           agency["account"].id, agency["owner"])
    assert impact.profiles[0].post_count == 0 and impact.profiles[0].posts == {}
    assert SocialSet and SocialProfile  # the models the plan reads


def test_a_set_cannot_arrive_where_a_set_of_its_name_is_and_goes_last(agency, auth, client):
    factories.make_social_set(agency["leo"], "maya main")
    db.session.commit()
    with pytest.raises(rules.OrganizeError, match="already has a social set called “Maya Main”"):
        plan_for(agency, set_move(agency["maya_set"], agency["leo"]))
    other = factories.make_social_set(agency["maya"], "Maya Deals")
    db.session.commit()
    auth.login(agency["owner"])
    assert post_moves(client, "apply", set_move(other, agency["leo"])).status_code == 200
    positions = dict(db.session.execute(select(SocialSet.name, SocialSet.position)
                                        .where(SocialSet.access_group_id == agency["leo"].id)).all())
    others = [position for name, position in positions.items() if name != "Maya Deals"]
    assert positions["Maya Deals"] > max(others)
