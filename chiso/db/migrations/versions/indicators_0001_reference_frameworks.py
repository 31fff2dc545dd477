"""reference documents and the national frameworks of targets that cite them

Revision ID: indicators_0001
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'indicators_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                      nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                      nullable=False)]


def upgrade() -> None:
    op.create_table(
        'reference_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title_vi', sa.Text(), nullable=False),
        sa.Column('title_en', sa.Text(), nullable=False),
        sa.Column('issuer', sa.String(length=200), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('reported_on', sa.Date(), nullable=True),
        sa.Column('source_url', sa.String(length=500), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_document')),
        sa.UniqueConstraint('code', name=op.f('uq_reference_document_code')),
    )
    op.create_table(
        'reference_framework',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('name_vi', sa.Text(), nullable=False),
        sa.Column('name_en', sa.Text(), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('catalog_version', sa.String(length=32), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(['document_id'], ['reference_document.id'],
                                name=op.f('fk_reference_framework_document_id_reference_document')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_framework')),
        sa.UniqueConstraint('code', name=op.f('uq_reference_framework_code')),
    )
    op.create_table(
        'reference_target',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('comparator', sa.String(length=8), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('value_high', sa.Float(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('article', sa.String(length=200), nullable=False),
        sa.Column('wording_vi', sa.Text(), nullable=False),
        sa.Column('monitoring_body', sa.String(length=200), nullable=False),
        sa.Column('amended_by_id', sa.Integer(), nullable=True),
        sa.Column('amendment_note', sa.Text(), nullable=False),
        sa.Column('source_url', sa.String(length=500), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['amended_by_id'], ['reference_document.id'],
                                name=op.f('fk_reference_target_amended_by_id_reference_document')),
        sa.ForeignKeyConstraint(['document_id'], ['reference_document.id'],
                                name=op.f('fk_reference_target_document_id_reference_document')),
        sa.ForeignKeyConstraint(['framework_id'], ['reference_framework.id'],
                                name=op.f('fk_reference_target_framework_id_reference_framework')),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'],
                                name=op.f('fk_reference_target_indicator_id_indicator')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_target')),
        sa.UniqueConstraint('framework_id', 'indicator_id', 'year',
                            name=op.f('uq_reference_target_framework_id_indicator_id_year')),
    )
    op.create_index(op.f('ix_reference_target_framework_id'), 'reference_target',
                    ['framework_id'], unique=False)
    op.create_index(op.f('ix_reference_target_indicator_id'), 'reference_target',
                    ['indicator_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reference_target_indicator_id'), table_name='reference_target')
    op.drop_index(op.f('ix_reference_target_framework_id'), table_name='reference_target')
    op.drop_table('reference_target')
    op.drop_table('reference_framework')
    op.drop_table('reference_document')
