"""The audit page in the words an administrator uses (issue 14 item 5): what was done and to
what in Vietnamese, each changed field by its name, before → after, ids shown as the names
of units, people and indicators, Vietnam time, days searched in Vietnam time, filters that
offer names, and pages of 50 instead of one 63,000 px page."""

from __future__ import annotations

import datetime as dt

import lxml.html

from chiso.audit.models import AuditEvent
from chiso.audit.service import record_event
from chiso.db import new_session
from tests.accounts_support import make_units
from tests.language_support import visible_text
from tests.test_audit_trail import audit_rows


def _events(db_url: str, *events: dict) -> None:
    db = new_session(db_url)
    for event in events:
        record_event(db, **event)
    db.commit()
    db.close()


def test_changes_read_as_people_say_them(admin_client, session, db_url) -> None:  # type: ignore[no-untyped-def]
    units = make_units(session)
    commune = units.commune_a
    _events(db_url,
            {"action": "submission.approve", "object_type": "submission", "object_id": 4,
             "unit_id": commune.id, "before": {"status": "submitted", "period": "2026Q3"},
             "after": {"status": "approved", "period": "2026Q3"}},
            {"action": "task.update", "object_type": "task", "object_id": 9,
             "before": {"lead_unit_id": units.province.id, "due_date": "2026-06-30"},
             "after": {"lead_unit_id": commune.id, "due_date": "2026-09-30"}})
    page = admin_client.get("/audit", params={"lang": "vi"}).text
    task, submission = audit_rows(page)[:2]
    assert "Duyệt báo cáo định kỳ" in submission and commune.name in submission
    assert "Trạng thái: Đã gửi → Đã duyệt" in submission
    assert "submitted" not in submission and "2026Q3" not in submission
    assert f"Đơn vị chủ trì: {units.province.name} → {commune.name}" in task
    assert "Hạn hoàn thành: 30/06/2026 → 30/09/2026" in task
    shown = visible_text(page)
    assert "lead_unit_id" not in shown and "task.update" not in shown
    english = audit_rows(admin_client.get("/audit", params={"lang": "en"}).text)[1]
    assert "Approve periodic report" in english and "Status: Submitted → Approved" in english


def test_times_are_vietnam_time_and_days_are_vietnam_days(admin_client, db_url) -> None:  # type: ignore[no-untyped-def]
    # 23:30 on 4 June in UTC is 06:30 on 5 June in Lạng Sơn.
    late = dt.datetime(2026, 6, 4, 23, 30, tzinfo=dt.UTC)
    db = new_session(db_url)
    db.add(AuditEvent(at=late, action="task.create", object_type="task", object_id="1"))
    db.commit()
    db.close()
    page = admin_client.get("/audit", params={"object_type": "task", "lang": "vi"}).text
    [row] = audit_rows(page)
    assert row.startswith("05/06/2026 06:30:00") and "UTC" not in page
    assert "Thời điểm (giờ Việt Nam)" in page
    on_the_5th = admin_client.get("/audit", params={"object_type": "task",
                                                    "date_from": "05/06/2026",
                                                    "date_to": "05/06/2026"}).text
    assert len(audit_rows(on_the_5th)) == 1
    on_the_4th = admin_client.get("/audit", params={"object_type": "task",
                                                    "date_to": "04/06/2026"}).text
    assert audit_rows(on_the_4th) == []


def test_filters_offer_people_actions_objects_and_units_by_name(admin_client, session,
                                                                db_url) -> None:
    units = make_units(session)
    _events(db_url, {"action": "value.update", "object_type": "data_value", "object_id": 1,
                     "unit_id": units.commune_a.id, "after": {"value": 1.5}},
            {"action": "plan.create", "object_type": "plan", "object_id": 2,
             "actor": None})
    page = lxml.html.fromstring(admin_client.get("/audit", params={"lang": "vi"}).text)

    def offered(name: str) -> list[str]:
        return [o.text_content() for o in page.xpath(f'//select[@name="{name}"]/option')]

    assert "Sửa số liệu" in offered("action") and "Tạo kế hoạch" in offered("action")
    assert "Số liệu" in offered("object_type") and "Kế hoạch" in offered("object_type")
    assert units.commune_a.name in offered("unit_id")
    assert "Hệ thống" in offered("actor") and "admin" in offered("actor")
    day = page.xpath('//input[@name="date_from"]')[0]
    assert day.get("type") == "text" and day.get("placeholder") == "dd/mm/yyyy"


def test_a_long_trail_comes_fifty_events_a_page(admin_client, db_url) -> None:  # type: ignore[no-untyped-def]
    _events(db_url, *({"action": "task.create", "object_type": "task", "object_id": n}
                      for n in range(120)))
    first = admin_client.get("/audit", params={"object_type": "task", "lang": "vi"}).text
    assert len(audit_rows(first)) == 50 and "Mục 1–50" in first
    assert "offset=50" in first and "Các mục cũ hơn" in first
    third = admin_client.get("/audit", params={"object_type": "task", "offset": 100}).text
    assert len(audit_rows(third)) == 20 and "Các mục cũ hơn" not in third
    # The API keeps its own page (200) for scripts.
    assert len(admin_client.get("/api/audit", params={"object_type": "task"}
                                ).json()["events"]) == 120


def test_a_targets_milestones_are_kept_as_a_list_and_read_as_dates(admin_client, session,  # type: ignore[no-untyped-def]
                                                                   tmp_path, db_url) -> None:
    """The trail keeps lists as lists, so a target's old milestones can be read back; an
    event written before that (Python's text of the list) reads the same on the page."""
    from sqlalchemy import select

    from chiso.accounts.access import Access
    from chiso.plans.models import Target
    from chiso.plans.service import load_plan, update_target
    from tests.plans_support import grdp_plan, prepared

    prepared(session)
    path = tmp_path / "plan.yaml"
    path.write_text(grdp_plan(3), encoding="utf-8")
    load_plan(session, path, access=Access.system(session, "test"))
    target = session.scalar(select(Target))
    update_target(session, target.id, {"trajectory": "milestones",
                                       "milestones": "30/06/2025: 1,5; 30/09/2025: 2,25"},
                  access=Access.system(session, "test"))
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "target.update")).one()
    assert event.after["milestones"] == [{"date": "2025-06-30", "value": 1.5},
                                         {"date": "2025-09-30", "value": 2.25}]
    _events(db_url, {"action": "target.update", "object_type": "target", "object_id": 99,
                     "before": {"milestones": None},
                     "after": {"milestones": str(event.after["milestones"])}})
    new, old = [row for row in audit_rows(admin_client.get("/audit", params={"lang": "vi"}).text)
                if "Mốc:" in row][:2]
    for row in (new, old):
        assert "Mốc: – → 30/06/2025: 1,5; 30/09/2025: 2,25" in row, row
        assert "{" not in row and "'date'" not in row
    english = audit_rows(admin_client.get("/audit", params={"lang": "en"}).text)
    assert any("Milestones: – → 2025-06-30: 1.5; 2025-09-30: 2.25" in row for row in english)
