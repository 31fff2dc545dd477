"""Data sets, due dates, the lock on every write path, legacy encodings, old .xls files,
validation rules, outliers, and live numbers (no rebuild step)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from collection_support import build_province, fill_template
from sqlalchemy import func, select

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.accounts.service import create_user
from chiso.analytics.service import rolled_up_value
from chiso.collection import legacy, quality, service, template
from chiso.collection.models import Submission, ValueFlag
from chiso.collection.outliers import flag_outliers
from chiso.collection.rules import active_rules, evaluate, outliers
from chiso.values.models import DataValue
from chiso.values.service import ValueRejected, save_value, upsert_values


def SYSTEM(session) -> Access:  # type: ignore[no-untyped-def]
    return Access.system(session, "test")


@pytest.fixture
def province(session):  # type: ignore[no-untyped-def]
    built = build_province(session)
    session.commit()
    return built


# ------------------------------------------------------------------ legacy text


@pytest.mark.parametrize("text", ["Xã Đồng Đăng", "Thành phố Lạng Sơn", "Người dân được "
                                  "hướng dẫn nộp hồ sơ trực tuyến", "Việt Nam"])
def test_tcvn3_and_vni_convert_back_to_unicode(text: str) -> None:
    assert legacy.from_tcvn3(legacy.to_tcvn3(text)) == text.replace("Đ", "Đ")
    assert legacy.detect(legacy.to_tcvn3(text)) == "tcvn3"
    assert legacy.from_vni(legacy.to_vni(text)) == text
    assert legacy.detect(legacy.to_vni(text)) == "vni"
    assert legacy.detect(text) == "unicode"  # Unicode is never touched


def test_known_legacy_spellings() -> None:
    assert legacy.convert("Hµ Néi", "auto") == "Hà Nội"
    assert legacy.convert("ViÖt Nam", "tcvn3") == "Việt Nam"
    assert legacy.convert("Vieät Nam", "auto") == "Việt Nam"
    assert legacy.detect_column(["Hµ Néi", "L¹ng S¬n", None, "abc"]) == "tcvn3"
    assert legacy.convert("Thanh Hãa", "unicode") == "Thanh Hãa"  # override wins


# ------------------------------------------------------------------ data sets and lock


def test_expected_submissions_and_nd09_due_dates(session, province) -> None:
    data_set = province.data_set
    rows = service.expected_submissions(session, data_set, "2025Q3")
    codes = sorted(session.get(type(province.world.commune_a), r.unit_id).code for r in rows)
    assert codes == ["06001", "06002", "06003"]  # the old 06003 ended before Q3
    again = service.expected_submissions(session, data_set, "2025Q3")
    assert [r.id for r in again] == [r.id for r in rows]
    old = service.expected_submissions(session, data_set, "2025Q1")
    assert province.world.old_commune.id in {r.unit_id for r in old}
    data_set.calendar = "nd09"
    assert service.due_date(data_set, "2025Q3") == dt.date(2025, 9, 24)  # 14/9 + 10 days
    with pytest.raises(service.PeriodRefused, match="theo quý"):
        service.check_period(data_set, "202509")


def test_the_lock_holds_on_every_values_path(session, province) -> None:
    w = province.world
    focal = create_user(session, access=Access.system(session, "test"),
                        username="lan", password="pw-lanlanlan",
                        role=Role.FOCAL_OFFICER, unit_id=w.commune_a.id)
    office = create_user(session, access=Access.system(session, "test"),
                         username="ha", password="pw-hahahaha",
                         role=Role.STANDING_OFFICE, unit_id=w.province.id)
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.count.id, period="2025Q3",
               value=10, access=Access(session, focal))
    submission = service.submission_for(session, province.data_set, w.commune_a.id, "2025Q3")
    service.submit(session, submission, access=Access(session, focal))
    service.approve(session, submission, access=Access(session, office))
    session.commit()
    with pytest.raises(ValueRejected, match="đã được duyệt"):
        save_value(session, unit_id=w.commune_a.id, indicator_id=w.count.id,
                   period="2025Q3", value=11, access=Access(session, focal))
    session.rollback()
    with pytest.raises(ValueRejected):
        upsert_values(session, [{"unit_id": w.commune_a.id, "indicator_id": w.count.id,
                                 "period": "2025Q3", "value": 12}], source="import",
                      access=Access(session, focal))
    session.rollback()
    # Another period and another unit are not locked; the same figure again is no edit.
    save_value(session, unit_id=w.commune_b.id, indicator_id=w.count.id, period="2025Q3",
               value=3, access=Access(session, office))
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.count.id, period="2025Q3",
               value=10, access=Access(session, office))
    session.commit()
    assert session.get(Submission, submission.id).edits_after_approval == 0
    upsert_values(session, [{"unit_id": w.commune_a.id, "indicator_id": w.count.id,
                             "period": "2025Q3", "value": 13}], source="import",
                                 access=Access(session, office))
    session.commit()
    session.refresh(submission)
    assert (submission.status, submission.edits_after_approval) == ("submitted", 1)


# ------------------------------------------------------------------ files


def _old_xls(path: Path, rows: list[list[object]]) -> Path:
    """A real BIFF8 .xls laid out the old way: a title, a merged two-level header."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Bieu 01")
    sheet.write_merge(0, 0, 0, 9, "BÁO CÁO THỦ TỤC HÀNH CHÍNH QUÝ III/2025")
    for column, label in enumerate(("STT", "Mã đơn vị", "Tên đơn vị", "Mã chỉ tiêu",
                                    "Kỳ báo cáo")):
        sheet.write_merge(2, 3, column, column, label)
    sheet.write_merge(2, 2, 5, 7, "Số liệu")
    for column, label in enumerate(("Tử số", "Mẫu số", "Giá trị"), start=5):
        sheet.write(3, column, label)
    sheet.write_merge(2, 3, 8, 8, "Ghi chú")
    for offset, row in enumerate(rows):
        for column, cell in enumerate(row):
            if cell is not None:
                sheet.write(4 + offset, column, cell)
    book.save(str(path))
    return path


