"""A report for a past period says what was true at its end, as known at its closing date,
and says it the same way whenever it is generated again (issue 11 item 6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.plans.models import Target
from chiso.plans.service import update_target
from chiso.reports.service import generate_report
from chiso.tasks.models import Task
from chiso.tasks.service import cancel_task, create_task, edit_task, update_progress
from chiso.values.models import DataValue, DataValueVersion
from tests.tasks_support import (
    CLOSING,
    _value,
    add_values,
    build_world,
    extend_to_2026,
    on_day,
    system,
)


def _text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def _report(session: Session, out: Path, period: str, today: dt.date, kind: str = "quarterly",
            closing: dt.date | None = None):  # type: ignore[no-untyped-def]
    return generate_report(session, unit_code="20", kind=kind, period=period, out_dir=out,
                           today=today, closing_date=closing, pdf=False,
                           access=system(session))


def _later_changes(session: Session, w) -> None:  # type: ignore[no-untyped-def]
    """What happens after the quarters are closed: a figure corrected, a task created, one
    finished late, one cancelled, one moved, every target's date and baseline put right and
    two targets moved — none of it may change a past report."""
    access = system(session)
    later = on_day(dt.date(2026, 11, 20))
    value = session.scalar(select(DataValue).where(DataValue.indicator_id == w.smartphone.id,
                                                   DataValue.period == "202509"))
    value.numerator, value.value, value.version = 950, 95.0, 2
    session.add(DataValueVersion(data_value_id=value.id, version=2, numerator=950,
                                 denominator=1000, value=95.0, source="form", comment="",
                                 change="update", changed_at=later))
    create_task(session, title="Nhiệm vụ giao sau", lead_unit_id=w.noi_vu.id,
                due_date=dt.date(2025, 9, 1), start_date=dt.date(2025, 7, 1), access=access,
                recorded_at=later)
    update_progress(session, task_id=w.tasks["overdue"].id, progress_pct=100, access=access,
                    update_date=dt.date(2025, 9, 10), recorded_at=later)
    cancel_task(session, task_id=w.tasks["running"].id, reason="thôi", access=access)
    edit_task(session, task_id=w.tasks["late"].id, access=access, title="Tên mới")
    # Every target's date and baseline put right (chiso.plans.details): a past report still
    # judges each as it stood when the report closed.
    for target in session.scalars(select(Target)).all():
        update_target(session, target.id, {
            "target_date": f"30/09/{target.year}", "baseline_value": 1,
            "baseline_date": f"31/12/{target.year - 1}"}, access=access)
    # And two targets set for the wrong one put right: the province's 2025 e-invoice target
    # was meant for a commune, its 2026 online-dossier target for the e-results indicator.
    # A past report still files each where it was.
    moves = {(w.einvoice.id, 2025): {"unit": w.commune_a.code},
             (w.online.id, 2026): {"indicator": w.results.code}}
    for target in session.scalars(select(Target)).all():
        if (change := moves.get((target.indicator_id, target.year))) is not None:
            update_target(session, target.id, change, access=access)
    session.commit()


@pytest.mark.slow
def test_q4_2025_and_q3_2026_are_the_same_when_generated_again_later(
        session: Session, tmp_path: Path) -> None:
    w = build_world(session)
    extend_to_2026(session, w)
    session.commit()
    first = {p: _report(session, tmp_path / f"a{p}", p, dt.date(2026, 10, 5))
             for p in ("2025Q4", "2026Q3")}
    _later_changes(session, w)
    again = {p: _report(session, tmp_path / f"b{p}", p, dt.date(2027, 3, 1))
             for p in ("2025Q4", "2026Q3")}
    for period in first:
        assert first[period].docx.read_bytes() == again[period].docx.read_bytes(), period
        assert first[period].xlsx.read_bytes() == again[period].xlsx.read_bytes(), period
    q3 = _text(first["2026Q3"].docx)
    assert "Sóng di động cho 30 thôn vùng cao" in q3  # a real report, not an empty one
    assert "Nhiệm vụ giao sau" not in q3 and "Tên mới" not in q3


def test_a_past_quarter_judges_tasks_on_its_last_day(session: Session, tmp_path: Path) -> None:
    """Written in December, the Q3 report still lists NV-0002 as 15 days overdue (to 30/09),
    the task due in November as in progress, and not the task created in October."""
    w = build_world(session)
    access = system(session)
    create_task(session, title="Cập nhật cơ sở dữ liệu cán bộ", lead_unit_id=w.noi_vu.id,
                due_date=dt.date(2025, 11, 15), start_date=dt.date(2025, 8, 1), access=access,
                recorded_at=on_day(dt.date(2025, 8, 1)))
    create_task(session, title="Nhiệm vụ giao tháng 10", lead_unit_id=w.noi_vu.id,
                due_date=dt.date(2025, 9, 20), access=access,
                recorded_at=on_day(dt.date(2025, 10, 3)))
    session.commit()
    text = _text(_report(session, tmp_path, "2025Q3", dt.date(2025, 12, 20)).docx)
    assert "Quá 15 ngày" in text and "Quá 96 ngày" not in text
    assert "theo dõi 5 nhiệm vụ (đang thực hiện hoặc hoàn thành trong kỳ)" in text
    assert "Nhiệm vụ giao tháng 10" not in text
    overdue = text.split("2. Nhiệm vụ quá hạn")[1].split("3. Nhiệm vụ đã hoàn thành")[0]
    assert "Cập nhật cơ sở dữ liệu cán bộ" not in overdue


def test_the_closing_date_decides_which_figures_count(session: Session, tmp_path: Path
                                                      ) -> None:
    """September's figures were entered on 10/10: a report closed on 30/09 has data to
    August; one closed on 12/10 has them, and says so."""
    build_world(session)
    session.commit()
    closed_at_end = _text(_report(session, tmp_path / "a", "2025Q3", dt.date(2025, 12, 1)).docx)
    closed_later = _text(_report(session, tmp_path / "b", "2025Q3", dt.date(2025, 12, 1),
                                 closing=CLOSING).docx)
    assert "76,6%" in closed_later and "76,6%" not in closed_at_end
    assert "(số liệu tính đến ngày 30/09/2025, chốt số liệu ngày 12/10/2025)" in closed_later
    assert "(số liệu tính đến ngày 30/09/2025)" in closed_at_end


def test_a_report_before_its_closing_date_says_it_is_provisional(session: Session,
                                                                 tmp_path: Path) -> None:
    build_world(session)
    session.commit()
    files = _report(session, tmp_path, "2025Q3", dt.date(2025, 10, 5), closing=CLOSING)
    assert "Báo cáo tạm tính" in _text(files.docx)
    assert any("tạm tính" in warning for warning in files.warnings)


def test_a_closed_year_speaks_of_met_and_missed_never_at_risk(session: Session,
                                                              tmp_path: Path) -> None:
    w = build_world(session)
    add_values(session, [_value(w.commune_a, w.smartphone, "202512", 880, 1000,
                                comment="Giá thiết bị cao so với thu nhập của hộ nghèo"),
                         _value(w.commune_b, w.smartphone, "202512", 860, 1000)])
    session.commit()
    text = _text(_report(session, tmp_path, "2025Q4", dt.date(2026, 2, 1),
                         closing=dt.date(2026, 1, 15)).docx)
    assert "nguy cơ" not in text.casefold() and "tiến độ" not in text.split("II.")[0]
    assert "Năm 2025 đã kết thúc" in text
    assert "Có 2 chỉ tiêu không đạt mục tiêu năm 2025:" in text
    # a shortfall gives the causes the officers wrote in their figures' comments
    assert ("Tỷ lệ người trưởng thành có điện thoại thông minh: thực hiện 87,0%, mục tiêu "
            "≥ 90,0%. Nguyên nhân (theo báo cáo của đơn vị): Phường Đông Kinh (tháng "
            "12/2025): “Giá thiết bị cao so với thu nhập của hộ nghèo”") in text
    assert "Các đơn vị chưa nêu nguyên nhân cho 1/2 chỉ tiêu trên" in text
    table = next(t for t in Document(str(tmp_path / "bao-cao-quy-IV-2025.docx"))
                 .tables if t.rows[0].cells[0].text == "TT" and "Mục tiêu" in
                 t.rows[0].cells[2].text and "thông minh" in t.rows[1].cells[1].text)
    assert table.rows[1].cells[4].text == "Không đạt"


def test_a_task_recorded_late_with_an_early_date_counts_once_known(session: Session,
                                                                  tmp_path: Path) -> None:
    """NV-0002 was reported done on 10/09, but only entered on 11/10: the report closed on
    30/09 shows it overdue, the one closed on 12/10 shows it done."""
    w = build_world(session)
    update_progress(session, task_id=w.tasks["overdue"].id, progress_pct=100,
                    access=system(session), update_date=dt.date(2025, 9, 10),
                    recorded_at=on_day(dt.date(2025, 10, 11)))
    session.commit()
    early = _text(_report(session, tmp_path / "a", "2025Q3", dt.date(2025, 11, 1)).docx)
    late = _text(_report(session, tmp_path / "b", "2025Q3", dt.date(2025, 11, 1),
                         closing=CLOSING).docx)
    assert "1 nhiệm vụ quá hạn chưa hoàn thành" in early
    assert "quá hạn chưa hoàn thành" not in late and "10/09/2025" in late
    assert session.scalar(select(Task.state).where(Task.id == w.tasks["overdue"].id)) == "done"
