"""A correction of a target is a version of its own, never an edit in place.

The Q1/2025 report closed with the province's digital-economy share judged against the
plan's ≥ 3 %. In May an officer notices the plan said 2 % and corrects the target on the
plan page. Today's Q1 answer uses 2 %; the Q1 answer as known when the report closed still
uses 3 % — the report can be made again and says what it said. A correction is not a
revision: no report lists it as one ("điều chỉnh"), and a revision's "from … to …" reads the
corrected value once the correction is known. SQLite and PostgreSQL (`db_url`)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.analytics.service import target_statuses
from chiso.cli.main import app
from chiso.db.base import utcnow
from chiso.indicators.models import Indicator
from chiso.indicators.problems import InputRejected
from chiso.plans import details
from chiso.plans.models import Target, TargetVersion
from chiso.plans.revisions import (
    revise_target,
    target_revisions,
    target_versions,
    targets_in_force,
)
from chiso.plans.service import load_plan, update_target
from chiso.values.service import save_value
from tests.conftest import login
from tests.plans_support import grdp_plan, prepared

Q1_END = dt.date(2025, 3, 31)


def _load(session: Session, tmp_path: Path, value: float) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(grdp_plan(value), encoding="utf-8")
    load_plan(session, path, access=Access.system(session, "test"))
    session.commit()


def _q1_closed(session: Session, tmp_path: Path) -> tuple[Target, dt.datetime]:
    """The plan (≥ 3 %), the province's Q1 figure (2 %), the report's closing instant."""
    units = prepared(session)
    _load(session, tmp_path, 3)
    target = session.scalar(select(Target).join(Indicator).where(
        Indicator.code == "KTS.TY_TRONG_GRDP"))
    assert target is not None
    save_value(session, unit_id=units.lang_son.id, indicator_id=target.indicator_id,
               period="Quý I/2025", numerator=2, denominator=100,
               access=Access.system(session, "test"))
    session.commit()
    time.sleep(0.01)
    closing = utcnow()
    time.sleep(0.01)
    return target, closing


def test_a_correction_after_the_report_closed_leaves_that_report_unchanged(
        session: Session, tmp_path: Path) -> None:
    target, closing = _q1_closed(session, tmp_path)
    update_target(session, target.id, {"value": 2}, access=Access.system(session, "test"))
    session.commit()

    [today] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END)
    [as_known] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                                 known_at=closing)
    assert (today.target_value, str(today.status)) == (2.0, "achieved")
    assert as_known.target_value == 3.0 and str(as_known.status) != "achieved"

    # Both values are kept: the plan's, and the correction naming it.
    assert [(v["version"], v["value"], v["corrects"]) for v in
            target_versions(session, target.id)] == [(1, 3.0, None), (2, 2.0, 1)]
    assert session.get(Target, target.id).value == 2.0  # type: ignore[union-attr]
    [now] = targets_in_force(session, on=Q1_END)
    [then] = targets_in_force(session, on=Q1_END, known_at=closing)
    assert (now.value, now.revised, then.value) == (2.0, False, 3.0)
    # A correction is not a revision: nothing for a report to announce.
    assert target_revisions(session, first_day=dt.date(2025, 1, 1)) == []

    # The terminal says the same.
    history = CliRunner().invoke(app, ["plan", "history", str(target.id)],
                                 env={"COLUMNS": "200"})
    assert history.exit_code == 0, history.output
    assert "đính chính lần 1" in history.output and "theo kế hoạch" in history.output
    shown = CliRunner().invoke(app, ["plan", "show", "15/KH-UBND"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "điều chỉnh từ" not in shown.output


def test_a_revisions_before_and_after_read_the_corrected_plan_value_once_known(
        session: Session, tmp_path: Path) -> None:
    """Revised to 1 % from 15/06; then the plan file is loaded again with the plan's value
    put right (4 %). The plan's value is corrected, the revision stays in force, and the
    report's sentence says "from 4 to 1" — "from 3 to 1" as known before the correction."""
    target, _ = _q1_closed(session, tmp_path)
    access = Access.system(session, "test")
    revise_target(session, target.id, value="1", effective_from=dt.date(2025, 6, 15),
                  basis_code="123/BCĐTW-VP", access=access)
    session.commit()
    time.sleep(0.01)
    before_correction = utcnow()
    time.sleep(0.01)
    _load(session, tmp_path, 4)

    session.expire_all()
    assert session.get(Target, target.id).value == 1.0  # type: ignore[union-attr]
    assert [(v["version"], v["value"], v["effective_from"], v["corrects"]) for v in
            target_versions(session, target.id)] == [
        (1, 3.0, None, None), (2, 1.0, dt.date(2025, 6, 15), None), (3, 4.0, None, 1)]
    [revision] = target_revisions(session, first_day=dt.date(2025, 1, 1))
    assert (revision.version, revision.old_value, revision.new_value) == (2, 4.0, 1.0)
    [earlier] = target_revisions(session, first_day=dt.date(2025, 1, 1),
                                 known_at=before_correction)
    assert (earlier.old_value, earlier.new_value) == (3.0, 1.0)
    assert "từ 4 xuống 1" in revision.sentence("vi")
    assert [t.value for t in targets_in_force(session, on=Q1_END)] == [4.0]
    assert [t.value for t in targets_in_force(session, on=dt.date(2025, 7, 1))] == [1.0]
    assert [t.value for t in targets_in_force(session, on=Q1_END,
                                              known_at=before_correction)] == [3.0]

    # The next revision must still come after 15/06, though the last version recorded is
    # the correction of the plan's value (which has no date).
    with pytest.raises(InputRejected) as refused:
        revise_target(session, target.id, value="2", effective_from=dt.date(2025, 6, 1),
                      basis_code="200/BCĐTW-VP", access=access)
    assert "15/06/2025" in str(refused.value)


