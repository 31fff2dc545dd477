"""extraction: documents read and the proposals made from them, with each decision

Revision ID: extract_0001
Revises: core_0001
Create Date: 2026-12-05 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'extract_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('extract_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_extract_document_plan_id_plan')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_extract_document_uploaded_by_id_app_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_extract_document_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extract_document'))
    )
    with op.batch_alter_table('extract_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extract_document_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_extract_document_unit_id'), ['unit_id'], unique=False)

    op.create_table('extract_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('mark_start', sa.Integer(), nullable=False),
    sa.Column('mark_end', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('decided_fields', sa.JSON(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_type', sa.String(length=32), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_extract_proposal_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['document_id'], ['extract_document.id'], name=op.f('fk_extract_proposal_document_id_extract_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extract_proposal'))
    )
    with op.batch_alter_table('extract_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extract_proposal_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('extract_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extract_proposal_document_id'))
    op.drop_table('extract_proposal')
    with op.batch_alter_table('extract_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extract_document_unit_id'))
        batch_op.drop_index(batch_op.f('ix_extract_document_sha256'))
    op.drop_table('extract_document')
