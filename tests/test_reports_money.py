"""The report's money (chiso.funding): the quarterly report's budget section and table as
approved by its cut-off, the annual report's roadmap appendix, both read back from the DOCX
and the annex; a report of a committee without money keeps its five sections (the other
DOCX tests). Also the committee of the day in the header: a Party committee's report since
NQ 57, a commune committee's own report, and the tasks counted by who assigned them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.funding import service as funding
from chiso.funding.indicators import load_funding_catalog
from chiso.funding.service import FigureInput, LineSpec
from chiso.plans.models import Target
from chiso.reports.service import generate_report
from chiso.reports.texts import save_texts
from chiso.tasks.monthly import submit_month_report
from tests.conftest import login
from tests.tasks_support import World, add_origin_tasks, build_world, on_day, system

BILLION = 1_000_000_000
AFTER = dt.date(2026, 2, 1)  # every report below is generated after its closing date


def _line(w: World, unit_id: int, name: str, *, year: int = 2025, source: str = "local",
          spend_type: str = "investment") -> LineSpec:
    return LineSpec(scope_unit_id=w.province.id, unit_id=unit_id, year=year, name=name,
                    source=source, spend_type=spend_type, area="dx")


def _approved(session: Session, w: World, figures: list[FigureInput], day: dt.date) -> None:
    access = Access.system(session, "test")
    funding.save_figures(session, figures, access=access, at=on_day(day, 9))
    funding.approve_figures(session, access=access, scope_unit_id=w.province.id,
                            at=on_day(day, 15))


def _money(session: Session, w: World) -> None:
    """2025: 60 bn of local investment and 20 bn of central recurrent spending out of 10,000
    bn of local spending, disbursed month by month; 2026 proposed in July 2025; a change
    approved after the Q3 report's closing date."""
    load_funding_catalog(session)
    platform = _line(w, w.khcn.id, "Nền tảng dữ liệu tỉnh")
    science = _line(w, w.tai_chinh.id, "Sự nghiệp khoa học", source="central",
                    spend_type="recurrent")
    total = LineSpec(scope_unit_id=w.province.id, unit_id=w.province.id, year=2025,
                     name="Tổng chi ngân sách địa phương", kind="total")
    _approved(session, w, [
        FigureInput(total, "estimate", "2025", 10_000 * BILLION),
        FigureInput(platform, "estimate", "2025", 60 * BILLION),
        FigureInput(platform, "allocated", "2025", 60 * BILLION),
        FigureInput(science, "estimate", "2025", 20 * BILLION),
        FigureInput(platform, "disbursed", "202506", 18 * BILLION),
        FigureInput(science, "disbursed", "202506", 9 * BILLION),
        FigureInput(_line(w, w.khcn.id, "Nền tảng dữ liệu tỉnh", year=2026), "proposed",
                    "2026", 70 * BILLION),
    ], dt.date(2025, 7, 20))
    _approved(session, w, [FigureInput(platform, "disbursed", "202509", 33 * BILLION)],
              dt.date(2025, 10, 6))
    _approved(session, w, [FigureInput(platform, "estimate", "2025", 90 * BILLION)],
              dt.date(2025, 10, 20))  # after the Q3 report's closing date (12/10)


def _report(session: Session, tmp_path: Path, kind: str, period: str, closing: dt.date):
    return generate_report(session, unit_code="20", kind=kind, period=period,
                           out_dir=tmp_path / period, today=AFTER, pdf=False,
                           closing_date=closing, access=system(session))


def _texts(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.text.strip()]


