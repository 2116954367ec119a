"""Sandbox OAuth provider: clients, authorization codes and tokens (codes and tokens stored hashed)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Written out rather than imported: a migration must not change when the app's code does.
NETWORK_KNOWN = (
    "network IN ('instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'pinterest', 'youtube', "
    "'threads', 'google_business')"
)


def upgrade():
    op.create_table('sandbox_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_sandbox_clients_client_id'))
    )
    op.create_table('sandbox_authorization_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('sandbox_client_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=30), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=True),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(NETWORK_KNOWN, name=op.f('ck_sandbox_authorization_codes_network_known')),
    sa.ForeignKeyConstraint(['sandbox_client_id'], ['sandbox_clients.id'], name=op.f('fk_sandbox_authorization_codes_sandbox_client_id_sandbox_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_sandbox_authorization_codes_code_hash'))
    )
    op.create_table('sandbox_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sandbox_client_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=30), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('access_revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(NETWORK_KNOWN, name=op.f('ck_sandbox_tokens_network_known')),
    sa.ForeignKeyConstraint(['sandbox_client_id'], ['sandbox_clients.id'], name=op.f('fk_sandbox_tokens_sandbox_client_id_sandbox_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_tokens')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_sandbox_tokens_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_sandbox_tokens_refresh_token_hash'))
    )
    with op.batch_alter_table('sandbox_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_tokens_account', ['network', 'handle'], unique=False)


def downgrade():
    with op.batch_alter_table('sandbox_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_tokens_account')

    op.drop_table('sandbox_tokens')
    op.drop_table('sandbox_authorization_codes')
    op.drop_table('sandbox_clients')
