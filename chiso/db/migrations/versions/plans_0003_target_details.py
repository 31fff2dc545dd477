"""target details kept when corrected

Revision ID: plans_0003
Revises: plans_0002

`target_detail`: each change of how a target is judged (its date, baseline, path,
milestones, pillar) is kept with the moment it was recorded, the first change after the
target as it was; a report closed before a change reads what it was made with
(`chiso.plans.details`). No rows for existing targets: a target never changed is read from
its own row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'plans_0003'
down_revision = 'plans_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'target_detail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('original', sa.Boolean(), nullable=False),
        sa.Column('target_date', sa.Date(), nullable=False),
        sa.Column('baseline_value', sa.Float(), nullable=True),
        sa.Column('baseline_date', sa.Date(), nullable=True),
        sa.Column('trajectory', sa.String(length=16), nullable=False),
        sa.Column('milestones', sa.JSON(), nullable=True),
        sa.Column('pillar_code', sa.String(length=32), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'],
                                name=op.f('fk_target_detail_recorded_by_id_app_user')),
        sa.ForeignKeyConstraint(['target_id'], ['target.id'],
                                name=op.f('fk_target_detail_target_id_target')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_target_detail')),
    )
    op.create_index(op.f('ix_target_detail_target_id'), 'target_detail', ['target_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_target_detail_target_id'), table_name='target_detail')
    op.drop_table('target_detail')
