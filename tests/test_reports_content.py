"""What the report says beyond the figures: who did not report, what is wrong, what comes
next, where the figures come from and whether they are real (issue 11 items 6 and 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from chiso.collection.models import DataSet, Submission, SubmissionEvent
from chiso.meetings.service import add_conclusion, create_meeting
from chiso.reports import charts
from chiso.reports.service import generate_report, report_data
from tests.tasks_support import CLOSING, _value, add_values, build_world, on_day, system

AFTER = CLOSING + dt.timedelta(days=1)


def _text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def _q3(session: Session, out: Path):  # type: ignore[no-untyped-def]
    return generate_report(session, unit_code="20", kind="quarterly", period="2025Q3",
                           out_dir=out, today=AFTER, closing_date=CLOSING, pdf=False,
                           access=system(session))


def _cycle(session: Session, w: Any) -> None:
    """A monthly commune form: Phường Đông Kinh sends on time, Xã Hữu Lũng is late in
    August and sends nothing for September, Xã Chi Lăng never sends."""
    form = DataSet(code="CDS_XA", name_vi="Báo cáo chuyển đổi số cấp xã hằng tháng",
                   period_type="M", due_days=10, unit_kind="xa", parent_unit_id=w.province.id)
    session.add(form)
    session.flush()
    sent = {(w.commune_a, "202507"): dt.date(2025, 8, 5), (w.commune_a, "202508"):
            dt.date(2025, 9, 8), (w.commune_a, "202509"): dt.date(2025, 10, 9),
            (w.commune_b, "202507"): dt.date(2025, 8, 10),
            (w.commune_b, "202508"): dt.date(2025, 9, 15)}
    for (unit, period), day in sent.items():
        row = Submission(data_set_id=form.id, unit_id=unit.id, period=period,
                         status="submitted", due_date=day)
        session.add(row)
        session.flush()
        session.add(SubmissionEvent(submission_id=row.id, action="submit", from_status="draft",
                                    to_status="submitted", at=on_day(day)))
    session.flush()


def test_the_report_names_who_did_not_report_and_who_was_late(session: Session,
                                                              tmp_path: Path) -> None:
    w = build_world(session)
    _cycle(session, w)
    session.commit()
    text = _text(_q3(session, tmp_path).docx)
    assert ("Biểu mẫu “Báo cáo chuyển đổi số cấp xã hằng tháng” (tháng 07/2025, tháng 08/2025 "
            "và tháng 09/2025): 1/3 đơn vị chưa gửi báo cáo nào: Xã Chi Lăng.") in text
    assert "1 đơn vị còn thiếu báo cáo: Xã Hữu Lũng (1/3 kỳ)" in text
    assert "1 báo cáo gửi muộn: Xã Hữu Lũng (tháng 08/2025, muộn 5 ngày)" in text


def test_a_rate_sent_without_its_parts_is_not_an_anomaly(session: Session, tmp_path: Path
                                                         ) -> None:
    """The commune form allows a rate alone; only figures that cannot be right are flagged."""
    w = build_world(session)
    add_values(session, [_value(w.commune_a, w.results, "202508", None, None, value=65.0)])
    session.commit()
    data = report_data(session, unit_code="20", kind="quarterly", period="2025Q3", today=AFTER,
                       closing_date=CLOSING)
    assert data.anomalies == ["Xã Hữu Lũng — Tỷ lệ kết quả giải quyết TTHC điện tử, tháng "
                              "08/2025: tử số (120) lớn hơn mẫu số (100)"]


def test_the_time_ahead_section_comes_from_targets_tasks_and_conclusions(
        session: Session, tmp_path: Path) -> None:
    w = build_world(session)
    access = system(session)
    meeting = create_meeting(session, unit_id=w.province.id, held_on=dt.date(2025, 8, 15),
                             title="Phiên họp bất thường", kind="extraordinary", access=access,
                             recorded_at=on_day(dt.date(2025, 8, 15)))
    add_conclusion(session, meeting_id=meeting.id, access=access,
                   text="Hoàn thành kết nối camera an ninh tại các cửa khẩu trong quý IV",
                   recorded_at=on_day(dt.date(2025, 8, 15)))
    session.commit()
    text = _text(_q3(session, tmp_path).docx)
    section = text.split("IV. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI")[1].split("V. ĐỀ XUẤT")[0]
    assert ("- Tập trung thúc đẩy 1 chỉ tiêu chậm tiến độ, có nguy cơ không đạt mục tiêu "
            "năm 2025: Tỷ lệ người trưởng thành có điện thoại thông minh (thực hiện 60,0%, "
            "mục tiêu ≥ 90,0%).") in section
    assert ("- Khẩn trương hoàn thành 1 nhiệm vụ quá hạn: Số hóa hồ sơ, kết quả giải quyết "
            "TTHC còn hiệu lực (Sở Nội vụ, hạn 15/09/2025).") in section
    assert "Phổ cập kỹ năng số cho người dân" in section  # due by 31/12, still open
    assert ("- Triển khai kết luận của Ban Chỉ đạo tại phiên họp ngày 15/08/2025: Hoàn thành "
            "kết nối camera an ninh tại các cửa khẩu trong quý IV.") in section


@pytest.mark.slow
def test_illustrative_figures_mark_every_page_and_every_annex_sheet(session: Session,
                                                                    tmp_path: Path) -> None:
    w = build_world(session)
    session.commit()
    real = _q3(session, tmp_path / "real")
    add_values(session, [_value(w.commune_a, w.einvoice, "202509", 70, 100, source="demo")])
    session.commit()
    demo = _q3(session, tmp_path / "demo")
    line = "SỐ LIỆU MINH HỌA — KHÔNG PHẢI SỐ LIỆU CHÍNH THỨC"
    section = Document(str(demo.docx)).sections[0]
    assert line in section.first_page_header.paragraphs[0].text  # page 1
    assert any(line in p.text for p in section.header.paragraphs)  # every later page
    for ws in load_workbook(demo.xlsx).worksheets:
        assert ws["A2"].value.startswith("Số liệu minh họa — không phải số liệu chính thức")
    assert any("minh họa" in warning for warning in demo.warnings)
    plain = Document(str(real.docx)).sections[0]
    assert line not in plain.first_page_header.paragraphs[0].text
    assert all(line not in p.text for p in plain.header.paragraphs)
    assert "minh họa" not in load_workbook(real.xlsx).worksheets[0]["A2"].value


def test_the_annex_writes_progress_against_the_path_as_a_percentage(session: Session,
                                                                    tmp_path: Path) -> None:
    build_world(session)
    session.commit()
    ws = load_workbook(_q3(session, tmp_path).xlsx)["Chỉ tiêu"]
    header = [c.value for c in ws[2]]
    column = header.index("Tỷ lệ so với lộ trình") + 1
    row = next(r for r in ws.iter_rows(min_row=3) if r[1].value == "CQS.HS_TRUC_TUYEN")
    cell = row[column - 1]
    assert cell.number_format == "0.0%"  # 76,6 % against 72,4 % on the path → 105,8 %
    assert cell.value == pytest.approx(76.6 / 72.4, abs=0.002)


def test_the_progress_chart_draws_no_bar_for_missing_data_and_names_in_full(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    build_world(session)
    session.commit()
    data = report_data(session, unit_code="20", kind="quarterly", period="2025Q3",
                       today=AFTER, closing_date=CLOSING)
    drawn: list[Any] = []
    monkeypatch.setattr(charts, "_png", lambda fig: drawn.append(fig) or b"png")
    charts.progress_chart(data.statuses, "Tiến độ")
    ax = drawn[0].axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "0,0%" not in texts and "chưa có số liệu" in texts
    assert len(ax.patches) == 2  # two of the three targets have a figure
    names = [label.get_text().replace("\n", " ") for label in ax.get_yticklabels()]
    assert "Tỷ lệ người trưởng thành có điện thoại thông minh" in names
    assert not any("…" in name for name in names)


def test_the_page_and_the_document_say_the_signer_is_missing(session: Session, client,  # type: ignore[no-untyped-def]
                                                             make_user, tmp_path: Path) -> None:
    from chiso.accounts.models import Role
    from tests.conftest import login

    w = build_world(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, office.username, password)
    page = client.get("/reports", params={"period": "2025Q3", "lang": "vi"}).text
    assert 'id="report-warnings"' in page and "Chưa có họ tên người ký" in page
    signature = Document(str(_q3(session, tmp_path).docx)).tables[-1].rows[0].cells[1].text
    assert "[Chưa có họ tên người ký]" in signature
