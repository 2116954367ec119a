"""Scenarios more than one test file starts from, and the steps they take in them.

Each builder is a plain function that makes a small world, commits it and returns its parts by
name; tests/conftest.py gives each a thin fixture. A scenario only one file uses stays in that file.
"""
from __future__ import annotations

from datetime import datetime, timezone

from webapp import review
from webapp.extensions import db
from webapp.models import Network, Post, PostStatus, ProfileApprover, ReviewLink, Role

from . import factories

# Sunday 15 June 2031, 12:00 UTC: 14:00 in Berlin (summer time).
SCHEDULED = datetime(2031, 6, 15, 12, 0, tzinfo=timezone.utc)


# --- posts waiting for approval, and review links to decide on them -------------------------------


def review_agency() -> dict:
    """Sam (a manager) wrote posts for two profiles that need approval: Maya approves one, Jonah the other."""
    account = factories.make_account("Northstar")
    account.time_zone = "Europe/Berlin"
    group = factories.make_group(account, "Maya Lopez")
    sam = factories.make_member(account, Role.MANAGER, groups=[group], name="Sam Okafor", email="sam@example.test")
    maya = factories.make_member(account, Role.CLIENT, groups=[group], name="Maya Lopez", email="maya@example.test")
    jonah = factories.make_member(account, Role.CLIENT, groups=[group], name="Jonah Reed",
                                  email="jonah@example.test")
    social_set = factories.make_social_set(group)
    instagram = factories.make_profile(social_set, Network.INSTAGRAM, "mayalopez")
    tiktok = factories.make_profile(social_set, Network.TIKTOK, "jonahreed")
    for profile, approver in ((instagram, maya), (tiktok, jonah)):
        profile.needs_approval = True
        db.session.add(ProfileApprover(social_profile_id=profile.id, user_id=approver.id))

    def pending(profile, caption: str) -> Post:
        post = factories.make_post(profile, PostStatus.PENDING_APPROVAL, caption=caption)
        post.author_id, post.scheduled_at, post.version = sam.id, SCHEDULED, 1
        return post

    first = pending(instagram, "Behind the scenes of today's shoot")
    second = pending(instagram, "New drop this Friday")
    jonahs = pending(tiktok, "Jonah's studio session")
    db.session.commit()
    return {"account": account, "group": group, "sam": sam, "maya": maya, "jonah": jonah,
            "instagram": instagram, "first": first, "second": second, "jonahs": jonahs}


def issue(agency: dict, posts=None, reviewer: str = "maya") -> tuple[ReviewLink, str]:
    """A link for the reviewer covering `posts` (all their pending posts by default), committed."""
    who = agency[reviewer]
    posts = review.pending_posts_for(who, agency["account"].id) if posts is None else posts
    link, token = review.issue_link(who, posts, agency["sam"])
    db.session.commit()
    return link, token


def opened(app, token: str):
    """A fresh browser that opened the emailed link (its token now in the review cookie)."""
    browser = app.test_client()
    response = browser.get(f"/review/{token}")
    assert response.status_code == 303, response.status_code
    return browser


def decide(browser, post: Post, decision: str, note: str = ""):
    """Post a decision on `post` from a browser holding a review link."""
    return browser.post(f"/review/posts/{post.id}", data={"decision": decision, "note": note})


# --- what the database keeps ----------------------------------------------------------------------


def tables_holding(text: str) -> set[str]:
    """The tables with a value that contains `text`, read straight from the database."""
    found = set()
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    shown = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if text in shown:
                        found.add(table.name)
    return found
