"""Posts: the composer, and the post page (preview, history, comments, approval)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from .. import media as media_rules
from .. import members, network_rules, paging, policy, review, zones
from .. import posts as rules
from ..extensions import db
from ..forms.posts import (
    CommentForm,
    ComposeForm,
    ComposerQuery,
    ConfirmForm,
    DecisionForm,
    ListQuery,
    PickerQuery,
)
from ..htmx import is_htmx, is_partial, render
from ..models import AccessGroup, MediaItem, Post, PostStatus, SocialProfile, User
from ..shell import enter_group

bp = Blueprint("posts", __name__)

PICKER_SIZE = 24


@dataclass(frozen=True)
class PostList:
    """One of the post page's lists: its words, the right that reads it, and how a page of it loads."""

    name: str  # its view (posts.<name>) and its total in `rules.ListCounts`
    heading: str
    label: str  # the list's accessible name
    noun: str  # in "Show all 12 comments"
    earlier: str  # the link to the page after a page of it
    empty: str | None
    right: str
    oldest_first: bool  # a thread or a timeline reads oldest first: its earlier rows load above it
    rows: str  # the template of a page's rows
    load: Callable[[Post, str | None, int], paging.Page]
    who: str  # the column of a row naming the person it is by (shown by `members.shown_names`)

    @property
    def endpoint(self) -> str:
        return f"posts.{self.name}"


COMMENTS = PostList("comments", "Comments", "Comments", "comments", "Earlier comments", "No comments yet.",
                    "posts.view", True, "posts/_comments.html", rules.comments_page, "author_id")
DECISIONS = PostList("decisions", "Decisions", "Approval decisions", "decisions", "Earlier decisions",
                     "No decision yet.", "posts.view", True, "posts/_decisions.html", rules.decisions_page,
                     "reviewer_id")
REVIEW_LINKS = PostList("review_links", "Review links", "Review links", "review links", "Older review links",
                        "No review links.", "posts.edit", False, "posts/_review_links.html", review.links_page,
                        "reviewer_id")
HISTORY = PostList("history", "History", "Status history", "events", "Earlier history", None,
                   "posts.view", True, "posts/_history.html", rules.history_page, "actor_id")


@dataclass(frozen=True)
class ShownList:
    """The rows of a list that a page shows, in reading order, the list's total and where its next page starts.

    A `preview` is the post page's newest few, whose "Show all" link opens the whole list."""

    of: PostList
    rows: list[Any]
    total: int | None  # not counted for a page of rows loaded into a page that says it already
    next_cursor: str | None
    preview: bool
    names: members.ShownNames = field(default_factory=members.ShownNames)  # by user id, see `_named`


# --- helpers -----------------------------------------------------------------------------------------


def _post(group: AccessGroup, post_id: int, right: str, with_media: bool = True) -> Post:
    """A post of this group the user may see (404 otherwise), and `right` on it (403), with its profile
    (and its attachments, unless the page shows none)."""
    loads = [joinedload(Post.social_profile)] + ([selectinload(Post.media_items)] if with_media else [])
    post = policy.get_in_group_or_404(Post, post_id, group, *loads)
    policy.authorize(right, post)
    return post


def _shown(post_list: PostList, post: Post, total: int | None, cursor: str | None = None,
           preview: bool = False) -> ShownList:
    """A page of one of the post's lists (the newest few for a preview), ready to show."""
    page = post_list.load(post, cursor, rules.LIST_PREVIEW if preview else rules.LIST_PAGE_SIZE)
    rows = page.rows[::-1] if post_list.oldest_first else page.rows  # pages come newest first
    return ShownList(post_list, rows, total, page.next_cursor, preview)


def _named(account_id: int, *shown: ShownList | None, also: tuple[int | None, ...] = ()):
    """The lists, each with the names of the people its rows are by, and those names (with `also`'s),
    found in one query: a former member of the agency is shown as one."""
    ids = set(also)
    for one in shown:
        if one is not None:
            ids.update(getattr(row, one.of.who) for row in one.rows)
    names = members.shown_names(account_id, ids)
    return [None if one is None else replace(one, names=names) for one in shown], names


