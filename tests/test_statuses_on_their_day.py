"""Each target is judged as things stood on its own day, min(today, its target date), the
same on every surface (docs/semantics.md §4): the version of the target in force that day,
the cumulative figures (lũy kế) ended by then; and a year's value shown beside a status is
the figure the status used."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import values_support

from chiso.accounts.access import Access
from chiso.analytics import service
from chiso.analytics.routes import _status_json
from chiso.analytics.snapshot import Question
from chiso.dashboard.service import overview
from chiso.indicators.problems import InputRejected
from chiso.plans.models import Plan, Target, TargetVersion
from chiso.plans.revisions import revise_target
from chiso.reports.data import gather
from chiso.settings import reset_settings_cache
from chiso.values.service import save_value
from tests.analytics_world import build_world

DOSSIERS = "CQS.SO_HS"
SUBSCRIBERS = "XHS.THUE_BAO"


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2025-10-20")
    reset_settings_cache()
    yield build_world(session)
    reset_settings_cache()


def _row(session, code: str, as_of: dt.date = dt.date(2025, 10, 20)):  # type: ignore[no-untyped-def]
    rows = service.target_statuses(session, unit_code="20", year=2025, as_of=as_of)
    return {r.indicator_code: r for r in rows}[code]


def test_a_mid_year_target_reads_its_six_months_whatever_other_targets_its_unit_has(
        world, session) -> None:
    world.save([("20", SUBSCRIBERS, "2025C06", None, None, 600.0),
                ("20", SUBSCRIBERS, "2025C09", None, None, 900.0)])
    world.target(SUBSCRIBERS, 1000.0, target_date=dt.date(2025, 6, 30))
    assert _row(session, SUBSCRIBERS).actual == 600  # alone
    world.target(DOSSIERS, 1000.0)  # a year-end target, judged on 20/10/2025
    row = _row(session, SUBSCRIBERS)
    assert (row.as_of, row.actual) == (dt.date(2025, 6, 30), 600)  # the nine months had
    assert _row(session, DOSSIERS).as_of == dt.date(2025, 10, 20)  # not ended on 30/06


def test_the_years_value_beside_a_status_leaves_out_a_span_not_yet_ended(
        world, session, monkeypatch) -> None:
    # On 20/11/2025 an early "eleven months" figure is stored; it counts once November
    # has ended: the year so far is the ten months' 1.000, on the indicator page as in the
    # status.
    monkeypatch.setenv("CHISO_TODAY", "2025-11-20")
    reset_settings_cache()
    world.save([("20", DOSSIERS, "2025C10", None, None, 1000.0),
                ("20", DOSSIERS, "2025C11", None, None, 1100.0)])
    world.target(DOSSIERS, 2000.0)
    [status] = service.target_statuses(session, unit_code="20", year=2025)
    assert status.actual == 1000
    assert service.rolled_up_value(session, unit_code="20", indicator_code=DOSSIERS,
                                   period="2025") == 1000


@pytest.fixture
def province(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2026-11-22")
    reset_settings_cache()
    yield values_support.committed_world(db_url)
    reset_settings_cache()


def _target(session, province, *, due: dt.date, value: float = 1200.0,  # type: ignore[no-untyped-def]
            unit_id: int | None = None) -> Target:
    plan = Plan(code="02/KH-TEST", title="Kế hoạch thử", year_from=2025, year_to=2026,
                scope_unit_id=province.province.id)
    session.add(plan)
    session.flush()
    target = Target(plan_id=plan.id, indicator_id=province.count.id,
                    unit_id=unit_id or province.province.id, year=2025, target_date=due,
                    comparator=">=", value=value)
    session.add(target)
    session.flush()
    return target


def test_a_target_due_after_its_year_reads_the_same_on_the_page_the_api_and_the_terminal(
        session, province) -> None:
    # A 2025 target due 31/03/2026, seen on 22/11/2026 with no day given: judged on its
    # date everywhere (the page once judged it on 31/12/2025: "at risk", not "missed").
    _target(session, province, due=dt.date(2026, 3, 31))
    save_value(session, unit_id=province.province.id, indicator_id=province.count.id,
               period="202510", value=1000, access=Access.system(session, "test"))
    session.commit()
    page = overview(session, unit=province.province, year=2025)
    [page_row] = [r for p in page.pillars for r in p.rows]
    api = json.loads(_status_json(session, "20", 2025, None))
    terminal = service.status_answer(session, Question("20", 2025, dt.date(2026, 11, 22)))
    assert (str(page_row.status), page.closed) == ("missed", True)
    assert (api["targets"][0]["status"], api["closed"]) == ("missed", True)
    assert str(terminal.rows[0].status) == "missed"


def test_a_closed_years_result_does_not_depend_on_the_day_it_is_read(
        session, province) -> None:
    # 2025 ended on 31/12/2025; a revision taking effect on 20/01/2026 does not change
    # what the year's result was, read on 10/01/2026 or on 01/03/2026. Such a revision is
    # refused now; one recorded before that rule (a version row as it was stored) is there.
    target = _target(session, province, due=dt.date(2025, 12, 31))
    access = Access.system(session, "test")
    save_value(session, unit_id=province.province.id, indicator_id=province.count.id,
               period="2025", value=1000, access=access)
    session.commit()
    with pytest.raises(InputRejected, match="sau ngày đích"):
        revise_target(session, target.id, value="900", effective_from=dt.date(2026, 1, 20),
                      basis_code="9/BCĐ-VP", access=access)
    session.rollback()
    session.add(TargetVersion(target_id=target.id, version=2,
                              effective_from=dt.date(2026, 1, 20), comparator=">=",
                              value=900.0, basis_code="9/BCĐ-VP"))
    session.commit()
    read = [service.target_statuses(session, unit_code="20", year=2025, as_of=day)[0]
            for day in (dt.date(2026, 1, 10), dt.date(2026, 3, 1), None)]
    assert {(r.target_value, str(r.status), r.closed) for r in read} == {
        (1200, "missed", True)}


def test_a_past_report_of_a_re_used_code_is_the_report_of_the_unit_that_held_it(
        session, province, monkeypatch) -> None:
    # Code 06003 was "Xã Cũ" until 30/06/2025 and is "Xã Mới" from 01/07/2025: the Q1/2025
    # report of 06003 (drawn on 20/03/2025, read again in 2026) is Xã Cũ's — its heading,
    # its statuses and its monthly chart.
    monkeypatch.setenv("CHISO_TODAY", "2026-02-01")
    reset_settings_cache()
    _target(session, province, due=dt.date(2025, 12, 31), value=10.0,
            unit_id=province.old_commune.id)
    for period, value in (("202501", 3), ("202502", 5)):
        save_value(session, unit_id=province.old_commune.id, indicator_id=province.count.id,
                   period=period, value=value, access=Access.system(session, "test"))
    session.commit()
    data = gather(session, unit_code="06003", kind="quarterly", period="2025Q1",
                  today=dt.date(2025, 3, 20))
    [status] = data.statuses
    assert (status.unit_id, status.actual) == (province.old_commune.id, 5)  # the latest
    assert (data.unit.id, data.unit.name) == (province.old_commune.id, "Xã Cũ")
    assert data.series[status.indicator_code] == [(dt.date(2025, 1, 31), 3.0),
                                                  (dt.date(2025, 2, 28), 5.0)]
