"""The quarterly report: generated for test data, read back with python-docx and openpyxl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from chiso.reports.errors import ReportError
from chiso.reports.service import generate_report
from chiso.reports.texts import save_texts
from tests.tasks_support import CLOSING, build_world, system

AFTER = CLOSING + dt.timedelta(days=1)  # the report is final: its closing date has passed


def _texts(document) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in document.paragraphs]


def _all_text(document) -> str:  # type: ignore[no-untyped-def]
    parts = _texts(document)
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def _table_after(document, caption_start: str):  # type: ignore[no-untyped-def]
    """The table whose next paragraph is its caption ("Bảng 1. …")."""
    body = document.element.body
    previous = None
    for child in body.iterchildren():
        if child.tag.endswith("}tbl"):
            previous = child
        elif child.tag.endswith("}p") and previous is not None:
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            if text.startswith(caption_start):
                return next(t for t in document.tables if t._tbl is previous)
            if text.strip():
                previous = None
    raise AssertionError(f"no table captioned {caption_start!r}")


def _rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[c.text for c in row.cells] for row in table.rows]


_GENERATED: dict[str, object] = {}


@pytest.fixture
def quarterly(session: Session, db_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The 2025Q3 report (closing date 12/10, issued 15/10) of a committee that issues
    administrative documents (NĐ 30/2020), generated once per backend; the read-only tests
    share the files."""
    if db_url not in _GENERATED:
        w = build_world(session)
        save_texts(session, unit=w.province, period="2025Q3", access=system(session),
                   texts={"issue_date": "15/10/2025", "closing_date": "12/10/2025",
                          "signer_name": "Đoàn Thu Hà", "header_style": "state",
                          "issuer": "BAN CHỈ ĐẠO CHUYỂN ĐỔI SỐ"})
        session.commit()
        _GENERATED[db_url] = generate_report(
            session, unit_code="20", kind="quarterly", period="2025Q3",
            out_dir=tmp_path_factory.mktemp("report"), today=AFTER, pdf=False,
            access=system(session))
    return _GENERATED[db_url]


