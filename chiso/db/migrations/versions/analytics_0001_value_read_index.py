"""covering index for reading values (analytics reads, values owns the table)

Revision ID: analytics_0001
Revises: core_0001

`ix_data_value_read` holds every column `chiso.analytics.frames.load_values` reads, so a
cold overview reads values from the index alone (chiso/analytics/models.py).
"""

from __future__ import annotations

from alembic import op

revision = 'analytics_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None

COLUMNS = ['unit_id', 'indicator_id', 'period_start', 'deleted', 'period_type', 'period_end',
           'period', 'numerator', 'denominator', 'value', 'source']


def upgrade() -> None:
    op.create_index('ix_data_value_read', 'data_value', COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index('ix_data_value_read', table_name='data_value')
