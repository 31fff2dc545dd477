"""report jobs keep their warnings, their worker and a heartbeat

Revision ID: reports_0001
Revises: meetings_0001

The report tables moved from chiso/meetings to chiso/reports with their names unchanged;
this is the reports domain's first revision, after the one that created them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'reports_0001'
down_revision = 'meetings_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('generated_report', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
        batch_op.drop_column('warnings')
