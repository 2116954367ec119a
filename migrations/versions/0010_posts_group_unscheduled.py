"""An index for a group's posts without a time, so its Overview finds its drafts among its own posts

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_posts_group_unscheduled', 'posts', ['access_group_id', 'updated_at', 'id'],
                    sqlite_where=sa.text('scheduled_at IS NULL'), postgresql_where=sa.text('scheduled_at IS NULL'))


def downgrade():
    op.drop_index('ix_posts_group_unscheduled', table_name='posts')
