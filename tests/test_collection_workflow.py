"""The holes found by attacking the reporting cycle, closed at the HTTP level on SQLite and
PostgreSQL, and the real workflow around them:

- H2: a commune's standing office redefined the province-wide data set by naming itself as
  `parent_unit`; now MANAGE is needed on the data set's current and new units.
- M1: a capture-only API token of a standing-office user edited an approved figure (and
  moved the report back to "submitted"): the lock now judges the token's own rights.
- Low: a standing office approved the report it had sent itself: refused (four eyes).
- A sent report is locked for its officer until it is returned; the officer is told of
  the approval or the return in-app and by e-mail (a local SMTP server).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest
from collection_support import CURRENT_QUARTER, build_province, local_smtp
from fastapi.testclient import TestClient
from sqlalchemy import select

from chiso.accounts.access import Access, Action
from chiso.accounts.models import Role
from chiso.accounts.service import create_api_token, create_user
from chiso.audit.models import AuditEvent
from chiso.collection import service
from chiso.collection.models import DataSet, DataSetIndicator, Submission
from chiso.db import new_session
from chiso.notify.models import Notification
from chiso.settings import reset_settings_cache
from chiso.values.models import DataValue
from chiso.values.service import save_value
from tests.conftest import login
from tests.tasks_support import Inbox

P = CURRENT_QUARTER
FOCAL_MAIL = "dau-moi@dongdang.langson.gov.vn"

inbox = pytest.fixture(local_smtp, name="inbox")


@pytest.fixture
def province(session):  # type: ignore[no-untyped-def]
    built = build_province(session)
    session.commit()
    return built


def _signed_in(app, user, password) -> tuple[TestClient, dict[str, str]]:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    client.__enter__()
    login(client, user.username, password)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/account/password").text)
    assert token
    return client, {"X-CSRF-Token": token.group(1)}


def _read(mail: str) -> tuple[str, str]:
    """(subject, body) of a received e-mail, decoded as a mail program shows them."""
    message = email.message_from_string(mail, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(message["Subject"]), body.get_content()


def _submission(db_url: str, unit_id: int) -> Submission:
    session = new_session(db_url)
    try:
        return session.scalar(select(Submission).where(Submission.unit_id == unit_id,
                                                       Submission.period == P))
    finally:
        session.close()


# ------------------------------------------------------------------ H2


def test_a_commune_office_cannot_redefine_the_province_data_set(app, session, db_url,
                                                                province, make_user) -> None:
    w = province.world
    commune_office, password = make_user(Role.STANDING_OFFICE, w.commune_a.id)
    client, headers = _signed_in(app, commune_office, password)
    attack = {"code": "CCHC_QUY", "name_vi": "Bị sửa", "due_days": 1, "parent_unit": "06001",
              "indicators": ["CQS.SO_DVCTT"], "units": ["06001"]}
    refused = client.post("/api/collection/datasets", headers=headers, json=attack)
    assert refused.status_code == 403, refused.text
    assert refused.json()["status"] == 403  # the published error shape
    session.expire_all()
    data_set = session.scalar(select(DataSet).where(DataSet.code == "CCHC_QUY"))
    assert (data_set.name_vi, data_set.due_days) == ("Báo cáo quý thủ tục hành chính", 10)
    assert len(session.scalars(select(DataSetIndicator).where(
        DataSetIndicator.data_set_id == data_set.id)).all()) == 4

    # Its own form, for its own unit only, it may define; naming a neighbour is refused.
    own = {"code": "XA_DONG_DANG", "name_vi": "Báo cáo riêng của xã", "units": ["06001"],
           "indicators": ["CQS.SO_DVCTT"]}
    assert client.post("/api/collection/datasets", headers=headers, json=own
                       ).status_code == 200
    own["units"] = ["06001", "06002"]
    assert client.post("/api/collection/datasets", headers=headers, json=own
                       ).status_code == 403
    session.expire_all()
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["dataset.create", "dataset.update"]))).all()
    assert [e.actor_id for e in events if e.actor_id == commune_office.id] == [
        commune_office.id]  # one event for the one change made
    bad = client.post("/api/collection/datasets", headers=headers, json={
        "code": "XA_DONG_DANG", "name_vi": "x", "units": ["06001"], "indicators": ["KHONG"]})
    assert bad.status_code == 422 and "KHONG" in bad.json()["detail"]
    client.__exit__(None, None, None)


# ------------------------------------------------------------------ M1


def test_a_capture_only_token_cannot_edit_an_approved_figure(client, session, db_url,
                                                             province, make_user) -> None:
    w = province.world
    office, _password = make_user(Role.STANDING_OFFICE, w.province.id)
    system = Access.system(session, "test")
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.count.id, period=P, value=10,
               access=system)
    submission = service.submission_for(session, province.data_set, w.commune_a.id, P)
    service.submit(session, submission, access=system)
    service.approve(session, submission, access=system)
    secret, _token = create_api_token(session, access=Access.system(session, "test"),
                                      user=session.merge(office), name="feed",
                                      actions=[Action.READ, Action.CAPTURE])
    session.commit()
    answer = client.post("/api/values", headers={"Authorization": f"Bearer {secret}"},
                         json={"unit": "06001", "indicator": "CQS.SO_DVCTT", "period": P,
                               "value": 99})
    assert answer.status_code == 422, answer.text
    assert "approved_locked" in answer.text
    after = _submission(db_url, w.commune_a.id)
    assert (after.status, after.edits_after_approval) == ("approved", 0)
    session.expire_all()
    assert session.scalar(select(DataValue.value).where(
        DataValue.unit_id == w.commune_a.id, DataValue.indicator_id == w.count.id)) == 10


# ------------------------------------------------------------------ four eyes


def test_nobody_approves_a_report_they_sent(app, session, db_url, province, make_user
                                            ) -> None:
    w = province.world
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    other, other_password = make_user(Role.STANDING_OFFICE, w.province.id)
    client, headers = _signed_in(app, office, password)
    submission = service.submission_for(session, province.data_set, w.commune_a.id, P)
    session.commit()
    step = f"/api/collection/submissions/{submission.id}"
    assert client.post(f"{step}/submit", headers=headers).status_code == 200
    own = client.post(f"{step}/approve", headers=headers)
    assert own.status_code == 403 and "không tự duyệt" in own.json()["message_vi"]
    second, second_headers = _signed_in(app, other, other_password)
    assert second.post(f"{step}/approve", headers=second_headers).json()["status"] == \
        "approved"
    client.__exit__(None, None, None)
    second.__exit__(None, None, None)


# ------------------------------------------------------------------ sent = locked


def test_a_sent_report_is_locked_until_returned_and_the_officer_is_told(
        app, session, db_url, province, make_user, inbox: Inbox) -> None:
    w = province.world
    focal = create_user(session, access=Access.system(session, "test"),
                        username="lan-dd", password="pw-lanlanlan-1",
                        role=Role.FOCAL_OFFICER, unit_id=w.commune_a.id, email=FOCAL_MAIL)
    session.commit()
    office, office_password = make_user(Role.STANDING_OFFICE, w.province.id)
    commune, commune_h = _signed_in(app, focal, "pw-lanlanlan-1")
    board, board_h = _signed_in(app, office, office_password)
    form = f"/collection/CCHC_QUY/{P}/06001"
    count_id = w.count.id
    saved = commune.post(f"{form}/save", data={f"value_{count_id}": "12", "then": "submit",
                                               "csrf_token": commune_h["X-CSRF-Token"]},
                         follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert _submission(db_url, w.commune_a.id).status == "submitted"

    page = commune.get(form).text
    assert 'id="locked"' in page and 'name="value_' in page and "disabled" in page
    again = commune.post(f"{form}/save", data={f"value_{count_id}": "13", f"version_{count_id}":
                                               "1", "csrf_token": commune_h["X-CSRF-Token"]})
    assert again.status_code == 422 and "chờ duyệt" in again.text

    review = board.get(f"{form}/review")
    assert review.status_code == 200 and "Xã Đồng Đăng" in review.text
    no_confirm = board.post(f"{form}/step", data={"step": "approve",
                                                  "csrf_token": board_h["X-CSRF-Token"]})
    assert no_confirm.status_code == 422
    returned = board.post(f"{form}/step", data={
        "step": "return", "reason": "Thiếu số hồ sơ trực tuyến",
        "csrf_token": board_h["X-CSRF-Token"]}, follow_redirects=False)
    assert returned.status_code == 303
    [mail] = inbox.to(FOCAL_MAIL)
    subject, body = _read(mail)
    assert subject.startswith("[chiso] Bị trả lại: Báo cáo quý thủ tục hành chính")
    assert "Thiếu số hồ sơ trực tuyến" in body and "CCHC_QUY" not in subject
    session.expire_all()
    told = session.scalars(select(Notification).where(Notification.user_id == focal.id)).all()
    assert len(told) == 1 and "Bị trả lại" in told[0].subject

    fixed = commune.post(f"{form}/save", data={f"value_{count_id}": "13", f"version_{count_id}":
                                               "1", "then": "submit",
                                               "csrf_token": commune_h["X-CSRF-Token"]},
                         follow_redirects=False)
    assert fixed.status_code == 303
    approved = board.post(f"{form}/step", data={"step": "approve", "confirm": "yes",
                                                "csrf_token": board_h["X-CSRF-Token"]},
                          follow_redirects=False)
    assert approved.status_code == 303
    assert _submission(db_url, w.commune_a.id).status == "approved"
    assert len(inbox.to(FOCAL_MAIL)) == 2
    assert _read(inbox.to(FOCAL_MAIL)[1])[0].startswith("[chiso] Đã duyệt:")
    commune.__exit__(None, None, None)
    board.__exit__(None, None, None)


def test_what_i_owe_points_at_the_late_report(app, session, province, make_user,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    w = province.world
    focal, password = make_user(Role.FOCAL_OFFICER, w.commune_a.id)
    previous = service.parse_period(P).previous()
    due = service.due_date(province.data_set, previous)
    monkeypatch.setenv("CHISO_TODAY", (due + dt.timedelta(days=77)).isoformat())
    reset_settings_cache()
    client, _headers = _signed_in(app, focal, password)
    owed = client.get("/api/collection/owed").json()
    late = [o for o in owed["to_send"] if o["days_late"] == 77]
    assert late and late[0]["unit_name"] == "Xã Đồng Đăng"
    assert late[0]["link"] == f"/collection/CCHC_QUY/{previous.id}/06001"
    page = client.get("/collection").text
    assert 'id="to-send"' in page and "77" in page and late[0]["link"] in page
    client.__exit__(None, None, None)
    reset_settings_cache()
