"""Reminders (đôn đốc) reach a local SMTP server, escalate, and are never sent twice."""

from __future__ import annotations

import datetime as dt

import pytest
from collection_support import build_province, local_smtp
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.accounts.service import create_user
from chiso.collection import service
from chiso.collection.models import Submission
from chiso.collection.remind import send_due
from tests.tasks_support import Inbox

FOCAL_A, FOCAL_B = "dau-moi@dongdang.langson.gov.vn", "dau-moi@huulung.langson.gov.vn"
HEAD_A, OFFICE = "chu-tich@dongdang.langson.gov.vn", "vanphong@sokhcn.langson.gov.vn"

inbox = pytest.fixture(local_smtp, name="inbox")


def test_reminders_escalate_and_are_sent_once(session, inbox: Inbox) -> None:
    province = build_province(session)
    w = province.world
    for name, email, role, unit in (("lan", FOCAL_A, Role.FOCAL_OFFICER, w.commune_a.id),
                                    ("minh", FOCAL_B, Role.FOCAL_OFFICER, w.commune_b.id),
                                    ("hung", HEAD_A, Role.LEADER, w.commune_a.id),
                                    ("ha", OFFICE, Role.STANDING_OFFICE, w.province.id)):
        create_user(session, access=Access.system(session, "test"),
                    username=name, password="pw-" + name * 4, role=role,
                    unit_id=unit, email=email)
    session.commit()
    due = service.due_date(province.data_set, "2025Q3")
    assert due == dt.date(2025, 10, 10)

    assert send_due(session, today=due - dt.timedelta(days=4)).emails == 0
    early = send_due(session, today=due - dt.timedelta(days=3))
    session.commit()
    assert len(inbox.subjects(FOCAL_A)) == 1 and "Còn 3 ngày" in inbox.subjects(FOCAL_A)[0]
    assert inbox.to(HEAD_A) == [] and inbox.to(OFFICE) == []
    again = send_due(session, today=due - dt.timedelta(days=2))  # same stage, next cron run
    session.commit()
    assert again.emails == 0 and len(inbox.to(FOCAL_A)) == 1
    assert early.emails == 2  # both communes' focal officers

    # Commune B reports; commune A does not.
    submission = session.scalar(select(Submission).where(
        Submission.unit_id == w.commune_b.id, Submission.period == "2025Q3"))
    service.submit(session, submission, access=Access.system(session, "test"))
    session.commit()
    send_due(session, today=due + dt.timedelta(days=3))
    session.commit()
    assert len(inbox.to(FOCAL_A)) == 2 and len(inbox.to(HEAD_A)) == 1
    assert len(inbox.to(FOCAL_B)) == 1  # nothing more once submitted
    assert "quá hạn 3 ngày" in inbox.subjects(HEAD_A)[0]
    summaries = [s for s in inbox.subjects(OFFICE) if "chậm báo cáo" in s]
    assert len(summaries) == 1 and "2 đơn vị" in summaries[0]  # 06001 and 06003
    body = inbox.to(OFFICE)[0]
    # Names, never codes: the late communes by name, the one that reported absent.
    assert "Xã Đồng Đăng" in body and "Xã Mới" in body and "Xã Hữu Lũng" not in body
    assert "06001" not in body

    send_due(session, today=due + dt.timedelta(days=8))
    send_due(session, today=due + dt.timedelta(days=8))
    session.commit()
    office_mail = inbox.subjects(OFFICE)
    escalated = sorted(s for s in office_mail if "Đã quá hạn 7 ngày" in s)
    form = "Báo cáo quý thủ tục hành chính Quý III/2025"  # names, never CCHC_QUY 2025Q3
    assert escalated == [f"[chiso] Đã quá hạn 7 ngày: {form} — Xã Mới",
                         f"[chiso] Đã quá hạn 7 ngày: {form} — Xã Đồng Đăng"]
    assert len(office_mail) == 4  # two daily summaries and one escalation per late unit
    assert len(inbox.to(FOCAL_A)) == 3


def test_remind_command_runs_for_cron(db_url: str, session, inbox: Inbox) -> None:
    from chiso.cli.main import app

    province = build_province(session)
    create_user(session, access=Access.system(session, "test"),
                username="lan", password="pw-lanlanlan", role=Role.FOCAL_OFFICER,
                unit_id=province.world.commune_a.id, email=FOCAL_A)
    session.commit()
    runner = CliRunner()
    first = runner.invoke(app, ["remind", "--today", "10/10/2025"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["remind", "--today", "10/10/2025"])
    assert "0 email" in second.output
    assert inbox.subjects(FOCAL_A) == [
        "[chiso] Hôm nay là hạn nộp: Báo cáo quý thủ tục hành chính Quý III/2025 — "
        "Xã Đồng Đăng"]
