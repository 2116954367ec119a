"""One open invitation per email and account

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OPEN = "accepted_at IS NULL AND revoked_at IS NULL"


def upgrade():
    # Older duplicates (none should exist) are closed first, keeping the newest open.
    op.execute(
        "UPDATE invitations SET revoked_at = created_at WHERE accepted_at IS NULL AND revoked_at IS NULL "
        "AND id NOT IN (SELECT MAX(id) FROM invitations WHERE accepted_at IS NULL AND revoked_at IS NULL "
        "GROUP BY account_id, email)"
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('uq_invitations_open_email', ['account_id', 'email'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('uq_invitations_open_email', sqlite_where=sa.text(OPEN),
                            postgresql_where=sa.text(OPEN))
