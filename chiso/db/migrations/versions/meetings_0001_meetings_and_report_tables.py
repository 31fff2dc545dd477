"""meetings and report tables

Revision ID: meetings_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'meetings_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('generated_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=200), nullable=False),
    sa.Column('docx_sha256', sa.String(length=64), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_generated_report_requested_by_id_app_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_generated_report_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generated_report'))
    )
    with op.batch_alter_table('generated_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generated_report_unit_id'), ['unit_id'], unique=False)
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('chair', sa.String(length=200), nullable=False),
    sa.Column('attendees', sa.Text(), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_meeting_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_unit_id'), ['unit_id'], unique=False)
    op.create_table('report_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['app_user.id'], name=op.f('fk_report_text_changed_by_id_app_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_report_text_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_text')),
    sa.UniqueConstraint('unit_id', 'period', 'key', 'version', name=op.f('uq_report_text_unit_id_period_key_version'))
    )
    with op.batch_alter_table('report_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_text_unit_id'), ['unit_id'], unique=False)
    op.create_table('meeting_conclusion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_conclusion_meeting_id_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_conclusion')),
    sa.UniqueConstraint('meeting_id', 'seq', name=op.f('uq_meeting_conclusion_meeting_id_seq'))
    )
    with op.batch_alter_table('meeting_conclusion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_conclusion_meeting_id'), ['meeting_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meeting_conclusion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_conclusion_meeting_id'))
    op.drop_table('meeting_conclusion')
    with op.batch_alter_table('report_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_text_unit_id'))
    op.drop_table('report_text')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_unit_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_held_on'))
    op.drop_table('meeting')
    with op.batch_alter_table('generated_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generated_report_unit_id'))
    op.drop_table('generated_report')
