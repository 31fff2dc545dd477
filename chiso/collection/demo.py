"""A living reporting cycle for the demo (issue 14 item 9): in the past periods of every
active data set most units sent their report from the monthly figures and had it approved,
some late, some returned with a reason, a few never sent; in the period being reported now
some wait for approval and the rest are still open. Deterministic for a given `today`.

Call it after the demo's monthly values (and the one-stop records) are in place:
`build_cycle(session, today=today, access=Access.system(session, "demo"))`.
The figures a unit "sent" are its monthly demo figures rolled up to the period (a ratio as
the ratio of the summed parts, a flow summed, a stock as its last month), stored with the
demo's source when the demo builder runs it (`Access.system(session, "demo")`), so every page
and report marks them "Số liệu minh họa" like the monthly figures they come from; with
another authority, with the source `form` like a real form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.analytics.frames import DEMO_SOURCE
from chiso.collection import service
from chiso.collection.models import DataSet, Submission, SubmissionEvent
from chiso.collection.worklist import ended_periods
from chiso.indicators.models import Indicator
from chiso.periods import Period
from chiso.text import vn_zone
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue
from chiso.values.service import upsert_values

PAST_PERIODS = 5  # the current period and the same one a year earlier
RETURN_REASONS = (
    "Tỷ lệ hồ sơ trực tuyến cần ghi rõ tử số và mẫu số",
    "Số hồ sơ tiếp nhận khác với số liệu trên Cổng dịch vụ công, đề nghị kiểm tra lại",
    "Thiếu minh chứng cho tỷ lệ thanh toán trực tuyến",
)


@dataclass
class CycleSummary:
    submitted: int = 0
    approved: int = 0
    returned: int = 0
    late: int = 0
    open: int = 0
    values: int = 0
    by_period: dict[str, dict[str, int]] = field(default_factory=dict)


def build_cycle(session: Session, *, today: dt.date, access: Access) -> CycleSummary:
    """Fill the recent periods of every active data set with a believable history."""
    summary = CycleSummary()
    data_sets = session.scalars(select(DataSet).where(DataSet.active.is_(True))
                                .order_by(DataSet.code)).all()
    for data_set in data_sets:
        periods = ended_periods(data_set, today, PAST_PERIODS if data_set.period_type in
                                ("Q", "M") else 1)
        for rank, period in enumerate(periods):
            _period(session, data_set, period, today, current=rank == 0, access=access,
                    summary=summary)
    return summary


def _fate(unit_code: str, period: str, current: bool, due_passed: bool) -> str:
    """approved | approved_late | returned | submitted | draft, from a stable hash."""
    roll = int(hashlib.sha256(f"{unit_code}:{period}".encode()).hexdigest()[:8], 16) % 100
    if not current:
        return ("approved" if roll < 74 else "approved_late" if roll < 86 else
                "returned" if roll < 92 else "draft")
    if not due_passed:
        return "submitted" if roll < 35 else "approved" if roll < 50 else "draft"
    return ("approved" if roll < 45 else "approved_late" if roll < 55 else
            "submitted" if roll < 72 else "returned" if roll < 78 else "draft")


def _period(session: Session, data_set: DataSet, period: Period, today: dt.date, *,
            current: bool, access: Access, summary: CycleSummary) -> None:
    submissions = service.expected_submissions(session, data_set, period.id)
    due = submissions[0].due_date if submissions else service.due_date(data_set, period)
    fates = {s.id: _fate(_code(session, s), period.id, current, today > due)
             for s in submissions if s.status == service.DRAFT}
    senders = [s for s in submissions if fates.get(s.id, "draft") != "draft"]
    summary.values += _store_figures(session, data_set, period, senders, access)
    counts = summary.by_period.setdefault(f"{data_set.code} {period.id}", {})
    for submission in submissions:
        fate = fates.get(submission.id)
        if fate is None:
            continue  # already moved on an earlier run: kept as it is
        counts[fate] = counts.get(fate, 0) + 1
        _live(session, submission, fate, due, today, access, summary)
        if fate == "returned" and not current:
            _resend(session, submission, today, access, summary)


def _code(session: Session, submission: Submission) -> str:
    unit = session.get(OrgUnit, submission.unit_id)
    return unit.code if unit else str(submission.unit_id)


def _store_figures(session: Session, data_set: DataSet, period: Period,
                   senders: list[Submission], access: Access) -> int:
    """The period's figures of the units that send, rolled up from their monthly ones."""
    if not senders:
        return 0
    indicators = service.indicators_of(session, data_set)
    months = [m.id for m in period.months()] if period.type.value != "M" else [period.id]
    rows = session.execute(select(
        DataValue.unit_id, DataValue.indicator_id, DataValue.period, DataValue.numerator,
        DataValue.denominator, DataValue.value).where(
        DataValue.unit_id.in_([s.unit_id for s in senders]), DataValue.period.in_(months),
        DataValue.indicator_id.in_([i.id for i in indicators]),
        DataValue.deleted.is_(False))).all()
    if not rows:
        return 0
    monthly = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "unit_id": pl.Int64, "indicator_id": pl.Int64, "month": pl.String,
        "numerator": pl.Float64, "denominator": pl.Float64, "value": pl.Float64})
    frame = _rolled_up(monthly, indicators).with_columns(period=pl.lit(period.id))
    return upsert_values(session, frame, source=_source(access), access=access).inserted


