"""The catalogue and plan JSON API: reading, and who may add or change a target."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.audit.models import AuditEvent
from chiso.plans.models import Target
from chiso.plans.service import load_plan
from tests.conftest import login
from tests.plans_support import PLAN_CODE, PLAN_YAML, prepared

ENCODED = quote(PLAN_CODE, safe="")  # 72-KH%2FBC%C4%90


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/catalog")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


def _loaded(session):  # type: ignore[no-untyped-def]
    units = prepared(session)
    load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    session.commit()
    return units


def test_anonymous_gets_401(client, session) -> None:
    _loaded(session)
    for path in ("/api/pillars", "/api/indicators", f"/api/plans/{ENCODED}", "/api/plans"):
        assert client.get(path).status_code == 401, path
    assert client.post(f"/api/plans/{ENCODED}/targets", json={}).status_code == 401


def test_catalogue_api(client, session, make_user) -> None:
    _loaded(session)
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    pillars = client.get("/api/pillars").json()
    assert [p["code"] for p in pillars] == ["CQS", "KTS", "XHS", "CKS", "DANG", "KHCN"]
    assert pillars[0]["name_vi"] == "Chính quyền số" and pillars[0]["indicator_count"] >= 15
    social = client.get("/api/indicators", params={"pillar": "XHS"}).json()
    assert social and {i["pillar"] for i in social} == {"XHS"}
    one = client.get("/api/indicators/KTS.TY_TRONG_GRDP").json()
    assert (one["kind"], one["scale"], one["unit_aggregation"], one["time_aggregation"]) == (
        "ratio", 100.0, "ratio_of_sums", "sum")
    missing = client.get("/api/indicators/KTS.KHONG_CO")
    assert missing.status_code == 404 and "no indicator 'KTS.KHONG_CO'" in missing.text


def test_plan_api_with_encoded_and_plain_codes(client, session, make_user) -> None:
    units = _loaded(session)
    viewer, password = make_user(Role.VIEWER, unit_id=units.lang_son.id)
    login(client, viewer.username, password)
    listed = client.get("/api/plans").json()
    assert [(p["code"], p["target_count"]) for p in listed] == [(PLAN_CODE, 13)]
    encoded = client.get(f"/api/plans/{ENCODED}").json()
    plain = client.get(f"/api/plans/{PLAN_CODE}").json()
    assert encoded == plain
    assert encoded["scope_unit"] == "20" and encoded["issued_on"] == "2023-05-23"
    first = encoded["targets"][0]
    assert first["pillar"] == "CQS" and first["target_date"] == "2023-12-31"
    assert client.get("/api/plans/99-KH%2FBC%C4%90").status_code == 404


def test_viewer_cannot_add_a_target_standing_office_can(client, session, make_user) -> None:
    units = _loaded(session)
    body = {"indicator": "XHS.VNEID_MUC_2", "value": "80%", "baseline_value": "61,5"}
    viewer, password = make_user(Role.VIEWER, unit_id=units.lang_son.id)
    login(client, viewer.username, password)
    denied = client.post(f"/api/plans/{ENCODED}/targets", json=body,
                         headers={"X-CSRF-Token": _csrf(client)})
    assert denied.status_code == 403
    office, password = make_user(Role.STANDING_OFFICE, unit_id=units.lang_son.id)
    login(client, office.username, password)
    headers = {"X-CSRF-Token": _csrf(client)}
    assert client.post(f"/api/plans/{ENCODED}/targets", json=body).status_code == 403  # CSRF
    created = client.post(f"/api/plans/{ENCODED}/targets", json=body, headers=headers)
    assert created.status_code == 201, created.text
    data = created.json()
    assert (data["value"], data["baseline_value"], data["unit"], data["target_date"]) == (
        80.0, 61.5, "20", "2023-12-31")
    again = client.post(f"/api/plans/{ENCODED}/targets", json=body, headers=headers)
    assert again.status_code == 422 and "already has this target" in again.text


def test_standing_office_of_another_province_cannot_touch_lang_son(client, session,
                                                                  make_user) -> None:
    units = _loaded(session)
    target_id = session.scalar(select(Target.id).limit(1))
    other, password = make_user(Role.STANDING_OFFICE, unit_id=units.thai_nguyen.id)
    login(client, other.username, password)
    headers = {"X-CSRF-Token": _csrf(client)}
    assert client.put(f"/api/targets/{target_id}", json={"value": 1},
                      headers=headers).status_code == 403
    assert client.post(f"/api/plans/{ENCODED}/targets", headers=headers, json={
        "indicator": "XHS.VNEID_MUC_2", "value": 80}).status_code == 403


def test_update_target_keeps_history_and_names_bad_fields(client, session, make_user) -> None:
    units = _loaded(session)
    target = session.scalar(select(Target).order_by(Target.id).limit(1))
    office, password = make_user(Role.STANDING_OFFICE, unit_id=units.lang_son.id)
    login(client, office.username, password)
    headers = {"X-CSRF-Token": _csrf(client)}
    changed = client.put(f"/api/targets/{target.id}", headers=headers,
                         json={"value": "88,5", "note": "Điều chỉnh theo Kết luận số 12"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["value"] == 88.5
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "target.update"))
    assert event is not None and event.actor_label == office.username
    assert (event.before["value"], event.after["value"]) == (target.value, 88.5)
    bad = client.put(f"/api/targets/{target.id}", headers=headers,
                     json={"comparator": "between", "value": 90})
    assert bad.status_code == 422
    assert bad.json()["problems"] == [
        "Trường 'value_high': so sánh 'between' cần cận trên / field 'value_high': comparator "
        "'between' needs value_high"]
    for missing in (999999, 2**40):
        assert client.put(f"/api/targets/{missing}", headers=headers, json={"value": 1}
                          ).status_code == 404
