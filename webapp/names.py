"""Names unique in their scope: access groups and user groups in their account, social sets and
campaigns in their access group.

Two names are the same when they match ignoring case once `normalized_name` has tidied them. The
rules ask `name_taken` first, so people get a clear message; a unique index on (scope, lower(name))
holds the same line in the database, and `claiming` turns its refusal of a twin saved at the same
moment into that same message.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from .extensions import db, savepoint
from .models import AccessGroup, Campaign, SocialSet, UserGroup

Named = type[AccessGroup] | type[SocialSet] | type[UserGroup] | type[Campaign]


def normalized_name(name: str | None) -> str:
    """A name as people mean it: outer spaces dropped, inner runs of spaces made one."""
    return " ".join((name or "").split())


def name_taken(
    model: Named, scope_column: InstrumentedAttribute[int], scope_id: int, name: str, except_id: int | None = None
) -> bool:
    """Whether a `model` row other than `except_id` in the scope `scope_column == scope_id` has `name`
    in any case."""
    lowered = func.lower(model.name)
    query = select(model.id).where(
        scope_column == scope_id,
        # Python's lower() knows every alphabet; the database's is what its index compares (SQLite's
        # folds only A-Z). Asking both refuses what either would.
        or_(lowered == name.lower(), lowered == func.lower(name)),
    )
    if except_id is not None:
        query = query.where(model.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


@contextmanager
def claiming(
    model: Named,
    scope_column: InstrumentedAttribute[int],
    scope_id: int,
    name: str,
    refusal: Exception,
    except_id: int | None = None,
) -> Iterator[None]:
    """Write the block's changes, which give a `model` row `name`, in a savepoint; when the database
    refuses them because a twin was saved meanwhile, undo just them and raise `refusal` instead.

    Make the changes inside the block: the savepoint writes what was pending before it outside it.
    The name is saved when the caller commits, with the rest of the change.
    """
    try:
        with savepoint():
            yield
    except IntegrityError:
        if not name_taken(model, scope_column, scope_id, name, except_id):
            raise  # refused for another reason, which this message would hide
        raise refusal from None
