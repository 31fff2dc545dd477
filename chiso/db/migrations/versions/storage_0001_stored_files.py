"""stored files: blobs in pieces and named files, for servers that share only the database

Revision ID: storage_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'storage_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_blob'))
    )
    op.create_table('stored_chunk',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['stored_blob.sha256'],
                            name=op.f('fk_stored_chunk_sha256_stored_blob'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sha256', 'n', name=op.f('pk_stored_chunk'))
    )
    op.create_table('stored_name',
    sa.Column('namespace', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['stored_blob.sha256'],
                            name=op.f('fk_stored_name_sha256_stored_blob')),
    sa.PrimaryKeyConstraint('namespace', 'path', name=op.f('pk_stored_name'))
    )
    op.create_index(op.f('ix_stored_name_sha256'), 'stored_name', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stored_name_sha256'), table_name='stored_name')
    op.drop_table('stored_name')
    op.drop_table('stored_chunk')
    op.drop_table('stored_blob')
