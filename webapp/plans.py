"""The reference plans. Limits are data: `None` means unlimited.

The first migration inserts these rows; `install_reference_plans` does the same for a schema made
with `create_all` (tests, benchmarks).
"""
from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .models import Plan

REFERENCE_PLANS: tuple[dict, ...] = (
    {"code": "self_hosted", "name": "Self-hosted", "max_access_groups": None, "max_social_sets": None, "max_seats": None},
    {"code": "free", "name": "Free", "max_access_groups": 1, "max_social_sets": 1, "max_seats": 1},
    {"code": "starter", "name": "Starter", "max_access_groups": 1, "max_social_sets": 1, "max_seats": 2},
    {"code": "growth", "name": "Growth", "max_access_groups": None, "max_social_sets": 10, "max_seats": 10},
    {"code": "agency", "name": "Agency", "max_access_groups": None, "max_social_sets": 50, "max_seats": 50},
)


def install_reference_plans() -> None:
    """Add whichever reference plans the database lacks."""
    present = set(db.session.scalars(select(Plan.code)))
    db.session.add_all(Plan(**plan) for plan in REFERENCE_PLANS if plan["code"] not in present)
    db.session.flush()
