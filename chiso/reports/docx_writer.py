"""The committee report as DOCX in the format of Nghị định 30/2020/NĐ-CP (Phụ lục I):
A4, margins 20/20/30/15 mm, Times New Roman 13–14 pt, the two-column header (issuing body
left, Quốc hiệu and Tiêu ngữ right), số ký hiệu, the italic place-and-date line, the title,
page numbers at the top centre from page 2, and the "Nơi nhận" and signature blocks.

A report with any illustrative (demo) figure carries the line "SỐ LIỆU MINH HỌA — KHÔNG
PHẢI SỐ LIỆU CHÍNH THỨC / ILLUSTRATIVE FIGURES" at the top of every page. A missing
signer's name is left as a visible red gap, never silently blank.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from chiso.analytics.status import Status
from chiso.reports import charts
from chiso.reports.committee import PARTY
from chiso.reports.data import ReportData, sources_of, target_text
from chiso.reports.sentences import SUB, actual_text, result_summary, revision_lines
from chiso.tasks.counts import total_of
from chiso.tasks.models import TaskStatus
from chiso.tasks.status import AHEAD_MARGIN_DAYS, status_label
from chiso.text import format_date, format_number, format_percent

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
PARTY_LINE = "ĐẢNG CỘNG SẢN VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
KIND_TITLE = {"quarterly": "quý", "half_year": "6 tháng", "annual": "năm"}
ILLUSTRATIVE_LINE = "SỐ LIỆU MINH HỌA — KHÔNG PHẢI SỐ LIỆU CHÍNH THỨC / ILLUSTRATIVE FIGURES"
RED = RGBColor(0xB3, 0x26, 0x1E)

Progress = Callable[[int, str], None]


def build_docx(data: ReportData, progress: Progress | None = None) -> bytes:
    step = progress or (lambda _p, _s: None)
    doc = Document()
    _page_setup(doc, data.illustrative)
    _styles(doc)
    _header_block(doc, data)
    _title(doc, data)
    step(30, "I. Kết quả thực hiện chỉ tiêu")
    _section_results(doc, data, step)
    step(70, "II–V")
    if data.budget:
        _section_budget(doc, data, data.budget)
    _section_tasks(doc, data)
    _section_limitations(doc, data)
    _section_focus(doc, data)
    _section_proposals(doc, data)
    _closing(doc, data)
    if data.roadmap:
        _roadmap_appendix(doc, data, data.roadmap)
    _fixed_properties(doc, data)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ page, styles, fields

def _page_setup(doc: Any, illustrative: bool) -> None:
    section = doc.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(8)
    section.different_first_page_header_footer = True  # no number on page 1 (NĐ 30)
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(paragraph, "PAGE", size=13)
    if illustrative:  # on every page: the first page has a header of its own
        for header in (section.first_page_header, section.header):
            _illustrative_line(header)


def _illustrative_line(header: Any) -> None:
    first = header.paragraphs[0]
    paragraph = first if not first.text and not first.runs else header.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    run = _font(paragraph.add_run(ILLUSTRATIVE_LINE), 9, bold=True)
    run.font.color.rgb = RED


def _field(paragraph: Paragraph, code: str, size: int) -> None:
    run = paragraph.add_run()
    _font(run, size)
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "2"),
                       ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == code:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {code} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


def _font(run: Any, size: float, bold: bool = False, italic: bool = False) -> Any:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    return run


def _styles(doc: Any) -> None:
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(3), Pt(3), 1.1


def _para(doc_or_cell: Any, text: str = "", *, size: float = BODY_PT, bold: bool = False,
          italic: bool = False, align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
          indent: bool = True, before: float = 3, after: float = 3) -> Paragraph:
    paragraph = doc_or_cell.add_paragraph()
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Cm(1) if indent else Cm(0)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if text:
        _font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _centered(cell: Any, text: str, size: float, bold: bool = False, italic: bool = False,
              first: bool = False) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    fmt.first_line_indent = Cm(0)
    _font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _rule(container: Any, width_cm: float, space_after: float = 4) -> None:
    """The short solid line under the issuing body, the Tiêu ngữ and the title: an empty,
    tiny paragraph whose bottom border is `width_cm` long, centred in its container."""
    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(space_after), 1.0
    fmt.first_line_indent = Cm(0)
    total = _width_of(container)
    fmt.left_indent = fmt.right_indent = Cm(max(0.0, (total - width_cm) / 2))
    _font(paragraph.add_run(""), 2)
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"),
                       ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p_pr.insert(0, borders)


def _width_of(container: Any) -> float:
    width = getattr(container, "width", None)
    return width.cm if width is not None else 16.5


def _set_widths(table: Any, widths: list[float]) -> None:
    """Fixed column widths that Word and LibreOffice both honour (grid and cells)."""
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _no_borders(table: Any) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


# ------------------------------------------------------------------ header and title

def _header_block(doc: Any, data: ReportData) -> None:
    """NĐ 30/2020 for an administrative committee; Hướng dẫn 36-HD/VPTW for a committee of
    the Party (since NQ 57): its name under the Party committee's, a star, "Số 12-BC/BCĐ",
    and "ĐẢNG CỘNG SẢN VIỆT NAM" on the right instead of Quốc hiệu and Tiêu ngữ."""
    texts = data.texts
    party = texts.get("header_style") == PARTY
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    _set_widths(table, [8.2, 8.3] if party else [6.4, 10.1])
    left, right = table.rows[0].cells
    _centered(left, texts["issuer_parent"], 12.5, first=True)
    for line in balanced_lines(texts["issuer"], 24 if party else 22):
        _centered(left, line, 12 if party else 12.5, bold=True)
    if party:
        _centered(left, "*", 13)
        _centered(left, f"Số        -{texts['symbol']}", 13)
        _underlined(_centered(right, PARTY_LINE, 14, bold=True, first=True))
        _centered(right, "", 8)
    else:
        _rule(left, 2.2)
        _centered(left, f"Số:        /{texts['symbol']}", 13)
        _centered(right, QUOC_HIEU, 12.5, bold=True, first=True)
        _centered(right, TIEU_NGU, 14, bold=True)
        _rule(right, 6.0)
    _centered(right, date_line(data), 14, italic=True)


def _underlined(paragraph: Paragraph) -> None:
    for run in paragraph.runs:
        run.font.underline = True


def date_line(data: ReportData) -> str:
    """'Lạng Sơn, ngày 05 tháng 10 năm 2025'; without an issue date the day and month are
    left for the clerk to fill in at signing (like the number), in the year after the
    closing date: the document never takes today's date."""
    place = data.texts["place"]
    day = data.issue_date
    if day is not None:
        return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    year = (data.cutoff.closing_date + dt.timedelta(days=1)).year
    return f"{place}, ngày      tháng      năm {year}"


