"""The demo committees' meetings (the province's and three communes'), their conclusions
and the tasks they assigned, the tasks the centre assigned (central-tasks.yaml: real
documents where cited), progress reports and the units' monthly task reports, so the task
board and the report have a story to tell. Each is recorded on the day the story gives it
(noon, Vietnam time), by the system job "demo", so that a report for a past quarter sees
what was known then."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import User
from chiso.meetings.models import Meeting
from chiso.meetings.service import TaskSpec, add_conclusion, conclusion_to_tasks, create_meeting
from chiso.plans.models import Plan
from chiso.tasks.models import FocusArea, Task
from chiso.tasks.service import add_focus_area, create_task, update_progress
from chiso.text import vn_zone
from chiso.units.service import get_unit

DATA_DIR = Path(__file__).parent / "data"
FOCUS_FILE = Path(__file__).parent.parent / "tasks" / "data" / "focus-areas-72-KH-BCD.csv"


def seed_meetings_and_tasks(session: Session, *, province_code: str, today: dt.date) -> int:
    """Idempotent: a committee's meeting already recorded on its date is left alone.
    Returns the number of tasks created."""
    access = Access.system(session, "demo")
    focus = _focus_areas(session, access)
    story = yaml.safe_load((DATA_DIR / "meetings.yaml").read_text(encoding="utf-8"))
    created = 0
    for entry in story["meetings"]:
        unit = get_unit(session, str(entry.get("unit", province_code)))
        if entry["held_on"] > today or _exists(session, unit.id, entry):
            continue
        meeting = create_meeting(
            session, unit_id=unit.id, held_on=entry["held_on"], title=entry["title"],
            kind=entry["kind"], chair=entry["chair"], attendees=entry["attendees"],
            agenda=entry["agenda"], access=access, recorded_at=on_day(entry["held_on"]))
        for conclusion in entry["conclusions"]:
            created += _conclusion(session, meeting, conclusion, focus, today, access)
    return created + _central_tasks(session, today, access)


def _central_tasks(session: Session, today: dt.date, access: Access) -> int:
    """The tasks the centre assigned (and one the province assigned on a real plan), each
    recorded on the day it was received; idempotent on the title."""
    story = yaml.safe_load((DATA_DIR / "central-tasks.yaml").read_text(encoding="utf-8"))
    created = 0
    for entry in story["tasks"]:
        if entry["assigned"] > today or session.scalar(
                select(Task.id).where(Task.title == entry["title"])) is not None:
            continue
        task = create_task(
            session, title=entry["title"], lead_unit_id=get_unit(session, entry["lead"]).id,
            due_date=entry["due"], start_date=entry["assigned"],
            partner_unit_ids=[get_unit(session, p).id for p in entry.get("partners", [])],
            origin=entry["origin"], assigned_doc_number=entry.get("doc", ""),
            assigned_doc_date=entry.get("doc_date"), expected_product=entry.get("product", ""),
            access=access, recorded_at=on_day(entry["assigned"]))
        _progress(session, task, entry["progress"], today, access)
        created += 1
    return created


def _progress(session: Session, task: Task, steps: list[Any], today: dt.date,
              access: Access) -> None:
    for day, percent, note in steps:
        if day <= today:
            update_progress(session, task_id=task.id, progress_pct=percent, note=note,
                            update_date=day, access=access, recorded_at=on_day(day))


def on_day(day: dt.date) -> dt.datetime:
    """When the demo records what the story dates on `day`: noon that day, Vietnam time."""
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=vn_zone())


def _exists(session: Session, unit_id: int, entry: dict[str, Any]) -> bool:
    """A committee meets once on a day (an earlier demo may have named the meeting
    differently: it is still the same meeting)."""
    return session.scalar(select(Meeting.id).where(
        Meeting.unit_id == unit_id, Meeting.held_on == entry["held_on"])) is not None


def _conclusion(session: Session, meeting: Meeting, entry: dict[str, Any],
                focus: dict[str, int], today: dt.date, access: Access) -> int:
    held = on_day(meeting.held_on)
    conclusion = add_conclusion(session, meeting_id=meeting.id, text=entry["text"],
                                access=access, recorded_at=held)
    specs = [TaskSpec(title=t["title"], lead_unit_id=get_unit(session, t["lead"]).id,
                      due_date=t["due"], focus_area_id=focus.get(str(t.get("focus"))),
                      partner_unit_ids=[get_unit(session, p).id for p in t.get("partners", [])],
                      owner_id=_user_id(session, t.get("owner")))
             for t in entry["tasks"]]
    tasks = conclusion_to_tasks(session, conclusion_id=conclusion.id, specs=specs,
                                access=access, recorded_at=held)
    for task, spec in zip(tasks, entry["tasks"], strict=True):
        _progress(session, task, spec["progress"], today, access)
    return len(tasks)


def _user_id(session: Session, username: str | None) -> int | None:
    if not username:
        return None
    return session.scalar(select(User.id).where(User.username == username.lower()))


def _focus_areas(session: Session, access: Access) -> dict[str, int]:
    """Lạng Sơn's 11 focus contents of 72-KH/BCĐ, loaded once."""
    plan_id = session.scalar(select(Plan.id).where(Plan.code == "72-KH/BCĐ"))
    existing = {f.code: f.id for f in session.scalars(select(FocusArea))}
    if not existing:
        with FOCUS_FILE.open(encoding="utf-8-sig") as handle:
            for order, row in enumerate(csv.DictReader(handle), start=1):
                area = add_focus_area(session, code=row["code"].strip(),
                                      name_vi=row["name_vi"], name_en=row.get("name_en", ""),
                                      plan_id=plan_id, sort_order=order, access=access)
                existing[area.code] = area.id
    return existing