def _table_after(document, caption: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The rows of the table just above the paragraph starting with `caption`."""
    body = list(document.element.body)
    for index, element in enumerate(body):
        text = "".join(t.text or "" for t in element.iter() if t.tag.endswith("}t"))
        if element.tag.endswith("}p") and text.startswith(caption):
            table = body[index - 1]
            return [["".join(t.text or "" for t in tc.iter() if t.tag.endswith("}t"))
                     for tc in tr.iter() if tc.tag.endswith("}tc")]
                    for tr in table.iter() if tr.tag.endswith("}tr")]
    raise AssertionError(f"no table captioned {caption!r}")


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    _money(session, w)
    session.commit()
    return w


def test_quarterly_report_has_the_budget_section_as_approved_at_its_cut_off(
        session: Session, world: World, tmp_path: Path) -> None:
    files = _report(session, tmp_path, "quarterly", "2025Q3", dt.date(2025, 10, 12))
    texts = _texts(files.docx)
    headings = [t for t in texts if t[:3] in ("I. ", "II.", "III", "IV.", "V. ", "VI.")]
    assert headings[:3] == ["I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "II. KINH PHÍ THỰC HIỆN",
                            "III. TÌNH HÌNH THỰC HIỆN NHIỆM VỤ"]
    paragraph = texts[texts.index("II. KINH PHÍ THỰC HIỆN") + 1]
    # 60 + 20 bn as approved by 12/10 (the 90 bn approved on 20/10 is not known yet).
    assert "dự toán chi ngân sách nhà nước cho khoa học, công nghệ, đổi mới sáng tạo và " \
           "chuyển đổi số là 80,0 tỷ đồng, bằng 0,80% tổng chi ngân sách địa phương" in paragraph
    assert "Lũy kế giải ngân đến hết tháng 9/2025 đạt 42,0 tỷ đồng" in paragraph
    rows = _table_after(Document(str(files.docx)), "Bảng. Kinh phí khoa học")
    assert rows[0] == ["Nguồn vốn, loại chi", "Dự toán giao (triệu đồng)",
                       "Phân bổ (triệu đồng)", "Giải ngân lũy kế (triệu đồng)",
                       "Tỷ lệ giải ngân (%)"]
    labels = [r[0] for r in rows[1:]]
    assert labels == ["Ngân sách trung ương", "- Chi thường xuyên", "Ngân sách địa phương",
                      "- Chi đầu tư phát triển", "Tổng cộng"]
    assert rows[-1][1] == "80.000" and rows[-1][3] == "42.000"
    assert rows[4][4] == "55,0%"  # 33 of 60 bn disbursed
    # The section's number moves the others; section V points at the right one.
    assert "V. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI" in texts
    annex = load_workbook(files.xlsx)
    sheet = annex["Kinh phí"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[-1][:4] == ["Tổng cộng", 80000, 60000, 42000]


def test_annual_report_carries_the_funding_roadmap_appendix(
        session: Session, world: World, tmp_path: Path) -> None:
    files = _report(session, tmp_path, "annual", "2025", dt.date(2026, 1, 20))
    texts = _texts(files.docx)
    start = texts.index("PHỤ LỤC")
    assert texts[start + 1] == ("LỘ TRÌNH KINH PHÍ THỰC HIỆN NHIỆM VỤ KHOA HỌC, CÔNG NGHỆ, ĐỔI "
                                "MỚI SÁNG TẠO VÀ CHUYỂN ĐỔI SỐ GIAI ĐOẠN 2025\u2060–\u20602027")
    assert start > texts.index("VI. ĐỀ XUẤT, KIẾN NGHỊ")  # after the signature
    rows = _table_after(Document(str(files.docx)), "Bảng. Lộ trình kinh phí")
    assert rows[0] == ["Nguồn vốn, loại chi", "Năm 2025", "Năm 2026", "Năm 2027", "Tổng"]
    total = rows[-1]
    # 2025: the estimates as approved by 20/01/2026 (90 + 20); 2026: the proposal; 2027: none.
    assert total == ["Tổng cộng", "110.000", "70.000", "–", "180.000"]
    note = next(t for t in texts if t.startswith("Ghi chú: năm 2025"))
    assert "năm 2026: kinh phí đề xuất" in note and "năm 2027: chưa có kinh phí" in note
    assert "Lộ trình kinh phí" in load_workbook(files.xlsx).sheetnames


def test_tasks_by_origin_and_monthly_reports_in_the_report(session: Session,
                                                           tmp_path: Path) -> None:
    w = build_world(session, with_tasks=False)
    add_origin_tasks(session, w)
    access = system(session)
    submit_month_report(session, unit_id=w.noi_vu.id, period="202508", access=access,
                        recorded_at=on_day(dt.date(2025, 9, 3)))
    submit_month_report(session, unit_id=w.commune_a.id, period="202508", nothing=True,
                        access=access, recorded_at=on_day(dt.date(2025, 9, 12)))
    session.commit()
    files = _report(session, tmp_path, "quarterly", "2025Q3", dt.date(2025, 10, 12))
    texts = _texts(files.docx)
    assert ("+ Nhiệm vụ do Trung ương giao: 5 nhiệm vụ; đã hoàn thành 3 nhiệm vụ, trong đó "
            "1 nhiệm vụ hoàn thành trước hạn, 1 đúng hạn, 1 quá hạn; 2 nhiệm vụ đang thực "
            "hiện trong hạn.") in texts
    assert any(t.startswith("+ Nhiệm vụ do cấp xã giao: 1 nhiệm vụ") for t in texts)
    august = next(t for t in texts if t.startswith("- Báo cáo tháng 08/2025"))
    assert "2/4 đơn vị đã báo cáo (trong đó 1 đơn vị báo cáo không phát sinh; 1 báo cáo " \
           "gửi muộn); chưa báo cáo: Sở Khoa học và Công nghệ và Sở Tài chính." in august
    rows = _table_after(Document(str(files.docx)), "Bảng. Nhiệm vụ theo cấp giao")
    assert rows[0][:3] == ["Cấp giao", "Tổng số", "Đã hoàn thành"]  # the group header
    assert rows[1][2:] == ["Tổng", "Trước hạn", "Đúng hạn", "Quá hạn", "Trong hạn", "Quá hạn"]
    assert rows[2] == ["Trung ương giao", "5", "3", "1", "1", "1", "2", "0"]
    assert load_workbook(files.xlsx)["Theo cấp giao"]["D4"].value == 1  # ahead, central


def test_a_party_committee_and_a_commune_committee_sign_their_reports(
        session: Session, tmp_path: Path) -> None:
    w = build_world(session)
    session.add(Target(plan_id=w.plan.id, indicator_id=w.online.id, unit_id=w.commune_a.id,
                       year=2025, target_date=dt.date(2025, 12, 31), value=70.0,
                       comparator=">=", pillar_code="CQS"))
    save_texts(session, unit=w.commune_a, period="2025Q3", access=system(session),
               texts={"signer_name": "Hoàng Văn Minh"})
    session.commit()
    province = _report(session, tmp_path, "quarterly", "2025Q3", dt.date(2025, 10, 12))
    header = Document(str(province.docx)).tables[0].rows[0].cells
    left = header[0].text.splitlines()
    assert left == ["TỈNH ỦY LẠNG SƠN", "BAN CHỈ ĐẠO PHÁT TRIỂN", "KHOA HỌC, CÔNG NGHỆ,",
                    "ĐỔI MỚI SÁNG TẠO", "VÀ CHUYỂN ĐỔI SỐ", "*", "Số        -BC/BCĐ"]
    party_line = header[1].paragraphs[0]
    assert party_line.text == "ĐẢNG CỘNG SẢN VIỆT NAM" and party_line.runs[0].underline
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" not in header[1].text
    texts = _texts(province.docx)
    assert texts[1].startswith("Kết quả thực hiện nhiệm vụ phát triển khoa học, công nghệ, "
                               "đổi mới sáng tạo và chuyển đổi số quý III năm 2025")

    commune = generate_report(session, unit_code=w.commune_a.code, kind="quarterly",
                              period="2025Q3", out_dir=tmp_path / "xa", today=AFTER,
                              pdf=False, closing_date=dt.date(2025, 10, 12),
                              access=system(session))
    document = Document(str(commune.docx))
    left, right = (c.text.splitlines() for c in document.tables[0].rows[0].cells)
    assert left[0] == "ĐẢNG ỦY PHƯỜNG ĐÔNG KINH" and left[1] == "BAN CHỈ ĐẠO PHÁT TRIỂN"
    assert right[-1].startswith("Đông Kinh, ngày")
    texts = _texts(commune.docx)
    assert any("trong tổng số 1 chỉ tiêu có mục tiêu năm 2025" in t for t in texts)
    signature = document.tables[-1].rows[0].cells
    assert "T/M BAN CHỈ ĐẠO" in signature[1].text and "Hoàng Văn Minh" in signature[1].text
    assert "Ban Chỉ đạo tỉnh về phát triển KHCN, ĐMST và CĐS (b/c)" in signature[0].text
    # The commune's report holds the commune's figures, not the province's departments'.
    assert not any("Sở Nội vụ" in t for t in texts)


def test_the_reports_page_previews_the_money_and_the_tasks(session: Session, world: World,  # type: ignore[no-untyped-def]
                                                           client, make_user) -> None:
    office, password = make_user(Role.STANDING_OFFICE, world.province.id)
    login(client, office.username, password)
    page = client.get("/reports", params={"kind": "quarterly", "period": "2025Q3"}).text
    preview = page.split('id="report-preview"')[1].split("</section>")[0]
    assert "Nội dung chính của báo cáo" in preview
    table = preview.split('id="preview-budget"')[1].split("</table>")[0]
    assert "Tổng cộng" in table and "80.000" in table  # as approved by 30/09/2025
    assert "Lũy kế từ đầu năm 2025" in preview
    assert 'name="header_style"' in page and "Văn bản của Đảng" in page
