"""Answers are memoised, yet live: a value saved between two requests shows on the second."""

from __future__ import annotations

from sqlalchemy import select

from chiso.analytics.service import target_statuses
from chiso.indicators.models import Indicator
from chiso.values.service import save_value
from tests.test_dashboard_pages import province  # noqa: F401  (fixture)


def test_saved_value_changes_the_next_answer(province, session) -> None:  # noqa: F811
    before = target_statuses(session, unit_code="20", year=2025)
    assert [(s.actual, s.status) for s in before] == [(75.0, "at_risk")]
    assert target_statuses(session, unit_code="20", year=2025) == before  # reused
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    save_value(session, unit_id=province["communes"][0].id, indicator_id=online.id,
               period="202510", numerator=100.0, denominator=100.0)
    session.commit()
    after = target_statuses(session, unit_code="20", year=2025)
    assert [(s.actual, s.status) for s in after] == [(250 / 300 * 100, "achieved")]
