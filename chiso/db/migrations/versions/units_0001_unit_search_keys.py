"""unit search keys

Revision ID: units_0001
Revises: core_0001
Create Date: 2026-11-22 14:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'units_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('search_key', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_org_unit_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_unit_search_key'), ['search_key'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_unit_search_key'))
        batch_op.drop_index(batch_op.f('ix_org_unit_name_key'))
        batch_op.drop_column('search_key')
        batch_op.drop_column('name_key')
