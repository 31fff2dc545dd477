"""value change log

Revision ID: values_0001
Revises: core_0001
Create Date: 2026-11-22 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'values_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'value_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('txid', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_value_change')),
    )
    op.create_index(op.f('ix_value_change_txid'), 'value_change', ['txid'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_value_change_txid'), table_name='value_change')
    op.drop_table('value_change')
