"""The funding pages and API over HTTP: who sees what, the import's dry run and
confirmation, the approval form, the overview afterwards, the roadmap file read back."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.funding import service
from chiso.funding.importer import import_budget_file
from chiso.funding.models import Figure
from chiso.funding.service import FigureInput, LineSpec, ProgrammeInput
from tests.conftest import login
from tests.test_funding_support import budget_workbook, make_world, today_fixture  # noqa: F401

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def _signed_in(app, make_user, role: Role, unit_id: int | None) -> TestClient:  # type: ignore[no-untyped-def]
    user, password = make_user(role, unit_id)
    client = TestClient(app)
    login(client, user.username, password)
    return client


def _imported_and_approved(session, tmp_path, world) -> None:  # type: ignore[no-untyped-def]
    system = Access.system(session, "test")
    assert import_budget_file(session, budget_workbook(tmp_path / "t.xlsx"), access=system).ok
    service.approve_figures(session, access=system, scope_unit_id=world.province.id)
    session.commit()


@pytest.mark.slow
def test_the_funding_page_shows_money_status_and_the_warning(
        session, app, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    _imported_and_approved(session, tmp_path, world)
    leader = _signed_in(app, make_user, Role.LEADER, None)

    page = leader.get("/funding/units/20?year=2026")
    assert page.status_code == 200, page.text
    text = page.text
    # 126 bn of state budget: 0,64 % of 19.800 bn; 74.300,5 million disbursed of 126.000.
    assert "126,0" in text and "0,64%" in text
    assert "59,0%" in text and "Chậm tiến độ" in text
    assert "Giải ngân chậm so với lộ trình: mới đạt 59,0% kế hoạch vốn, lộ trình đến ngày " \
           "15/10/2026 là 70,7%" in text
    assert 'id="funding-months" data-chart=' in text  # drawn by charts.js
    assert "Sở Khoa học và Công nghệ" in text and "20.SKHCN</" not in text  # names, not codes
    english = leader.get("/funding/units/20?year=2026&lang=en").text
    assert "Disbursement is behind its path: 59.0% of the capital plan disbursed" in english
    department = leader.get("/funding/units/20.SYT?year=2026").text
    assert "Bệnh án điện tử tại các bệnh viện tuyến tỉnh" in department
    assert "Nền tảng số dùng chung" not in department  # another department's line

    stranger = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.SYT").id)
    assert stranger.get("/funding/units/20").status_code == 403
    assert stranger.get("/funding/units/20.SYT").status_code == 200

    data = leader.get("/api/funding/units/20?year=2026").json()
    assert data["share"]["status"] == "off_track" and data["disbursement"]["behind"]
    assert round(data["share"]["actual"], 2) == 0.64
    assert data["totals"]["estimate"] == 126_000_000_000
    assert [r["code"] for r in data["by_source"]] == ["central", "local"]
    assert data["monthly"][-1]["period"] == "202609"


def test_import_over_http_checks_first_then_stores_on_confirmation(
        session, app, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    finance = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.STC").id)
    token = _csrf(finance, "/funding/import")

    bad = budget_workbook(tmp_path / "Du toan loi.xlsx", bad_row=True)
    refused = finance.post("/funding/import", data={"csrf_token": token},
                           files={"file": (bad.name, bad.read_bytes(), XLSX)})
    assert refused.status_code == 422
    assert "nên chưa lưu gì" in refused.text and "&#39;8.0.00&#39; không phải là số tiền" in (
        refused.text)
    assert re.search(r'<td class="num">19</td><td>Dự toán giao</td>', refused.text)

    good = budget_workbook(tmp_path / "Du toan.xlsx")
    checked = finance.post("/funding/import", data={"csrf_token": token},
                           files={"file": (good.name, good.read_bytes(), XLSX)})
    assert checked.status_code == 200 and 'id="confirm"' in checked.text
    assert session.scalar(select(func.count()).select_from(Figure)) == 0
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', checked.text).group(1)  # type: ignore[union-attr]
    stored = finance.post("/funding/import", data={
        "csrf_token": token, "digest": digest, "suffix": ".xlsx", "file_name": good.name})
    assert stored.status_code == 200 and "Đã lưu: 49 mới" in stored.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Figure)) == 49

    leader = _signed_in(app, make_user, Role.LEADER, None)
    assert leader.get("/funding/import").status_code == 403  # leaders read


@pytest.mark.slow
def test_the_standing_office_approves_and_the_overview_shows_the_budget(
        session, app, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    assert import_budget_file(session, budget_workbook(tmp_path / "t.xlsx"),
                              access=Access.system(session, "test")).ok
    session.commit()
    owner = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.SKHCN").id)
    assert owner.get("/funding/approvals?unit=20").status_code == 403

    office = _signed_in(app, make_user, Role.STANDING_OFFICE, world.province.id)
    pending = office.get("/funding/approvals?unit=20")
    assert pending.text.count("data-figure=") == 49
    done = office.post("/funding/approvals", data={
        "csrf_token": _csrf(office, "/funding/approvals?unit=20"), "unit": "20",
        "action": "approve"}, follow_redirects=True)
    assert "Đã phê duyệt 49 số liệu." in done.text and 'id="nothing-pending"' in done.text

    overview = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                            office.get("/units/20/overview?year=2026").text))
    # The overview's rows: the budget share against ≥ 3 % and the disbursement status.
    assert re.search(r"Tỷ lệ chi cho khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số "
                     r"trên tổng chi ngân sách địa phương KP.TY_LE_CHI_NS · KH-KP/2026 "
                     r"≥ 3,00% 0,64 ", overview), overview[-3000:]
    assert re.search(r"Tỷ lệ giải ngân kinh phí khoa học.{0,300}KP.GIAI_NGAN · KH-KP/2026 "
                     r"≥ 100,0% 59,0 ", overview), overview[-3000:]


def test_the_roadmap_appendix_reads_back_and_cannot_run_formulas(
        session, app, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    _imported_and_approved(session, tmp_path, world)
    system = Access.system(session, "test")
    formula = "=HYPERLINK(\"http://evil\",\"Dự án\")"
    programme = service.save_programme(session, ProgrammeInput(
        code="DA-01", name=formula, owner_unit_id=world.unit("20.SKHCN").id,
        scope_unit_id=world.province.id, year_from=2026, year_to=2028), access=system)
    line = LineSpec(scope_unit_id=world.province.id, unit_id=world.unit("20.SKHCN").id,
                    year=2027, name="Dự án năm 2027", source="local", spend_type="investment",
                    area="dx", programme_id=programme.id)
    service.save_figures(session, [FigureInput(line, "proposed", "2027", 7_000 * 10**6)],
                         access=system)
    service.approve_figures(session, access=system, scope_unit_id=world.province.id)
    session.commit()
    leader = _signed_in(app, make_user, Role.LEADER, None)
    response = leader.get("/funding/roadmap.xlsx?unit=20&year_from=2026&year_to=2028")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Lộ trình kinh phí"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("PHỤ LỤC: LỘ TRÌNH KINH PHÍ")
    assert "Đơn vị tính: triệu đồng" in rows[2][0] and "2026: dự toán giao" in rows[2][0]
    header = next(r for r in rows if r[0] == "STT")
    assert header[1:] == ("Nguồn vốn, loại chi", "Năm 2026", "Năm 2027", "Năm 2028",
                          "Tổng cộng")
    local = next(r for r in rows if r[1] == "Ngân sách địa phương")
    assert local[2] == 108_000 and local[5] == 115_000
    total = next(r for r in rows if r[1] == "Tổng cộng")
    assert total[2] == 126_000
    assert leader.get("/api/funding/roadmap?unit=20&year_from=2026&year_to=2028").json()[
        "rows"][-1]["2026"] == 126_000

    assert local[3] == 7_000  # 2027: the approved proposal
    assert "2027: đề xuất" in rows[2][0]
    # A programme named like a formula stays text in the appendix: it cannot run.
    programmes = book["Chương trình, dự án"]
    name = next(c for c in programmes["C"] if c.value and "HYPERLINK" in str(c.value))
    assert name.value == "'" + formula and name.data_type == "s"
    stranger = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.SYT").id)
    assert stranger.get("/funding/roadmap.xlsx?unit=20&year_from=2026&year_to=2028"
                        ).status_code == 403


def test_figures_api_saves_versions_and_shows_their_history(
        session, app, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    owner = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.SKHCN").id)
    token = _csrf(owner, "/funding/units/20.SKHCN")
    figure = {"unit": "20.SKHCN", "year": 2026, "name": "Nền tảng số", "source": "local",
              "spend_type": "investment", "area": "dx", "stage": "estimate", "period": "2026",
              "amount": "45.000.000.000"}
    first = owner.post("/api/funding/figures", json=[figure], headers={"X-CSRF-Token": token})
    assert first.status_code == 200 and first.json()["inserted"] == 1
    second = owner.post("/api/funding/figures", json=[{**figure, "amount": 40_000_000_000}],
                        headers={"X-CSRF-Token": token})
    assert second.json()["updated"] == 1
    other = owner.post("/api/funding/figures", json=[{**figure, "unit": "20.SYT"}],
                       headers={"X-CSRF-Token": token})
    assert other.status_code == 403
    bad_month = owner.post("/api/funding/figures", json=[{**figure, "stage": "disbursed",
                                                          "period": "tháng 13/2026"}],
                           headers={"X-CSRF-Token": token})
    assert bad_month.status_code == 422 and "Kỳ báo cáo không hợp lệ" in bad_month.json()[
        "message_vi"]
    figure_id = session.scalar(select(Figure.id))
    history = owner.get(f"/api/funding/figures/{figure_id}/history").json()
    assert [(v["version"], v["amount"], v["change"]) for v in history["versions"]] == [
        (1, 45_000_000_000, "insert"), (2, 40_000_000_000, "update")]


def test_the_finance_officer_starts_on_the_provinces_funding_and_sees_what_it_entered(
        session, app, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Sở Tài chính enters every unit's budget: it lands on the province's funding page
    (its own overview had no targets) and may read it, but not the province's overview."""
    world = make_world(session, tmp_path)
    _imported_and_approved(session, tmp_path, world)
    finance = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.STC").id)
    landing = finance.get("/", follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == "/funding/units/20"
    page = finance.get("/funding/units/20")
    assert page.status_code == 200 and "Dự toán giao" in page.text
    assert finance.get("/units/20/overview").status_code == 403
    officer = _signed_in(app, make_user, Role.FOCAL_OFFICER, world.unit("20.SKHCN").id)
    assert officer.get("/funding/units/20").status_code == 403
    assert officer.get("/", follow_redirects=False).headers["location"] != "/funding/units/20"
