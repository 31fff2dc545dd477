"""the covering index for reading values also holds the estimate flag

Revision ID: analytics_0002
Revises: analytics_0001, values_0002 (the `estimate` column: it must exist first)

`chiso.analytics.frames.load_values` reads `data_value.estimate` (a status resting on an
estimate says "ước"): the index `ix_data_value_read` gains it, so a cold overview still
reads values from the index alone (chiso/analytics/models.py).
"""

from __future__ import annotations

from alembic import op

revision = 'analytics_0002'
# Also after values_0002, which adds the column: a merge of the two branches (a mere
# depends_on would leave values_0002 a script head the version table no longer lists).
down_revision = ('analytics_0001', 'values_0002')
branch_labels = None
depends_on = None

BEFORE = ['unit_id', 'indicator_id', 'period_start', 'deleted', 'period_type', 'period_end',
          'period', 'numerator', 'denominator', 'value', 'source']
AFTER = [*BEFORE, 'estimate']


def upgrade() -> None:
    op.drop_index('ix_data_value_read', table_name='data_value')
    op.create_index('ix_data_value_read', 'data_value', AFTER, unique=False)


def downgrade() -> None:
    op.drop_index('ix_data_value_read', table_name='data_value')
    op.create_index('ix_data_value_read', 'data_value', BEFORE, unique=False)
