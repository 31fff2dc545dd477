"""The demo's reporting cycle is alive: past quarters sent from the monthly figures and
mostly approved, some late or returned, the current one partly waiting; the same on a
second run; the steps dated in the past; the approved figures locked."""

from __future__ import annotations

import datetime as dt

import pytest
from collection_support import build_province
from sqlalchemy import func, select

from chiso.accounts.access import Access
from chiso.analytics.service import subunit_breakdown
from chiso.collection import service
from chiso.collection.demo import build_cycle
from chiso.collection.models import Submission, SubmissionEvent
from chiso.values.models import DataValue
from chiso.values.service import ValueRejected, save_value, upsert_values

TODAY = dt.date(2026, 2, 10)  # Q4/2025 is being reported (due 10/01/2026)


def _monthly(session, province) -> None:  # type: ignore[no-untyped-def]
    w = province.world
    rows = []
    for year in (2024, 2025):
        for month in range(1, 13):
            for n, unit in enumerate((w.commune_a, w.commune_b)):
                period = f"{year}{month:02d}"
                rows.append({"unit_id": unit.id, "indicator_id": w.ratio.id, "period": period,
                             "numerator": 60 + month + n, "denominator": 100,
                             "value": None})
                rows.append({"unit_id": unit.id, "indicator_id": w.count.id, "period": period,
                             "numerator": None, "denominator": None, "value": 2 + n})
    upsert_values(session, rows, source="demo", access=Access.system(session, "demo"))


@pytest.fixture
def cycle(session):  # type: ignore[no-untyped-def]
    province = build_province(session)
    _monthly(session, province)
    access = Access.system(session, "demo")
    summary = build_cycle(session, today=TODAY, access=access)
    session.commit()
    return province, summary


def test_past_quarters_are_mostly_approved_with_late_and_returned_reports(session, cycle
                                                                          ) -> None:
    province, summary = cycle
    rows = session.scalars(select(Submission).where(
        Submission.data_set_id == province.data_set.id)).all()
    statuses = [r.status for r in rows]
    assert statuses.count("approved") >= len(rows) / 2
    assert summary.approved == statuses.count("approved")
    late = [r for r in rows if r.first_submitted_at is not None and
            service.vn_date(r.first_submitted_at) > r.due_date]
    assert summary.late >= len(late) > 0 or summary.late > 0  # late marks exist
    for row in rows:
        if row.status == "returned":
            assert row.return_reason
        if row.status in ("approved", "submitted", "returned"):
            sent = service.vn_date(row.first_submitted_at)
            assert sent <= TODAY
            events = session.scalars(select(SubmissionEvent).where(
                SubmissionEvent.submission_id == row.id)).all()
            assert all(e.at.date() <= TODAY for e in events)


def test_sent_figures_are_the_quarter_of_the_monthly_ones(session, cycle) -> None:
    province, _summary = cycle
    w = province.world
    sent = session.scalar(select(Submission).where(
        Submission.unit_id == w.commune_a.id, Submission.period == "2025Q3",
        Submission.status.in_(["approved", "submitted", "returned"])))
    if sent is None:
        pytest.skip("commune A did not send 2025Q3 in this history")
    ratio = session.scalar(select(DataValue).where(
        DataValue.unit_id == w.commune_a.id, DataValue.indicator_id == w.ratio.id,
        DataValue.period == "2025Q3"))
    assert (ratio.numerator, ratio.denominator) == (67 + 68 + 69, 300)  # summed parts
    assert ratio.source == "demo"  # invented like the monthly figures it is made of
    count = session.scalar(select(DataValue.value).where(
        DataValue.unit_id == w.commune_a.id, DataValue.indicator_id == w.count.id,
        DataValue.period == "2025Q3"))
    assert count == 2  # a stock (time aggregation "last"): the quarter's last month


def test_a_second_run_changes_nothing_and_approved_figures_stay_locked(session, cycle
                                                                       ) -> None:
    province, _summary = cycle
    before = session.scalar(select(func.count()).select_from(SubmissionEvent))
    build_cycle(session, today=TODAY, access=Access.system(session, "demo"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(SubmissionEvent)) == before
    approved = session.scalar(select(Submission).where(Submission.status == "approved")
                              .order_by(Submission.id))
    focal_like = Access(session, None)  # nobody: no right to change anything
    with pytest.raises(ValueRejected):
        service.guard_value_writes(session, _keys(approved, province), focal_like)
    with pytest.raises(Exception):  # noqa: B017  (permission or lock: either refuses)
        save_value(session, unit_id=approved.unit_id, indicator_id=province.world.count.id,
                   period=approved.period, value=99, access=focal_like)
    session.rollback()


def _keys(submission: Submission, province):  # type: ignore[no-untyped-def]
    import polars as pl

    return pl.DataFrame({"unit_id": [submission.unit_id],
                         "indicator_id": [province.world.count.id],
                         "period": [submission.period]})


def test_the_figures_sent_in_the_demo_read_as_illustrative(session, cycle) -> None:
    """The quarter a commune 'sent' is marked 'Số liệu minh họa' in the breakdown the
    overview and the reports show, as its monthly figures are."""
    province, _summary = cycle
    w = province.world
    sent = {s.unit_id for s in session.scalars(select(Submission).where(
        Submission.period == "2025Q3", Submission.status != "draft"))}
    assert sent, "no commune sent 2025Q3 in this history"
    rows = subunit_breakdown(session, unit_code="20", indicator_code=w.ratio.code,
                             period="2025Q3")
    shown = {r["unit_code"]: r["illustrative"] for r in rows.iter_rows(named=True)
             if r["value"] is not None}
    codes = {u.code for u in (w.commune_a, w.commune_b) if u.id in sent}
    assert codes and all(shown[code] for code in codes), shown
