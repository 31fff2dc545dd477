"""a target's indicator, unit and year kept when corrected

Revision ID: plans_0004
Revises: plans_0003

`target_detail.indicator_id`, `unit_id`, `year`: a target moved to another indicator,
unit or year is put right as its date or baseline is, so a report closed before the move
still files it where it was (`chiso.plans.details`). Rows kept before this revision did
not record them; they take the target's own, the best that is known of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'plans_0004'
down_revision = 'plans_0003'
branch_labels = None
depends_on = None

_COLUMNS = ('indicator_id', 'unit_id', 'year')


def upgrade() -> None:
    with op.batch_alter_table('target_detail', schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    for name in _COLUMNS:
        op.execute(f"UPDATE target_detail SET {name} = (SELECT target.{name} FROM target"
                   f" WHERE target.id = target_detail.target_id)")
    with op.batch_alter_table('target_detail', schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_target_detail_indicator_id_indicator'),
                                    'indicator', ['indicator_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_target_detail_unit_id_org_unit'),
                                    'org_unit', ['unit_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('target_detail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_target_detail_unit_id_org_unit'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_target_detail_indicator_id_indicator'),
                                 type_='foreignkey')
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
