"""The values API and import page through the real app: permissions, stale saves, uploads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from values_support import build_world

from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.values.models import DataValue
from tests.conftest import login

CSV = ("Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Tử số,Mẫu số,Giá trị,Nguồn,Ghi chú\n"
       "06001,CQS.HS_TRUC_TUYEN,2025Q3,383,500,,,\n"
       "06001,CQS.SO_DVCTT,2025,,,\"1.234\",,\n")


@pytest.fixture
def world(db_url):  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    built = build_world(session)
    session.commit()
    session.close()
    return built


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/values/import")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


@pytest.fixture
def officer_a(client, make_user, world):  # type: ignore[no-untyped-def]
    user, password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id,
                               include_subunits=False)
    login(client, user.username, password)
    return {"X-CSRF-Token": _csrf(client)}


def _count(db_url: str) -> int:
    session = new_session(db_url)
    try:
        return session.scalar(select(func.count()).select_from(DataValue))
    finally:
        session.close()


def test_anonymous_is_refused(client, world) -> None:
    assert client.get("/api/values").status_code == 401
    assert client.post("/api/values", json={"period": "2025"}).status_code == 401
    page = client.get("/values/import", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_officer_saves_own_unit_but_not_another(client, world, officer_a, db_url) -> None:
    body = {"unit": "06001", "indicator": "CQS.HS_TRUC_TUYEN", "period": "2025Q3",
            "numerator": "383", "denominator": "500", "expected_version": 0}
    saved = client.post("/api/values", json=body, headers=officer_a)
    assert saved.status_code == 200, saved.text
    assert saved.json()["value"] == pytest.approx(76.6) and saved.json()["version"] == 1
    other = client.post("/api/values", json={**body, "unit": "06002"}, headers=officer_a)
    assert other.status_code == 403, other.text
    assert _count(db_url) == 1
    assert client.get("/api/values?unit=06002", headers=officer_a).status_code == 403
    listed = client.get("/api/values?unit=06001").json()
    assert [(r["unit_code"], r["period"], r["version"]) for r in listed] == [
        ("06001", "2025Q3", 1)]


def test_stale_version_gets_409_in_both_languages(client, world, officer_a) -> None:
    body = {"unit": "06001", "indicator": "CQS.SO_DVCTT", "period": "2025", "value": 5}
    first = client.post("/api/values", json=body, headers=officer_a).json()
    client.post("/api/values", json={**body, "value": 6, "expected_version": 1},
                headers=officer_a)
    stale = client.post("/api/values", json={**body, "value": 7, "expected_version": 1},
                        headers=officer_a)
    assert stale.status_code == 409
    assert "phiên bản 2" in stale.json()["message_vi"]
    assert "version 2" in stale.json()["message_en"]
    history = client.get(f"/api/values/{first['id']}/history").json()
    assert [(v["version"], v["value"]) for v in history["versions"]] == [(1, 5.0), (2, 6.0)]


def test_bad_value_gets_422_naming_the_rule(client, world, officer_a) -> None:
    response = client.post("/api/values", headers=officer_a, json={
        "unit": "06001", "indicator": "CQS.HS_TRUC_TUYEN", "period": "2025",
        "value": "140%"})
    assert response.status_code == 422
    assert response.json()["issues"][0]["rule"] == "percent_range"
    assert "0–100" in response.json()["message_vi"]


def test_api_import_dry_run_then_store(client, world, officer_a, db_url) -> None:
    files = {"file": ("so-lieu.csv", CSV.encode("utf-8"), "text/csv")}
    preview = client.post("/api/values/import?dry_run=true", files=files, headers=officer_a)
    assert preview.status_code == 200, preview.text
    assert preview.json()["counts"]["inserted"] == 2 and _count(db_url) == 0
    stored = client.post("/api/values/import?dry_run=false", files=files, headers=officer_a)
    assert stored.json()["stored"] is True and _count(db_url) == 2
    again = client.post("/api/values/import?dry_run=false", files=files, headers=officer_a)
    assert again.json()["counts"]["unchanged"] == 2


def test_api_import_rows_of_another_unit_are_errors(client, world, officer_a, db_url) -> None:
    content = CSV + "06002,CQS.SO_DVCTT,2025,,,3,,\n"
    response = client.post("/api/values/import?dry_run=false", headers=officer_a,
                           files={"file": ("hai-xa.csv", content.encode(), "text/csv")})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["row"], e["column"], e["rule"]) for e in errors] == [
        (4, "unit_code", "permission")]
    assert _count(db_url) == 0


def test_export_downloads_a_reimportable_file(client, world, officer_a) -> None:
    client.post("/api/values/import?dry_run=false", headers=officer_a,
                files={"file": ("a.csv", CSV.encode(), "text/csv")})
    exported = client.get("/api/values/export?format=xlsx&unit=06001&year=2025")
    assert exported.status_code == 200
    assert exported.content[:2] == b"PK"
    again = client.post("/api/values/import?dry_run=true", headers=officer_a,
                        files={"file": ("back.xlsx", exported.content, "application/"
                                        "vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert again.json()["counts"] == {"rows": 2, "inserted": 0, "updated": 0,
                                      "unchanged": 2, "errors": 0}


def test_import_page_previews_then_confirms(client, world, officer_a, db_url) -> None:
    token = officer_a["X-CSRF-Token"]
    preview = client.post("/values/import", data={"csrf_token": token},
                          files={"file": ("so-lieu.csv", CSV.encode(), "text/csv")})
    assert preview.status_code == 200
    assert "Lưu các thay đổi này" in preview.text and _count(db_url) == 0
    fields = dict(re.findall(r'name="(digest|suffix|file_name)" value="([^"]*)"',
                             preview.text))
    confirmed = client.post("/values/import", data={"csrf_token": token, **fields})
    assert confirmed.status_code == 200
    assert "Đã lưu: 2 số liệu mới" in confirmed.text and _count(db_url) == 2


def test_any_spelling_of_a_period_is_one_period(client, world, officer_a) -> None:
    """'Quý III/2025' saved, 'quý 3 năm 2025' and 'Q3/2025' asked: the same 2025Q3."""
    body = {"unit": "06001", "indicator": "CQS.SO_DVCTT", "period": "Quý III/2025",
            "value": 12}
    saved = client.post("/api/values", json=body, headers=officer_a)
    assert saved.status_code == 200 and saved.json()["period"] == "2025Q3", saved.text
    for spelling in ("quý 3 năm 2025", "Q3/2025", "2025q3"):
        listed = client.get("/api/values", params={"unit": "06001", "period": spelling})
        assert [(r["period"], r["value"]) for r in listed.json()] == [("2025Q3", 12.0)], spelling
    refused = client.get("/api/values", params={"period": "quý 5 năm 2025"})
    assert refused.status_code == 422 and "Quý III/2025" in refused.json()["message_vi"]