def balanced_lines(text: str, width: int) -> list[str]:
    """Split a long issuing-body name into lines of similar length at spaces, as drafters
    do ("BAN CHỈ ĐẠO / CHUYỂN ĐỔI SỐ"), instead of letting one word wrap alone: as few
    lines as fit `width` characters, the longest line as short as it can be."""
    words = text.split()
    if len(text) <= width or len(words) < 2:
        return [text]
    count = min(len(words), -(-len(text) // width))
    return _best_split(words, count)


def _best_split(words: list[str], count: int) -> list[str]:
    """`words` in `count` lines, the longest as short as it can be, preferring breaks
    between phrases ("… KHOA HỌC, / CÔNG NGHỆ, …" rather than "… KHOA / HỌC, …")."""
    if count == 1:
        return [" ".join(words)]
    best: list[str] = []
    for cut in range(1, len(words) - count + 2):
        lines = [" ".join(words[:cut]), *_best_split(words[cut:], count - 1)]
        if not best or _cost(lines) < _cost(best):
            best = lines
    return best


def _cost(lines: list[str]) -> int:
    """The longest line, plus a penalty for each break inside a phrase (a break after a
    comma or before "VÀ" is natural)."""
    inside = sum(not (line.endswith(",") or after.startswith(("VÀ ", "và ")))
                 for line, after in pairwise(lines))
    return max(map(len, lines)) + 8 * inside


def _title(doc: Any, data: ReportData) -> None:
    _para(doc, "BÁO CÁO", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          before=18, after=0)
    subtitle = (f"Kết quả thực hiện nhiệm vụ {report_subject(data)} {data.period_title}, "
                f"nhiệm vụ trọng tâm thời gian tới")
    _para(doc, subtitle, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False, before=0, after=0)
    _rule(doc, 4.0, space_after=10)
    if data.cutoff.provisional:
        _para(doc, f"(Báo cáo tạm tính: {data.cutoff.phrase_vi()})", size=13, italic=True,
              align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=0, after=6)
    plans = "; ".join(p.citation() for p in data.plans) or "các kế hoạch của Ban Chỉ đạo"
    _para(doc, f"Thực hiện {plans}, {_issuer_in_sentence(data)} báo cáo kết quả thực "
               f"hiện nhiệm vụ {report_subject(data)} {data.period_title} "
               f"({data.cutoff.phrase_vi()}) "
               f"như sau:")


PLACE_WORDS = (" tỉnh ", " thành phố ", " xã ", " phường ", " đặc khu ")


def report_subject(data: ReportData) -> str:
    """What the committee reports on, from its name: 'chuyển đổi số', or since NQ 57 'phát
    triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số' (a place name after it
    is left out)."""
    name = f" {data.texts['issuer'].strip().lower()} "
    for word in PLACE_WORDS:
        name = name.split(word)[0] + " "
    for prefix in (" ban chỉ đạo về ", " ban chỉ đạo "):
        if name.startswith(prefix):
            return name[len(prefix):].strip() or "chuyển đổi số"
    return "chuyển đổi số"


def _issuer_in_sentence(data: ReportData) -> str:
    """'BAN CHỈ ĐẠO CHUYỂN ĐỔI SỐ' → 'Ban Chỉ đạo chuyển đổi số' inside a sentence."""
    text = data.texts["issuer"].lower()
    return text.replace("ban chỉ đạo", "Ban Chỉ đạo", 1)[:1].upper() + text.replace(
        "ban chỉ đạo", "Ban Chỉ đạo", 1)[1:]


# ------------------------------------------------------------------ I. results

def _heading(doc: Any, text: str, italic: bool = False) -> None:
    paragraph = _para(doc, text, bold=True, italic=italic, before=6, after=3)
    paragraph.paragraph_format.keep_with_next = True  # never a heading alone at a page foot


def _section_results(doc: Any, data: ReportData, step: Progress) -> None:
    _heading(doc, f"{data.numeral('results')}. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU")
    _para(doc, result_summary(data))
    _bullets(doc, revision_lines(data))
    for number, pillar in enumerate(data.pillars, start=1):
        step(30 + int(40 * number / max(1, len(data.pillars))), pillar.name_vi)
        _heading(doc, f"{number}. {pillar.name_vi}")
        _pillar_table(doc, data, pillar.statuses)
        _caption(doc, f"Bảng {number}. Kết quả thực hiện chỉ tiêu — {pillar.name_vi}")
        if any(st.actual is not None and st.estimate for st in pillar.statuses):
            _para(doc, "Ghi chú: “ước” là số liệu ước thực hiện, chưa phải số liệu chính "
                       "thức; số liệu chính thức sẽ thay thế khi có.", size=12, italic=True,
                  align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, before=0, after=0)
        _source_line(doc, data, pillar.statuses)
        _pillar_charts(doc, data, pillar, number)


def _pillar_table(doc: Any, data: ReportData, statuses: list[Any]) -> None:
    headers = ["TT", "Chỉ tiêu", f"Mục tiêu {data.period_end.year}", "Thực hiện", "Đánh giá"]
    rows = [[str(i), s.indicator_name_vi, target_text(s), actual_text(data, s),
             Status(s.status).label("vi")] for i, s in enumerate(statuses, start=1)]
    _table(doc, headers, rows, widths=[1.0, 7.7, 2.6, 2.4, 2.8], numeric={0, 2, 3})


def _source_line(doc: Any, data: ReportData, statuses: list[Any]) -> None:
    """Nguồn: where the targets and the figures of a table come from."""
    plans = sorted({s.plan_code for s in statuses if s.plan_code})
    figures = sorted({part for s in statuses for part in
                      sources_of(data, s.indicator_id).split("; ") if part})
    text = "Nguồn: mục tiêu theo " + (", ".join(f"Kế hoạch số {c}" for c in plans) or "–")
    if figures:
        text += "; số liệu thực hiện: " + "; ".join(figures)
    _para(doc, text + ".", size=12, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False,
          before=0, after=6)


def _table(doc: Any, headers: list[str], rows: list[list[str]], widths: list[float],
           numeric: set[int] = frozenset()) -> Any:  # type: ignore[assignment]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _centered(cell, text, TABLE_PT, bold=True, first=True)
        _shade(cell, "E7ECF2")
    _repeat_header(table.rows[0])
    for values in rows:
        row = table.add_row()
        # A row never breaks across pages: "Trung ương" printed at the foot of one page
        # and "giao" at the top of the next reads as two rows.
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        cells = row.cells
        for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph.alignment = (WD_ALIGN_PARAGRAPH.CENTER if index in numeric
                                   else WD_ALIGN_PARAGRAPH.LEFT)
            paragraph.paragraph_format.space_before = Pt(1)
            paragraph.paragraph_format.space_after = Pt(1)
            paragraph.paragraph_format.line_spacing = 1.0
            _font(paragraph.add_run(text), TABLE_PT)
    _set_widths(table, widths)
    return table


def _shade(cell: Any, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row: Any) -> None:
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(element)


def _caption(doc: Any, text: str) -> None:
    _para(doc, text, size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
          before=2, after=6)


def _pillar_charts(doc: Any, data: ReportData, pillar: Any, number: int) -> None:
    closed = all(s.closed for s in pillar.statuses)
    image = charts.progress_chart(pillar.statuses, "Kết quả so với mục tiêu" if closed
                                  else "Tiến độ so với lộ trình")
    if image:
        _picture(doc, image)
        _caption(doc, f"Biểu đồ {number}a. " + (
            f"Kết quả thực hiện so với mục tiêu năm {data.period_end.year} (% mục tiêu)"
            if closed else f"Tiến độ thực hiện so với lộ trình (% mục tiêu năm "
                           f"{data.period_end.year})"))
    codes = {s.indicator_code: s for s in pillar.statuses}
    series = {codes[c].indicator_name_vi: v for c, v in data.series.items() if c in codes}
    targets = {codes[c].indicator_name_vi: codes[c].target_value for c in data.series
               if c in codes and codes[c].target_value is not None}
    image = charts.trend_chart(series, "Diễn biến theo tháng", targets)
    if image:
        _picture(doc, image)
        _caption(doc, f"Biểu đồ {number}b. Diễn biến theo tháng (đường chấm: mục tiêu năm)")


def _picture(doc: Any, image: bytes) -> None:
    paragraph = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph.add_run().add_picture(io.BytesIO(image), width=Cm(14.5))


# ------------------------------------------------------------------ II, III, IV, closing

def _section_budget(doc: Any, data: ReportData, budget: dict[str, Any]) -> None:
    """Kinh phí thực hiện (chiso.funding.report_section): the paragraph, then the table by
    source and type in triệu đồng, as approved by the cut-off."""
    _heading(doc, f"{data.numeral('budget')}. KINH PHÍ THỰC HIỆN")
    _para(doc, budget["paragraph_vi"])
    columns = budget["columns"]
    rows = [[_label(row), *(_amount(row.get(c["key"]), c["key"]) for c in columns[1:])]
            for row in budget["rows"]]
    table = _table(doc, [c["label_vi"] for c in columns], rows,
                   widths=[5.2, 2.9, 2.9, 3.0, 2.5], numeric={1, 2, 3, 4})
    _bold_rows(table, [i + 1 for i, row in enumerate(budget["rows"]) if row["level"] < 2])
    _caption(doc, f"Bảng. Kinh phí khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số năm "
                  f"{budget['year']} (đơn vị: triệu đồng)")
    _para(doc, "Nguồn: số liệu kinh phí đã được phê duyệt trên chiso đến ngày "
               f"{format_date(data.cutoff.closing_date)}.", size=12, italic=True,
          align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, before=0, after=6)


def _label(row: dict[str, Any]) -> str:
    """A source's row as is, a type's row under it marked '- '."""
    return f"- {row['label_vi']}" if row["level"] == 2 else row["label_vi"]


def _amount(value: Any, key: str = "") -> str:
    """'26.000' (triệu đồng), '49,9%' for a rate; '–' where there is no figure."""
    if value is None:
        return "–"
    if key == "rate":
        return format_percent(float(value), 1)
    return format_number(float(value), 0)


def _bold_rows(table: Any, indexes: list[int]) -> None:
    for index in indexes:
        for cell in table.rows[index].cells:
            for run in cell.paragraphs[0].runs:
                run.font.bold = True


def _roadmap_appendix(doc: Any, data: ReportData, roadmap: dict[str, Any]) -> None:
    """Phụ lục: lộ trình kinh phí (the roadmap by source and type, year by year, and the
    programmes with theirs), after the signature, on a page of its own."""
    paragraph = _para(doc, "PHỤ LỤC", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                      indent=False, before=0, after=0)
    paragraph.paragraph_format.page_break_before = True
    years = roadmap["years"]
    _para(doc, f"LỘ TRÌNH KINH PHÍ THỰC HIỆN NHIỆM VỤ KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ "
               f"CHUYỂN ĐỔI SỐ GIAI ĐOẠN {years[0]}\u2060–\u2060{years[-1]}", bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=0, after=0)
    _para(doc, f"(Kèm theo Báo cáo kết quả {data.period_title} của "
               f"{_issuer_in_sentence(data)})", italic=True, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False, before=0, after=8)
    empty = [y for y in years if not roadmap["basis"].get(y) and
             not roadmap["basis"].get(str(y))]
    headers = ["Nguồn vốn, loại chi", *(f"Năm {y}" for y in years), "Tổng"]
    rows = [[_label(r), *(_year_amount(r, y, empty) for y in years),
             _amount(r.get("total"))] for r in roadmap["rows"]]
    width = (16.5 - 5.4) / (len(years) + 1)
    table = _table(doc, headers, rows, widths=[5.4, *([width] * (len(years) + 1))],
                   numeric=set(range(1, len(years) + 2)))
    _bold_rows(table, [i + 1 for i, r in enumerate(roadmap["rows"]) if r["level"] < 2])
    _caption(doc, "Bảng. Lộ trình kinh phí theo nguồn vốn và loại chi (đơn vị: triệu đồng)")
    _basis_note(doc, roadmap, years, empty)
    if roadmap["programmes"]:
        _programmes(doc, roadmap, years, empty)


def _year_amount(row: dict[str, Any], year: int, empty: list[int]) -> str:
    return "–" if year in empty else _amount(row.get(str(year)))


def _basis_note(doc: Any, roadmap: dict[str, Any], years: list[int], empty: list[int]) -> None:
    """Which years are budget estimates (dự toán giao), which proposals (đề xuất)."""
    words = {"estimate": "dự toán được giao", "proposed": "kinh phí đề xuất",
             "mixed": "dự toán được giao và kinh phí đề xuất"}
    parts = [f"năm {y}: {words[roadmap['basis'].get(y) or roadmap['basis'].get(str(y))]}"
             for y in years if y not in empty]
    if empty:
        parts.append("năm " + ", ".join(str(y) for y in empty) + ": chưa có kinh phí được "
                     "đề xuất hoặc giao")
    _para(doc, "Ghi chú: " + "; ".join(parts) + ".", size=12, italic=True,
          align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, before=0, after=6)


def _programmes(doc: Any, roadmap: dict[str, Any], years: list[int], empty: list[int]) -> None:
    rows = [[f"{p['name']} ({p['decision']})" if p.get("decision") else p["name"], p["owner"],
             *(_year_amount(p, y, empty) for y in years)] for p in roadmap["programmes"]]
    width = (16.5 - 6.0 - 3.0) / len(years)
    _table(doc, ["Chương trình, dự án", "Chủ đầu tư", *(f"Năm {y}" for y in years)], rows,
           widths=[6.0, 3.0, *([width] * len(years))], numeric=set(range(2, len(years) + 2)))
    _caption(doc, "Bảng. Kinh phí các chương trình, dự án (đơn vị: triệu đồng)")


def _section_limitations(doc: Any, data: ReportData) -> None:
    _heading(doc, f"{data.numeral('limitations')}. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN")
    _bullets(doc, data.limitations)


def _bullets(doc: Any, lines: list[str]) -> None:
    """'- sentence' lines; a line starting with '+ ' belongs to the one above (indented)."""
    for line in lines:
        if line.startswith(SUB):
            paragraph = _para(doc, line)
            paragraph.paragraph_format.left_indent = Cm(1)
        else:
            _para(doc, f"- {line}")


def _section_focus(doc: Any, data: ReportData) -> None:
    _heading(doc, f"{data.numeral('focus')}. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI")
    _bullets(doc, data.focus)


def _section_tasks(doc: Any, data: ReportData) -> None:
    _heading(doc, f"{data.numeral('tasks')}. TÌNH HÌNH THỰC HIỆN NHIỆM VỤ")
    done = data.tasks_with(TaskStatus.DONE)
    late = data.tasks_with(TaskStatus.DONE_LATE)
    overdue = data.tasks_with(TaskStatus.OVERDUE)
    running = data.tasks_with(TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED)
    total = len(data.tasks)
    on_time = _share(len(done), len(done) + len(late) + len(overdue))
    parts = [f"{n} nhiệm vụ {what}" for n, what in (
        (len(done), "hoàn thành đúng hạn"), (len(late), "hoàn thành muộn"),
        (len(overdue), "quá hạn chưa hoàn thành"), (len(running), "đang thực hiện trong hạn"))
        if n]
    _para(doc, f"Trong {data.period_title}, theo dõi {total} nhiệm vụ (đang thực hiện hoặc "
               f"hoàn thành trong kỳ): {', '.join(parts) or 'chưa có'}"
               f"{f'; tỷ lệ đúng hạn {on_time}' if on_time else ''}.")
    _bullets(doc, data.task_lines)
    if any(c.total for c in data.origin_counts):
        _origin_table(doc, data)
    _heading(doc, "1. Kết quả theo đơn vị chủ trì", italic=True)
    rows = [[str(i), s.unit_name, str(s.total), str(s.done_on_time), str(s.done_late),
             str(s.overdue), str(s.open)] for i, s in enumerate(data.scores, start=1)]
    if rows:
        _table(doc, ["TT", "Đơn vị chủ trì", "Tổng", "Đúng hạn", "Muộn", "Quá hạn",
                     "Đang làm"], rows, widths=[1.1, 6.4, 1.6, 1.9, 1.6, 1.9, 2.0],
               numeric={0, 2, 3, 4, 5, 6})
    else:
        _para(doc, "Chưa có nhiệm vụ được giao trong kỳ.", italic=True)
    _heading(doc, "2. Nhiệm vụ quá hạn", italic=True)
    _task_table(doc, overdue, data, "Không có nhiệm vụ quá hạn.")
    _heading(doc, "3. Nhiệm vụ đã hoàn thành", italic=True)
    _task_table(doc, done + late, data, "Chưa có nhiệm vụ hoàn thành trong kỳ.")


def _origin_table(doc: Any, data: ReportData) -> None:
    """Bảng: nhiệm vụ theo cấp giao (the centre's counting), with a total row."""
    counts = [c for c in data.origin_counts if c.total]
    rows = [[c.label(), str(c.total), str(c.done), str(c.done_ahead), str(c.done_on_time),
             str(c.done_late), str(c.running), str(c.overdue)] for c in counts]
    total = total_of(counts)
    rows.append(["Tổng cộng", str(total.total), str(total.done), str(total.done_ahead),
                 str(total.done_on_time), str(total.done_late), str(total.running),
                 str(total.overdue)])
    table = _table(doc, ["Cấp giao", "Tổng số", "Tổng", "Trước hạn", "Đúng hạn", "Quá hạn",
                         "Trong hạn", "Quá hạn"], rows,
                   widths=[2.2, 1.5, 1.4, 2.4, 2.3, 2.0, 2.4, 2.3], numeric=set(range(1, 8)))
    _group_header(table, [("Cấp giao", 0, 0), ("Tổng số", 1, 1), ("Đã hoàn thành", 2, 5),
                          ("Chưa hoàn thành", 6, 7)])
    _caption(doc, f"Bảng. Nhiệm vụ theo cấp giao từ đầu năm {data.period_end.year} đến ngày "
                  f"{format_date(data.as_of)} (trước hạn: hoàn thành sớm ít nhất "
                  f"{AHEAD_MARGIN_DAYS} ngày)")


def _group_header(table: Any, groups: list[tuple[str, int, int]]) -> None:
    """A first header row above the table's: a column alone spans both rows, a group's
    title spans its columns ("Đã hoàn thành" over Tổng / Trước hạn / Đúng hạn / Quá hạn).
    Short headers that do not wrap read the same in Word, LibreOffice and a PDF reader."""
    below = table.rows[0]
    below._tr.addprevious(copy.deepcopy(below._tr))
    top = table.rows[0]
    for title, first, last in groups:
        if first == last:
            merged = top.cells[first].merge(below.cells[first])
            for extra in merged.paragraphs[1:]:  # the lower cell's copy of the title
                extra._p.getparent().remove(extra._p)
        else:
            merged = top.cells[first].merge(top.cells[last])
            for extra in merged.paragraphs[1:]:
                extra._p.getparent().remove(extra._p)
            merged.paragraphs[0].runs[0].text = title
            for run in merged.paragraphs[0].runs[1:]:
                run.text = ""


def _share(part: int, whole: int) -> str:
    return "" if whole == 0 else format_percent(100.0 * part / whole, 1)


def _task_table(doc: Any, rows: list[Any], data: ReportData, empty: str) -> None:
    if not rows:
        _para(doc, empty, italic=True)
        return
    lines = []
    for i, row in enumerate(rows, start=1):
        task = row.task
        finished = format_date(task.completed_on) if task.completed_on else (
            f"{data.overdue_days(row)} ngày")
        lines.append([str(i), f"{task.title} ({task.code})", row.lead_unit_name,
                      format_date(task.due_date), format_number(task.progress_pct, 0) + "%",
                      finished if task.completed_on else f"Quá {finished}"
                      if row.status == TaskStatus.OVERDUE else status_label(row.status)])
    _table(doc, ["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Hạn", "Tiến độ",
                 "Hoàn thành / quá hạn"], lines, widths=[1.1, 5.4, 3.2, 2.6, 1.6, 2.6],
           numeric={0, 3, 4, 5})


def _section_proposals(doc: Any, data: ReportData) -> None:
    _heading(doc, f"{data.numeral('proposals')}. ĐỀ XUẤT, KIẾN NGHỊ")
    for line in data.texts["proposals"].splitlines():
        if line.strip():
            _para(doc, line.strip() if line.lstrip().startswith("-") else f"- {line.strip()}")
    last = _para(doc, f"Trên đây là báo cáo kết quả thực hiện nhiệm vụ {report_subject(data)} "
                      f"{data.period_title} của {_issuer_in_sentence(data)}./.", before=6)
    last.paragraph_format.keep_with_next = True  # the signature never starts a page alone


def _closing(doc: Any, data: ReportData) -> None:
    texts = data.texts
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _set_widths(table, [8.5, 8.0])
    # One block on one page: a page break inside it left "TM. BAN CHỈ ĐẠO" on one page and
    # the signer's name on the next.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    left, right = table.rows[0].cells
    heading = left.paragraphs[0]
    heading.paragraph_format.space_before = Pt(12)
    _font(heading.add_run("Nơi nhận:"), 12, bold=True, italic=True)
    recipients = [r.strip() for r in texts["recipients"].splitlines() if r.strip()]
    for i, recipient in enumerate(recipients):
        end = "." if i == len(recipients) - 1 else ";"
        paragraph = left.add_paragraph()
        paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.line_spacing = 1.0
        _font(paragraph.add_run(f"- {recipient.rstrip(';.')}{end}"), 11)
    first = _centered(right, texts["signer_authority"], 14, bold=True, first=True)
    first.paragraph_format.space_before = Pt(12)
    _centered(right, texts["signer_title"], 14, bold=True)
    for _ in range(4):
        _centered(right, "", 14)
    if texts["signer_name"].strip():
        _centered(right, texts["signer_name"], 14, bold=True)
    else:  # never a silent blank: the reader sees what is missing
        missing = _centered(right, "[Chưa có họ tên người ký]", 13, italic=True)
        missing.runs[0].font.color.rgb = RED


def _fixed_properties(doc: Any, data: ReportData) -> None:
    """Same data → same document: no clock time, no random ids in the core properties."""
    props = doc.core_properties
    stamp = dt.datetime.combine(data.stamp_date, dt.time(0, 0))
    props.created = props.modified = stamp
    props.last_printed = stamp
    props.author = props.last_modified_by = data.texts["issuer"]
    props.title = f"Báo cáo kết quả {report_subject(data)} {data.period_title}"
    props.subject = f"{data.unit.name} — {data.period}"
    props.revision = 1
    props.keywords = "chiso"
