"""Answers are memoised, yet live: a value saved between two requests shows on the second."""

from __future__ import annotations

from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.analytics.service import target_statuses
from chiso.indicators.models import Indicator
from chiso.values.service import save_value
from tests.test_dashboard_pages import province  # noqa: F401  (fixture)


def _exact_marks(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Marks without the PostgreSQL snapshot's oldest running transaction.

    That transaction id is cluster-wide: a transaction left open in *another* database of
    the shared test server (other engineers' tests, CI jobs) makes every mark re-report the
    rows this test wrote before it, so which indicators look touched would depend on who
    else uses the server. The tests below are about what the memo does with the touched
    set; the late-commit case that the snapshot guards is `test_late_commit_…` below."""
    from chiso.values import changes

    current = changes.current_mark
    monkeypatch.setattr(changes, "current_mark",
                        lambda session: changes.Mark(current(session).last_id))


def test_saved_value_changes_the_next_answer(province, session) -> None:  # noqa: F811
    before = target_statuses(session, unit_code="20", year=2025)
    # 2025 is over (today is 1/3/2026): the year-end word, not "at risk".
    assert [(s.actual, s.status) for s in before] == [(75.0, "missed")]
    assert target_statuses(session, unit_code="20", year=2025) == before  # reused
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    save_value(session, unit_id=province["communes"][0].id, indicator_id=online.id,
               period="202510", numerator=100.0, denominator=100.0,
               access=Access.system(session, "test"))
    session.commit()
    after = target_statuses(session, unit_code="20", year=2025)
    assert [(s.actual, s.status) for s in after] == [(250 / 300 * 100, "met")]


def _second_target(session, province) -> Indicator:  # noqa: F811
    """A second target of the province, on another indicator, so a refresh has something
    to keep."""
    import datetime as dt

    from chiso.plans.models import Plan, Target

    digitised = session.scalar(select(Indicator).where(Indicator.code == "CQS.SO_HOA_HS"))
    plan = session.scalar(select(Plan))
    session.add(Target(plan_id=plan.id, indicator_id=digitised.id,
                       unit_id=province["root"].id, year=2025,
                       target_date=dt.date(2025, 12, 31), comparator=">=", value=50.0))
    save_value(session, unit_id=province["communes"][1].id, indicator_id=digitised.id,
               period="202509", numerator=30.0, denominator=100.0,
               access=Access.system(session, "test"))
    session.commit()
    return digitised


def test_write_refreshes_only_the_touched_indicator(
        province, session, monkeypatch) -> None:  # noqa: F811
    from chiso.analytics import cache, service

    _exact_marks(monkeypatch)
    digitised = _second_target(session, province)
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    target_statuses(session, unit_code="20", year=2025)
    evaluated: list[set[int] | None] = []
    original = service.evaluate_unit_targets

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        evaluated.append(kwargs.get("indicator_ids"))
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "evaluate_unit_targets", spy)
    save_value(session, unit_id=province["communes"][0].id, indicator_id=digitised.id,
               period="202510", numerator=90.0, denominator=100.0,
               access=Access.system(session, "test"))
    session.commit()
    refreshed = target_statuses(session, unit_code="20", year=2025)
    assert evaluated == [{digitised.id}]  # the online-dossier target was kept, not redone
    cache.clear()
    monkeypatch.setattr(service, "evaluate_unit_targets", original)
    full = target_statuses(session, unit_code="20", year=2025)
    assert refreshed == full
    assert {s.indicator_id for s in full} == {online.id, digitised.id}
    assert [s.actual for s in full if s.indicator_id == digitised.id] == [60.0]


def test_write_outside_the_reach_keeps_the_answer(
        province, session, monkeypatch) -> None:  # noqa: F811
    from chiso.analytics import service

    _exact_marks(monkeypatch)
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    smartphones = session.scalar(select(Indicator).where(Indicator.code == "XHS.SMARTPHONE"))
    before = target_statuses(session, unit_code="20", year=2025)
    calls: list[object] = []
    monkeypatch.setattr(service, "evaluate_unit_targets",
                        lambda *a, **k: calls.append(k) or None)
    # Another province's figure, and another indicator in this province: neither is read
    # by the province's one target, so the memoised answer stands.
    save_value(session, unit_id=province["other"].id, indicator_id=online.id,
               period="202510", numerator=1.0, denominator=100.0,
               access=Access.system(session, "test"))
    save_value(session, unit_id=province["communes"][0].id, indicator_id=smartphones.id,
               period="2025", numerator=10.0, denominator=100.0,
               access=Access.system(session, "test"))
    session.commit()
    assert target_statuses(session, unit_code="20", year=2025) == before
    assert calls == []


def test_change_log_rows_name_unit_and_indicator(
        province, session, monkeypatch) -> None:  # noqa: F811
    from chiso.values import changes

    _exact_marks(monkeypatch)
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    mark = changes.current_mark(session)
    save_value(session, unit_id=province["communes"][1].id, indicator_id=online.id,
               period="202511", numerator=5.0, denominator=10.0,
               access=Access.system(session, "test"))
    session.commit()
    since = changes.changes_since(session, mark)
    assert since is not None
    assert since.pairs == {(province["communes"][1].id, online.id)}
    assert changes.changes_since(session, changes.current_mark(session)).pairs == set()


def test_late_commit_with_an_earlier_id_is_seen(
        province, session, db_url, is_postgres) -> None:  # noqa: F811
    """PostgreSQL hands out ids before commit: a writer that started first may commit
    last, with smaller ids than what a reader already saw. Its change must still show."""
    import pytest

    from chiso.db import new_session

    if not is_postgres:
        pytest.skip("SQLite has one writer at a time: ids grow in commit order")
    online_id = session.scalar(select(Indicator.id).where(
        Indicator.code == "CQS.HS_TRUC_TUYEN"))
    communes = [c.id for c in province["communes"]]
    target_statuses(session, unit_code="20", year=2025)
    slow, quick = new_session(db_url), new_session(db_url)
    try:
        save_value(slow, unit_id=communes[0], indicator_id=online_id, period="202510",
                   numerator=100.0, denominator=100.0,
                   access=Access.system(slow, "test"))  # not committed yet
        save_value(quick, unit_id=communes[1], indicator_id=online_id, period="202510",
                   numerator=0.0, denominator=100.0, access=Access.system(quick, "test"))
        quick.commit()
        session.commit()
        assert [s.actual for s in target_statuses(session, unit_code="20",
                                                  year=2025)] == [150 / 300 * 100]
        slow.commit()
        session.commit()
        assert [s.actual for s in target_statuses(session, unit_code="20",
                                                  year=2025)] == [250 / 400 * 100]
    finally:
        slow.close()
        quick.close()
