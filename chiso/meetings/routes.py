"""Meeting pages (`/meetings`, `/meetings/{id}`) and API (`/api/meetings…`).
Reading needs READ on the meeting's unit; recording meetings, conclusions and the tasks
made from them needs MANAGE."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.analytics.status import Status
from chiso.meetings import service
from chiso.meetings.committees import CommitteesView, CommuneCommittee, commune_committees
from chiso.meetings.models import Meeting, MeetingKind
from chiso.meetings.service import TaskSpec
from chiso.periods import period_label
from chiso.settings import get_settings
from chiso.tasks.common import (
    current_units,
    find_unit,
    manages_somewhere,
    required_date,
)
from chiso.tasks.status import STATUS_CSS, status_label
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import OptionalYear
from chiso.web.templating import render

router = APIRouter(tags=["meetings"])
NAV = [NavItem("Meetings", "/meetings", order=76),
       NavItem("Commune committees", "/meetings/committees", order=74)]
KIND_LABELS = {"quarterly": ("Phiên họp định kỳ quý", "Quarterly meeting"),
               "extraordinary": ("Phiên họp bất thường", "Extraordinary meeting")}


def meeting_or_404(session: Session, meeting_id: int, access: Access) -> Meeting:
    meeting = service.get_meeting(session, meeting_id)  # MeetingNotFound: 404
    access.require(Action.READ, meeting.unit_id)
    return meeting


def today() -> dt.date:
    return get_settings().current_date()


@router.get("/meetings", include_in_schema=False)
def meetings_page(request: Request, session: SessionDep, access: AccessDep) -> Response:
    access.require(Action.READ, None)
    every = service.list_meetings(session)
    meetings = [m for m in every if access.can(Action.READ, m.unit_id)]
    units = current_units(session)
    default = next((u for u in units if u.code == get_settings().default_unit), None)
    agenda = service.proposed_agenda(session, unit_id=default.id, held_on=today()
                                     + dt.timedelta(days=1), day=today()) if default else []
    return render(request, "meetings/list.html", {
        "access": access, "meetings": meetings, "kinds": KIND_LABELS,
        "hidden": len(every) - len(meetings), "can_manage": manages_somewhere(access),
        "units": units,
        "default_unit": default, "agenda": agenda, "today": today(), "error": ""})


@router.post("/meetings", include_in_schema=False)
def create_meeting(session: SessionDep, access: AccessDep,
                   title: Annotated[str, Form()], unit: Annotated[int, Form()],
                   held_on: Annotated[str, Form()], kind: Annotated[str, Form()] = "quarterly",
                   chair: Annotated[str, Form()] = "", attendees: Annotated[str, Form()] = "",
                   agenda: Annotated[str, Form()] = "") -> Response:
    day = required_date(held_on, "ngày họp", "the meeting date")
    meeting = service.create_meeting(session, unit_id=unit, held_on=day, title=title,
                                     kind=kind, chair=chair, attendees=attendees,
                                     agenda=agenda, access=access)
    return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)


def _committees(session: Session, access: Access, year: int | None,
                unit: str | None) -> CommitteesView:
    """The commune committees under `unit` (default: the province) the reader may read."""
    parent = find_unit(session, unit or get_settings().default_unit)
    access.require(Action.READ, parent.id)
    day = today()
    view = commune_committees(session, province=parent, year=year or day.year, day=day)
    view.rows = [r for r in view.rows if access.can(Action.READ, r.unit.id)]
    return view


@router.get("/meetings/committees", include_in_schema=False)
def committees_page(request: Request, session: SessionDep, access: AccessDep,
                    year: int | None = None, unit: str | None = None) -> Response:
    """Ban Chỉ đạo cấp xã: every commune committee's targets, tasks, meetings and monthly
    task report on one page, those behind first."""
    view = _committees(session, access, year, unit)
    return render(request, "meetings/committees.html", {
        "access": access, "view": view, "statuses": Status.of_moment(view.year < view.day.year),
        "month_label": period_label(view.month) if view.month else ""})


@router.get("/api/meetings/committees")
def api_committees(session: SessionDep, access: AccessDep, year: OptionalYear = None,
                   unit: str | None = None) -> dict[str, Any]:
    """Every commune committee: its targets of the year by status, the tasks it leads
    (total, done, done ahead of schedule, overdue), its meetings and its last monthly task
    report (reported, nothing this month, or none)."""
    view = _committees(session, access, year, unit)
    return {"year": view.year, "as_of": view.day.isoformat(), "month": view.month,
            "committees": [_committee_json(r) for r in view.rows]}


def _committee_json(row: CommuneCommittee) -> dict[str, Any]:
    month = row.month
    report = None if month is None else (
        "none" if month.report is None else "nothing" if month.nothing else "reported")
    return {"unit_code": row.unit.code, "unit_name": row.unit.name,
            "targets": row.targets, "statuses": dict(row.statuses),
            "tasks": row.tasks.to_dict() if row.tasks else None,
            "meetings": row.meetings,
            "last_meeting": row.last_meeting.isoformat() if row.last_meeting else None,
            "month_report": report}


@router.get("/meetings/{meeting_id}", include_in_schema=False)
def meeting_page(request: Request, meeting_id: int, session: SessionDep, access: AccessDep,
                 error: str = "") -> Response:
    meeting = meeting_or_404(session, meeting_id, access)
    return render(request, "meetings/meeting.html", {
        "access": access, "meeting": meeting, "kinds": KIND_LABELS,
        "tasks": service.conclusion_tasks(session, meeting, today()),
        "open_items": service.open_items(session, unit_id=meeting.unit_id,
                                         before=meeting.held_on, day=today()),
        "can_manage": access.can(Action.MANAGE, meeting.unit_id),
        "units": current_units(session), "status_label": status_label,
        "status_css": STATUS_CSS, "error": error})


@router.post("/meetings/{meeting_id}/conclusions", include_in_schema=False)
def add_conclusion(meeting_id: int, session: SessionDep, access: AccessDep,
                   text: Annotated[str, Form()]) -> Response:
    meeting_or_404(session, meeting_id, access)
    service.add_conclusion(session, meeting_id=meeting_id, text=text, access=access)
    return RedirectResponse(f"/meetings/{meeting_id}", status_code=303)


@router.post("/meetings/{meeting_id}/conclusions/{conclusion_id}/tasks",
             include_in_schema=False)
def conclusion_tasks(meeting_id: int, conclusion_id: int, session: SessionDep,
                     access: AccessDep, title: Annotated[str, Form()],
                     due_date: Annotated[str, Form()],
                     lead_units: Annotated[list[int], Form()]) -> Response:
    """One task per chosen lead unit ("giao Sở A, Sở B …")."""
    meeting_or_404(session, meeting_id, access)
    due = required_date(due_date, "hạn hoàn thành", "a due date")
    specs = [TaskSpec(title=title, lead_unit_id=u, due_date=due) for u in lead_units]
    service.conclusion_to_tasks(session, conclusion_id=conclusion_id, specs=specs,
                                access=access)
    return RedirectResponse(f"/meetings/{meeting_id}", status_code=303)


# ------------------------------------------------------------------ JSON API

class MeetingIn(BaseModel):
    unit: str = Field(min_length=1, description="Unit code of the committee")
    held_on: dt.date
    title: str
    kind: MeetingKind = MeetingKind.QUARTERLY
    chair: str = ""
    attendees: list[str] = []
    agenda: list[str] | None = None  # None: start from the open items


class ConclusionIn(BaseModel):
    text: str


class TaskSpecIn(BaseModel):
    title: str
    lead_unit: str = Field(min_length=1, description="Lead unit code")
    due_date: dt.date
    partner_units: list[str] = []


def meeting_json(meeting: Meeting) -> dict[str, Any]:
    return {"id": meeting.id, "unit_id": meeting.unit_id, "held_on": meeting.held_on.isoformat(),
            "kind": meeting.kind, "title": meeting.title, "chair": meeting.chair,
            "attendees": meeting.attendees.splitlines(), "agenda": meeting.agenda.splitlines(),
            "conclusions": [{"id": c.id, "seq": c.seq, "text": c.text}
                            for c in meeting.conclusions]}


@router.get("/api/meetings")
def api_list(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """Meetings the user may read, newest first."""
    access.require(Action.READ, None)
    return [meeting_json(m) for m in service.list_meetings(session)
            if access.can(Action.READ, m.unit_id)]


@router.post("/api/meetings", status_code=201)
def api_create(body: MeetingIn, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Record a meeting (MANAGE); without an agenda it starts from the open items."""
    unit = find_unit(session, body.unit)
    agenda = body.agenda if body.agenda is not None else service.proposed_agenda(
        session, unit_id=unit.id, held_on=body.held_on, day=today())
    meeting = service.create_meeting(session, unit_id=unit.id, held_on=body.held_on,
                                     title=body.title, kind=body.kind, chair=body.chair,
                                     attendees=body.attendees, agenda=agenda, access=access)
    return meeting_json(meeting)


