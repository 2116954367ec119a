"""Time zones per person, agency formats and brand, one review link per approver, notifications and
password resets

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch): rebuilding accounts, users or review_links on SQLite would set off
    # the foreign keys that point at them.
    op.add_column('accounts', sa.Column('week_start', sa.String(8), server_default='monday', nullable=False))
    op.add_column('accounts', sa.Column('clock', sa.String(4), server_default='24h', nullable=False))
    op.add_column('accounts', sa.Column('logo_key', sa.String(255), nullable=True))
    op.add_column('accounts', sa.Column('accent_color', sa.String(7), nullable=True))
    op.add_column('mail', sa.Column('sender_name', sa.String(200), nullable=True))
    op.add_column('users', sa.Column('time_zone', sa.String(64), nullable=True))
    op.add_column('users', sa.Column('digest_sent_on', sa.Date(), nullable=True))
    op.add_column('approval_decisions', sa.Column('previous_status', sa.String(24), nullable=True))
    # No foreign key: SQLite adds none to an existing table, and a link ends with its reviewer anyway.
    op.add_column('review_links', sa.Column('account_id', sa.Integer(), nullable=True))
    op.add_column('review_links', sa.Column('token_salt', sa.String(64), nullable=True))
    op.add_column('review_links', sa.Column('last_emailed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('review_link_posts', sa.Column('added_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('review_link_posts', sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_review_links_reviewer_account', 'review_links', ['reviewer_id', 'account_id'])

    # Links made before: their agency is that of the posts they cover, and they were emailed when made.
    links = sa.table('review_links', sa.column('id', sa.Integer), sa.column('account_id', sa.Integer),
                     sa.column('created_at', sa.DateTime(timezone=True)), sa.column('last_emailed_at', sa.DateTime(timezone=True)))
    link_posts = sa.table('review_link_posts', sa.column('review_link_id', sa.Integer),
                          sa.column('post_id', sa.Integer), sa.column('added_at', sa.DateTime(timezone=True)),
                          sa.column('mailed_at', sa.DateTime(timezone=True)))
    posts = sa.table('posts', sa.column('id', sa.Integer), sa.column('access_group_id', sa.Integer))
    groups = sa.table('access_groups', sa.column('id', sa.Integer), sa.column('account_id', sa.Integer))
    account_of_link = (
        sa.select(groups.c.account_id)
        .select_from(link_posts.join(posts, posts.c.id == link_posts.c.post_id)
                     .join(groups, groups.c.id == posts.c.access_group_id))
        .where(link_posts.c.review_link_id == links.c.id).limit(1).scalar_subquery()
    )
    op.execute(links.update().values(account_id=account_of_link, last_emailed_at=links.c.created_at))
    made = sa.select(links.c.created_at).where(links.c.id == link_posts.c.review_link_id).scalar_subquery()
    op.execute(link_posts.update().values(added_at=made, mailed_at=made))

    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('account_id', sa.Integer(), sa.ForeignKey('accounts.id', ondelete='CASCADE'), nullable=False),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('actor_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True),
        sa.Column('access_group_id', sa.Integer(), sa.ForeignKey('access_groups.id', ondelete='CASCADE'),
                  nullable=True),
        sa.Column('post_id', sa.Integer(), sa.ForeignKey('posts.id', ondelete='CASCADE'), nullable=True),
        sa.Column('message', sa.String(500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('approval_requested', 'decision_made', 'comment_added', 'publish_failed', "
                           "'access_granted', 'access_ending')", name='kind_known'),
    )
    op.create_index('ix_notifications_user_time', 'notifications', ['user_id', 'created_at', 'id'])
    op.create_index('ix_notifications_post', 'notifications', ['post_id'])
    op.create_index('ix_notifications_group', 'notifications', ['access_group_id'])
    op.create_index('ix_notifications_actor', 'notifications', ['actor_id'])
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id'],
                    sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('kind', sa.String(32), primary_key=True),
        sa.Column('delivery', sa.String(8), nullable=False),
        sa.CheckConstraint("kind IN ('approval_requested', 'decision_made', 'comment_added', 'publish_failed', "
                           "'access_granted', 'access_ending')", name='kind_known'),
        sa.CheckConstraint("delivery IN ('now', 'digest', 'off')", name='delivery_known'),
    )
    op.create_table(
        'password_resets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True),
        sa.Column('token_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_password_resets_user_id', 'password_resets', ['user_id'])


def downgrade():
    op.drop_table('password_resets')
    op.drop_table('notification_preferences')
    op.drop_table('notifications')
    op.drop_index('ix_review_links_reviewer_account', table_name='review_links')
    op.drop_column('review_link_posts', 'mailed_at')
    op.drop_column('review_link_posts', 'added_at')
    op.drop_column('review_links', 'last_emailed_at')
    op.drop_column('review_links', 'token_salt')
    op.drop_column('review_links', 'account_id')
    op.drop_column('approval_decisions', 'previous_status')
    op.drop_column('mail', 'sender_name')
    op.drop_column('users', 'digest_sent_on')
    op.drop_column('users', 'time_zone')
    op.drop_column('accounts', 'accent_color')
    op.drop_column('accounts', 'logo_key')
    op.drop_column('accounts', 'clock')
    op.drop_column('accounts', 'week_start')
