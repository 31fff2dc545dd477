"""The funding write path, approvals, permissions and the indicators, on SQLite and
PostgreSQL: what a finance officer, a project owner and the standing office would notice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from chiso.accounts.access import Access, PermissionDenied
from chiso.accounts.models import Role, User
from chiso.analytics.service import target_statuses
from chiso.audit.models import AuditEvent
from chiso.funding import service
from chiso.funding.models import BudgetLine, Figure, FigureVersion
from chiso.funding.service import FigureInput, FundingRejected, LineSpec
from chiso.indicators.models import Indicator
from chiso.values.models import DataValue
from tests.test_funding_support import World, make_world, today_fixture  # noqa: F401

BILLION = 1_000_000_000


def _access(session, make_user, role: Role, unit_code: str | None, world: World) -> Access:  # type: ignore[no-untyped-def]
    user, _password = make_user(role, world.unit(unit_code).id if unit_code else None)
    return Access(session, session.get(User, user.id))


def _line(world: World, unit: str = "20.SKHCN", **changes: object) -> LineSpec:
    facts: dict[str, object] = {"scope_unit_id": world.province.id,
                                "unit_id": world.unit(unit).id, "year": 2026,
                                "name": "Nền tảng số dùng chung", "source": "local",
                                "spend_type": "investment", "area": "dx", **changes}
    return LineSpec(**facts)  # type: ignore[arg-type]


def _total(world: World, amount: int) -> FigureInput:
    line = LineSpec(scope_unit_id=world.province.id, unit_id=world.province.id, year=2026,
                    name="Tổng chi ngân sách địa phương", kind="total")
    return FigureInput(line, "estimate", "2026", amount)


def test_a_figure_is_never_overwritten_and_an_edit_after_approval_waits_again(
        session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path, targets=False)
    system = Access.system(session, "test")
    line = _line(world)
    first = service.save_figures(session, [FigureInput(line, "estimate", "2026", 45 * BILLION)],
                                 access=system)
    again = service.save_figures(session, [FigureInput(line, "estimate", "2026", 45 * BILLION)],
                                 access=system)
    assert (first.counts()["inserted"], again.counts()["unchanged"]) == (1, 1)
    figure = session.scalar(select(Figure))
    assert figure.status == "submitted" and figure.approved_amount is None

    service.approve_figures(session, access=system, figure_ids=[figure.id])
    edited = service.save_figures(
        session, [FigureInput(line, "estimate", "2026", 40 * BILLION, "cắt giảm 5 tỷ")],
        access=system)
    session.commit()

    figure = session.get(Figure, figure.id)
    assert edited.counts()["reopened"] == 1
    assert (figure.amount, figure.status, figure.approved_amount, figure.reopened) == (
        40 * BILLION, "submitted", 45 * BILLION, 1)
    history = [(v.version, v.amount, v.status, v.change)
               for v in service.figure_history(session, figure.id)]
    assert history == [(1, 45 * BILLION, "submitted", "insert"),
                       (2, 45 * BILLION, "approved", "approve"),
                       (3, 40 * BILLION, "submitted", "update")]
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"funding.figures.save", "funding.figures.approve", "funding.line.create"} <= actions


def test_who_may_capture_and_approve(session, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path, targets=False)
    owner = _access(session, make_user, Role.FOCAL_OFFICER, "20.SKHCN", world)
    finance = _access(session, make_user, Role.FOCAL_OFFICER, "20.STC", world)
    leader = _access(session, make_user, Role.LEADER, None, world)
    office = _access(session, make_user, Role.STANDING_OFFICE, "20", world)
    own = FigureInput(_line(world), "estimate", "2026", 45 * BILLION)
    other = FigureInput(_line(world, "20.SYT", name="Bệnh án điện tử"), "estimate", "2026",
                        18 * BILLION)

    service.save_figures(session, [own], access=owner)  # the project owner, own unit
    with pytest.raises(PermissionDenied, match="Sở Y tế"):
        service.save_figures(session, [other], access=owner)  # not another department's
    service.save_figures(session, [other], access=finance)  # Sở Tài chính: every unit
    with pytest.raises(PermissionDenied):
        service.save_figures(session, [_total(world, 19_800_000 * 10**6)], access=leader)
    ids = list(session.scalars(select(Figure.id)))
    with pytest.raises(PermissionDenied):
        service.approve_figures(session, access=finance, figure_ids=ids)
    result = service.approve_figures(session, access=office, figure_ids=ids)
    assert result.approved == 2
    versions = session.scalars(select(FigureVersion).where(FigureVersion.change == "approve"))
    assert {v.changed_by for v in versions} == {office.user.username}  # type: ignore[union-attr]


def test_cumulative_disbursement_cannot_fall_and_future_months_are_refused(
        session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path, targets=False)
    system = Access.system(session, "test")
    line = _line(world)
    service.save_figures(session, [FigureInput(line, "disbursed", "202606", 12 * BILLION)],
                         access=system)
    with pytest.raises(FundingRejected) as falling:
        service.save_figures(session, [FigureInput(line, "disbursed", "202607", 9 * BILLION)],
                             access=system)
    assert falling.value.issues[0]["rule"] == "cumulative_decreasing"
    assert "tháng 7" in falling.value.message_vi and "tháng 6" in falling.value.message_vi
    with pytest.raises(FundingRejected) as future:
        service.save_figures(session, [FigureInput(line, "disbursed", "202611", 20 * BILLION)],
                             access=system)
    assert future.value.issues[0]["rule"] == "future_month"


def _figures(world: World) -> list[FigureInput]:
    platform = _line(world)
    science = _line(world, name="Sự nghiệp khoa học và công nghệ", spend_type="recurrent",
                    area="science")
    private = _line(world, name="Hợp tác doanh nghiệp", source="social")
    return [
        _total(world, 10_000 * BILLION),
        FigureInput(platform, "estimate", "2026", 45 * BILLION),
        FigureInput(platform, "allocated", "2026", 40 * BILLION),
        FigureInput(platform, "disbursed", "202603", 4 * BILLION),
        FigureInput(platform, "disbursed", "202609", 20 * BILLION),
        FigureInput(science, "estimate", "2026", 35 * BILLION),
        FigureInput(science, "disbursed", "202609", 30 * BILLION),
        FigureInput(private, "estimate", "2026", 15 * BILLION),
    ]


def test_approved_figures_become_indicators_on_the_overview(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    system = Access.system(session, "test")
    service.save_figures(session, _figures(world), access=system)
    session.commit()
    assert session.scalar(select(DataValue.id)) is None  # nothing counts before approval

    service.approve_figures(session, access=system, scope_unit_id=world.province.id, year=2026)
    session.commit()
    values = {(code, v.period): v for code, v in session.execute(
        select(Indicator.code, DataValue).join(DataValue, DataValue.indicator_id == Indicator.id)
        .where(DataValue.unit_id == world.province.id))}
    share = values[("KP.TY_LE_CHI_NS", "2026")]
    # State budget 45 + 35 = 80 bn of 10,000 bn; xã hội hóa's 15 bn is not budget spending.
    assert (share.numerator, share.denominator, share.value, share.source) == (
        80.0, 10_000.0, pytest.approx(0.8), "funding")
    # September: 20 of the 40 bn allocated plus 30 of the 35 bn estimate = 50 / 75.
    assert values[("KP.GIAI_NGAN", "202609")].value == pytest.approx(50 / 75 * 100)
    # June carries March's 4 bn of the first line; the second line has disbursed nothing yet.
    assert values[("KP.GIAI_NGAN", "202606")].value == pytest.approx(4 / 75 * 100)
    assert values[("KP.DTPT", "2026")].value == pytest.approx(45.0)
    assert values[("KP.KHCN", "2026")].value == pytest.approx(35.0)
    owner_values = session.scalars(select(DataValue.unit_id).where(
        DataValue.unit_id == world.unit("20.SKHCN").id)).all()
    assert owner_values, "the owner department gets its own figures"

    statuses = {s.indicator_code: s for s in target_statuses(
        session, unit_code="20", year=2026, as_of=dt.date(2026, 10, 15))}
    assert statuses["KP.TY_LE_CHI_NS"].status == "off_track"  # 0.8 % against ≥ 3 %
    # 66.7 % on 15/10 against a path of 65 % at 30/9 rising to 100 % at 31/12: at risk.
    disbursement = statuses["KP.GIAI_NGAN"]
    assert disbursement.actual == pytest.approx(50 / 75 * 100)
    assert disbursement.expected == pytest.approx(65 + 35 * 15 / 92, rel=1e-3)
    assert disbursement.status == "at_risk"


def test_report_section_reads_the_figures_as_approved_at_the_cut_off(
        session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    system = Access.system(session, "test")
    july = dt.datetime(2026, 7, 20, 9, tzinfo=dt.UTC)
    service.save_figures(session, _figures(world), access=system, at=july)
    service.approve_figures(session, access=system, scope_unit_id=world.province.id,
                            at=july + dt.timedelta(days=1))
    platform = _line(world)
    october = dt.datetime(2026, 10, 10, 9, tzinfo=dt.UTC)
    service.save_figures(session, [FigureInput(platform, "estimate", "2026", 50 * BILLION)],
                         access=system, at=october)
    service.approve_figures(session, access=system, scope_unit_id=world.province.id,
                            at=october + dt.timedelta(hours=2))
    session.commit()

    before = service.report_section(session, unit_code="20", period_start=dt.date(2026, 7, 1),
                                    period_end=dt.date(2026, 9, 30),
                                    known_at=dt.date(2026, 9, 30))
    after = service.report_section(session, unit_code="20", period_start=dt.date(2026, 7, 1),
                                   period_end=dt.date(2026, 9, 30), known_at=None)
    too_early = service.report_section(session, unit_code="20",
                                       period_start=dt.date(2026, 4, 1),
                                       period_end=dt.date(2026, 6, 30),
                                       known_at=dt.date(2026, 6, 30))
    assert "là 80,0 tỷ đồng, bằng 0,80% tổng chi ngân sách địa phương" in before["paragraph_vi"]
    assert "đầu tư phát triển 45,0 tỷ đồng và chi thường xuyên 35,0 tỷ đồng" in (
        before["paragraph_vi"])
    assert "xã hội hóa 15,0 tỷ đồng" in before["paragraph_vi"]
    assert "đến hết tháng 9/2026 đạt 50,0 tỷ đồng, bằng 66,7% kế hoạch vốn" in (
        before["paragraph_vi"])
    assert "VND 80.0 billion, 0.80% of total local budget spending" in before["paragraph_en"]
    assert "là 85,0 tỷ đồng" in after["paragraph_vi"]  # the October correction, later
    assert too_early["empty"] and "Chưa có số liệu" in too_early["paragraph_vi"]
    rows = {r["label_vi"]: r for r in before["rows"]}
    assert rows["Ngân sách địa phương"]["estimate"] == pytest.approx(80_000)  # triệu đồng
    assert rows["Tổng cộng"]["estimate"] == pytest.approx(95_000)
    assert rows["Xã hội hóa"]["level"] == 1 and rows["Chi thường xuyên"]["level"] == 2
    assert [c["key"] for c in before["columns"]] == ["label", "estimate", "allocated",
                                                     "disbursed", "rate"]
    assert before["share"]["status"] == "off_track" and not before["illustrative"]


def test_a_closed_year_reads_met_or_missed(session, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", "2027-01-20")
    reset_settings_cache()
    world = make_world(session, tmp_path)
    system = Access.system(session, "test")
    line = _line(world)
    service.save_figures(session, [FigureInput(line, "estimate", "2026", 40 * BILLION),
                                   FigureInput(line, "disbursed", "202612", 36 * BILLION)],
                         access=system)
    service.approve_figures(session, access=system, scope_unit_id=world.province.id)
    section = service.report_section(session, unit_code="20", period_start=dt.date(2026, 1, 1),
                                     period_end=dt.date(2026, 12, 31), known_at=None)
    assert section["disbursement"]["year_end"] == "missed"
    assert "90,0% kế hoạch vốn (lộ trình 100,0%: không đạt)" in section["paragraph_vi"]


def test_the_total_spending_is_one_line_whatever_it_is_called(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A table's "Tổng chi NSĐP năm 2026" and the API's "Tổng chi ngân sách địa phương" are
    the same total: a second one corrects the first instead of adding to it (the share was
    0,92 % instead of 0,97 % in the demo when two totals were summed)."""
    world = make_world(session, tmp_path, targets=False)
    system = Access.system(session, "test")
    for name, amount in (("Tổng chi ngân sách địa phương", 19_000), ("Tổng chi NSĐP 2026",
                                                                      19_800)):
        line = LineSpec(scope_unit_id=world.province.id, unit_id=world.province.id, year=2026,
                        name=name, kind="total")
        service.save_figures(session, [FigureInput(line, "estimate", "2026",
                                                   amount * BILLION)], access=system)
    totals = session.scalars(select(Figure).join(
        BudgetLine, BudgetLine.id == Figure.line_id).where(BudgetLine.kind == "total")).all()
    assert [(f.amount, f.version) for f in totals] == [(19_800 * BILLION, 2)]
