"""task tables

Revision ID: tasks_0001
Revises: meetings_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'tasks_0001'
down_revision = 'meetings_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('focus_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.String(length=400), nullable=False),
    sa.Column('name_en', sa.String(length=400), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_focus_area_plan_id_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_area')),
    sa.UniqueConstraint('plan_id', 'code', name=op.f('uq_focus_area_plan_id_code'))
    )
    with op.batch_alter_table('focus_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_focus_area_plan_id'), ['plan_id'], unique=False)
    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('conclusion_id', sa.Integer(), nullable=True),
    sa.Column('focus_area_id', sa.Integer(), nullable=True),
    sa.Column('lead_unit_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('progress_pct', sa.Float(), nullable=False),
    sa.Column('recurrence', sa.String(length=1), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['conclusion_id'], ['meeting_conclusion.id'], name=op.f('fk_task_conclusion_id_meeting_conclusion')),
    sa.ForeignKeyConstraint(['focus_area_id'], ['focus_area.id'], name=op.f('fk_task_focus_area_id_focus_area')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['org_unit.id'], name=op.f('fk_task_lead_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_task_owner_id_app_user')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_task_plan_id_plan')),
    sa.ForeignKeyConstraint(['previous_id'], ['task.id'], name=op.f('fk_task_previous_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    sa.UniqueConstraint('code', name=op.f('uq_task_code'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_conclusion_id'), ['conclusion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_focus_area_id'), ['focus_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_lead_unit_id'), ['lead_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_plan_id'), ['plan_id'], unique=False)
    op.create_table('task_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_task_link_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_task_link_target_id_target')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_link_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_link'))
    )
    with op.batch_alter_table('task_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_link_task_id'), ['task_id'], unique=False)
    op.create_table('task_partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_partner_task_id_task')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_task_partner_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_partner')),
    sa.UniqueConstraint('task_id', 'unit_id', name=op.f('uq_task_partner_task_id_unit_id'))
    )
    with op.batch_alter_table('task_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_partner_task_id'), ['task_id'], unique=False)
    op.create_table('task_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('update_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('progress_pct', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['app_user.id'], name=op.f('fk_task_update_changed_by_id_app_user')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['org_unit.id'], name=op.f('fk_task_update_lead_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_task_update_owner_id_app_user')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_update_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_update')),
    sa.UniqueConstraint('task_id', 'version', name=op.f('uq_task_update_task_id_version'))
    )
    with op.batch_alter_table('task_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_update_task_id'), ['task_id'], unique=False)
    op.create_table('task_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=400), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_evidence_task_id_task')),
    sa.ForeignKeyConstraint(['update_id'], ['task_update.id'], name=op.f('fk_task_evidence_update_id_task_update')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_evidence'))
    )
    with op.batch_alter_table('task_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_evidence_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_evidence_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_evidence_update_id'), ['update_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_evidence_update_id'))
        batch_op.drop_index(batch_op.f('ix_task_evidence_task_id'))
        batch_op.drop_index(batch_op.f('ix_task_evidence_sha256'))
    op.drop_table('task_evidence')
    with op.batch_alter_table('task_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_update_task_id'))
    op.drop_table('task_update')
    with op.batch_alter_table('task_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_partner_task_id'))
    op.drop_table('task_partner')
    with op.batch_alter_table('task_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_link_task_id'))
    op.drop_table('task_link')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_plan_id'))
        batch_op.drop_index(batch_op.f('ix_task_owner_id'))
        batch_op.drop_index(batch_op.f('ix_task_lead_unit_id'))
        batch_op.drop_index(batch_op.f('ix_task_focus_area_id'))
        batch_op.drop_index(batch_op.f('ix_task_due_date'))
        batch_op.drop_index(batch_op.f('ix_task_conclusion_id'))
    op.drop_table('task')
    with op.batch_alter_table('focus_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_focus_area_plan_id'))
    op.drop_table('focus_area')
