"""Each access group keeps the count of its media items, so the library shows it without counting

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not a batch: SQLite rebuilds a table in batch mode, and dropping the old
    # access_groups table would set off its foreign keys. Both databases add a column with a default.
    op.add_column('access_groups', sa.Column('media_count', sa.Integer(), server_default='0', nullable=False))
    access_groups = sa.table('access_groups', sa.column('id', sa.Integer), sa.column('media_count', sa.Integer))
    media_items = sa.table('media_items', sa.column('access_group_id', sa.Integer))
    held = sa.select(sa.func.count()).where(media_items.c.access_group_id == access_groups.c.id).scalar_subquery()
    op.execute(access_groups.update().values(media_count=held))


def downgrade():
    # SQLite (3.35 and later) drops a column in place, without rebuilding the table.
    op.drop_column('access_groups', 'media_count')