def test_a_target_without_versions_keeps_its_old_value_when_corrected(
        session: Session, tmp_path: Path) -> None:
    """A target made before versions were kept has only its row: the correction first
    records that row's value as the plan's, then puts it right."""
    target, closing = _q1_closed(session, tmp_path)
    for version in session.scalars(select(TargetVersion)):
        session.delete(version)
    session.commit()
    update_target(session, target.id, {"value": 2.5}, access=Access.system(session, "test"))
    session.commit()
    assert [(v["version"], v["value"], v["corrects"]) for v in
            target_versions(session, target.id)] == [(1, 3.0, None), (2, 2.5, 1)]
    [then] = targets_in_force(session, on=Q1_END, known_at=closing)
    assert then.value == 3.0


def test_the_plan_page_lists_a_correction_and_announces_no_revision(
        session: Session, tmp_path: Path, client, make_user) -> None:  # type: ignore[no-untyped-def]
    target, _ = _q1_closed(session, tmp_path)
    update_target(session, target.id, {"value": 2}, access=Access.system(session, "test"))
    update_target(session, target.id, {"target_date": "31/03/2025", "baseline_value": 1,
                                       "baseline_date": "31/12/2024"},
                  access=Access.system(session, "test"))
    session.commit()
    _user, password = make_user(Role.ADMIN, username="van-phong")
    login(client, "van-phong", password)
    page = client.get(f"/plans/{target.plan_id}")
    assert page.status_code == 200
    assert "đính chính lần 1, lúc" in page.text and "theo kế hoạch" in page.text
    assert "điều chỉnh từ" not in page.text
    assert ("đính chính ngày đích: 31/12/2025 → 31/03/2025; giá trị xuất phát: – → 1; "
            "ngày xuất phát: – → 31/12/2024, lúc") in page.text
    english = client.get(f"/plans/{target.plan_id}?lang=en")
    assert "correction of version 1," in english.text
    assert ("corrected target date: 2025-12-31 → 2025-03-31; baseline value: – → 1; "
            "baseline date: – → 2024-12-31, ") in english.text
    # The API says the same: the target as planned, then the correction and its fields.
    kept = client.get(f"/api/targets/{target.id}/corrections").json()
    assert [(k["original"], k["target_date"], k["baseline_value"], k["changed"])
            for k in kept] == [
        (True, "2025-12-31", None, []),
        (False, "2025-03-31", 1.0, ["target_date", "baseline_value", "baseline_date"])]
    assert client.get("/api/targets/99999/corrections").status_code == 404


