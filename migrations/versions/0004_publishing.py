"""Publishing: claims, retries and errors on posts; the sandbox's received posts; audit by object

Revision ID: 0004
Revises: 0003
"""
import contextlib

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _sqlite_foreign_keys_off():
    """On SQLite, run the block in a transaction of its own with foreign keys off, checked before it commits."""
    context = op.get_context()
    if context.dialect.name != 'sqlite':
        yield
        return
    # Batch mode rebuilds posts and drops the old copy; with foreign keys on, that drop deletes every row
    # that refers to a post (comments, approval decisions, post media, review link posts). The pragma does
    # nothing inside a transaction, so it is set outside one (the block commits the migration's so far),
    # the way SQLite's own recipe for rebuilding a table does: https://www.sqlite.org/lang_altertable.html
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


# Written out rather than imported: a migration must not change when the app's code does.
NETWORK_KNOWN = (
    "network IN ('instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'pinterest', 'youtube', "
    "'threads', 'google_business')"
)


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('publish_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_publish_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('publish_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_posts_due', ['status', 'scheduled_at'], unique=False)
    with _sqlite_foreign_keys_off(), op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.alter_column('publish_attempts', server_default=None)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)
    op.create_table('sandbox_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('media_count', sa.Integer(), nullable=False),
    sa.Column('client_reference', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(NETWORK_KNOWN, name=op.f('ck_sandbox_publications_network_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_publications')),
    sa.UniqueConstraint('client_reference', name=op.f('uq_sandbox_publications_client_reference'))
    )


def downgrade():
    op.drop_table('sandbox_publications')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
    with _sqlite_foreign_keys_off(), op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_due')
        batch_op.drop_column('external_id')
        batch_op.drop_column('publish_error')
        batch_op.drop_column('next_publish_at')
        batch_op.drop_column('publish_attempts')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claim_token')
