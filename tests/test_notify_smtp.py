"""notify(): real email through a local aiosmtpd server, in-app rows, never twice."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from collection_support import local_smtp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role, User
from chiso.accounts.service import create_user
from chiso.notify.models import Notification
from chiso.notify.service import mark_all_read, notify, send_pending, unread_count
from chiso.settings import reset_settings_cache
from tests.tasks_support import Inbox, free_port

inbox = pytest.fixture(local_smtp, name="inbox")


def _user(session: Session, name: str, email: str = "") -> User:
    return create_user(session, access=Access.system(session, "test"),
                       username=name, password="pw-" + name * 3, role=Role.VIEWER,
                       email=email, full_name=name.title())


def test_an_event_reaches_each_recipient_once(session: Session, inbox: Inbox) -> None:
    lan = _user(session, "lan", "lan@sokhcn.langson.gov.vn")
    minh = _user(session, "minh", "minh@sonv.langson.gov.vn")
    nobody = _user(session, "noemail")
    sent = notify(session, recipients=[lan, minh, nobody, lan], event_key="task:7:due",
                  subject="Đến hạn: NV-0007", body="Nhiệm vụ đến hạn hôm nay", link="/tasks/7")
    session.commit()
    assert sent == 2
    assert inbox.subjects("lan@sokhcn.langson.gov.vn") == ["Đến hạn: NV-0007"]
    assert "/tasks/7" in inbox.to("minh@sonv.langson.gov.vn")[0]
    again = notify(session, recipients=[lan, minh, nobody], event_key="task:7:due",
                   subject="Đến hạn: NV-0007", body="lần hai")
    assert again == 0
    assert len(inbox.messages) == 2
    rows = session.scalar(select(func.count()).select_from(Notification))
    assert rows == 3  # in-app for everyone, including the user without an address
    assert unread_count(session, nobody) == 1
    mark_all_read(session, nobody)
    assert unread_count(session, nobody) == 0


def test_a_failed_email_is_retried_but_the_in_app_row_stays_single(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    lan = _user(session, "lan", "lan@sokhcn.langson.gov.vn")
    monkeypatch.setenv("CHISO_SMTP_PORT", str(free_port()))  # nothing listens there
    reset_settings_cache()
    assert notify(session, recipients=[lan], event_key="e1", subject="S", body="B") == 0
    row = session.scalar(select(Notification))
    assert row is not None and row.email_status == "failed"
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("CHISO_SMTP_PORT", str(port))
        reset_settings_cache()
        assert notify(session, recipients=[lan], event_key="e1", subject="S", body="B") == 1
        assert notify(session, recipients=[lan], event_key="e1", subject="S", body="B") == 0
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_deferred_email_waits_for_the_sender_then_goes_once(session: Session,
                                                              inbox: Inbox) -> None:
    lan = _user(session, "lan", "lan@sokhcn.langson.gov.vn")
    nobody = _user(session, "noemail")
    sent = notify(session, recipients=[lan, nobody], event_key="collection:approve:3:2",
                  subject="Đã duyệt", body="Báo cáo đã được duyệt", email_now=False)
    session.commit()
    assert sent == 0 and inbox.messages == []  # the approver did not wait for the mail
    statuses = {row.user_id: row.email_status for row in session.scalars(select(Notification))}
    assert statuses == {lan.id: "pending", nobody.id: "none"}
    assert send_pending(session) == 1 and inbox.subjects("lan@sokhcn.langson.gov.vn") == [
        "Đã duyệt"]
    assert send_pending(session) == 0  # never twice