def _group_profiles(group: AccessGroup) -> list[SocialProfile]:
    return list(db.session.scalars(
        policy.visible(select(SocialProfile)).where(SocialProfile.access_group_id == group.id)
        .order_by(SocialProfile.network, SocialProfile.handle)
    ))


def _chosen_media(group: AccessGroup, ids: list[int]) -> list[MediaItem]:
    """The chosen library items, in the order chosen; an item of another group is refused."""
    if not ids:
        return []
    found = {item.id: item for item in db.session.scalars(
        policy.visible(select(MediaItem)).where(MediaItem.id.in_(ids), MediaItem.access_group_id == group.id))}
    if len(found) != len(set(ids)):
        raise rules.PostError("Attach items from this group's media library.", field="media")
    return [found[item_id] for item_id in dict.fromkeys(ids)]


def _shown_media(group: AccessGroup, ids: list[int], post: Post | None) -> list[MediaItem]:
    """The chosen items the composer shows again: the group's own, and the post's attachments (which
    may have moved on). Ids of anything else, sent back by a refused form, name nothing here."""
    if not ids:
        return []
    attached = [item.id for item in post.media_items] if post else []
    found = {item.id: item for item in db.session.scalars(
        select(MediaItem).where(
            MediaItem.id.in_(ids[:network_rules.ATTACHMENT_LIMIT]),
            or_(MediaItem.access_group_id == group.id, MediaItem.id.in_(attached)),
        ))}
    return [found[item_id] for item_id in dict.fromkeys(ids) if item_id in found]


def _when(group: AccessGroup, form: ComposeForm) -> datetime | None:
    """The chosen date and time, read in the viewer's time zone, as UTC.

    A time the clocks skip is refused; one they go through twice needs the form's choice of which."""
    if form.date.data is None and form.time.data is None:
        return None
    if form.date.data is None or form.time.data is None:
        raise rules.PostError("Choose both a date and a time.", field="scheduled_at")
    fold = int(form.fold.data) if form.fold.data in ("0", "1") else None
    try:
        return zones.to_utc(form.date.data, form.time.data, zones.viewer_zone(group.account), fold)
    except zones.AmbiguousTime as twice:
        problem = rules.PostError(str(twice), field="fold")
        problem.choices = twice.choices
        raise problem from None
    except zones.LocalTimeError as problem:
        raise rules.PostError(str(problem), field="scheduled_at") from None


def _draft(group: AccessGroup, form: ComposeForm, profiles: list[SocialProfile]) -> rules.Draft:
    """What the validated composer says; its profiles are among `profiles`, the ones it offered."""
    by_id = {profile.id: profile for profile in profiles}
    chosen = [by_id[p] for p in dict.fromkeys(form.profiles.data or [])]
    return rules.Draft(chosen, (form.caption.data or "").replace("\r\n", "\n"),
                       _chosen_media(group, form.media.data or []), _when(group, form), form.options())


def _composer(group: AccessGroup, form: ComposeForm, post: Post | None = None, status: int = 200,
              problem: rules.PostError | None = None) -> Response:
    profiles = [post.social_profile] if post else _group_profiles(group)
    chosen_media = _shown_media(group, form.media.data or [], post)
    chosen = set(form.profiles.data or []) if not post else {post.social_profile_id}
    # Every rule the post as shown breaks, for each chosen profile's network (the script keeps this
    # list as the person types and attaches; the server checks the same rules when it is scheduled).
    by_profile = network_rules.rules_for(profiles)
    breaks = network_rules.broken([by_profile[profile.id] for profile in profiles if profile.id in chosen],
                                  (form.caption.data or "").replace("\r\n", "\n"), chosen_media, form.options())
    return render(
        "posts/compose.html", status=status, page_title="Edit post" if post else "New post", group=group,
        form=form, post=post, profiles=profiles, chosen_media=chosen_media,
        composer_rules=network_rules.for_composer(by_profile),
        breaks=breaks, options_offered=network_rules.options_offered(profile.network for profile in profiles),
        option_networks={option: sorted(takers) for option, takers in network_rules.OPTION_NETWORKS.items()},
        content_warning_max=network_rules.CONTENT_WARNING_MAX, problem=problem,
        zone=zones.viewer_zone(group.account), may_pick_media=policy.can(current_user, "media.view", group),
    )


