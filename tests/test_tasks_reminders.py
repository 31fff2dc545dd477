"""Reminders before, on and after the due date reach a local SMTP server once per event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.accounts.service import create_user
from chiso.cli.main import app
from chiso.notify.models import Notification
from chiso.settings import reset_settings_cache
from chiso.tasks.service import create_task
from tests.tasks_support import TODAY, Inbox, build_world, free_port, system

NV = "dau-moi@sonoivu.langson.gov.vn"
KHCN = "dau-moi@sokhcn.langson.gov.vn"
OFFICE = "thuong-truc@sokhcn.langson.gov.vn"


@pytest.fixture
def inbox(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("CHISO_SMTP_PORT", str(port))
    reset_settings_cache()
    yield handler
    controller.stop()


def _people(session: Session) -> None:
    w = build_world(session)
    create_user(session, access=Access.system(session, "test"),
                username="dm-nv", password="x" * 12, role=Role.FOCAL_OFFICER,
                unit_id=w.noi_vu.id, email=NV)
    create_user(session, access=Access.system(session, "test"),
                username="dm-khcn", password="x" * 12, role=Role.FOCAL_OFFICER,
                unit_id=w.khcn.id, email=KHCN)
    create_user(session, access=Access.system(session, "test"),
                username="tt", password="x" * 12, role=Role.STANDING_OFFICE,
                unit_id=w.province.id, email=OFFICE)
    create_task(session, title="Công bố danh mục dữ liệu mở", lead_unit_id=w.khcn.id,
                due_date=TODAY + dt.timedelta(days=3), access=system(session))
    create_task(session, title="Rà soát hệ thống thông tin cấp độ", lead_unit_id=w.khcn.id,
                due_date=TODAY, access=system(session))
    session.commit()


def _remind(day: dt.date) -> str:
    result = CliRunner().invoke(app, ["tasks", "remind", "--on", day.strftime("%d/%m/%Y")])
    assert result.exit_code == 0, result.output
    return result.output


def test_due_and_overdue_reminders_arrive_once(session: Session, inbox: Inbox) -> None:
    _people(session)
    output = _remind(TODAY)
    assert "3 nhắc việc" in output
    khcn = sorted(inbox.subjects(KHCN))
    assert len(khcn) == 2
    assert any(s.startswith("[chiso] Sắp đến hạn: NV-0005 — hạn 08/10/2025") for s in khcn)
    assert any(s.startswith("[chiso] Đến hạn hôm nay: NV-0006 — 05/10/2025") for s in khcn)
    assert inbox.subjects(NV) == ["[chiso] QUÁ HẠN 20 ngày: NV-0002 — hạn 15/09/2025 / overdue"]
    # overdue escalates to the standing office; due-soon does not
    assert inbox.subjects(OFFICE) == inbox.subjects(NV)
    assert len(inbox.messages) == 4

    _remind(TODAY)  # cron runs again the same day: nothing new
    assert len(inbox.messages) == 4
    _remind(TODAY + dt.timedelta(days=1))  # NV-0006 is now overdue: a new event
    assert len(inbox.messages) == 6
    assert inbox.subjects(KHCN)[-1].startswith("[chiso] QUÁ HẠN 1 ngày: NV-0006")
    in_app = session.scalars(select(Notification.event_key).order_by(Notification.id)).all()
    assert len(in_app) == 6