def test_header_follows_decree_30(quarterly) -> None:  # type: ignore[no-untyped-def]
    document = Document(str(quarterly.docx))
    header = document.tables[0]
    left, right = (cell.text.splitlines() for cell in header.rows[0].cells)
    # the issuing body is broken into two balanced lines, as drafters do
    assert left[:3] == ["UBND TỈNH LẠNG SƠN", "BAN CHỈ ĐẠO", "CHUYỂN ĐỔI SỐ"]
    assert any(line.startswith("Số:") and line.endswith("/BC-BCĐ") for line in left)
    assert right[0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert right[1] == "Độc lập - Tự do - Hạnh phúc"
    date_line = next(p for p in header.rows[0].cells[1].paragraphs
                     if p.text.startswith("Lạng Sơn, ngày"))
    assert date_line.text == "Lạng Sơn, ngày 15 tháng 10 năm 2025"
    assert all(run.italic for run in date_line.runs if run.text)
    texts = _texts(document)
    assert "BÁO CÁO" in texts
    assert any("quý III năm 2025" in t for t in texts)
    fonts = {run.font.name for p in document.paragraphs for run in p.runs if run.text}
    assert fonts == {"Times New Roman"}
    sizes = {run.font.size.pt for p in document.paragraphs for run in p.runs
             if run.text and p.style.name == "Normal" and run.font.size}
    assert sizes <= {12.0, 13.0, 14.0}
    # page number field in the header, from page 2
    section = document.sections[0]
    assert section.different_first_page_header_footer
    assert "PAGE" in section.header._element.xml
    assert "Nơi nhận:" in _all_text(document)


def test_pillar_tables_have_the_right_numbers_and_statuses(quarterly) -> None:  # type: ignore[no-untyped-def]
    document = Document(str(quarterly.docx))
    government = _rows(_table_after(document, "Bảng 1."))
    assert government[0] == ["TT", "Chỉ tiêu", "Mục tiêu 2025", "Thực hiện", "Đánh giá"]
    # 6,894 of 9,000 dossiers online from January to September → 76,6%; path value 72,4%
    assert government[1] == ["1", "Tỷ lệ hồ sơ trực tuyến", "≥ 80,0%", "76,6%",
                             "Đúng tiến độ"]
    economy = _rows(_table_after(document, "Bảng 2."))
    assert economy[1][3:] == ["–", "Chưa có số liệu"]
    society = _rows(_table_after(document, "Bảng 3."))
    assert society[1][2:] == ["≥ 90,0%", "60,0%", "Chậm tiến độ"]
    text = _all_text(document)
    assert ("trong tổng số 3 chỉ tiêu có mục tiêu năm 2025, 1 chỉ tiêu đúng tiến độ, 1 chỉ "
            "tiêu chậm tiến độ, 1 chỉ tiêu chưa có số liệu.") in text
    assert len(document.inline_shapes) >= 4  # progress and trend charts
    # where the figures come from, under each table
    assert ("Nguồn: mục tiêu theo Kế hoạch số 72-KH/BCĐ; số liệu thực hiện: báo cáo của các "
            "cơ quan, đơn vị.") in _texts(document)


def test_the_plan_is_cited_by_its_number_and_date(quarterly) -> None:  # type: ignore[no-untyped-def]
    intro = next(p for p in _texts(Document(str(quarterly.docx))) if p.startswith("Thực hiện"))
    assert intro.startswith("Thực hiện Kế hoạch số 72-KH/BCĐ ngày 10/01/2025 của Ban Chỉ đạo "
                            "CĐS tỉnh Lạng Sơn, Ban Chỉ đạo chuyển đổi số báo cáo")
    assert "(số liệu tính đến ngày 30/09/2025, chốt số liệu ngày 12/10/2025)" in intro


def test_sections_follow_the_title(quarterly) -> None:  # type: ignore[no-untyped-def]
    headings = [p for p in _texts(Document(str(quarterly.docx)))
                if p.split(".")[0] in ("I", "II", "III", "IV", "V")]
    assert headings == ["I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "II. TÌNH HÌNH THỰC HIỆN NHIỆM VỤ",
                        "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
                        "IV. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI", "V. ĐỀ XUẤT, KIẾN NGHỊ"]


def test_limitations_are_sentences_from_the_data(quarterly) -> None:  # type: ignore[no-untyped-def]
    text = _all_text(Document(str(quarterly.docx)))
    section = text.split("III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN")[1].split("IV. NHIỆM VỤ")[0]
    assert ("Tỷ lệ người trưởng thành có điện thoại thông minh: thực hiện 60,0% (lộ trình "
            "87,5%), mục tiêu ≥ 90,0%.") in section
    assert "chưa có số liệu để đánh giá: Tỷ lệ doanh nghiệp sử dụng hóa đơn điện tử" in section
    assert "Có 1 đơn vị chưa cập nhật số liệu kỳ quý III năm 2025: Xã Chi Lăng." in section
    assert ("Xã Hữu Lũng — Tỷ lệ kết quả giải quyết TTHC điện tử, tháng 08/2025: tử số (120) "
            "lớn hơn mẫu số (100)") in section
    assert "Điểm nghẽn lớn nhất" in section and "87,5% theo lộ trình" in section
    assert "Sở Nội vụ (1 nhiệm vụ)" in section


def test_tasks_section_lists_overdue_and_completed(quarterly) -> None:  # type: ignore[no-untyped-def]
    document = Document(str(quarterly.docx))
    text = _all_text(document)
    assert ("Trong quý III năm 2025, theo dõi 4 nhiệm vụ (đang thực hiện hoặc hoàn thành "
            "trong kỳ): 1 nhiệm vụ hoàn thành đúng hạn, 1 nhiệm vụ hoàn thành muộn, 1 nhiệm vụ "
            "quá hạn") in text
    assert "tỷ lệ đúng hạn 33,3%" in text
    overdue = next(t for t in document.tables if any(
        "Số hóa hồ sơ" in c.text for c in t.columns[1].cells) and "Quá" in t.rows[1].cells[5].text)
    row = [c.text for c in overdue.rows[1].cells]
    # overdue days are counted to the end of the quarter, not to the day it is written
    assert row[2:] == ["Sở Nội vụ", "15/09/2025", "40%", "Quá 15 ngày"]
    assert "20/08/2025" in text and "10/08/2025" in text  # completion dates, dd/mm/yyyy


def test_annex_has_every_figure(quarterly) -> None:  # type: ignore[no-untyped-def]
    wb = load_workbook(quarterly.xlsx)
    rows = list(wb["Chỉ tiêu"].iter_rows(min_row=3, values_only=True))
    by_code = {r[1]: r for r in rows}
    assert by_code["CQS.HS_TRUC_TUYEN"][8] == pytest.approx(76.6)
    assert by_code["XHS.SMARTPHONE"][12] == "Chậm tiến độ"
    assert by_code["KTS.HOA_DON_DT"][8] is None
    tasks = list(wb["Nhiệm vụ"].iter_rows(min_row=3, values_only=True))
    assert {t[0] for t in tasks} == {"NV-0001", "NV-0002", "NV-0003", "NV-0004"}
    series = list(wb["Chuỗi số liệu"].iter_rows(min_row=3, values_only=True))
    assert len([s for s in series if s[0] == "CQS.HS_TRUC_TUYEN"]) == 9


def test_same_data_gives_the_same_document(session: Session, tmp_path: Path) -> None:
    build_world(session)
    session.commit()
    first = generate_report(session, unit_code="20", kind="quarterly", period="2025Q3",
                            out_dir=tmp_path / "a", today=AFTER, pdf=False,
                            access=system(session))
    second = generate_report(session, unit_code="20", kind="quarterly", period="2025Q3",
                             out_dir=tmp_path / "b", today=AFTER, pdf=False,
                             access=system(session))
    assert first.docx.read_bytes() == second.docx.read_bytes()
    assert first.xlsx.read_bytes() == second.xlsx.read_bytes()
    props = Document(str(first.docx)).core_properties
    # no issue date given: the document is stamped with its closing date, not with today
    assert props.created == dt.datetime(2025, 9, 30, tzinfo=dt.UTC)
    date_line = next(p.text for p in Document(str(first.docx)).tables[0].rows[0].cells[1]
                     .paragraphs if p.text.startswith("Lạng Sơn"))
    assert date_line == "Lạng Sơn, ngày      tháng      năm 2025"  # for the clerk to fill in


def test_half_year_and_annual_variants_and_wrong_periods(session: Session, tmp_path: Path
                                                         ) -> None:
    build_world(session)
    session.commit()
    access = system(session)
    half = generate_report(session, unit_code="20", kind="half_year", period="2025S1",
                           out_dir=tmp_path, today=AFTER, pdf=False, access=access)
    assert any("6 tháng đầu năm 2025" in p.text for p in Document(str(half.docx)).paragraphs)
    annual = generate_report(session, unit_code="20", kind="annual", period="2025",
                             out_dir=tmp_path, today=AFTER, pdf=False, access=access)
    assert any("năm 2025" in p.text for p in Document(str(annual.docx)).paragraphs)
    with pytest.raises(ReportError, match="Quý III/2025"):
        generate_report(session, unit_code="20", kind="quarterly", period="2025",
                        out_dir=tmp_path, today=AFTER, pdf=False, access=access)


def test_no_table_row_breaks_across_a_page(quarterly) -> None:  # type: ignore[no-untyped-def]
    """Every row of every table is kept on one page (a task-origin row split over a page
    break read as two rows in the PDF)."""
    from docx.oxml.ns import qn

    for table in Document(str(quarterly.docx)).tables:
        for row in table.rows:
            properties = row._tr.trPr
            if properties is not None and properties.find(qn("w:tblHeader")) is not None:
                continue  # a header row, repeated on each page
            assert properties is not None and properties.find(qn("w:cantSplit")) is not None


@pytest.mark.parametrize(("kind", "period", "stem"), [
    ("quarterly", "2026Q3", "bao-cao-quy-III-2026"),
    ("half_year", "2026S1", "bao-cao-6-thang-dau-nam-2026"),
    ("annual", "2025", "bao-cao-nam-2025"),
])
def test_files_are_named_as_people_say_the_report(kind: str, period: str, stem: str) -> None:
    from chiso.reports.service import file_stem

    assert file_stem(kind, period) == stem


def test_annex_figures_do_not_carry_the_engines_summation_noise() -> None:
    """The Q3/2026 annex of the demo differed when regenerated later only in a projection's
    15th digit (69.74442083405502 against …506): figures are written to 10 decimals."""
    from chiso.reports.annex import _settled

    assert _settled(69.74442083405502) == _settled(69.74442083405506) == 69.7444208341
    assert str(_settled(-0.0)) == "0.0" and _settled("text") == "text" and _settled(3) == 3
