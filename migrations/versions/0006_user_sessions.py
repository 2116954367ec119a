"""Sessions live on the server: signing out ends one, and a copied cookie stops working

Revision ID: 0006
Revises: 0005
"""
import contextlib

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _sqlite_foreign_keys_off():
    """On SQLite, run the block in a transaction of its own with foreign keys off, checked before it commits."""
    context = op.get_context()
    if context.dialect.name != 'sqlite':
        yield
        return
    # Batch mode rebuilds users and drops the old copy; with foreign keys on, that drop deletes every row
    # that refers to a user with ON DELETE CASCADE (memberships, group and profile links, review links) and
    # empties every SET NULL one (authors, uploaders). The pragma does nothing inside a transaction, so it
    # is set outside one (the block commits the migration's so far), the way SQLite's own recipe for
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
    # Cookies from before this revision name no session here, so everyone signs in once more.
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
    # The per-user version the sessions replace.
    with _sqlite_foreign_keys_off(), op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
