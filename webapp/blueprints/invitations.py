"""The emailed invitation link: see the offer, then join (a new user sets a password first).

These pages are public: the token in the link is the credential, and each view checks it itself.
Opening the link (GET) never changes anything, because mail scanners open links too.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import auth_session, policy
from .. import invitations as rules
from ..extensions import db
from ..forms.invitations import NewMemberForm
from ..links import CLOSED_STATUS, LinkState
from ..models import Account, Invitation, User
from ..team import ROLE_LABELS

bp = Blueprint("invitations", __name__, url_prefix="/invitations")


@bp.after_request
def _keep_the_token_private(response):
    """The token is in the URL: never send it on in a Referer header."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _closed(state: LinkState, invitation: Invitation | None):
    """A link that no longer works: say why, change nothing."""
    account = db.session.get(Account, invitation.account_id) if invitation is not None else None
    return render_template("invitations/closed.html", state=state.value, account=account,
                           page_title="Invitation"), CLOSED_STATUS[state]


def _offer_page(invitation: Invitation, token: str, form: NewMemberForm | None = None,
                problem: str | None = None, status: int = 200):
    """The live invitation, with what the visitor needs to do next to accept it."""
    invited_user = rules.existing_user(invitation)
    if invited_user is None:
        step = "create"
    elif not current_user.is_authenticated:
        step = "sign_in"
    elif current_user.id == invited_user.id:
        step = "accept"
    else:
        step = "wrong_user"
    inviter = db.session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    return render_template(
        "invitations/show.html",
        page_title="Invitation",
        invitation=invitation,
        token=token,
        account=db.session.get_one(Account, invitation.account_id),
        inviter=inviter,
        role=ROLE_LABELS[invitation.role],
        access_groups=rules.invitation_groups(invitation),
        step=step,
        # The name the inviter typed is offered; the newcomer may keep or change it.
        form=form or NewMemberForm(formdata=None, name=invitation.name),
        problem=problem,
    ), status


@bp.get("/<token>")
@policy.public
def show(token: str):
    """The invitation behind a link: who invites whom, as what, into which groups."""
    invitation = rules.find_by_token(token)
    state = rules.link_state(invitation)
    if state is not LinkState.OPEN:
        return _closed(state, invitation)
    return _offer_page(invitation, token)


def _welcome(acceptance: rules.Acceptance, account_name: str):
    if acceptance.already_member:
        flash(f"You are already a member of {account_name}.", "info")
    else:
        flash(f"Welcome to {account_name}, {acceptance.user.name}.", "success")
    if acceptance.landing_group_id is None:
        return redirect(url_for("auth.index"), 303)
    return redirect(url_for("groups.home", group_id=acceptance.landing_group_id), 303)


@bp.post("/<token>")
@policy.public
def accept(token: str):
    """Accept: a new user sets their name and password; an existing one must be signed in as the invitee."""
    invitation = rules.find_by_token(token)
    state = rules.link_state(invitation)
    if state is not LinkState.OPEN:
        return _closed(state, invitation)
    account_name = db.session.get_one(Account, invitation.account_id).name
    invited_user = rules.existing_user(invitation)
    form = NewMemberForm() if invited_user is None else None
    try:
        if form is not None:
            if not form.validate_on_submit():
                return _offer_page(invitation, token, form=form, status=422)
            acceptance = rules.accept_as_new_user(invitation, form.name.data, form.password.data)
        elif current_user.is_authenticated and current_user.id == invited_user.id:
            acceptance = rules.accept_as_member(invitation, current_user._get_current_object())
        else:
            return redirect(url_for("invitations.show", token=token), 303)
    except rules.LinkNoLongerWorks as gone:
        db.session.rollback()
        return _closed(gone.state, invitation)
    except rules.InvitationError as problem:
        db.session.rollback()
        return _offer_page(invitation, token, form=form, problem=str(problem), status=422)
    db.session.commit()
    if invited_user is None:
        auth_session.sign_in(acceptance.user)
    return _welcome(acceptance, account_name)


@bp.post("/<token>/sign-out")
@policy.public
def sign_out(token: str):
    """Sign out whoever is signed in, and come back to the link to accept as the invited person."""
    auth_session.sign_out()
    return redirect(url_for("invitations.show", token=token), 303)