@router.get("/api/meetings/{meeting_id}")
def api_get(meeting_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """One meeting (date, kind, title, chair, attendees, agenda) with its numbered conclusions
    and, under each, the tasks made from it with their status today. Needs READ on the
    meeting's unit."""
    meeting = meeting_or_404(session, meeting_id, access)
    data = meeting_json(meeting)
    tasks = service.conclusion_tasks(session, meeting, today())
    for conclusion in data["conclusions"]:
        conclusion["tasks"] = [r.to_dict() for r in tasks.get(conclusion["id"], [])]
    return data


@router.post("/api/meetings/{meeting_id}/conclusions", status_code=201)
def api_conclusion(meeting_id: int, body: ConclusionIn, session: SessionDep,
                   access: AccessDep) -> dict[str, Any]:
    """Add a conclusion (non-empty text) to a meeting; it gets the next number. Returns its id,
    number and text; 422 for empty text. Needs MANAGE on the meeting's unit."""
    meeting_or_404(session, meeting_id, access)
    row = service.add_conclusion(session, meeting_id=meeting_id, text=body.text, access=access)
    return {"id": row.id, "seq": row.seq, "text": row.text}


@router.post("/api/meetings/{meeting_id}/conclusions/{conclusion_id}/tasks",
             status_code=201)
def api_conclusion_tasks(meeting_id: int, conclusion_id: int, body: list[TaskSpecIn],
                         session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """Turn a conclusion into one or more tasks."""
    meeting_or_404(session, meeting_id, access)
    specs = [TaskSpec(title=item.title, lead_unit_id=find_unit(session, item.lead_unit).id,
                      due_date=item.due_date,
                      partner_unit_ids=[find_unit(session, c).id for c in item.partner_units])
             for item in body]
    tasks = service.conclusion_to_tasks(session, conclusion_id=conclusion_id, specs=specs,
                                        access=access)
    return [{"id": t.id, "code": t.code, "title": t.title} for t in tasks]


__all__ = ["router"]
