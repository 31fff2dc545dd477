"""scored departments and communes: frameworks, criteria, assessments, scores, progress

Revision ID: scoring_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'scoring_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scoring_framework',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('name_vi', sa.Text(), nullable=False),
        sa.Column('name_en', sa.Text(), nullable=False),
        sa.Column('max_points', sa.Float(), nullable=False),
        sa.Column('unit_kinds', sa.JSON(), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.Column('example', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_framework')),
        sa.UniqueConstraint('code', name=op.f('uq_scoring_framework_code')),
    )
    op.create_table(
        'scoring_criterion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name_vi', sa.Text(), nullable=False),
        sa.Column('name_en', sa.Text(), nullable=False),
        sa.Column('max_points', sa.Float(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('rule', sa.JSON(), nullable=True),
        sa.Column('evidence_required', sa.Boolean(), nullable=False),
        sa.Column('guidance', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['framework_id'], ['scoring_framework.id'],
                                name=op.f('fk_scoring_criterion_framework_id_scoring_framework')),
        sa.ForeignKeyConstraint(['parent_id'], ['scoring_criterion.id'],
                                name=op.f('fk_scoring_criterion_parent_id_scoring_criterion')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_criterion')),
        sa.UniqueConstraint('framework_id', 'code',
                            name=op.f('uq_scoring_criterion_framework_id_code')),
    )
    op.create_index(op.f('ix_scoring_criterion_framework_id'), 'scoring_criterion',
                    ['framework_id'], unique=False)
    op.create_table(
        'scoring_assessment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('self_total', sa.Float(), nullable=True),
        sa.Column('appraised_total', sa.Float(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(['framework_id'], ['scoring_framework.id'],
                                name=op.f('fk_scoring_assessment_framework_id_scoring_framework')),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'],
                                name=op.f('fk_scoring_assessment_unit_id_org_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_assessment')),
        sa.UniqueConstraint('framework_id', 'unit_id', 'period',
                            name=op.f('uq_scoring_assessment_framework_id_unit_id_period')),
    )
    op.create_index(op.f('ix_scoring_assessment_framework_id'), 'scoring_assessment',
                    ['framework_id'], unique=False)
    op.create_index(op.f('ix_scoring_assessment_unit_id'), 'scoring_assessment', ['unit_id'],
                    unique=False)
    op.create_table(
        'scoring_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('answer', sa.String(length=200), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('evidence_number', sa.String(length=100), nullable=False),
        sa.Column('evidence_date', sa.Date(), nullable=True),
        sa.Column('evidence_summary', sa.Text(), nullable=False),
        sa.Column('evidence_file', sa.String(length=300), nullable=False),
        sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('entered_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assessment_id'], ['scoring_assessment.id'],
                                name=op.f('fk_scoring_entry_assessment_id_scoring_assessment')),
        sa.ForeignKeyConstraint(['criterion_id'], ['scoring_criterion.id'],
                                name=op.f('fk_scoring_entry_criterion_id_scoring_criterion')),
        sa.ForeignKeyConstraint(['entered_by_id'], ['app_user.id'],
                                name=op.f('fk_scoring_entry_entered_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_entry')),
    )
    op.create_index(op.f('ix_scoring_entry_assessment_id'), 'scoring_entry', ['assessment_id'],
                    unique=False)
    op.create_index(op.f('ix_scoring_entry_criterion_id'), 'scoring_entry', ['criterion_id'],
                    unique=False)
    op.create_table(
        'scoring_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('percent', sa.Float(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assessment_id'], ['scoring_assessment.id'],
                                name=op.f('fk_scoring_progress_assessment_id_scoring_assessment')),
        sa.ForeignKeyConstraint(['criterion_id'], ['scoring_criterion.id'],
                                name=op.f('fk_scoring_progress_criterion_id_scoring_criterion')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'],
                                name=op.f('fk_scoring_progress_recorded_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_progress')),
    )
    op.create_index(op.f('ix_scoring_progress_assessment_id'), 'scoring_progress',
                    ['assessment_id'], unique=False)
    op.create_index(op.f('ix_scoring_progress_criterion_id'), 'scoring_progress',
                    ['criterion_id'], unique=False)


def downgrade() -> None:
    for table, columns in (('scoring_progress', ('assessment_id', 'criterion_id')),
                           ('scoring_entry', ('assessment_id', 'criterion_id')),
                           ('scoring_assessment', ('framework_id', 'unit_id')),
                           ('scoring_criterion', ('framework_id',))):
        for column in columns:
            op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
        op.drop_table(table)
    op.drop_table('scoring_framework')
