"""plans implement several documents; targets keep every version

Revision ID: plans_0001
Revises: core_0001

`plan_parent` lists the documents a plan implements (loaded plans or cited documents);
`target_version` keeps each value a target had, with its effective date and basis. Every
existing target gets its version 1 (its current value, from the start, on its plan's
document), and every existing parent link a `plan_parent` row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'plans_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'plan_parent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('parent_code', sa.String(length=64), nullable=False),
        sa.Column('parent_plan_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['parent_plan_id'], ['plan.id'],
                                name=op.f('fk_plan_parent_parent_plan_id_plan')),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_parent_plan_id_plan')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_parent')),
        sa.UniqueConstraint('plan_id', 'parent_code', name=op.f('uq_plan_parent_plan_id_parent_code')),
    )
    op.create_index(op.f('ix_plan_parent_parent_plan_id'), 'plan_parent', ['parent_plan_id'],
                    unique=False)
    op.create_index(op.f('ix_plan_parent_plan_id'), 'plan_parent', ['plan_id'], unique=False)
    op.create_table(
        'target_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=True),
        sa.Column('comparator', sa.String(length=8), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('value_high', sa.Float(), nullable=True),
        sa.Column('basis_code', sa.String(length=64), nullable=False),
        sa.Column('basis_date', sa.Date(), nullable=True),
        sa.Column('basis_title', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'],
                                name=op.f('fk_target_version_recorded_by_id_app_user')),
        sa.ForeignKeyConstraint(['target_id'], ['target.id'],
                                name=op.f('fk_target_version_target_id_target')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_target_version')),
        sa.UniqueConstraint('target_id', 'version', name=op.f('uq_target_version_target_id_version')),
    )
    op.create_index(op.f('ix_target_version_target_id'), 'target_version', ['target_id'],
                    unique=False)
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    bind.execute(sa.text(
        "INSERT INTO target_version (target_id, version, effective_from, comparator, value, "
        "value_high, basis_code, basis_date, basis_title, note, recorded_at) "
        "SELECT t.id, 1, NULL, t.comparator, t.value, t.value_high, p.code, p.issued_on, "
        "p.title, '', t.created_at FROM target t JOIN plan p ON p.id = t.plan_id"))
    bind.execute(sa.text(
        "INSERT INTO plan_parent (plan_id, position, parent_code, parent_plan_id, title, "
        "issued_on, note) SELECT c.id, 0, p.code, p.id, p.title, p.issued_on, '' "
        "FROM plan c JOIN plan p ON p.id = c.parent_id"))


def downgrade() -> None:
    op.drop_index(op.f('ix_target_version_target_id'), table_name='target_version')
    op.drop_table('target_version')
    op.drop_index(op.f('ix_plan_parent_plan_id'), table_name='plan_parent')
    op.drop_index(op.f('ix_plan_parent_parent_plan_id'), table_name='plan_parent')
    op.drop_table('plan_parent')
