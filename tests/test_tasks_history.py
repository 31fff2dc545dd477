"""A task's state, progress and existence at any past instant, from its history; and the
migration that gave old history rows the fields a report shows."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from chiso.db.migrate import alembic_config
from chiso.reports.cutoff import end_of_day
from chiso.tasks.history import tasks_as_of
from chiso.tasks.models import TaskStatus
from chiso.tasks.service import create_task, edit_task, get_task, update_progress
from tests.conftest import POSTGRESQL_PARAM, _pg_create_database, _pg_drop_database
from tests.tasks_support import build_world, on_day, system


def test_a_task_as_it_stood_then_as_it_was_known_then(session: Session) -> None:
    w = build_world(session, with_tasks=False)
    access = system(session)
    task = create_task(session, title="Xây dựng kho dữ liệu dùng chung", lead_unit_id=w.khcn.id,
                       due_date=dt.date(2025, 9, 20), partner_unit_ids=[w.noi_vu.id],
                       access=access, recorded_at=on_day(dt.date(2025, 7, 1)))
    update_progress(session, task_id=task.id, progress_pct=40, access=access,
                    update_date=dt.date(2025, 9, 1), recorded_at=on_day(dt.date(2025, 9, 1)))
    # 05/10: the deadline moves and a partner joins (recorded and effective that day) …
    edit_task(session, task_id=task.id, access=access, due_date=dt.date(2025, 10, 31),
              partner_unit_ids=[w.noi_vu.id, w.tai_chinh.id])
    session.flush()
    session.execute(text("UPDATE task_update SET update_date = :d, changed_at = :at "
                         "WHERE task_id = :t AND version = 3"),
                    {"d": dt.date(2025, 10, 5), "at": on_day(dt.date(2025, 10, 5)),
                     "t": task.id})
    # … and on 20/10 the office records that the work was finished on 18/10
    update_progress(session, task_id=task.id, progress_pct=100, access=access,
                    update_date=dt.date(2025, 10, 18), recorded_at=on_day(dt.date(2025, 10, 20)))

    def state(day: dt.date, known: dt.date) -> tuple[object, ...] | None:
        rows = tasks_as_of(session, day=day, known_at=end_of_day(known))
        if not rows:
            return None
        r = rows[0]
        return (r.status, r.task.progress_pct, r.task.due_date, sorted(r.partner_names))

    assert state(dt.date(2025, 6, 30), dt.date(2025, 6, 30)) is None  # not yet assigned
    assert state(dt.date(2025, 9, 30), dt.date(2025, 9, 30)) == (
        TaskStatus.OVERDUE, 40.0, dt.date(2025, 9, 20), ["Sở Nội vụ"])
    assert state(dt.date(2025, 10, 19), dt.date(2025, 10, 19)) == (
        TaskStatus.IN_PROGRESS, 40.0, dt.date(2025, 10, 31), ["Sở Nội vụ", "Sở Tài chính"])
    # known later, the end of September still shows what was true then
    assert state(dt.date(2025, 9, 30), dt.date(2025, 12, 31)) == (
        TaskStatus.OVERDUE, 40.0, dt.date(2025, 9, 20), ["Sở Nội vụ"])
    assert state(dt.date(2025, 10, 31), dt.date(2025, 10, 31))[:2] == (  # type: ignore[index]
        TaskStatus.DONE, 100.0)
    # reading the past changes nothing in the store
    assert not session.dirty and not session.new
    current = get_task(session, task.id)
    assert current is not None and current.due_date == dt.date(2025, 10, 31)


def test_only_a_system_job_records_a_change_in_the_past(session: Session, make_user) -> None:  # type: ignore[no-untyped-def]
    from chiso.accounts.access import Access
    from chiso.accounts.models import Role, User
    from chiso.errors import Forbidden

    w = build_world(session, with_tasks=False)
    session.commit()
    office, _ = make_user(Role.STANDING_OFFICE, w.province.id)
    person = Access(session, session.get(User, office.id))
    with pytest.raises(Forbidden, match="quá khứ"):
        create_task(session, title="x", lead_unit_id=w.khcn.id, due_date=dt.date(2025, 9, 1),
                    access=person, recorded_at=on_day(dt.date(2025, 1, 1)))


# ------------------------------------------------------------------ the migration

@pytest.fixture(params=["sqlite", POSTGRESQL_PARAM])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite'}"
        return
    url = _pg_create_database()
    yield url
    _pg_drop_database(url)


def test_old_history_rows_get_the_tasks_fields(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, "tasks_0001")
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO unit_kind (code, name_vi, name_en, level) "
                          "VALUES ('so', 'Sở', 'Department', 2)"))
        for unit_id in (1, 2, 3):
            conn.execute(text("INSERT INTO org_unit (id, code, name, short_name, name_en, kind, "
                              "valid_from) VALUES (:i, :c, :n, '', '', 'so', '1900-01-01')"),
                         {"i": unit_id, "c": f"S{unit_id}", "n": f"Sở {unit_id}"})
        conn.execute(text(
            "INSERT INTO task (id, code, title, description, lead_unit_id, start_date, due_date,"
            " state, progress_pct, recurrence, version, deleted, created_at, updated_at) VALUES "
            "(1, 'NV-0001', 'Kho dữ liệu', '', 1, '2025-07-01', '2025-09-30', 'open', 0, '', 1,"
            " false, '2025-07-01', '2025-07-01')"))
        for partner in (3, 2):
            conn.execute(text("INSERT INTO task_partner (task_id, unit_id) VALUES (1, :u)"),
                         {"u": partner})
        conn.execute(text(
            "INSERT INTO task_update (task_id, version, change, update_date, note, progress_pct,"
            " state, title, due_date, lead_unit_id, changed_at) VALUES (1, 1, 'create', "
            "'2025-07-01', '', 0, 'open', 'Kho dữ liệu', '2025-09-30', 1, '2025-07-01')"))
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        start, partners = conn.execute(text(
            "SELECT start_date, partner_unit_ids FROM task_update")).one()
    engine.dispose()
    assert str(start) == "2025-07-01"
    assert (partners if isinstance(partners, list) else __import__("json").loads(partners)) \
        == [2, 3]