# --- composing ---------------------------------------------------------------------------------------


@bp.get("/g/<int:group_id>/posts/new")
def new(group_id: int):
    """The composer for a new post (one per chosen profile)."""
    group = enter_group(group_id, "posts.create")
    query = ComposerQuery(request.args)
    form = ComposeForm(formdata=None, date=query.date.data if query.validate() else None)
    return _composer(group, form)


@bp.post("/g/<int:group_id>/posts")
def create(group_id: int):
    """Save the composer's posts as drafts, or schedule them."""
    group = enter_group(group_id, "posts.create")
    profiles = _group_profiles(group)
    form = ComposeForm(offered=profiles)
    if not form.validate_on_submit():
        return _composer(group, form, status=422, problem=form.problem())
    try:
        created = rules.create_posts(group, _draft(group, form, profiles), current_user,
                                     schedule=bool(form.schedule.data))
    except rules.PostError as problem:
        db.session.rollback()
        return _composer(group, form, status=422, problem=problem)
    db.session.commit()
    count = len(created)
    noun = "post" if count == 1 else "posts"
    flash(rules.scheduled_message(created) if form.schedule.data else f"Saved {count} {noun} as draft.", "success")
    if count == 1:
        return redirect(url_for("posts.show", group_id=group.id, post_id=created[0].id), 303)
    return redirect(url_for("groups.home", group_id=group.id), 303)


@bp.get("/g/<int:group_id>/posts/media-picker")
def media_picker(group_id: int):
    """Library items to attach, filtered as the person types; the chosen ones stay on top."""
    group = enter_group(group_id, "media.view")
    query = PickerQuery(request.args)
    query.validate()
    chosen_ids = list(dict.fromkeys(query.media.data or []))[:network_rules.ATTACHMENT_LIMIT]
    # The group was entered with media.view: its items are the ones the user may see.
    chosen = {item.id: item for item in db.session.scalars(media_rules.by_id_in(group, chosen_ids))
              } if chosen_ids else {}  # an empty IN would have the database look at every item
    statement = policy.visible(select(MediaItem)).where(MediaItem.access_group_id == group.id)
    text = (query.q.data or "").strip()
    if text:
        statement = statement.where(func.lower(MediaItem.name).contains(text.lower(), autoescape=True))
    if chosen:
        statement = statement.where(MediaItem.id.not_in(list(chosen)))
    found = db.session.scalars(
        statement.order_by(MediaItem.created_at.desc(), MediaItem.id.desc()).limit(PICKER_SIZE)).all()
    return render("posts/_picker.html", refresh_shell=False, group=group,
                  chosen=[chosen[i] for i in chosen_ids if i in chosen], found=found, text=text)


# --- one post -----------------------------------------------------------------------------------------


@bp.get("/g/<int:group_id>/posts/<int:post_id>")
def show(group_id: int, post_id: int):
    """The post: preview, status and history, attachments, comments and approval decisions."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, "posts.view")
    return _post_page(group, post)


def _post_page(group: AccessGroup, post: Post, status: int = 200, comment_form: CommentForm | None = None,
               decision_form: DecisionForm | None = None, problem: str | None = None) -> Response:
    may_edit = policy.can(current_user, "posts.edit", post)
    needs_approval = post.social_profile.needs_approval
    approvers = rules.approvers_of(post.social_profile) if needs_approval else []
    counts = rules.list_counts(post)
    (history, comments, decisions, review_links), names = _named(
        group.account_id,
        _shown(HISTORY, post, counts.history, preview=True),
        _shown(COMMENTS, post, counts.comments, preview=True),
        _shown(DECISIONS, post, counts.decisions, preview=True) if needs_approval else None,
        _shown(REVIEW_LINKS, post, counts.review_links, preview=True) if may_edit and needs_approval else None,
        also=(post.author_id,))
    return render(
        "posts/show.html", status=status, page_title=f"{post.social_profile.network_label} post", group=group,
        post=post, zone=zones.viewer_zone(group.account), author=names[post.author_id] if post.author_id else None,
        options=network_rules.options_in_words(post.options),
        history=history, comments=comments, decisions=decisions, review_links=review_links,
        comment_form=comment_form or CommentForm(formdata=None),
        decision_form=decision_form or DecisionForm(formdata=None), confirm_form=ConfirmForm(formdata=None),
        may_edit=may_edit, may_comment=policy.can(current_user, "posts.comment", post),
        may_decide=_may_decide(post, approvers), problem=problem,
        approvers=approvers, approving={approver.id for approver in approvers},
    )


def _may_decide(post: Post, approvers: list[User]) -> bool:
    """The post waits for approval and the user approves its profile (`approvers`, loaded when the
    profile needs approval, already say who does)."""
    if post.status != PostStatus.PENDING_APPROVAL.value:
        return False
    if post.social_profile.needs_approval:
        return any(approver.id == current_user.id for approver in approvers)
    return rules.is_approver(current_user, post)


@bp.get("/g/<int:group_id>/posts/<int:post_id>/comments")
def comments(group_id: int, post_id: int):
    """All of the post's comments, a page at a time, each read oldest first."""
    return _list_page(group_id, post_id, COMMENTS)


