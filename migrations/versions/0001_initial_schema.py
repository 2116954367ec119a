"""Initial schema: accounts, access groups, social sets, media, posts, approvals, audit, mail

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 14:16:55.174038

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name=op.f('ck_mail_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail'))
    )
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.create_index('ix_mail_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('plans',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('max_access_groups', sa.Integer(), nullable=True),
    sa.Column('max_social_sets', sa.Integer(), nullable=True),
    sa.Column('max_seats', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_plans'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_access_group_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('plan_code', sa.String(length=40), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_code'], ['plans.code'], name=op.f('fk_accounts_plan_code_plans'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    op.create_table('review_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_review_links_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_links_reviewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_review_links_token_hash'))
    )
    op.create_table('access_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_access_groups_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_groups')),
    sa.UniqueConstraint('account_id', 'name', name=op.f('uq_access_groups_account_id_name'))
    )
    with op.batch_alter_table('access_groups', schema=None) as batch_op:
        batch_op.create_index('uq_access_groups_one_default', ['account_id'], unique=True, sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('verb', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_audit_events_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_account_time', ['account_id', 'created_at'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('add_to_default_group', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('owner', 'admin', 'manager', 'client')", name=op.f('ck_invitations_role_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_invitations_email_lowercase')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_invitations_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('owner', 'admin', 'manager', 'client')", name=op.f('ck_memberships_role_known')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_memberships_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('account_id', 'user_id', name=op.f('uq_memberships_account_id_user_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('uq_memberships_one_owner', ['account_id'], unique=True, sqlite_where=sa.text("role = 'owner'"), postgresql_where=sa.text("role = 'owner'"))

    op.create_table('user_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('icon', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_user_groups_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_groups')),
    sa.UniqueConstraint('account_id', 'name', name=op.f('uq_user_groups_account_id_name'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_campaigns_dates_ordered')),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_groups.id'], name=op.f('fk_campaigns_access_group_id_access_groups'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_access_group_id'), ['access_group_id'], unique=False)

    op.create_table('group_users',
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_groups.id'], name=op.f('fk_group_users_access_group_id_access_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('access_group_id', 'user_id', name=op.f('pk_group_users'))
    )
    with op.batch_alter_table('group_users', schema=None) as batch_op:
        batch_op.create_index('ix_group_users_user', ['user_id'], unique=False)

    op.create_table('invitation_access_groups',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_groups.id'], name=op.f('fk_invitation_access_groups_access_group_id_access_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invitation_access_groups_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitation_id', 'access_group_id', name=op.f('pk_invitation_access_groups'))
    )
    op.create_table('media_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('image', 'video')", name=op.f('ck_media_items_kind_known')),
    sa.CheckConstraint('byte_size >= 0', name=op.f('ck_media_items_size_positive')),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_groups.id'], name=op.f('fk_media_items_access_group_id_access_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_media_items_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_items')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_media_items_storage_key'))
    )
    with op.batch_alter_table('media_items', schema=None) as batch_op:
        batch_op.create_index('ix_media_items_group_newest', ['access_group_id', 'created_at', 'id'], unique=False)

    op.create_table('member_rights',
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_member_rights_membership_id_memberships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('membership_id', 'name', name=op.f('pk_member_rights'))
    )
    op.create_table('social_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_groups.id'], name=op.f('fk_social_sets_access_group_id_access_groups'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_sets')),
    sa.UniqueConstraint('id', 'access_group_id', name=op.f('uq_social_sets_id_access_group_id'))
    )
    with op.batch_alter_table('social_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_sets_access_group_id'), ['access_group_id'], unique=False)

    op.create_table('user_group_grants',
    sa.Column('user_group_id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_groups.id'], name=op.f('fk_user_group_grants_access_group_id_access_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_group_id'], ['user_groups.id'], name=op.f('fk_user_group_grants_user_group_id_user_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_group_id', 'access_group_id', name=op.f('pk_user_group_grants'))
    )
    op.create_table('user_group_members',
    sa.Column('user_group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_group_id'], ['user_groups.id'], name=op.f('fk_user_group_members_user_group_id_user_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_group_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_group_id', 'user_id', name=op.f('pk_user_group_members'))
    )
    with op.batch_alter_table('user_group_members', schema=None) as batch_op:
        batch_op.create_index('ix_user_group_members_user', ['user_id'], unique=False)

    op.create_table('user_group_rights',
    sa.Column('user_group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_group_id'], ['user_groups.id'], name=op.f('fk_user_group_rights_user_group_id_user_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_group_id', 'name', name=op.f('pk_user_group_rights'))
    )
    op.create_table('social_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('social_set_id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=120), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('avatar_url', sa.String(length=500), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('access_token', sa.LargeBinary(), nullable=True),
    sa.Column('refresh_token', sa.LargeBinary(), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('needs_reconnect', sa.Boolean(), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('connected_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("network IN ('instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'pinterest', 'youtube', 'threads', 'google_business')", name=op.f('ck_social_profiles_network_known')),
    sa.ForeignKeyConstraint(['connected_by_id'], ['users.id'], name=op.f('fk_social_profiles_connected_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['social_set_id', 'access_group_id'], ['social_sets.id', 'social_sets.access_group_id'], name=op.f('fk_social_profiles_social_set_id_access_group_id_social_sets'), onupdate='CASCADE', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_profiles')),
    sa.UniqueConstraint('id', 'access_group_id', name=op.f('uq_social_profiles_id_access_group_id')),
    sa.UniqueConstraint('social_set_id', 'network', name=op.f('uq_social_profiles_social_set_id_network'))
    )
    with op.batch_alter_table('social_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_profiles_access_group_id'), ['access_group_id'], unique=False)

    op.create_table('campaign_profiles',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('social_profile_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_profiles_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['social_profile_id'], ['social_profiles.id'], name=op.f('fk_campaign_profiles_social_profile_id_social_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'social_profile_id', name=op.f('pk_campaign_profiles'))
    )
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('social_profile_id', sa.Integer(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'pending_approval', 'approved', 'rejected', 'scheduled', 'published')", name=op.f('ck_posts_status_known')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_posts_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['social_profile_id', 'access_group_id'], ['social_profiles.id', 'social_profiles.access_group_id'], name=op.f('fk_posts_social_profile_id_access_group_id_social_profiles'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_group_schedule', ['access_group_id', 'scheduled_at'], unique=False)
        batch_op.create_index('ix_posts_profile', ['social_profile_id'], unique=False)

    op.create_table('profile_access_removals',
    sa.Column('social_profile_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['social_profile_id'], ['social_profiles.id'], name=op.f('fk_profile_access_removals_social_profile_id_social_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_profile_access_removals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('social_profile_id', 'user_id', name=op.f('pk_profile_access_removals'))
    )
    op.create_table('profile_approvers',
    sa.Column('social_profile_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['social_profile_id'], ['social_profiles.id'], name=op.f('fk_profile_approvers_social_profile_id_social_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_profile_approvers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('social_profile_id', 'user_id', name=op.f('pk_profile_approvers'))
    )
    op.create_table('approval_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('review_link_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('approve', 'feedback', 'reject')", name=op.f('ck_approval_decisions_decision_known')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_approval_decisions_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_link_id'], ['review_links.id'], name=op.f('fk_approval_decisions_review_link_id_review_links'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_approval_decisions_reviewer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_decisions'))
    )
    with op.batch_alter_table('approval_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_decisions_post_id'), ['post_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_comments_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_post_id'), ['post_id'], unique=False)

    op.create_table('post_media',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('media_item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['media_item_id'], ['media_items.id'], name=op.f('fk_post_media_media_item_id_media_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_media_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'media_item_id', name=op.f('pk_post_media'))
    )
    with op.batch_alter_table('post_media', schema=None) as batch_op:
        batch_op.create_index('ix_post_media_item', ['media_item_id'], unique=False)

    op.create_table('review_link_posts',
    sa.Column('review_link_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('post_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_review_link_posts_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_link_id'], ['review_links.id'], name=op.f('fk_review_link_posts_review_link_id_review_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('review_link_id', 'post_id', name=op.f('pk_review_link_posts'))
    )
    # users.last_access_group_id and access_groups refer to each other: add that key last.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f('fk_users_last_access_group_id_access_groups'), 'access_groups',
            ['last_access_group_id'], ['id'], ondelete='SET NULL',
        )

    plans = sa.table(
        'plans',
        sa.column('code', sa.String), sa.column('name', sa.String),
        sa.column('max_access_groups', sa.Integer), sa.column('max_social_sets', sa.Integer),
        sa.column('max_seats', sa.Integer),
    )
    op.bulk_insert(plans, [
        {'code': 'self_hosted', 'name': 'Self-hosted', 'max_access_groups': None, 'max_social_sets': None, 'max_seats': None},
        {'code': 'free', 'name': 'Free', 'max_access_groups': 1, 'max_social_sets': 1, 'max_seats': 1},
        {'code': 'starter', 'name': 'Starter', 'max_access_groups': 1, 'max_social_sets': 1, 'max_seats': 2},
        {'code': 'growth', 'name': 'Growth', 'max_access_groups': None, 'max_social_sets': 10, 'max_seats': 10},
        {'code': 'agency', 'name': 'Agency', 'max_access_groups': None, 'max_social_sets': 50, 'max_seats': 50},
    ])



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_users_last_access_group_id_access_groups'), type_='foreignkey')

    op.drop_table('review_link_posts')
    with op.batch_alter_table('post_media', schema=None) as batch_op:
        batch_op.drop_index('ix_post_media_item')

    op.drop_table('post_media')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_post_id'))

    op.drop_table('comments')
    with op.batch_alter_table('approval_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_decisions_post_id'))

    op.drop_table('approval_decisions')
    op.drop_table('profile_approvers')
    op.drop_table('profile_access_removals')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_profile')
        batch_op.drop_index('ix_posts_group_schedule')

    op.drop_table('posts')
    op.drop_table('campaign_profiles')
    with op.batch_alter_table('social_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_profiles_access_group_id'))

    op.drop_table('social_profiles')
    op.drop_table('user_group_rights')
    with op.batch_alter_table('user_group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_user_group_members_user')

    op.drop_table('user_group_members')
    op.drop_table('user_group_grants')
    with op.batch_alter_table('social_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_sets_access_group_id'))

    op.drop_table('social_sets')
    op.drop_table('member_rights')
    with op.batch_alter_table('media_items', schema=None) as batch_op:
        batch_op.drop_index('ix_media_items_group_newest')

    op.drop_table('media_items')
    op.drop_table('invitation_access_groups')
    with op.batch_alter_table('group_users', schema=None) as batch_op:
        batch_op.drop_index('ix_group_users_user')

    op.drop_table('group_users')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_access_group_id'))

    op.drop_table('campaigns')
    op.drop_table('user_groups')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('uq_memberships_one_owner', sqlite_where=sa.text("role = 'owner'"), postgresql_where=sa.text("role = 'owner'"))

    op.drop_table('memberships')
    op.drop_table('invitations')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_account_time')

    op.drop_table('audit_events')
    with op.batch_alter_table('access_groups', schema=None) as batch_op:
        batch_op.drop_index('uq_access_groups_one_default', sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.drop_table('access_groups')
    op.drop_table('review_links')
    op.drop_table('accounts')
    op.drop_table('users')
    op.drop_table('plans')
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_due')

    op.drop_table('mail')
