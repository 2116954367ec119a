"""Publishing to real networks: Bluesky and Mastodon profiles and their servers, Mastodon apps per
instance, each published post's address and per-network options, alt text for media

Revision ID: 0013
Revises: 0012
"""
import contextlib
import warnings

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_OLD_NETWORKS = ('instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'pinterest', 'youtube', 'threads',
                 'google_business')
_NEW_NETWORKS = _OLD_NETWORKS + ('bluesky', 'mastodon')


def _networks_known(networks):
    return "network IN ({})".format(", ".join(f"'{network}'" for network in networks))


@contextlib.contextmanager
def _sqlite_foreign_keys_off():
    """On SQLite, the block runs in a transaction of its own with foreign keys off, checked before it
    commits: batch mode rebuilds social_profiles and drops the old copy, and with foreign keys on that
    drop would delete every post of every profile (as in 0005)."""
    context = op.get_context()
    if context.dialect.name != 'sqlite':
        yield
        return
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


def _replace_network_check(networks):
    # Reflecting the table on SQLite warns of the lower(name) indexes of the tables it refers to;
    # batch mode rebuilds only social_profiles, whose own indexes it keeps.
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Skipped unsupported reflection of expression-based index')
        with _sqlite_foreign_keys_off(), op.batch_alter_table('social_profiles') as batch:
            batch.drop_constraint(op.f('ck_social_profiles_network_known'), type_='check')
            batch.create_check_constraint(op.f('ck_social_profiles_network_known'), _networks_known(networks))


def upgrade():
    _replace_network_check(_NEW_NETWORKS)
    op.add_column('social_profiles', sa.Column('service_url', sa.String(255), nullable=True))
    op.add_column('posts', sa.Column('external_url', sa.String(1000), nullable=True))
    op.add_column('posts', sa.Column('options', sa.JSON(), nullable=True))
    op.add_column('media_items', sa.Column('alt_text', sa.Text(), nullable=True))
    op.create_table(
        'network_apps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(32), nullable=False),
        sa.Column('server_url', sa.String(255), nullable=False),
        sa.Column('client_id', sa.String(255), nullable=False),
        sa.Column('client_secret', sa.LargeBinary(), nullable=True),
        sa.Column('redirect_uri', sa.String(500), nullable=False),
        sa.Column('limits', sa.JSON(), nullable=True),
        sa.Column('limits_read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_network_apps')),
        sa.UniqueConstraint('network', 'server_url', name=op.f('uq_network_apps_network_server_url')),
    )


def downgrade():
    op.drop_table('network_apps')
    op.drop_column('media_items', 'alt_text')
    op.drop_column('posts', 'options')
    op.drop_column('posts', 'external_url')
    op.drop_column('social_profiles', 'service_url')
    op.execute("DELETE FROM social_profiles WHERE network IN ('bluesky', 'mastodon')")
    _replace_network_check(_OLD_NETWORKS)