@bp.get("/g/<int:group_id>/posts/<int:post_id>/decisions")
def decisions(group_id: int, post_id: int):
    """All of the approvers' decisions on the post, a page at a time, each read oldest first."""
    return _list_page(group_id, post_id, DECISIONS)


@bp.get("/g/<int:group_id>/posts/<int:post_id>/review-links")
def review_links(group_id: int, post_id: int):
    """All of the review links that cover the post, newest first, a page at a time (for its editors)."""
    return _list_page(group_id, post_id, REVIEW_LINKS)


@bp.get("/g/<int:group_id>/posts/<int:post_id>/history")
def history(group_id: int, post_id: int):
    """All of what happened to the post, a page at a time, each read oldest first."""
    return _list_page(group_id, post_id, HISTORY)


def _list_page(group_id: int, post_id: int, post_list: PostList) -> Response:
    """A page of one of the post's lists: a whole page, or for htmx its rows, swapped in for the link
    that asked (the rows carry the link to the page after them)."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, post_list.right, with_media=False)
    cursor = ListQuery(request.args).start()
    total = None if is_partial() else getattr(rules.list_counts(post), post_list.name)
    approving = ({approver.id for approver in rules.approvers_of(post.social_profile)}
                 if post_list is REVIEW_LINKS else set())
    (shown,), _ = _named(group.account_id, _shown(post_list, post, total, cursor))
    return render(
        "posts/list.html", block="rows", refresh_shell=False,
        page_title=f"{post_list.heading} · {post.social_profile.network_label} post", group=group, post=post,
        shown=shown, cursor=cursor, zone=zones.viewer_zone(group.account),
        confirm_form=ConfirmForm(formdata=None), approving=approving,
    )


@bp.get("/g/<int:group_id>/posts/<int:post_id>/edit")
def edit(group_id: int, post_id: int):
    """The composer filled with the post."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, "posts.edit")
    if post.status == PostStatus.PUBLISHED.value:
        flash("This post was published; it can no longer be changed.", "error")
        return redirect(url_for("posts.show", group_id=group.id, post_id=post.id), 303)
    form = ComposeForm(formdata=None)
    form.profiles.data = [post.social_profile_id]
    form.caption.data = post.caption
    form.media.data = [item.id for item in post.media_items]
    form.show_options(post.options)
    if post.scheduled_at:
        local = post.scheduled_at.astimezone(zones.viewer_zone(group.account))
        form.date.data, form.time.data = local.date(), local.time().replace(second=0, microsecond=0, fold=0)
        if zones.is_ambiguous(form.date.data, form.time.data, local.tzinfo):
            form.fold.data = str(local.fold)  # which of the two times it is, kept when saved again
    return _composer(group, form, post)


