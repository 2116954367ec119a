"""Settings › Organize: drag profiles between sets and sets between groups, preview, apply, undo."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import organize as rules
from .. import policy
from ..extensions import db
from ..forms.organize import StagedMovesForm, UndoForm
from ..htmx import is_htmx, render, retarget
from ..models import AccessGroup, Account, SocialSet
from ..shell import account_for

bp = Blueprint("organize", __name__, url_prefix="/settings/organize")

TEMPLATE = "organize/index.html"


def _organizable(account: Account) -> list[int]:
    """The groups of the account this user may organize."""
    perms = policy.current_permissions()
    return [group_id for group_id in policy.groups_with("organize") if perms.groups.get(group_id) == account.id]


def _board(account: Account, status: int = 200, message: str | None = None,
           undo_event_id: int | None = None, replace_board: bool = False) -> Response:
    """The board as the database has it now: the page, or its block for htmx.

    `replace_board` swaps the block over the whole board, whatever element the request targeted."""
    group_ids = _organizable(account)
    groups = db.session.scalars(
        select(AccessGroup).where(AccessGroup.id.in_(group_ids))
        .options(selectinload(AccessGroup.social_sets).selectinload(SocialSet.profiles))
        .order_by(AccessGroup.is_default.desc(), AccessGroup.name, AccessGroup.id)
    ).all()
    response = render(TEMPLATE, block="board", status=status, page_title="Organize", groups=groups,
                      message=message, undo_event_id=undo_event_id, undo_seconds=rules.UNDO_SECONDS,
                      save_form=StagedMovesForm(formdata=None), undo_form=UndoForm(formdata=None))
    if replace_board and is_htmx():
        retarget(response, "#organize", swap="outerHTML")
    return response


def _problem(account: Account, message: str) -> Response:
    """A refusal shown in the confirmation dialog, the staged moves staying on the board (or the page)."""
    if not is_htmx():
        return _board(account, 422, message)
    response = render(TEMPLATE, block="problem", status=422, refresh_shell=False, message=message)
    return retarget(response, "#organize-dialog-body", swap="innerHTML")


def _conflict(account: Account, problem: rules.Conflict) -> Response:
    db.session.rollback()
    return _board(account, 409, f"{problem} Nothing was moved; the board now shows the current state.",
                  replace_board=True)


def _plan(account: Account, form: StagedMovesForm) -> rules.Plan:
    return rules.build_plan(rules.parse_moves(form.moves.data), account.id, _organizable(account))


@bp.get("")
def index():
    """Every group the user may organize as a column, its sets as cards, their profiles as chips."""
    return _board(account_for("organize"))


@bp.post("/preview")
def preview():
    """What saving the staged moves would do, for the confirmation dialog."""
    account = account_for("organize")
    form = StagedMovesForm()
    try:
        plan = _plan(account, form)
    except rules.Conflict as problem:
        return _conflict(account, problem)
    except rules.OrganizeError as problem:
        return _problem(account, str(problem))
    impact = rules.preview(plan, account.id, current_user)
    return render("organize/preview.html", block="preview", refresh_shell=False, page_title="Organize", impact=impact,
                  moves=rules.encode_moves(plan.moves), save_form=form)


@bp.post("/apply")
def apply():
    """Apply the confirmed moves in one transaction, or nothing if anything changed since the preview."""
    account = account_for("organize")
    form = StagedMovesForm()
    try:
        plan = _plan(account, form)
        impact = rules.preview(plan, account.id, current_user)
        event = rules.apply_plan(plan, impact, current_user, account.id)
    except rules.Conflict as problem:
        return _conflict(account, problem)
    except rules.OrganizeError as problem:
        db.session.rollback()
        return _problem(account, str(problem))
    db.session.commit()
    policy.forget_permissions()
    flash(_summary(impact), "success")
    if not is_htmx():
        return redirect(url_for("organize.index"), 303)
    return _board(account, undo_event_id=event.id)


def _summary(impact: rules.Impact) -> str:
    changes = impact.change_count
    posts = impact.post_total
    moved = f"Saved {changes} {'change' if changes == 1 else 'changes'}"
    return f"{moved}; {posts} {'post' if posts == 1 else 'posts'} moved with their profiles." if posts else f"{moved}."


@bp.post("/undo/<int:event_id>")
def undo(event_id: int):
    """Revert one applied change, within its Undo window, if nothing newer touched the same objects."""
    account = account_for("organize")
    try:
        event = rules.undoable(event_id, current_user, account.id)
        plan = rules.build_plan(rules.inverse_moves(event), account.id, _organizable(account))
        impact = rules.preview(plan, account.id, current_user)
        undo_event = rules.apply_plan(plan, impact, current_user, account.id)
        rules.restore_links(event)
        rules.mark_undone(event, current_user, undo_event)
    except rules.OrganizeError as problem:
        db.session.rollback()
        return _board(account, 409, f"Could not undo: {problem}", replace_board=True)
    db.session.commit()
    flash("Undone: everything is back where it was.", "success")
    if not is_htmx():
        return redirect(url_for("organize.index"), 303)
    return _board(account)
