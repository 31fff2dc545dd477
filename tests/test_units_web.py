"""The units API, the unit page and `chiso units …`, through HTTP, the CLI runner and
Chromium, on a database holding Lạng Sơn and Thái Nguyên (with old Bắc Kạn)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import browser_login, login
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.units import service


@pytest.fixture
def units(session: Session) -> dict[str, int]:
    service.load_official_units(session, provinces=["20", "19"],
                                access=Access.system(session, "test"))
    service.load_shipped_departments(session)
    session.commit()
    return {code: service.get_unit(session, code).id for code in ("20", "19")}


def test_anonymous_is_refused(client, units) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/units").status_code == 401
    assert client.get("/api/units/20").status_code == 401
    page = client.get("/units/20", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_viewer_of_another_province_is_forbidden(client, make_user, units  # type: ignore[no-untyped-def]
                                                 ) -> None:
    user, password = make_user(Role.VIEWER, unit_id=units["19"])
    login(client, user.username, password)
    assert client.get("/api/units/19").status_code == 200
    assert client.get("/api/units/20").status_code == 403
    assert client.get("/api/units?parent=20").status_code == 403
    assert client.get("/units/20").status_code == 403
    commune = client.get("/api/units?parent=19&kind=phuong").json()[0]["code"]
    assert client.get(f"/api/units/{commune}").status_code == 200  # within its scope


def test_list_sub_units_by_date_kind_and_text(admin_client, units) -> None:  # type: ignore[no-untyped-def]
    now = admin_client.get("/api/units?parent=20").json()
    kinds = [u["kind"] for u in now]
    assert kinds.count("xa") == 61 and kinds.count("phuong") == 4
    assert kinds.count("so_ban_nganh") == 16 and kinds[0] == "so_ban_nganh"
    wards = admin_client.get("/api/units?parent=20&kind=phuong").json()
    assert {w["name"] for w in wards} == {"Phường Đông Kinh", "Phường Kỳ Lừa",
                                          "Phường Lương Văn Tri", "Phường Tam Thanh"}
    assert all(w["parent_code"] == "20" and w["valid_from"] == "2025-07-01" for w in wards)
    old = admin_client.get("/api/units?parent=20&on=30/06/2025&kind=huyen").json()
    assert len(old) == 10 and all(u["valid_to"] == "2025-06-30" for u in old)
    found = admin_client.get("/api/units", params={"q": "dong dang", "kind": "xa"}).json()
    assert [u["name"] for u in found] == ["Xã Đồng Đăng"]
    provinces = admin_client.get("/api/units?on=2025-06-30").json()
    assert {p["code"] for p in provinces} == {"06", "19", "20"}
    assert admin_client.get("/api/units?on=31/02/2025").status_code == 422


def test_unit_detail_has_parent_and_lineage(admin_client, units) -> None:  # type: ignore[no-untyped-def]
    body = admin_client.get("/api/units/06184?on=2025-07-01").json()
    assert (body["name"], body["parent"]["code"], body["children_count"]) == (
        "Xã Đồng Đăng", "20", 0)
    preds = {(p["name"], p["link_kind"], p["event_date"], p["is_primary"])
             for p in body["predecessors"]}
    assert ("Thị trấn Đồng Đăng", "merge", "2025-07-01", True) in preds
    assert ("Xã Hồng Phong", "split", "2025-07-01", False) in preds
    assert body["successors"] == []
    old = admin_client.get("/api/units/06?on=2025-06-30").json()
    assert [(s["code"], s["link_kind"]) for s in old["successors"]] == [("19", "merge")]
    assert old["children_count"] == 8  # Bắc Kạn's districts on that day
    missing = admin_client.get("/api/units/06")
    assert missing.status_code == 404 and "no unit with code '06'" in missing.json()["detail"]


def test_unit_page_shows_sub_units_and_lineage(admin_client, units) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/units/06184")
    assert page.status_code == 200
    assert "Hợp nhất từ" in page.text and "Thị trấn Đồng Đăng" in page.text
    assert 'href="/units/06184?on=2025-06-30"' in page.text  # the old unit, by its date
    province = admin_client.get("/units/20").text
    assert "Phường Kỳ Lừa" in province and "Sở Khoa học và Công nghệ" in province
    assert "Sở Thông tin và Truyền thông" not in province
    english = admin_client.get("/units/06184?lang=en").text
    assert "Merged from" in english and "Dong Dang Commune" in english


def test_cli_list_and_show(db_url, units) -> None:  # type: ignore[no-untyped-def]
    from chiso.cli.main import app

    runner = CliRunner()
    listed = runner.invoke(app, ["units", "list", "--parent", "20", "--kind", "phuong"],
                           env={"COLUMNS": "160"})
    assert listed.exit_code == 0, listed.output
    assert "4 đơn vị / units" in listed.output and "Phường Kỳ Lừa" in listed.output
    shown = runner.invoke(app, ["units", "show", "06", "--on", "30/06/2025"])
    assert shown.exit_code == 0, shown.output
    assert "Tỉnh Bắc Kạn" in shown.output and "Tỉnh Thái Nguyên (19)" in shown.output
    missing = runner.invoke(app, ["units", "show", "06"])
    assert missing.exit_code == 1 and "Không tìm thấy đơn vị mã '06'" in missing.output


@pytest.mark.slow
def test_cli_load_is_idempotent(db_url: str, tmp_path: Path) -> None:
    from chiso.cli.main import app

    runner = CliRunner()
    first = runner.invoke(app, ["units", "load", "--province", "20"])
    assert first.exit_code == 0, first.output
    assert "thêm 271 inserted" in first.output
    second = runner.invoke(app, ["units", "load", "--province", "20"])
    assert "thêm 0 inserted" in second.output and "giữ nguyên 271 unchanged" in second.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("province: '20'\nunits:\n  - code: 20.X\n", "utf-8")
    rejected = runner.invoke(app, ["units", "load-departments", str(bad)])
    assert rejected.exit_code == 1 and "bad.yaml, mục 1 (20.X): thiếu tên" in rejected.output
    for command in ("load", "list", "show", "load-departments"):
        help_text = runner.invoke(app, ["units", command, "--help"]).output
        assert "Example: chiso units" in help_text


@pytest.mark.browser
def test_unit_page_in_chromium(live_server, page, make_user, units) -> None:  # type: ignore[no-untyped-def]
    user, password = make_user(Role.LEADER)
    browser_login(page, live_server, user.username, password)
    page.goto(f"{live_server}/units/06187")
    assert page.locator("h1").inner_text() == "Phường Kỳ Lừa"
    assert "Hợp nhất từ" in page.locator(".lineage").inner_text()
    page.screenshot(path="/tmp/units-commune.png", full_page=True)
    page.goto(f"{live_server}/units/20")
    assert page.locator("table.subunits tbody tr").count() == 16 + 61 + 4
    page.screenshot(path="/tmp/units-province.png", full_page=True)
    page.goto(f"{live_server}/units/20?on=2025-02-01")
    page.screenshot(path="/tmp/units-province-2024.png")


def test_unit_page_links_to_the_units_overview_and_records(admin_client, units) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/units/20", params={"lang": "vi"}).text
    assert '<a href="/units/20/overview">Tổng quan</a>' in page
    assert '<a href="/records/units/20">Hồ sơ một cửa</a>' in page