def test_old_xls_with_legacy_text_merged_headers_and_comma_decimals(session, province,
                                                                    tmp_path: Path) -> None:
    w = province.world
    old = _old_xls(tmp_path / "bao-cao-cu.xls", [
        [1, "06001", legacy.to_tcvn3("Xã Đồng Đăng"), "CQS.HS_TRUC_TUYEN", "2025Q3", None,
         None, "76,6", legacy.to_vni("Số liệu của bộ phận một cửa")],
        [2, "06001", legacy.to_tcvn3("Xã Đồng Đăng"), "CQS.SO_DVCTT", "Quý III/2025", None,
         None, 12.0, None],
    ])
    assert old.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # a real OLE2 (BIFF8) workbook
    upload = template.upload_template(session, old, data_set=province.data_set,
                                      unit=w.commune_a, period="2025Q3", dry_run=False,
                                      access=SYSTEM(session))
    assert upload.result.ok, upload.result.errors
    assert {(c["row"], c["encoding"]) for c in upload.converted} == {
        (5, "tcvn3"), (6, "tcvn3"), (5, "vni")}
    stored = session.scalar(select(DataValue).where(DataValue.indicator_id == w.ratio.id))
    assert (stored.value, stored.comment) == (76.6, "Số liệu của bộ phận một cửa")
    kept = template.upload_template(session, old, data_set=province.data_set,
                                    unit=w.commune_a, period="2025Q3", encoding="unicode",
                                    access=SYSTEM(session))
    assert kept.converted == [] and kept.result.counts["updated"] == 1  # comment as written
    assert [w_.rule for w_ in kept.warnings] == ["unit_name_differs"] * 2


def test_a_template_upload_is_live_in_analytics_at_once(session, province, tmp_path: Path
                                                        ) -> None:
    w = province.world
    content = template.build_template(session, province.data_set, w.commune_a, "2025Q3",
                                      tmp_path / "mau.xlsx").read_bytes()
    path = fill_template(content, {"H6": 766, "I6": "1.000"}, tmp_path / "x.xlsx")
    template.upload_template(session, path, data_set=province.data_set, unit=w.commune_a,
                             period="2025Q3", dry_run=False, access=SYSTEM(session))
    session.commit()
    assert rolled_up_value(session, unit_code="06001", indicator_code="CQS.HS_TRUC_TUYEN",
                           period="2025Q3") == pytest.approx(76.6)
    assert rolled_up_value(session, unit_code="20", indicator_code="CQS.HS_TRUC_TUYEN",
                           period="2025Q3") == pytest.approx(76.6)


# ------------------------------------------------------------------ rules and outliers


