"""LinkedIn: after signing in, a member who administers Pages chooses who the slot's profile posts as."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import policy
from .. import profiles as rules
from ..extensions import db
from ..forms.linkedin import AuthorForm
from ..htmx import render
from ..models import Network, SocialProfile, SocialSet
from ..publishers import linkedin
from ..shell import enter_group
from .profiles import back_url_for, problem_page

bp = Blueprint("linkedin", __name__)


@bp.route("/social-sets/<int:set_id>/linkedin/author", methods=["GET", "POST"])
def author(set_id: int):
    """Show the member's choice of author (themselves or a Page they administer), and take the answer."""
    policy.require_signed_in()
    social_set = db.session.scalar(policy.visible(select(SocialSet)).where(SocialSet.id == set_id))
    if social_set is None:
        abort(404)
    enter_group(social_set.access_group_id, "profiles.connect")
    form = AuthorForm(formdata=None, choice=request.args.get("choice")) if request.method == "GET" else AuthorForm()
    try:
        choice = linkedin.author_choice(session, form.choice.data, current_user, social_set)
    except rules.ProfileProblem as problem:
        return problem_page(problem, back_url_for(social_set.access_group_id, "group"))
    back_url = back_url_for(social_set.access_group_id, choice.origin)
    if request.method == "POST" and form.validate_on_submit():
        try:
            outcome = linkedin.choose_author(session, choice, form.author.data, social_set, current_user)
            db.session.commit()
        except rules.ProfileProblem as problem:
            db.session.rollback()
            if problem.status != 422:
                return problem_page(problem, back_url)
            form.author.errors = [problem.message]
        except IntegrityError:  # the same author connected elsewhere at the same moment
            db.session.rollback()
            return problem_page(linkedin.no_longer_valid(), back_url)
        else:
            if isinstance(outcome, rules.TransferOffer):
                return render("profiles/transfer.html", page_title="Already connected", offer=outcome,
                              back_url=back_url)
            profile = outcome.profile
            kind = "Page" if profile.external_id.startswith(linkedin.ORGANIZATION) else "profile"
            flash(f"{Network.LINKEDIN.label} {kind} @{profile.handle} connected to “{social_set.name}”.", "success")
            return redirect(back_url, 303)
    try:
        profile = linkedin.waiting_profile(choice, social_set)
        pages = linkedin.offered_pages(choice, profile)
    except rules.ProfileProblem as problem:
        return problem_page(problem, back_url)
    return _page(social_set, profile, pages, form, back_url, 422 if form.errors else 200)


def _page(social_set: SocialSet, profile: SocialProfile, pages: list[linkedin.Page], form: AuthorForm,
          back_url: str, status: int = 200) -> Response:
    return render("linkedin/author.html", status=status, page_title="Who posts on LinkedIn?",
                  social_set=social_set, profile=profile, pages=pages, form=form, back_url=back_url,
                  myself=linkedin.MYSELF)