def test_a_changed_date_baseline_or_path_leaves_a_closed_report_unchanged(
        session: Session, tmp_path: Path) -> None:
    """After the Q1 report closed, the target's date is put right to 31/03 and its baseline
    and path set (on the plan page), then the plan file is loaded again with another
    baseline. Today's Q1 answer is judged on the new date; the Q1 answer as known at the
    closing still reads the target as the plan set it — its date, no baseline, a straight
    line — and so does the answer known between the two changes for the first change."""
    target, closing = _q1_closed(session, tmp_path)
    [before] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END)
    access = Access.system(session, "test")
    update_target(session, target.id, {"target_date": "31/03/2025", "baseline_value": 1,
                                       "baseline_date": "31/12/2024", "trajectory": "milestones",
                                       "milestones": "28/02/2025: 2,5"}, access=access)
    session.commit()
    time.sleep(0.01)
    between = utcnow()
    time.sleep(0.01)
    path = tmp_path / "plan.yaml"
    path.write_text(grdp_plan(3).replace("    value: 3\n", "    value: 3\n"
                                         "    target_date: 31/03/2025\n"
                                         "    baseline_value: 0.5\n"
                                         "    baseline_date: 31/12/2024\n"), encoding="utf-8")
    load_plan(session, path, access=access)
    session.commit()

    [today] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END)
    [as_known] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                                 known_at=closing)
    [as_between] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                                   known_at=between)
    assert (today.target_date, today.baseline_value, today.closed) == (Q1_END, 0.5, True)
    assert str(today.status) == "missed"
    assert (as_known.target_date, as_known.baseline_value) == (dt.date(2025, 12, 31), None)
    assert (as_known.status, as_known.expected, as_known.closed) == (
        before.status, before.expected, False)
    assert (as_between.target_date, as_between.baseline_value) == (Q1_END, 1.0)
    [then] = targets_in_force(session, on=Q1_END, known_at=closing)
    [now] = targets_in_force(session, on=Q1_END)
    assert (then.target_date, now.target_date) == (dt.date(2025, 12, 31), Q1_END)

    # What was kept: the target as the plan set it, then each change, in order.
    kept = [(d.original, d.target_date, d.baseline_value, d.trajectory)
            for d in details.history(session, target.id)]
    assert kept == [(True, dt.date(2025, 12, 31), None, "linear"),
                    (False, Q1_END, 1.0, "milestones"), (False, Q1_END, 0.5, "linear")]
    history = CliRunner().invoke(app, ["plan", "history", str(target.id)],
                                 env={"COLUMNS": "200"})
    assert history.exit_code == 0, history.output
    said = " ".join(history.output.split())  # the terminal wraps long lines
    assert ("đính chính ngày đích: 31/12/2025 → 31/03/2025; giá trị xuất phát: – → 1; "
            "ngày xuất phát: – → 31/12/2024; lộ trình: tuyến tính → theo mốc; mốc: – → "
            "28/02/2025: 2,5 / corrected target date: 2025-12-31 → 2025-03-31; baseline "
            "value: – → 1; baseline date: – → 2024-12-31; trajectory: linear → milestones; "
            "milestones: – → 2025-02-28: 2.5, ") in said
    assert ("đính chính giá trị xuất phát: 1 → 0,5; lộ trình: theo mốc → tuyến tính; mốc: "
            "28/02/2025: 2,5 → – / corrected") in said


