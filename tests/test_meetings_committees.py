"""The province sees every commune committee: its own targets by status, the tasks it
leads (done ahead of schedule, overdue), its meetings and its monthly task report; a
commune's officer sees only its own committee; the commune's overview reads as the
commune's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.plans.models import Target
from chiso.settings import reset_settings_cache
from chiso.tasks.monthly import submit_month_report
from tests.conftest import login
from tests.tasks_support import TODAY, add_origin_tasks, build_world, on_day, system


@pytest.fixture
def pinned_today(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    reset_settings_cache()


def test_the_province_sees_every_commune_committee(session: Session, pinned_today: None,  # type: ignore[no-untyped-def]
                                                   client, make_user) -> None:
    w = build_world(session, with_tasks=False)
    add_origin_tasks(session, w)
    session.add(Target(plan_id=w.plan.id, indicator_id=w.online.id, unit_id=w.commune_a.id,
                       year=2025, target_date=dt.date(2025, 12, 31), value=70.0,
                       comparator=">=", pillar_code="CQS"))
    submit_month_report(session, unit_id=w.commune_a.id, period="202509", nothing=True,
                        access=system(session), recorded_at=on_day(dt.date(2025, 10, 3)))
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, office.username, password)
    body = client.get("/api/meetings/committees").json()
    assert body["year"] == 2025 and body["month"] == "202509"
    rows = {r["unit_code"]: r for r in body["committees"]}
    assert set(rows) == {"06001", "06002", "06003"}
    dong_kinh = rows["06001"]
    assert dong_kinh["targets"] == 1 and sum(dong_kinh["statuses"].values()) == 1
    assert dong_kinh["tasks"]["total"] == 1 and dong_kinh["tasks"]["running"] == 1
    assert dong_kinh["meetings"] == 1 and dong_kinh["last_meeting"] == "2025-07-15"
    assert dong_kinh["month_report"] == "nothing"
    assert rows["06002"]["targets"] == 0 and rows["06002"]["tasks"] is None
    page = client.get("/meetings/committees").text
    assert "Phường Đông Kinh" in page.split('id="committees"')[1].split("</table>")[0]
    assert "2 xã, phường chưa có chỉ tiêu" in page  # the idle ones, by name, not as rows

    officer, officer_pw = make_user(Role.FOCAL_OFFICER, w.commune_b.id, username="xa-huu-lung")
    client.cookies.clear()
    login(client, officer.username, officer_pw)
    refused = client.get("/api/meetings/committees")
    assert refused.status_code == 403  # the province's list needs READ on the province
    own = client.get("/api/meetings/committees", params={"unit": w.commune_b.code})
    assert own.status_code == 200 and own.json()["committees"] == []
