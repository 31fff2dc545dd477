"""dti results basis: a table republished over today's (merged) units is kept apart

Revision ID: dti_0002
Revises: dti_0001
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'dti_0002'
down_revision = 'dti_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dti_result') as batch:
        batch.add_column(sa.Column('basis', sa.String(length=16), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('dti_result') as batch:
        batch.drop_column('basis')