@bp.post("/g/<int:group_id>/posts/<int:post_id>")
def update(group_id: int, post_id: int):
    """Save changes to a post; new text or media send a pending or approved post back to pending."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, "posts.edit")
    form = ComposeForm(offered=[post.social_profile])
    form.profiles.data = [post.social_profile_id]
    if not form.validate_on_submit():
        return _composer(group, form, post, 422, form.problem())
    try:
        draft = rules.Draft([post.social_profile], (form.caption.data or "").replace("\r\n", "\n"),
                            _chosen_media(group, form.media.data or []), _when(group, form), form.options())
        was_sent = (post.version, post.status)
        rules.update_post(post, draft, current_user, schedule=bool(form.schedule.data))
    except rules.PostError as problem:
        db.session.rollback()
        return _composer(group, form, post, 422, problem)
    db.session.commit()
    sent_again = post.status == PostStatus.PENDING_APPROVAL.value and was_sent != (post.version, post.status)
    flash(f"Post saved. {rules.scheduled_message([post])}" if sent_again
          else f"Post saved: {rules.status_label(post).lower()}.", "success")
    return redirect(url_for("posts.show", group_id=group.id, post_id=post.id), 303)


def _confirmed_change(group_id: int, post_id: int, change, done: str, next_url):
    """Apply a confirmed change to a post the user may edit; the post page with the reason if refused."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, "posts.edit")
    try:
        change(post, current_user)
    except rules.PostError as problem:
        db.session.rollback()
        return _post_page(group, post, 422, problem=str(problem))
    db.session.commit()
    flash(done, "success")
    return redirect(next_url(group, post), 303)


@bp.post("/g/<int:group_id>/posts/<int:post_id>/unschedule")
def unschedule(group_id: int, post_id: int):
    """Take the post back to a draft (it will not be published)."""
    return _confirmed_change(
        group_id, post_id, rules.unschedule, "The post is a draft again; it will not be published.",
        lambda group, post: url_for("posts.show", group_id=group.id, post_id=post.id))


@bp.post("/g/<int:group_id>/posts/<int:post_id>/delete")
def delete(group_id: int, post_id: int):
    """Delete the post after the confirmation."""
    return _confirmed_change(group_id, post_id, rules.delete_post, "Post deleted.",
                             lambda group, post: url_for("groups.home", group_id=group.id))


@bp.post("/g/<int:group_id>/posts/<int:post_id>/comments")
def comment(group_id: int, post_id: int):
    """Add a comment; the post's author is emailed."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, "posts.comment")
    form = CommentForm()
    try:
        if not form.validate_on_submit():
            raise rules.PostError(" ".join(form.body.errors), field="body")
        rules.add_comment(post, current_user, form.body.data)
    except rules.PostError as problem:
        db.session.rollback()
        form.body.errors = [str(problem)]
        return _post_page(group, post, 422, comment_form=form)
    db.session.commit()
    if is_htmx():
        (shown,), _ = _named(group.account_id,
                             _shown(COMMENTS, post, rules.list_counts(post).comments, preview=True))
        return render("posts/show.html", block="comments", group=group, post=post, comments=shown,
                      comment_form=CommentForm(formdata=None), may_comment=True,
                      zone=zones.viewer_zone(group.account))
    flash("Comment added.", "success")
    return redirect(url_for("posts.show", group_id=group.id, post_id=post.id, _anchor="comments"), 303)


@bp.post("/g/<int:group_id>/posts/<int:post_id>/decision")
def decide(group_id: int, post_id: int):
    """An approver's decision, signed in: approve, feedback (stays pending) or reject with a reason."""
    group = enter_group(group_id, "posts.view")
    post = _post(group, post_id, "posts.view")
    form = DecisionForm()
    try:
        if not form.validate_on_submit():
            raise rules.PostError(" ".join(form.note.errors), field="note")
        rules.decide(post, current_user, form.decision() or "", form.note.data or "")
    except rules.PostError as problem:
        db.session.rollback()
        if problem.field == "note":
            form.note.errors = [str(problem)]
            return _post_page(group, post, 422, decision_form=form)
        return _post_page(group, post, 422, decision_form=form, problem=str(problem))
    db.session.commit()
    flash({"approve": "Approved: the post will be published at its time.",
           "feedback": "Feedback sent; the post is still waiting for approval.",
           "reject": "Rejected: the post is back with its author."}[form.decision()], "success")
    return redirect(url_for("posts.show", group_id=group.id, post_id=post.id), 303)

