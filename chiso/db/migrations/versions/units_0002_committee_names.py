"""the committee's and its standing agency's names, with dates

Revision ID: units_0002
Revises: units_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'units_0002'
down_revision = 'units_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'committee_name',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.Column('committee_vi', sa.String(length=300), nullable=False),
        sa.Column('committee_en', sa.String(length=300), nullable=False),
        sa.Column('short_vi', sa.String(length=120), nullable=False),
        sa.Column('short_en', sa.String(length=120), nullable=False),
        sa.Column('agency_vi', sa.String(length=200), nullable=False),
        sa.Column('agency_en', sa.String(length=200), nullable=False),
        sa.Column('agency_unit_code', sa.String(length=32), nullable=False),
        sa.Column('basis', sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_name')),
        sa.UniqueConstraint('valid_from', name=op.f('uq_committee_name_valid_from')),
    )


def downgrade() -> None:
    op.drop_table('committee_name')
