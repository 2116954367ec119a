"""Campaign names are unique in their access group in the database too

Revision ID: 0005
Revises: 0004
"""
import contextlib

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _sqlite_foreign_keys_off():
    """On SQLite, run the block in a transaction of its own with foreign keys off, checked before it commits."""
    context = op.get_context()
    if context.dialect.name != 'sqlite':
        yield
        return
    # Batch mode rebuilds campaigns and drops the old copy; with foreign keys on, that drop deletes every
    # row that refers to a campaign (its links to profiles). The pragma does nothing inside a transaction,
    # so it is set outside one (the block commits the migration's so far), the way SQLite's own recipe for
    # rebuilding a table does: https://www.sqlite.org/lang_altertable.html
    with context.autocommit_block():
        op.execute('PRAGMA foreign_keys=OFF')
        try:
            op.execute('BEGIN')
            try:
                yield
                broken = op.get_bind().execute(sa.text('PRAGMA foreign_key_check')).all()
                if broken:
                    raise RuntimeError(f'rows refer to rows that are not there: {broken}')
            except BaseException:
                op.execute('ROLLBACK')
                raise
            op.execute('COMMIT')
        finally:
            op.execute('PRAGMA foreign_keys=ON')


def upgrade():
    # Two people saving the same name at once could have left twins: number the later ones.
    connection = op.get_bind()
    campaigns = sa.table('campaigns', sa.column('id', sa.Integer), sa.column('access_group_id', sa.Integer),
                         sa.column('name', sa.String))
    taken: dict[tuple[int, str], int] = {}
    rows = connection.execute(
        sa.select(campaigns.c.id, campaigns.c.access_group_id, campaigns.c.name).order_by(campaigns.c.id)
    ).all()
    names = {(group_id, name.lower()) for _, group_id, name in rows}
    for campaign_id, group_id, name in rows:
        key = (group_id, name.lower())
        if key not in taken:
            taken[key] = 1
            continue
        number = taken[key]
        while (group_id, f"{name} ({number + 1})".lower()) in names:
            number += 1
        taken[key] = number + 1
        renamed = f"{name[:114]} ({number + 1})"
        names.add((group_id, renamed.lower()))
        connection.execute(campaigns.update().where(campaigns.c.id == campaign_id).values(name=renamed))
    with _sqlite_foreign_keys_off(), op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_campaigns_group_name', ['access_group_id', 'name'])


def downgrade():
    with _sqlite_foreign_keys_off(), op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint('uq_campaigns_group_name', type_='unique')
