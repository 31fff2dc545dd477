"""funding programmes lines figures

Revision ID: funding_0001
Revises: core_0001 (depends on tasks_0001)
Create Date: 2026-12-05 14:32:37.704303
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'funding_0001'
down_revision = 'core_0001'
branch_labels = None
# funding_programme_link refers to task, created by tasks_0001.
depends_on = 'tasks_0001'


def upgrade() -> None:
    op.create_table('funding_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('decision_number', sa.String(length=64), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('scope_unit_id', sa.Integer(), nullable=False),
    sa.Column('year_from', sa.Integer(), nullable=False),
    sa.Column('year_to', sa.Integer(), nullable=False),
    sa.Column('total_investment', sa.BigInteger(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['org_unit.id'], name=op.f('fk_funding_programme_owner_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['parent_id'], ['funding_programme.id'], name=op.f('fk_funding_programme_parent_id_funding_programme')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_funding_programme_plan_id_plan')),
    sa.ForeignKeyConstraint(['scope_unit_id'], ['org_unit.id'], name=op.f('fk_funding_programme_scope_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_programme')),
    sa.UniqueConstraint('code', name=op.f('uq_funding_programme_code'))
    )
    with op.batch_alter_table('funding_programme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_programme_owner_unit_id'), ['owner_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_programme_scope_unit_id'), ['scope_unit_id'], unique=False)

    op.create_table('funding_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scope_unit_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('spend_type', sa.String(length=16), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['funding_programme.id'], name=op.f('fk_funding_line_programme_id_funding_programme')),
    sa.ForeignKeyConstraint(['scope_unit_id'], ['org_unit.id'], name=op.f('fk_funding_line_scope_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_funding_line_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_line')),
    sa.UniqueConstraint('key', name=op.f('uq_funding_line_key'))
    )
    with op.batch_alter_table('funding_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_line_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_line_scope_unit_id'), ['scope_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_line_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_line_year'), ['year'], unique=False)

    op.create_table('funding_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approved_amount', sa.BigInteger(), nullable=True),
    sa.Column('approved_version', sa.Integer(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['line_id'], ['funding_line.id'], name=op.f('fk_funding_figure_line_id_funding_line')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_funding_figure_updated_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_figure')),
    sa.UniqueConstraint('line_id', 'stage', 'period', name=op.f('uq_funding_figure_line_id_stage_period'))
    )
    with op.batch_alter_table('funding_figure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_figure_line_id'), ['line_id'], unique=False)

    op.create_table('funding_programme_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['programme_id'], ['funding_programme.id'], name=op.f('fk_funding_programme_link_programme_id_funding_programme')),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_funding_programme_link_target_id_target')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_funding_programme_link_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_programme_link')),
    sa.UniqueConstraint('programme_id', 'target_id', 'task_id', name=op.f('uq_funding_programme_link_programme_id_target_id_task_id'))
    )
    with op.batch_alter_table('funding_programme_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_programme_link_programme_id'), ['programme_id'], unique=False)

    op.create_table('funding_figure_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('figure_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_by', sa.String(length=80), nullable=False),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['app_user.id'], name=op.f('fk_funding_figure_version_changed_by_id_app_user')),
    sa.ForeignKeyConstraint(['figure_id'], ['funding_figure.id'], name=op.f('fk_funding_figure_version_figure_id_funding_figure')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batch.id'], name=op.f('fk_funding_figure_version_import_batch_id_import_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_figure_version')),
    sa.UniqueConstraint('figure_id', 'version', name=op.f('uq_funding_figure_version_figure_id_version'))
    )
    with op.batch_alter_table('funding_figure_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_figure_version_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_figure_version_figure_id'), ['figure_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('funding_figure_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_figure_version_figure_id'))
        batch_op.drop_index(batch_op.f('ix_funding_figure_version_changed_at'))

    op.drop_table('funding_figure_version')
    with op.batch_alter_table('funding_programme_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_programme_link_programme_id'))

    op.drop_table('funding_programme_link')
    with op.batch_alter_table('funding_figure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_figure_line_id'))

    op.drop_table('funding_figure')
    with op.batch_alter_table('funding_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_line_year'))
        batch_op.drop_index(batch_op.f('ix_funding_line_unit_id'))
        batch_op.drop_index(batch_op.f('ix_funding_line_scope_unit_id'))
        batch_op.drop_index(batch_op.f('ix_funding_line_programme_id'))

    op.drop_table('funding_line')
    with op.batch_alter_table('funding_programme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_programme_scope_unit_id'))
        batch_op.drop_index(batch_op.f('ix_funding_programme_owner_unit_id'))

    op.drop_table('funding_programme')
