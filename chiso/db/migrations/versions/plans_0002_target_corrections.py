"""target corrections kept as versions

Revision ID: plans_0002
Revises: plans_0001

`target_version.corrects`: a correction of a target's value is a new version naming the
version it puts right, instead of an edit of that version in place (a report closed before
the correction keeps the value it was made with). Existing versions are plan values and
revisions: null.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'plans_0002'
down_revision = 'plans_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('target_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrects', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('target_version', schema=None) as batch_op:
        batch_op.drop_column('corrects')
