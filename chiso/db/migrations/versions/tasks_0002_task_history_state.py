"""task history holds start date, focus area and partners

Revision ID: tasks_0002
Revises: tasks_0001

A report for a past period shows tasks as they stood then, from `task_update`; these are
the fields it shows that the history did not keep. Rows written before this revision get
the task's current values (the best that is known).
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = 'tasks_0002'
down_revision = 'tasks_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('focus_area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('partner_unit_ids', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_task_update_focus_area_id_focus_area'),
                                    'focus_area', ['focus_area_id'], ['id'])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE task_update SET "
        "start_date = (SELECT task.start_date FROM task WHERE task.id = task_update.task_id), "
        "focus_area_id = (SELECT task.focus_area_id FROM task "
        "WHERE task.id = task_update.task_id)"))
    partners: dict[int, list[int]] = defaultdict(list)
    for task_id, unit_id in bind.execute(sa.text(
            "SELECT task_id, unit_id FROM task_partner ORDER BY task_id, unit_id")):
        partners[task_id].append(unit_id)
    task_ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM task"))]
    update = sa.text("UPDATE task_update SET partner_unit_ids = :ids WHERE task_id = :task")
    for task_id in task_ids:
        bind.execute(update, {"ids": json.dumps(partners.get(task_id, [])), "task": task_id})


def downgrade() -> None:
    with op.batch_alter_table('task_update', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_update_focus_area_id_focus_area'),
                                 type_='foreignkey')
        batch_op.drop_column('partner_unit_ids')
        batch_op.drop_column('focus_area_id')
        batch_op.drop_column('start_date')