def test_a_target_moved_to_another_unit_indicator_or_year_stays_where_it_was_in_a_closed_report(
        session: Session, tmp_path: Path) -> None:
    """After the Q1 report closed, the province's target is put right: it was meant for
    Thái Nguyên, then for another indicator, then for 2026. Today Lạng Sơn has no 2025
    target; the Q1 report as known at the closing still files it under Lạng Sơn, the
    digital economy's share and 2025, judged as it was — and so do the targets in force and
    the revisions it lists."""
    target, _closing = _q1_closed(session, tmp_path)
    access = Access.system(session, "test")
    lang_son = target.unit_id
    path = tmp_path / "plan.yaml"  # the plan runs to 2026, so its target may move there
    path.write_text(grdp_plan(3).replace("year_from: 2025\n", "year_from: 2025\n"
                                         "  year_to: 2026\n")
                    .replace("    value: 3\n", "    value: 3\n    year: 2025\n"),
                    encoding="utf-8")
    load_plan(session, path, access=access)
    revise_target(session, target.id, effective_from=dt.date(2025, 2, 1), value=4,
                  basis_code="20/QĐ-UBND", basis_date=dt.date(2025, 1, 31), access=access)
    session.commit()
    time.sleep(0.01)
    revised = utcnow()
    time.sleep(0.01)
    [before] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                               known_at=revised)
    for change in ({"unit": "19"}, {"indicator": "KTS.LAO_DONG_KTS"}, {"year": 2026}):
        update_target(session, target.id, change, access=access)
        session.commit()

    assert target_statuses(session, unit_code="20", year=2025, as_of=Q1_END) == []
    [then] = target_statuses(session, unit_code="20", year=2025, as_of=Q1_END,
                             known_at=revised)
    assert (then.indicator_code, then.unit_code, then.target_date) == (
        "KTS.TY_TRONG_GRDP", "20", dt.date(2025, 12, 31))
    assert (then.status, then.expected, then.actual) == (
        before.status, before.expected, before.actual)
    assert target_statuses(session, unit_code="19", year=2025, as_of=Q1_END,
                           known_at=revised) == []
    [now] = target_statuses(session, unit_code="19", year=2026, as_of=Q1_END)
    assert (now.indicator_code, now.unit_code) == ("KTS.LAO_DONG_KTS", "19")

    [in_force] = targets_in_force(session, on=Q1_END, year=2025, unit_ids=[lang_son],
                                  known_at=revised)
    assert (in_force.indicator_code, in_force.unit_code, in_force.year) == (
        "KTS.TY_TRONG_GRDP", "20", 2025)
    assert targets_in_force(session, on=Q1_END, year=2025) == []
    [listed] = target_revisions(session, year=2025, unit_ids=[lang_son], known_at=revised)
    assert (listed.indicator_code, listed.unit_code, listed.year) == (
        "KTS.TY_TRONG_GRDP", "20", 2025)
    assert target_revisions(session, year=2025) == []

    # Each move is kept, and named in the target's history.
    kept = [(d.original, d.unit_id == lang_son, d.year)
            for d in details.history(session, target.id)]
    assert kept == [(True, True, 2025), (False, False, 2025), (False, False, 2025),
                    (False, False, 2026)]
    history = CliRunner().invoke(app, ["plan", "history", str(target.id)],
                                 env={"COLUMNS": "200"})
    assert history.exit_code == 0, history.output
    for named in ("đính chính đơn vị: Tỉnh Lạng Sơn → Tỉnh Thái Nguyên / corrected unit: "
                  "Lạng Sơn Province → Tỉnh Thái Nguyên",
                  "đính chính chỉ tiêu: Tỷ trọng kinh tế số trong GRDP → ",
                  "đính chính năm: 2025 → 2026; ngày đích: 31/12/2025 → 31/12/2026 / "
                  "corrected year: 2025 → 2026; target date: 2025-12-31 → 2026-12-31"):
        assert named in " ".join(history.output.split())