def _source(access: Access) -> str:
    """Invented figures carry the demo's source, which marks them illustrative; the demo
    builder's job has the same name."""
    return DEMO_SOURCE if access.system_name == DEMO_SOURCE else "form"


def _rolled_up(monthly: pl.DataFrame, indicators: list[Indicator]) -> pl.DataFrame:
    how = pl.DataFrame({"indicator_id": [i.id for i in indicators],
                        "ratio": [i.kind == "ratio" for i in indicators],
                        "flow": [i.time_aggregation == "sum" for i in indicators],
                        "scale": [float(i.scale or 1.0) for i in indicators]})
    grouped = monthly.sort("month").group_by("unit_id", "indicator_id").agg(
        pl.col("numerator").sum().alias("num_sum"), pl.col("denominator").sum().alias(
            "den_sum"), pl.col("value").sum().alias("value_sum"),
        pl.col("numerator").last().alias("num_last"),
        pl.col("denominator").last().alias("den_last"), pl.col("value").last().alias(
            "value_last"), pl.col("numerator").is_not_null().all().alias("parts"))
    joined = grouped.join(how, on="indicator_id")
    with_parts = pl.col("ratio") & pl.col("parts")
    numerator = pl.when(pl.col("flow")).then("num_sum").otherwise("num_last")
    denominator = pl.when(pl.col("flow")).then("den_sum").otherwise("den_last")
    return joined.select(
        "unit_id", "indicator_id",
        pl.when(with_parts).then(numerator).otherwise(None).alias("numerator"),
        pl.when(with_parts).then(denominator).otherwise(None).alias("denominator"),
        pl.when(with_parts).then(None).when(pl.col("flow") & ~pl.col("ratio"))
        .then("value_sum").otherwise("value_last").alias("value"))


def _live(session: Session, submission: Submission, fate: str, due: dt.date,
          today: dt.date, access: Access, summary: CycleSummary) -> None:
    """Move one report through its steps, then date the steps in the past."""
    if fate == "draft":
        summary.open += 1
        summary.late += due < today
        return
    late = fate == "approved_late" or (fate in ("submitted", "returned") and due < today and
                                       _day(submission.id, 3) == 0)
    sent_on = due + dt.timedelta(days=3 + _day(submission.id, 20)) if late else \
        due - dt.timedelta(days=_day(submission.id, 6))
    sent_on = min(sent_on, today)
    service.submit(session, submission, access=access)
    summary.submitted += 1
    summary.late += late
    stamps = [sent_on]
    if fate in ("approved", "approved_late", "returned"):
        decided = min(sent_on + dt.timedelta(days=1 + _day(submission.id + 7, 5)), today)
        if fate == "returned":
            reason = RETURN_REASONS[submission.id % len(RETURN_REASONS)]
            service.return_submission(session, submission, reason=reason, access=access,
                                      tell=False)
            summary.returned += 1
        else:
            service.approve(session, submission, access=access, tell=False)
            summary.approved += 1
        stamps.append(decided)
    _date_steps(session, submission, stamps)


def _resend(session: Session, submission: Submission, today: dt.date, access: Access,
            summary: CycleSummary) -> None:
    """In a past period a returned report was corrected, sent again and approved: its
    history keeps the return."""
    returned_on = service.vn_date(submission.updated_at)
    first_sent = service.vn_date(submission.first_submitted_at) \
        if submission.first_submitted_at else returned_on
    resent = min(returned_on + dt.timedelta(days=2 + _day(submission.id + 3, 4)), today)
    approved = min(resent + dt.timedelta(days=1 + _day(submission.id + 5, 3)), today)
    service.submit(session, submission, access=access)
    service.approve(session, submission, access=access, tell=False)
    summary.approved += 1
    _date_steps(session, submission, [first_sent, returned_on, resent, approved])


def _day(seed: int, spread: int) -> int:
    return int(hashlib.sha256(str(seed).encode()).hexdigest()[:6], 16) % max(spread, 1)


def _date_steps(session: Session, submission: Submission, days: list[dt.date]) -> None:
    """The demo's steps happened on past days (mid-morning, Vietnam time)."""
    moments = [dt.datetime.combine(d, dt.time(9, 30), tzinfo=vn_zone()).astimezone(dt.UTC)
               for d in days]
    events = session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission.id).order_by(SubmissionEvent.id)).all()
    for event in events[:-len(moments)]:  # the figures were saved before they were sent
        event.at = moments[0]
    for event, moment in zip(events[-len(moments):], moments, strict=False):
        event.at = moment
    submission.first_submitted_at = moments[0]
    sends = [e.at for e in events if e.action == "submit"]
    submission.submitted_at = sends[-1] if sends else moments[0]
    submission.updated_at = moments[-1]
    if submission.status == service.APPROVED:
        submission.approved_at = moments[-1]
    session.flush()
