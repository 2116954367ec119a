"""The Activity screen's group scope, Undo for media moves, the getting-started checklist, the invitee's
name

Revision ID: 0012
Revises: 0011
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# Where an older event's group is found: the table of the object it names.
_OBJECT_GROUPS = {
    'post': 'posts',
    'campaign': 'campaigns',
    'social_set': 'social_sets',
    'social_profile': 'social_profiles',
    'media_item': 'media_items',
}


def upgrade():
    op.add_column('access_groups', sa.Column('checklist_dismissed_at', sa.DateTime(timezone=True), nullable=True))
    # The checklist is for groups made from now on: groups that already exist are under way.
    op.execute("UPDATE access_groups SET checklist_dismissed_at = CURRENT_TIMESTAMP")
    op.add_column('media_items', sa.Column('moved_by_event_id', sa.Integer(), nullable=True))
    op.add_column('invitations', sa.Column('name', sa.String(120), nullable=True))
    op.add_column('audit_events', sa.Column('access_group_id', sa.Integer(), nullable=True))
    op.add_column('audit_events', sa.Column('related_group_id', sa.Integer(), nullable=True))
    op.create_index('ix_audit_events_account_id_desc', 'audit_events', ['account_id', 'id'])
    op.create_index('ix_audit_events_group_id_desc', 'audit_events', ['access_group_id', 'id'])
    op.create_index('ix_audit_events_actor', 'audit_events', ['actor_id'])

    # Older events learn their group from the object they name, where it still exists.
    op.execute("UPDATE audit_events SET access_group_id = object_id WHERE object_type = 'access_group'")
    for object_type, table in _OBJECT_GROUPS.items():
        op.execute(
            f"UPDATE audit_events SET access_group_id = (SELECT t.access_group_id FROM {table} t "
            f"WHERE t.id = audit_events.object_id) WHERE object_type = '{object_type}'"
        )
    # A move names its two groups in its before and after states.
    bind = op.get_bind()
    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('verb', sa.String),
                      sa.column('before', sa.JSON), sa.column('after', sa.JSON),
                      sa.column('access_group_id', sa.Integer), sa.column('related_group_id', sa.Integer))
    rows = bind.execute(sa.select(events.c.id, events.c.before, events.c.after)
                        .where(events.c.verb.in_(['media.moved', 'profile.transferred', 'social_set.moved',
                                                  'social_profile.moved']))).all()
    for event_id, before, after in rows:
        before = json.loads(before) if isinstance(before, str) else (before or {})
        after = json.loads(after) if isinstance(after, str) else (after or {})
        source, target = before.get('access_group_id'), after.get('access_group_id')
        if isinstance(source, int) and isinstance(target, int) and source != target:
            bind.execute(sa.update(events).where(events.c.id == event_id)
                         .values(access_group_id=source, related_group_id=target))


def downgrade():
    op.drop_index('ix_audit_events_actor', table_name='audit_events')
    op.drop_index('ix_audit_events_group_id_desc', table_name='audit_events')
    op.drop_index('ix_audit_events_account_id_desc', table_name='audit_events')
    op.drop_column('audit_events', 'related_group_id')
    op.drop_column('audit_events', 'access_group_id')
    op.drop_column('invitations', 'name')
    op.drop_column('media_items', 'moved_by_event_id')
    op.drop_column('access_groups', 'checklist_dismissed_at')
