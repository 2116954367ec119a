"""The Page picker: after Facebook Login, the person picks the Facebook Page or Instagram account
that goes into the slot they were connecting."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import page_picker as rules
from .. import policy, profiles
from ..extensions import db
from ..forms.page_picker import PickForm
from ..htmx import render
from ..models import SocialSet
from ..shell import enter_group
from .profiles import back_url_for, problem_page

bp = Blueprint("page_picker", __name__)


@bp.route("/social-sets/<int:set_id>/connect/<any(facebook, instagram):network>/choose", methods=["GET", "POST"])
def choose(set_id: int, network: str):
    """List the person's Pages (or the Instagram accounts linked to them); connect the one they choose."""
    policy.require_signed_in()
    social_set = db.session.scalar(policy.visible(select(SocialSet)).where(SocialSet.id == set_id))
    if social_set is None:
        abort(404)
    enter_group(social_set.access_group_id, "profiles.connect")
    try:
        picker = rules.peek(session, request.args.get("picker"), current_user, social_set, network)
    except profiles.ProfileProblem as problem:
        return problem_page(problem)
    back_url = back_url_for(social_set.access_group_id, picker.origin)
    form = PickForm() if request.method == "POST" else PickForm(formdata=None)
    problem = None
    if form.validate_on_submit():
        try:
            outcome = rules.choose(session, picker, form.choice.data, social_set, current_user)
            db.session.commit()
        except profiles.ProfileProblem as refused:
            db.session.rollback()
            if refused.status != 422:
                return problem_page(refused, back_url)
            problem = refused.message
        except IntegrityError:  # someone filled the slot at the same moment
            db.session.rollback()
            return problem_page(profiles.slot_taken(network, profiles.slot_holder(social_set, network)), back_url)
        else:
            if isinstance(outcome, profiles.TransferOffer):
                return render("profiles/transfer.html", page_title="Already connected", offer=outcome,
                              back_url=back_url)
            profile = outcome.profile
            flash(f"{profile.network_label} profile @{profile.handle} connected to “{social_set.name}”.", "success")
            return redirect(back_url, 303)
    try:
        listing = rules.listing(rules.user_token_of(picker), network)
    except profiles.ProfileProblem as refused:
        return problem_page(refused, back_url)
    return _page(social_set, picker, listing, form, back_url, problem,
                 status=422 if request.method == "POST" else 200)


def _page(social_set: SocialSet, picker: rules.Picker, listing: rules.Listing, form: PickForm, back_url: str,
          problem: str | None, status: int) -> Response:
    noun = "Page" if picker.network == "facebook" else "Instagram account"
    return render(
        "page_picker/choose.html", status=status, page_title=f"Choose a {noun}", social_set=social_set,
        picker=picker, listing=listing, noun=noun, form=form, back_url=back_url, problem=problem,
        connected=rules.already_connected(listing.choices, social_set, picker.network),
    )
