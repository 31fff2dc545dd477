"""records: procedure catalogue and batch log

Revision ID: records_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'records_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_procedure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('service_level', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_procedure')),
    sa.UniqueConstraint('code', name=op.f('uq_record_procedure_code'))
    )
    op.create_table('record_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=400), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_stored', sa.Integer(), nullable=False),
    sa.Column('rows_ignored', sa.Integer(), nullable=False),
    sa.Column('months', sa.Text(), nullable=False),
    sa.Column('values_inserted', sa.Integer(), nullable=False),
    sa.Column('values_updated', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_record_batch_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_batch'))
    )
    with op.batch_alter_table('record_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_batch_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_batch_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_batch_status'))
        batch_op.drop_index(batch_op.f('ix_record_batch_sha256'))
    op.drop_table('record_batch')
    op.drop_table('record_procedure')
