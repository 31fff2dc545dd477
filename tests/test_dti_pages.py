"""DTI pages and API as people meet them, on SQLite and PostgreSQL (and in Chromium): the
what-if answers what was typed ("65%", "0,65"), a self-assessment's scores never reach a
reader refused that assessment, what looks equal ranks equal, invented figures wear their
band, an import never renames a province, and the ranking of 63 provinces fits the screen at
1366 and 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.dti import assessment as workspace
from chiso.dti import service
from chiso.units.models import OrgUnit, UnitKind
from tests.conftest import browser_login, login

MAINS = ["NTS", "TCS", "HTS", "NLS", "ATTT", "CQS", "KTS", "XHS"]
LONG_NAMES = ["Bà Rịa - Vũng Tàu", "Thừa Thiên - Huế", "TP. Hồ Chí Minh", "Lạng Sơn"]


def _csv(path: Path, rows: list[tuple[str, str, list[float]]], extra: str = "") -> Path:
    lines = ["Mã tỉnh,Tỉnh," + ",".join(MAINS)]
    lines += [f"{code},{name}," + ",".join(f"{v:.5f}" for v in values)
              for code, name, values in rows]
    path.write_text(extra + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load(db_url: str, path: Path, year: int = 2023, source: str = "") -> None:
    session = new_session(db_url)
    try:
        service.load_shipped_frameworks(session)
        service.import_results(session, path, framework_code="DTI_TINH_922", year=year,
                               source=source, access=Access.system(session, "test"))
        session.commit()
    finally:
        session.close()


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/dti/assessment").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _ranking_rows(html: str) -> dict[str, tuple[str, str]]:
    """Unit name → (rank, index) as the ranking table shows them."""
    body = html[html.index('id="dti-ranking"'):]
    found = re.findall(r'<td class="num">(\d+|–)</td>.*?<a href="/dti/units/[^"]+">([^<]+)</a>'
                       r'.*?<strong>([^<]+)</strong>', body, flags=re.S)
    return {name: (rank, index) for rank, name, index in found}


def test_equal_looking_indices_share_a_rank_on_the_page(admin_client, db_url, tmp_path
                                                        ) -> None:
    """0,69495 is published 0,6950: it ties with 0,6950 and ranks ahead of 0,69494 (shown
    0,6949). Before: shown 0,6949 yet ranked equal with 0,6950."""
    _load(db_url, _csv(tmp_path / "r.csv", [("30", "Hải Dương", [0.69495] * 8),
                                            ("40", "Nghệ An", [0.695] * 8),
                                            ("42", "Hà Tĩnh", [0.69494] * 8)]), year=2021)
    html = admin_client.get("/dti", params={"year": 2021, "lang": "vi"}).text
    rows = _ranking_rows(html)
    assert rows["Hải Dương"] == ("1", "0,6950") and rows["Nghệ An"] == ("1", "0,6950")
    assert rows["Hà Tĩnh"] == ("3", "0,6949")
    assert "5 làm tròn lên" in html  # the rule is said under the table


def test_what_if_reads_values_as_typed(admin_client, db_url, tmp_path) -> None:
    _load(db_url, _csv(tmp_path / "r.csv", [("20", "Lạng Sơn", [0.5] * 8),
                                            ("01", "Hà Nội", [0.8] * 8)]))
    csrf = _csrf(admin_client)

    def ask(value: object):  # type: ignore[no-untyped-def]
        return admin_client.post("/api/dti/what-if", headers={"X-CSRF-Token": csrf}, json={
            "unit": "20", "year": 2023, "changes": {"CQS": value}})

    for typed in ("65%", "0,65", "0.65", 0.65):
        answer = ask(typed)
        assert answer.status_code == 200, (typed, answer.text)
        assert answer.json()["points_gained"] == pytest.approx((0.65 - 0.5) * 200), typed
        assert answer.json()["display"]["points_gained"] == "+30,00 điểm"
    wrong = ask("sáu mươi")
    assert wrong.status_code == 422
    assert "Hoạt động chính quyền số (CQS)" in wrong.json()["message_vi"]


def _assessed_units(db_url: str) -> tuple[int, int]:
    """Lạng Sơn (20) and a department (S01), each with a scored self-assessment."""
    session = new_session(db_url)
    try:
        session.add(UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1))
        session.flush()
        province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", short_name="Lạng Sơn", kind="tinh")
        department = OrgUnit(code="S01", name="Sở Khoa học và Công nghệ", kind="tinh")
        session.add_all([province, department])
        session.flush()
        service.load_shipped_frameworks(session)
        system = Access.system(session, "test")
        framework = service.get_framework(session, "VIDU_SO_NGANH")
        for code, share in (("20", 0.9), ("S01", 0.5)):
            found = workspace.open_assessment(session, framework, 2025, code, access=system)
            for criterion in found.criteria:
                workspace.update_criterion(session, criterion, access=system,
                                           self_score=criterion.max_points * share)
        session.commit()
        return province.id, department.id
    finally:
        session.close()


def test_what_if_never_returns_another_units_self_assessment(client, db_url, make_user
                                                             ) -> None:
    """Issue 12 M2: a department officer refused Lạng Sơn's self-assessment got its scores
    back through the what-if with source=assessment."""
    _, department_id = _assessed_units(db_url)
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=department_id)
    login(client, officer.username, password)
    assert client.get("/dti/assessment", params={"unit": "20"}).status_code == 403
    csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                     client.get("/dti/assessment", params={"unit": "S01"}).text).group(1)
    body = {"year": 2025, "framework": "VIDU_SO_NGANH", "source": "assessment", "changes": {}}
    refused = client.post("/api/dti/what-if", headers={"X-CSRF-Token": csrf},
                          json={**body, "unit": "20"})
    assert refused.status_code == 403 and "nodes" not in refused.json()
    own = client.post("/api/dti/what-if", headers={"X-CSRF-Token": csrf},
                      json={**body, "unit": "S01"})
    assert own.status_code == 200 and own.json()["total_before"] == pytest.approx(0.5)
    params = {"source": "assessment", "framework": "VIDU_SO_NGANH", "year": 2025}
    assert client.get("/dti/what-if", params={**params, "unit": "20"}).status_code == 403
    page = client.get("/dti/what-if", params=params)
    assert page.status_code == 200 and 'value="S01"' in page.text
    assert 'value="20"' not in page.text and "0,9000" not in page.text


def test_an_imported_name_never_renames_the_province(admin_client, db_url, tmp_path) -> None:
    session = new_session(db_url)
    session.add(UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1))
    session.flush()
    session.add(OrgUnit(code="20", name="Tỉnh Lạng Sơn", short_name="Lạng Sơn", kind="tinh"))
    session.commit()
    session.close()
    _load(db_url, _csv(tmp_path / "r.csv", [("20", "Hà Nội", [0.7] * 8),
                                            ("01", "Hà Nội", [0.8] * 8)]))
    html = admin_client.get("/dti", params={"year": 2023}).text
    assert ">Lạng Sơn</a>" in html and html.count(">Hà Nội</a>") == 1
    profile = admin_client.get("/dti/units/20", params={"year": 2023}).text
    assert "Lạng Sơn — DTI 2023" in profile
    api = admin_client.get("/api/dti/ranking", params={"year": 2023}).json()
    assert {r["unit_code"]: r["unit_name"] for r in api["rows"]}["20"] == "Lạng Sơn"


def test_invented_figures_wear_the_band_real_ones_do_not(admin_client, db_url, tmp_path
                                                          ) -> None:
    _load(db_url, _csv(tmp_path / "that.csv", [("01", "Hà Nội", [0.8] * 8)]),
          source="Bộ TT&TT, báo cáo DTI 2023")
    real = admin_client.get("/dti", params={"year": 2023}).text
    assert "Số liệu minh họa" not in real and "Bộ TT&amp;TT, báo cáo DTI 2023" in real
    _load(db_url, _csv(tmp_path / "bia.csv", [("20", "Lạng Sơn", [0.6] * 8)]),
          source="demo: số liệu minh họa")
    mixed = admin_client.get("/dti", params={"year": 2023}).text
    assert 'id="dti-illustrative"' in mixed and mixed.count('class="tag illustrative"') == 1
    for path in ("/dti/units/20", "/dti/units/01", "/dti/what-if"):
        page = admin_client.get(path, params={"year": 2023, "unit": "20"}).text
        assert 'id="dti-illustrative"' in page, path
    api = admin_client.get("/api/dti/ranking", params={"year": 2023}).json()
    assert api["illustrative"] is True
    assert [r["illustrative"] for r in api["rows"]] == [False, True]


def test_assessment_export_writes_text_that_cannot_run(db_url, session, tmp_path) -> None:
    """Issue 12 M4: notes and names typed as formulas are written as text and read back as
    typed."""
    system = Access.system(session, "test")
    service.load_shipped_frameworks(session)
    found = workspace.open_assessment(session, service.get_framework(session, "VIDU_SO_NGANH"),
                                      2025, "20", access=system)
    formula = '=HYPERLINK("http://evil.example","Bấm vào đây")'
    workspace.update_criterion(session, found.criteria[0], access=system, notes=formula,
                               owner="@SUM(A1:A9)")
    session.commit()
    path = workspace.export_xlsx(found, tmp_path / "tdg.xlsx")
    sheet = load_workbook(path).active
    notes, owner = sheet.cell(2, 13), sheet.cell(2, 9)
    assert notes.data_type == "s" and notes.value == "'" + formula
    assert owner.data_type == "s" and owner.value == "'@SUM(A1:A9)"
    again = workspace.import_spreadsheet(session, found, path, access=system)
    assert again.updated == 0 and found.criteria[0].notes == formula


def _field(db_url: str, tmp_path: Path) -> None:
    """63 provinces with long names, the width of the real table."""
    rows = [(f"{i:02d}", LONG_NAMES[i % len(LONG_NAMES)] + f" {i}",
             [0.4 + 0.005 * i] * 8) for i in range(1, 64)]
    _load(db_url, _csv(tmp_path / "r63.csv", rows))


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_ranking_of_63_fits_the_screen(browser, live_server, db_url, tmp_path, make_user,
                                       width, height) -> None:
    """The /dti table was 1,540 px wide at 1366: the page scrolled sideways."""
    _field(db_url, tmp_path)
    user, password = make_user(Role.ADMIN)
    context = browser.new_context(viewport={"width": width, "height": height},
                                  locale="vi-VN")
    page = context.new_page()
    try:
        browser_login(page, live_server, user.username, password)
        for path in ("/dti?year=2023", "/dti/units/20?year=2023",
                     "/dti/what-if?year=2023&unit=20"):
            page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
            page_width = page.evaluate("document.documentElement.scrollWidth")
            main_width = page.evaluate("document.querySelector('main').scrollWidth")
            assert main_width <= width and page_width <= max(width, main_width), path
            if path.startswith("/dti?") and width >= 1366:
                # On a laptop the whole table is seen without scrolling it sideways.
                table = page.evaluate("document.getElementById('dti-ranking').scrollWidth")
                box = page.evaluate("document.getElementById('dti-ranking')"
                                    ".parentElement.clientWidth")
                assert table <= box, (table, box)
            page.screenshot(path=f"/tmp/dti_pages_{width}_{path.split('?')[0][5:] or 'ranking'}"
                            .replace("/", "_") + ".png", full_page=True)
    finally:
        context.close()


@pytest.mark.browser
def test_what_if_page_answers_a_percentage(page, live_server, db_url, tmp_path, make_user
                                           ) -> None:
    """'65%' typed in the page gave '+0,00 điểm': the script stripped every dot and the
    percent sign made NaN, so nothing was sent."""
    _load(db_url, _csv(tmp_path / "r.csv", [("20", "Lạng Sơn", [0.5] * 8),
                                            ("01", "Hà Nội", [0.8] * 8)]))
    user, password = make_user(Role.ADMIN)
    browser_login(page, live_server, user.username, password)
    page.goto(f"{live_server}/dti/what-if?year=2023&unit=20")
    page.fill("#v-CQS", "65%")
    page.click("#what-if-run")
    page.wait_for_selector("#wi-points:not(:empty)")
    assert page.inner_text("#wi-points") == "+30,00 điểm"
    assert page.inner_text("#wi-total") == "0,5300"
    page.fill("#v-CQS", "0.9")  # a decimal point is a decimal point in the DTI
    page.click("#what-if-run")
    page.wait_for_selector("#wi-total:text-is('0,5800')")
    page.fill("#v-CQS", "chín")
    page.click("#what-if-run")
    page.wait_for_selector("#wi-error:not([hidden])")
    assert "CQS" in page.inner_text("#wi-error")