def test_rules_as_data_with_missing_strategies(session, province) -> None:
    rules = {r.code: r for r in active_rules(session)}
    figures = pl.DataFrame({
        "unit_id": [1, 1, 2, 2, 3], "period": ["2025Q3"] * 5,
        "indicator_code": ["CQS.HS_TRUC_TUYEN", "CQS.HS_TOAN_TRINH"] * 2 + ["CQS.HS_TOAN_TRINH"],
        "numerator": [400.0, 450.0, 400.0, 300.0, 10.0],
        "denominator": [500.0, 500.0, 500.0, 600.0, 20.0],
        "value": [80.0, 90.0, 80.0, 50.0, 50.0]})
    found = evaluate(list(rules.values()), figures)
    hits = {(r["unit_id"], r["rule"]) for r in found.iter_rows(named=True)}
    assert (1, "HS_TOAN_TRINH_LE_TRUC_TUYEN") in hits  # 450 full-online > 400 online
    assert (2, "HS_TOAN_TRINH_CUNG_TONG") in hits  # 600 ≠ 500 dossiers
    assert not any(unit == 3 for unit, _ in hits)  # unit 3 lacks the online figures: skipped
    rules["HS_TOAN_TRINH_LE_TRUC_TUYEN"].missing_strategy = "never_skip"
    strict = evaluate([rules["HS_TOAN_TRINH_LE_TRUC_TUYEN"]], figures)
    assert 3 in strict.get_column("unit_id").to_list()  # missing counts as 0


def test_outliers_against_history_and_peers_are_flagged_not_dropped(session, province
                                                                    ) -> None:
    w = province.world
    history = [10, 11, 12, 10, 11, 12, 11, 95]  # the last quarter is an outlier
    periods = [f"{2024 + i // 4}Q{i % 4 + 1}" for i in range(len(history))]
    upsert_values(session, [{"unit_id": w.commune_a.id, "indicator_id": w.count.id,
                             "period": p, "value": v} for p, v in zip(periods, history,
                                                                      strict=True)],
                  source="import", access=Access.system(session, "test"))
    assert flag_outliers(session) == 1
    flag = session.scalar(select(ValueFlag))
    assert (flag.period, flag.kind, flag.status) == (periods[-1], "outlier_history", "open")
    assert session.scalar(select(func.count()).select_from(DataValue)) == len(history)
    assert flag_outliers(session) == 0  # idempotent

    peers = pl.DataFrame({"unit_id": list(range(1, 8)), "unit_kind": ["xa"] * 7,
                          "indicator_id": [1] * 7, "period": ["2025Q3"] * 7,
                          "period_type": ["Q"] * 7,
                          "value": [50.0, 52.0, 48.0, 51.0, 49.0, 50.0, 400.0]})
    found = outliers(peers)
    assert found.filter(pl.col("kind") == "outlier_peers").get_column("unit_id").to_list() == [7]


def test_flags_and_rule_breaks_lower_the_correct_score(session, province) -> None:
    w = province.world
    for indicator, numerator, denominator in ((w.ratio.id, 400, 500),
                                              (province.full_online.id, 450, 500)):
        save_value(session, unit_id=w.commune_a.id, indicator_id=indicator, period="2025Q3",
                   numerator=numerator, denominator=denominator,
                       access=Access.system(session, "test"))
    card = quality.scorecard(session, province.data_set, "2025Q3",
                             as_of=dt.date(2025, 10, 1))
    assert card.totals()["dung"] == 0.0  # both figures are in the broken rule
    assert card.totals()["song"] is None  # nothing is due yet on 1/10/2025
    late = quality.scorecard(session, province.data_set, "2025Q3",
                             as_of=dt.date(2025, 10, 20))
    assert [u.unit_code for u in late.late_units()] == ["06001", "06002", "06003"]
    assert late.totals()["song"] == 0.0


def test_days_since_the_last_update_count_vietnam_days_and_are_never_negative(
        session, province) -> None:
    """"Số ngày từ lần cập nhật cuối": the day in Vietnam of the unit's latest figure to
    today. A figure written after the (pinned) day asked about is 0 days old, not -13 (the
    demo is built on the wall clock while its day is pinned)."""
    from sqlalchemy import update

    w = province.world
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.ratio.id, period="2025Q3",
               numerator=40, denominator=50, access=Access.system(session, "test"))
    written = dt.datetime(2025, 10, 19, 20, 30, tzinfo=dt.UTC)  # 03:30 on 20/10 in Hà Nội
    session.execute(update(DataValue).where(DataValue.unit_id == w.commune_a.id)
                    .values(updated_at=written))
    session.commit()

    def age(day: dt.date) -> int | None:
        card = quality.scorecard(session, province.data_set, "2025Q3", as_of=day)
        return next(u.latest_age_days for u in card.units if u.unit_id == w.commune_a.id)

    assert age(dt.date(2025, 10, 20)) == 0
    assert age(dt.date(2025, 10, 25)) == 5
    assert age(dt.date(2025, 10, 7)) == 0  # written after that day: not -13


