"""A report is reproducible: a target revision recorded after the report closed does not
change the report, even when the revision takes effect inside the report's quarter.

The Q1/2025 report closed with the province's digital-economy share judged against the
plan's ≥ 3 %; in May someone enters a revision to ≥ 1 % effective from 15/02/2025. Today's
answer for Q1 uses 1 %; the Q1 answer as known at its closing instant still uses 3 %, with
the same status and no revision sentence. SQLite and PostgreSQL (the `db_url` fixture)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.analytics.service import target_statuses
from chiso.db.base import utcnow
from chiso.indicators.models import Indicator
from chiso.plans.models import Target
from chiso.plans.revisions import revise_target, target_revisions, targets_in_force
from chiso.plans.service import load_plan
from chiso.values.service import save_value
from tests.plans_support import grdp_plan, prepared

Q1_END = dt.date(2025, 3, 31)


def _q1_closed_then_revised(session: Session, tmp_path: Path) -> tuple[int, dt.datetime]:
    """The plan, the province's Q1 figure (2 %), the report's closing instant, then a
    revision to 1 % from 15/02/2025 recorded after it. Returns (target id, closing)."""
    units = prepared(session)
    access = Access.system(session, "test")
    path = tmp_path / "plan.yaml"
    path.write_text(grdp_plan(3), encoding="utf-8")
    load_plan(session, path, access=access)
    target = session.scalar(select(Target).join(Indicator).where(
        Indicator.code == "KTS.TY_TRONG_GRDP"))
    assert target is not None
    save_value(session, unit_id=units.lang_son.id, indicator_id=target.indicator_id,
               period="Quý I/2025", numerator=2, denominator=100, access=access)
    session.commit()
    time.sleep(0.01)
    closing = utcnow()  # the Q1 report closes: what is recorded by now is what it knows
    time.sleep(0.01)
    revise_target(session, target.id, value="1", effective_from=dt.date(2025, 2, 15),
                  basis_code="45/BCĐTW-VP", basis_date=dt.date(2025, 5, 10), access=access)
    session.commit()
    return target.id, closing


def test_a_revision_recorded_after_the_q1_report_closed_leaves_that_report_unchanged(
        session: Session, tmp_path: Path) -> None:
    target_id, closing = _q1_closed_then_revised(session, tmp_path)

    [today] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END)
    [as_known] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                                 known_at=closing)
    assert (today.target_value, str(today.status)) == (1.0, "achieved")
    assert as_known.actual == 2.0
    assert as_known.target_value == 3.0 and str(as_known.status) != "achieved"

    # The plan surfaces a report reads: the value in force and the revisions to mention.
    [in_force] = targets_in_force(session, on=Q1_END, unit_ids=[today.unit_id],
                                  known_at=closing)
    assert (in_force.target_id, in_force.value, in_force.revised) == (target_id, 3.0, False)
    assert targets_in_force(session, on=Q1_END, unit_ids=[today.unit_id])[0].value == 1.0
    first, last = dt.date(2025, 1, 1), Q1_END
    assert target_revisions(session, first_day=first, last_day=last, known_at=closing) == []
    [revision] = target_revisions(session, first_day=first, last_day=last)
    assert (revision.old_value, revision.new_value) == (3.0, 1.0)


def test_a_naive_closing_instant_is_utc_and_the_plan_value_is_always_known(
        session: Session, tmp_path: Path) -> None:
    """A cut-off given as a naive datetime is read as UTC (as the database gives
    timestamps back); a cut-off before the plan was even loaded still judges against the
    plan's own value (version 1), never against a later revision."""
    _, closing = _q1_closed_then_revised(session, tmp_path)
    naive = closing.astimezone(dt.UTC).replace(tzinfo=None)
    [as_known] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                                 known_at=naive)
    assert as_known.target_value == 3.0
    long_before = dt.datetime(2025, 4, 15, 9, 0, tzinfo=dt.UTC)
    [in_force] = targets_in_force(session, on=Q1_END, known_at=long_before)
    assert in_force.value == 3.0
