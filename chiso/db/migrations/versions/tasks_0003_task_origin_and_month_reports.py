"""task origin, assigning document, expected product; monthly task reports

Revision ID: tasks_0003
Revises: tasks_0002

Tasks counted as the centre counts them: the level that assigned each task (existing
tasks were the province committee's own: 'province'), the document that assigned it and
its expected product, kept in the task's history too (null in older history rows: the
task's value stands); and the units' monthly reports on their tasks ("không phát sinh").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'tasks_0003'
down_revision = 'tasks_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_month_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'],
                                name=op.f('fk_task_month_report_recorded_by_id_app_user')),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'],
                                name=op.f('fk_task_month_report_unit_id_org_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_month_report')),
        sa.UniqueConstraint('unit_id', 'period', 'version',
                            name=op.f('uq_task_month_report_unit_id_period_version')))
    with op.batch_alter_table('task_month_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_month_report_period'), ['period'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_task_month_report_unit_id'), ['unit_id'],
                              unique=False)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), nullable=False,
                                      server_default='province'))
        batch_op.add_column(sa.Column('assigned_doc_number', sa.String(length=100),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('assigned_doc_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('expected_product', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_task_origin'), ['origin'], unique=False)

    with op.batch_alter_table('task_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('assigned_doc_number', sa.String(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column('assigned_doc_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('expected_product', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task_update', schema=None) as batch_op:
        batch_op.drop_column('expected_product')
        batch_op.drop_column('assigned_doc_date')
        batch_op.drop_column('assigned_doc_number')
        batch_op.drop_column('origin')

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_origin'))
        batch_op.drop_column('expected_product')
        batch_op.drop_column('assigned_doc_date')
        batch_op.drop_column('assigned_doc_number')
        batch_op.drop_column('origin')

    with op.batch_alter_table('task_month_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_month_report_unit_id'))
        batch_op.drop_index(batch_op.f('ix_task_month_report_period'))

    op.drop_table('task_month_report')
