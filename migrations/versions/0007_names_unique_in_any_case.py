"""Names are unique in their scope whatever their case, in the database too

Access groups and user groups in their account, social sets and campaigns in their access group.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

NAME_MAX = 120
SCOPES = (
    ('access_groups', 'account_id'),
    ('user_groups', 'account_id'),
    ('social_sets', 'access_group_id'),
    ('campaigns', 'access_group_id'),
)


def _index_name(table_name, scope):
    return f'uq_{table_name}_{scope}_lower_name'


def _number_twins(table_name, scope):
    """Rows whose names differ only in case (from before the rules said so, or saved at the same
    moment) keep their data: the oldest keeps the name, later ones get the first free " (2)", " (3)"…"""
    connection = op.get_bind()
    table = sa.table(table_name, sa.column('id', sa.Integer), sa.column(scope, sa.Integer),
                     sa.column('name', sa.String))
    rows = connection.execute(
        sa.select(table.c.id, table.c[scope], table.c.name, sa.func.lower(table.c.name)).order_by(table.c.id)
    ).all()
    # Compared by the database's own lower(), the one the index will use.
    taken = {(scope_id, lowered) for _, scope_id, _, lowered in rows}
    kept = set()
    for row_id, scope_id, name, lowered in rows:
        if (scope_id, lowered) not in kept:
            kept.add((scope_id, lowered))
            continue
        number = 1
        while True:
            number += 1
            suffix = f' ({number})'
            renamed = name[:NAME_MAX - len(suffix)] + suffix
            renamed_lowered = connection.scalar(sa.select(sa.func.lower(sa.cast(renamed, sa.String))))
            if (scope_id, renamed_lowered) not in taken:
                break
        taken.add((scope_id, renamed_lowered))
        kept.add((scope_id, renamed_lowered))
        connection.execute(table.update().where(table.c.id == row_id).values(name=renamed))


def upgrade():
    # Plain CREATE INDEX, not a batch: SQLite rebuilds a table in batch mode, and dropping the old
    # access_groups table would set off its foreign keys.
    for table_name, scope in SCOPES:
        _number_twins(table_name, scope)
        op.create_index(_index_name(table_name, scope), table_name, [scope, sa.text('lower(name)')], unique=True)


def downgrade():
    # Renamed twins keep their numbered names.
    for table_name, scope in reversed(SCOPES):
        op.drop_index(_index_name(table_name, scope), table_name=table_name)
