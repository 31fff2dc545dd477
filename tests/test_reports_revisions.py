"""A report judges each target on the version in force at its date and says when a target
was revised (chiso.plans.revisions): the Q1 report shows the old value, the Q3 report the
new one with the sentence naming the date and the basis; a figure still an estimate at the
cut-off is written "ước"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.plans.models import Target, TargetVersion
from chiso.plans.revisions import revise_target
from chiso.reports.service import generate_report
from chiso.values.service import upsert_values
from tests.tasks_support import World, build_world, on_day, system

AFTER = dt.date(2026, 2, 1)


def _row(path: Path, name: str) -> list[str]:
    for table in Document(str(path)).tables:
        for row in table.rows:
            cells = [c.text for c in row.cells]
            if len(cells) > 1 and cells[1] == name:
                return cells
    raise AssertionError(f"no row {name!r}")


def _lines(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.text.strip()]


def _revised(session: Session, w: World) -> None:
    """The smartphone target lowered from 90 % to 70 % from 15/06/2025, recorded that day."""
    target = session.scalar(select(Target).where(Target.indicator_id == w.smartphone.id))
    version = revise_target(session, target.id, value=70, effective_from=dt.date(2025, 6, 15),
                            basis_code="123/BCĐTW", basis_date=dt.date(2025, 6, 10),
                            access=system(session))
    version.recorded_at = on_day(dt.date(2025, 6, 15))  # as the history says it happened
    session.flush()


def _report(session: Session, tmp_path: Path, period: str, closing: dt.date) -> Path:
    return generate_report(session, unit_code="20", kind="quarterly", period=period,
                           out_dir=tmp_path / period, today=AFTER, pdf=False,
                           closing_date=closing, access=system(session)).docx


def test_q1_shows_the_old_target_and_q3_the_revised_one(session: Session,
                                                        tmp_path: Path) -> None:
    w = build_world(session)
    _revised(session, w)
    session.commit()
    name = "Tỷ lệ người trưởng thành có điện thoại thông minh"
    first = _report(session, tmp_path, "2025Q1", dt.date(2025, 4, 12))
    assert _row(first, name)[2] == "≥ 90,0%"
    assert not any("điều chỉnh" in line for line in _lines(first))
    third = _report(session, tmp_path, "2025Q3", dt.date(2025, 10, 12))
    assert _row(third, name)[2] == "≥ 70,0%"
    lines = _lines(third)
    assert ("- Trong năm 2025 có 1 chỉ tiêu được điều chỉnh; kết quả được đánh giá theo mục "
            "tiêu có hiệu lực tại ngày 30/09/2025:") in lines
    assert (f"+ {name}: chỉ tiêu điều chỉnh từ 90 xuống 70 từ ngày 15/06/2025 (123/BCĐTW ngày "
            "10/06/2025).") in lines


def test_a_revision_recorded_after_the_closing_date_is_not_told(session: Session,
                                                                 tmp_path: Path) -> None:
    w = build_world(session)
    _revised(session, w)
    session.scalar(select(TargetVersion).where(TargetVersion.version == 2)).recorded_at = (
        on_day(dt.date(2025, 11, 1)))
    session.commit()
    lines = _lines(_report(session, tmp_path, "2025Q3", dt.date(2025, 10, 12)))
    assert not any("điều chỉnh từ 90" in line for line in lines)


def test_an_estimate_is_written_as_such(session: Session, tmp_path: Path) -> None:
    w = build_world(session)
    upsert_values(session, [{"unit_id": w.province.id, "indicator_id": w.einvoice.id,
                             "period": "2025Q3", "numerator": 950, "denominator": 1000,
                             "value": None, "estimate": True}], source="form",
                  access=system(session), recorded_at=on_day(dt.date(2025, 10, 8)))
    session.commit()
    path = _report(session, tmp_path, "2025Q3", dt.date(2025, 10, 12))
    row = _row(path, "Tỷ lệ doanh nghiệp sử dụng hóa đơn điện tử")
    assert row[3] == "ước 95,0%"
    assert any(line.startswith("Ghi chú: “ước” là số liệu ước thực hiện") for line in _lines(path))


def test_a_figure_short_of_its_target_never_reads_as_the_target(session: Session,
                                                                tmp_path: Path) -> None:
    """The demo's Q4/2025 read "Tỷ lệ hồ sơ giải quyết trễ hạn ≤ 2,0% — 2,0% — Không đạt":
    2,04% rounded to its target. The figure and the target get the decimal that tells them
    apart, in the table and in the sentences."""
    w = build_world(session)
    target = session.scalar(select(Target).where(Target.indicator_id == w.smartphone.id))
    target.value = 60.04  # the actual is 60,00% (600 of 1.000 adults)
    session.commit()
    path = _report(session, tmp_path, "2025Q3", dt.date(2025, 10, 12))
    row = _row(path, "Tỷ lệ người trưởng thành có điện thoại thông minh")
    assert row[2:4] == ["≥ 60,04%", "60,00%"]
    assert any("thực hiện 60,00%" in line and "mục tiêu ≥ 60,04%" in line
               for line in _lines(path))