def test_copied_reports_and_unit_slips_make_data_unclean(session, province) -> None:
    w = province.world
    for unit in (w.commune_a, w.commune_b):  # commune B sent commune A's report
        save_value(session, unit_id=unit.id, indicator_id=w.ratio.id, period="2025Q3",
                   numerator=40, denominator=50, access=Access.system(session, "test"))
        save_value(session, unit_id=unit.id, indicator_id=w.count.id, period="2025Q3",
                   value=7, access=Access.system(session, "test"))
    save_value(session, unit_id=w.new_commune.id, indicator_id=province.on_time.id,
               period="2025Q3", value="0,9",
                   access=Access.system(session, "test"))  # 0.9% where 90% was meant
    card = quality.scorecard(session, province.data_set, "2025Q3")
    problems = {(u.unit_code, p["type"]) for u in card.units for p in u.problems}
    assert ("06001", "duplicate") in problems and ("06002", "duplicate") in problems
    assert ("06003", "unit_inconsistency") in problems
    assert card.totals()["sach"] == 0.0


def test_due_dates_and_the_reported_period_follow_the_form_calendar_across_new_year(
        session, province) -> None:
    from chiso.collection.routes import default_period
    from chiso.collection.worklist import ended_periods

    data_set = province.data_set
    data_set.calendar, data_set.due_days = "nd09", 5
    # NĐ 09/2019: Q4/2025 runs 15/09–14/12/2025, so it is due on 19/12/2025 …
    assert service.due_date(data_set, "2025Q4") == dt.date(2025, 12, 19)
    # … and on 16/12/2025 it is the quarter being reported (Q1/2026 has begun).
    assert default_period(data_set, dt.date(2025, 12, 16)) == "2025Q4"
    assert ended_periods(data_set, dt.date(2025, 12, 16))[0].id == "2025Q4"
    data_set.calendar = "standard"
    assert default_period(data_set, dt.date(2025, 12, 16)) == "2025Q3"
    assert service.due_date(data_set, "2025Q4") == dt.date(2026, 1, 5)


def test_two_people_opening_a_new_quarter_at_once_both_get_the_list(session, db_url,
                                                                    province) -> None:
    from chiso.db import new_session

    session.commit()
    first = service.expected_submissions(session, province.data_set, "2025Q3")  # not committed
    other = new_session(db_url)
    try:
        # Someone else's request created the same rows first … (a separate connection
        # cannot wait on ours under SQLite's one writer, so ours is rolled back meanwhile)
        session.rollback()
        created = service.expected_submissions(other, province.data_set, "2025Q3")
        other.commit()
        # … and ours, which had read "none yet", tries the same rows again.
        drafts = [Submission(data_set_id=province.data_set.id, unit_id=s.unit_id,
                             period="2025Q3", status="draft", due_date=s.due_date)
                  for s in first]
        assert service.insert_drafts(session, drafts) is False  # no error, no duplicate
        again = service.expected_submissions(session, province.data_set, "2025Q3")
        assert [s.id for s in again] == [s.id for s in created]
    finally:
        other.close()


def test_every_way_in_writes_one_save_in_the_reports_history(session, province) -> None:
    w = province.world
    focal = create_user(session, access=Access.system(session, "test"),
                        username="lan-hs", password="pw-lanlanlan-2",
                        role=Role.FOCAL_OFFICER, unit_id=w.commune_a.id)
    access = Access(session, focal)
    submission = service.submission_for(session, province.data_set, w.commune_a.id, "2025Q3")
    session.commit()
    # The raw values import (or the API, or DHIS2): two figures, one transaction.
    upsert_values(session, [
        {"unit_id": w.commune_a.id, "indicator_id": w.count.id, "period": "2025Q3",
         "value": 4},
        {"unit_id": w.commune_a.id, "indicator_id": w.ratio.id, "period": "2025Q3",
         "numerator": 3, "denominator": 4}], source="import", access=access)
    session.commit()
    saves = [e for e in service.history(session, submission) if e.action == "save"]
    assert len(saves) == 1 and saves[0].actor_id == focal.id
    # A figure of another report (another period) is not this report's history.
    upsert_values(session, [{"unit_id": w.commune_a.id, "indicator_id": w.count.id,
                             "period": "2025Q2", "value": 1}], source="import",
                  access=access)
    session.commit()
    assert len([e for e in service.history(session, submission) if e.action == "save"]) == 1
