"""estimates (ước) beside the official figure

Revision ID: values_0002
Revises: values_0001

`data_value.estimate` marks a current figure that is an estimate; `estimate_*` keep the
latest estimate once the official figure replaces it; every version says whether it was
an estimate. Existing figures are official.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'values_0002'
down_revision = 'values_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.add_column(sa.Column('estimate', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('estimate_numerator', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('estimate_denominator', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('estimate_value', sa.Float(), nullable=True))
    with op.batch_alter_table('data_value_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('estimate', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('data_value_version', schema=None) as batch_op:
        batch_op.drop_column('estimate')
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_column('estimate_value')
        batch_op.drop_column('estimate_denominator')
        batch_op.drop_column('estimate_numerator')
        batch_op.drop_column('estimate')
