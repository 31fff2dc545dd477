"""DTI services on real SQLite and PostgreSQL: framework versions, published results from
CSV/XLSX, rankings that match what was published, previous-year change, merged provinces,
what-if, bottlenecks and sensitivity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.dti import service
from chiso.dti.framework import DATA_DIR, FrameworkError, parse_framework
from chiso.dti.models import DtiFramework, DtiResult
from chiso.errors import UserError

HEADER = ["Mã tỉnh", "Tỉnh", "NTS", "TCS", "HTS", "NLS", "ATTT", "CQS", "KTS", "XHS", "DTI",
          "Xếp hạng"]


def _system(session):  # type: ignore[no-untyped-def]
    """The authority an internal job writes with (issue 12: access is mandatory)."""
    return Access.system(session, "test")


def _write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _province(code: str, name: str, values: list[float], total: float | None = None,
              rank: int | str = "") -> list[object]:
    if total is None:
        points = [100, 100, 100, 100, 100, 200, 150, 150]
        total = round(sum(v * p for v, p in zip(values, points, strict=True)) / 1000, 4)
    return [code, name, *values, total, rank]


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    service.load_shipped_frameworks(session)
    session.commit()
    return session


def test_shipped_frameworks_load_once_and_new_text_makes_a_new_version(loaded) -> None:
    session = loaded
    service.load_shipped_frameworks(session)  # idempotent
    assert session.scalar(select(func.count()).select_from(DtiFramework)) == 4
    text = (DATA_DIR / "vi_du_so_nganh.yaml").read_text(encoding="utf-8").replace(
        "points: 25, main: true, effort: 2", "points: 30, main: true, effort: 2")
    result = service.load_framework(session, parse_framework(text), access=_system(session))
    assert result.created and result.version == 2
    versions = session.scalars(select(DtiFramework).where(
        DtiFramework.code == "VIDU_SO_NGANH").order_by(DtiFramework.version)).all()
    assert [v.is_current for v in versions] == [False, True]
    assert service.get_framework(session, "VIDU_SO_NGANH").nodes["S3.1"].weight == 30
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "dti.framework.load")) == 5


@pytest.mark.parametrize(("change", "message"), [
    ("points: 5, main: true, normalisation", "points: -5, main: true, normalisation"),
    ("method: minmax, low: 0, high: 5}", "method: minimax, low: 0, high: 5}"),
    ("code: S1.2", "code: S1.1"),
])
def test_bad_framework_files_are_refused_with_bilingual_messages(tmp_path, change, message
                                                                 ) -> None:
    text = (DATA_DIR / "vi_du_so_nganh.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "khung_loi.yaml"
    bad.write_text(text.replace(change, message, 1), encoding="utf-8")
    from chiso.dti.framework import load_framework_file

    with pytest.raises(FrameworkError) as excinfo:
        load_framework_file(bad)
    text = str(excinfo.value)
    assert "khung_loi.yaml" in text and " / " in text


@pytest.mark.slow
def test_cli_loads_a_new_framework_file(db_url, tmp_path) -> None:
    from chiso.cli.main import app

    path = tmp_path / "khung_xa.yaml"
    path.write_text("code: XA_2026\nname_vi: Khung xã 2026\nvalid_from_year: 2026\n"
                    "level: commune\nnodes:\n  - {code: A, points: 1}\n  - {code: B, "
                    "points: 3}\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["dti", "framework", "load", str(path)])
    assert first.exit_code == 0, first.output
    assert "XA_2026 v1" in first.output
    again = runner.invoke(app, ["dti", "framework", "load", str(path)])
    assert "không đổi / unchanged" in again.output
    listed = runner.invoke(app, ["dti", "framework", "list"])
    assert "XA_2026" in listed.output
    broken = tmp_path / "loi.yaml"
    broken.write_text("code: X\nname_vi: X\nvalid_from_year: 2026\nnodes:\n"
                      "  - {code: A, points: abc}\n", encoding="utf-8")
    failed = runner.invoke(app, ["dti", "framework", "load", str(broken)])
    # A UserError: `chiso` (main) prints it in both languages and exits 2.
    assert isinstance(failed.exception, UserError) and failed.exception.status == 422
    assert "không phải là số" in str(failed.exception) and "loi.yaml" in str(failed.exception)


def test_shipped_sample_reproduces_published_dti_2022(loaded) -> None:
    session = loaded
    summary = service.import_results(session, DATA_DIR / "dti_2022_mau.csv",
                                     framework_code="DTI_TINH_922", year=2022,
                                     access=_system(session))
    assert summary.units == 2 and summary.inserted == 18
    result = service.ranking(session, year=2022)
    checks = {c.unit_code: c for c in service.check_against_published(result)}
    assert checks["48"].total_ok and checks["79"].total_ok
    assert abs(checks["48"].computed_total - 0.8002) <= 0.0001
    assert abs(checks["79"].computed_total - 0.7163) <= 0.0001
    rows = result.rows()
    assert [r["unit_code"] for r in rows] == ["48", "79"]
    assert rows[0]["nodes"]["NTS"]["rank"] == 1 and rows[1]["nodes"]["HTS"]["rank"] == 1


def test_import_xlsx_ties_rank_as_published_and_previous_year_change(loaded, tmp_path
                                                                      ) -> None:
    session = loaded
    a = [0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    b = [0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    # Two provinces whose totals differ only beyond the 4th decimal tie when published.
    tie1 = [0.70004, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    book = Workbook()
    sheet = book.active
    sheet.title = "DTI 2023"
    sheet.append(HEADER)
    for row in (_province("01", "Hà Nội", a, rank=1), _province("20", "Lạng Sơn", tie1, rank=2),
                _province("30", "Hải Dương", b, rank=2), _province("40", "Nghệ An", [0.6] * 8,
                                                                   rank=4)):
        sheet.append(row)
    path = tmp_path / "dti_2023.xlsx"
    book.save(path)
    service.import_results(session, path, framework_code="DTI_TINH_922", year=2023,
                           access=_system(session))
    _write_csv(tmp_path / "dti_2022.csv", [_province("20", "Lạng Sơn", [0.5] * 8),
                                           _province("01", "Hà Nội", [0.9] * 8),
                                           _province("30", "Hải Dương", [0.65] * 8)])
    service.import_results(session, tmp_path / "dti_2022.csv", framework_code="DTI_TINH_922",
                           year=2022, access=_system(session))
    result = service.ranking(session, year=2023)
    rows = {r["unit_code"]: r for r in result.rows()}
    assert [rows[c]["rank"] for c in ("01", "20", "30", "40")] == [1, 2, 2, 4]
    assert all(c.total_ok and c.rank_ok for c in service.check_against_published(result))
    assert rows["20"]["previous_rank"] == 3 and rows["20"]["rank_change"] == 1
    assert rows["01"]["rank_change"] == 0 and rows["40"]["previous_rank"] is None


def test_import_is_all_or_nothing_with_bilingual_errors_and_dry_run(loaded, tmp_path) -> None:
    session = loaded
    path = _write_csv(tmp_path / "loi.csv", [_province("01", "Hà Nội", [0.8] * 8),
                                             ["20", "Lạng Sơn", 0.5, "abc", 0.5, 0.5, 0.5, 0.5,
                                              0.5, 0.5, 0.5, ""]])
    with pytest.raises(service.ImportRejected) as excinfo:
        service.import_results(session, path, framework_code="DTI_TINH_922", year=2023,
                               access=_system(session))
    message = excinfo.value.errors[0]
    assert "loi.csv" in message and "dòng 3" in message and "'TCS'" in message
    assert "row 3" in message
    assert session.scalar(select(func.count()).select_from(DtiResult)) == 0
    good = _write_csv(tmp_path / "tot.csv", [_province("01", "Hà Nội", [0.8] * 8)])
    dry = service.import_results(session, good, framework_code="DTI_TINH_922", year=2023,
                                 dry_run=True, access=_system(session))
    assert dry.inserted == 10 and session.scalar(select(func.count()).select_from(DtiResult)
                                                 ) == 0
    # An unquoted decimal comma splits one value into two cells and shifts the row.
    shifted = _write_csv(tmp_path / "lech.csv", [["01", "Hà Nội", "0,8", *[0.8] * 8, 0.8]])
    with pytest.raises(service.ImportRejected, match="dòng 2: có 13 ô"):
        service.import_results(session, shifted, framework_code="DTI_TINH_922", year=2023,
                               access=_system(session))
    percent = _write_csv(tmp_path / "phantram.csv", [_province("01", "Hà Nội", [80] * 8,
                                                                total=0.8)])
    with pytest.raises(service.ImportRejected, match="80 ngoài khoảng 0–1"):
        service.import_results(session, percent, framework_code="DTI_TINH_922", year=2023,
                               access=_system(session))
    unknown = _write_csv(tmp_path / "cot.csv", [["01", "Hà Nội", 1]],
                         header=["Mã tỉnh", "Tỉnh", "Chỉ số lạ"])
    with pytest.raises(service.ImportRejected, match="Chỉ số lạ"):
        service.import_results(session, unknown, framework_code="DTI_TINH_922", year=2023,
                               access=_system(session))


def test_a_corrected_value_supersedes_but_keeps_the_old_row(loaded, tmp_path) -> None:
    session = loaded
    path = _write_csv(tmp_path / "a.csv", [_province("01", "Hà Nội", [0.8] * 8)])
    service.import_results(session, path, framework_code="DTI_TINH_922", year=2023,
                           access=_system(session))
    fixed = _write_csv(tmp_path / "b.csv", [_province("01", "Hà Nội",
                                                      [0.8] * 7 + [0.9])])
    summary = service.import_results(session, fixed, framework_code="DTI_TINH_922", year=2023,
                                     access=_system(session))
    assert (summary.updated, summary.unchanged) == (2, 8)  # XHS and the total
    history = session.scalars(select(DtiResult.value).where(
        DtiResult.node_code == "XHS").order_by(DtiResult.id)).all()
    assert history == [0.8, 0.9]


def test_merged_province_is_the_mean_of_its_predecessors(loaded, tmp_path) -> None:
    from chiso.units.models import OrgUnit, UnitKind, UnitLineage

    session = loaded
    if session.get(UnitKind, "tinh") is None:
        session.add(UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1))
        session.flush()
    end, start = dt.date(2025, 6, 30), dt.date(2025, 7, 1)
    old_a = OrgUnit(code="02", name="Hà Giang", kind="tinh", valid_to=end)
    old_b = OrgUnit(code="08", name="Tuyên Quang (cũ)", kind="tinh", valid_to=end)
    new = OrgUnit(code="08", name="Tuyên Quang", kind="tinh", valid_from=start)
    session.add_all([old_a, old_b, new])
    session.flush()
    session.add_all([UnitLineage(predecessor_id=old_a.id, successor_id=new.id, event_date=start,
                                 kind="merge"),
                     UnitLineage(predecessor_id=old_b.id, successor_id=new.id, event_date=start,
                                 kind="merge")])
    session.flush()
    _write_csv(tmp_path / "r.csv", [_province("02", "Hà Giang", [0.4] * 8),
                                    _province("08", "Tuyên Quang", [0.6] * 7 + [0.8]),
                                    _province("20", "Lạng Sơn", [0.55] * 8)])
    service.import_results(session, tmp_path / "r.csv", framework_code="DTI_TINH_922",
                           year=2023, access=_system(session))
    merged = service.ranking(session, year=2023, merged=True)
    assert merged.unit_codes == ["08", "20"]
    row = {r["unit_code"]: r for r in merged.rows()}["08"]
    assert row["unit_name"] == "Tuyên Quang"
    assert row["nodes"]["XHS"]["score"] == pytest.approx(0.6)
    assert row["nodes"]["CQS"]["score"] == pytest.approx(0.5)
    assert row["published_total"] is None  # a merged province was never published
    assert row["rank"] == 2


def test_what_if_bottlenecks_sensitivity_and_drag(loaded, tmp_path) -> None:
    session = loaded
    rows = [_province(f"{i:02d}", f"Tỉnh {i}", [0.5 + 0.04 * i] * 8) for i in range(1, 8)]
    service.import_results(session, _write_csv(tmp_path / "r.csv", rows),
                           framework_code="DTI_TINH_922", year=2023, access=_system(session))
    result = service.ranking(session, year=2023)
    before = {r["unit_code"]: r["rank"] for r in result.rows()}
    assert before["03"] == 5
    found = service.what_if(result, "03", {"CQS": 1.0})
    assert found.points_gained == pytest.approx((1.0 - 0.62) * 200)
    assert found.rank_before == 5 and found.rank_after < 5
    plan = service.bottlenecks(result, "03", places=2)
    assert plan.target_rank == 3 and plan.rank_after_plan is not None
    assert plan.rank_after_plan <= 3
    assert plan.losses[0]["code"] == "CQS"  # 200 points: the most lost vs the maximum
    assert plan.losses[0]["lost_vs_max"] == pytest.approx((1 - 0.62) * 200)
    assert plan.losses[0]["lost_vs_best"] == pytest.approx((0.78 - 0.62) * 200)
    table = service.sensitivity_table(result, samples=100, methods=("framework", "rank"))
    assert [r["unit_code"] for r in table][:1] == ["07"]
    assert all(r["p05"] <= r["rank"] <= r["p95"] for r in table)
    drag = service.unit_drag(result)
    assert drag[0]["unit_code"] == "01"
    with pytest.raises(FrameworkError):
        service.what_if(result, "03", {"KHONG_CO": 1.0})


def test_cli_rank_what_if_bottlenecks(loaded, tmp_path) -> None:
    from chiso.cli.main import app

    runner = CliRunner()
    imported = runner.invoke(app, ["dti", "results", "import", str(DATA_DIR / "dti_2022_mau.csv"),
                                   "--framework", "DTI_TINH_922", "--year", "2022"])
    assert imported.exit_code == 0, imported.output
    ranked = runner.invoke(app, ["dti", "rank", "--year", "2022"], env={"COLUMNS": "200"})
    assert ranked.exit_code == 0 and "0,8002" in ranked.output and "Đà Nẵng" in ranked.output
    changed = runner.invoke(app, ["dti", "what-if", "79", "--year", "2022", "--set", "XHS=0,9",
                                  "--set", "NLS=0,9"], env={"COLUMNS": "200"})
    assert changed.exit_code == 0 and "2 → 1" in changed.output
    plan = runner.invoke(app, ["dti", "bottlenecks", "79", "--year", "2022"],
                         env={"COLUMNS": "200"})
    assert plan.exit_code == 0 and "XHS" in plan.output
    spread = runner.invoke(app, ["dti", "sensitivity", "--year", "2022", "--samples", "40",
                                 "--methods", "framework,minmax,rank"], env={"COLUMNS": "200"})
    assert spread.exit_code == 0 and "Đà Nẵng" in spread.output
    workbook = tmp_path / "tdg.xlsx"
    exported = runner.invoke(app, ["dti", "assessment", "export", str(workbook), "--framework",
                                   "VIDU_SO_NGANH", "--year", "2025", "--unit", "20"])
    assert exported.exit_code == 0 and workbook.exists()
    again = runner.invoke(app, ["dti", "assessment", "import", str(workbook), "--framework",
                                "VIDU_SO_NGANH", "--year", "2025", "--unit", "20"])
    assert again.exit_code == 0 and "không đổi / unchanged 7" in again.output


def test_commune_framework_from_raw_values_and_the_communes_that_drag(loaded, tmp_path
                                                                       ) -> None:
    from chiso.units.models import OrgUnit, UnitKind

    session = loaded
    session.add_all([UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1),
                     UnitKind(code="xa", name_vi="Xã", name_en="Commune", level=3)])
    session.flush()
    province = OrgUnit(code="20", name="Lạng Sơn", kind="tinh")
    session.add(province)
    session.flush()
    session.add_all([OrgUnit(code=c, name=n, kind="xa", parent_id=province.id)
                     for c, n in (("06001", "Xã A"), ("06002", "Xã B"), ("06003", "Xã C"))])
    header = ["Mã", "Tên", "CQS.HS_TRUC_TUYEN", "CQS.HS_TOAN_TRINH", "CQS.HS_DUNG_HAN",
              "CQS.SO_HOA_HS", "CQS.TT_TRUC_TUYEN", "XHS.HO_CAP_QUANG", "XHS.SMARTPHONE",
              "XHS.TK_THANH_TOAN"]
    rows = [["06001", "Xã A", '"90,5"', 80, 99, 85, 60, 95, 88, 70],
            ["06002", "Xã B", "40", 20, 70, 30, 10, 35, 50, 30],
            ["06003", "Xã C", "85", 70, 95, 80, 55, 90, 80, 65],
            ["99001", "Xã tỉnh khác", "10", 5, 50, 10, 5, 10, 20, 10]]
    service.import_results(session, _write_csv(tmp_path / "xa.csv", rows, header=header),
                           framework_code="VIDU_CAP_XA", year=2025, access=_system(session))
    result = service.ranking(session, year=2025, framework_code="VIDU_CAP_XA")
    by_code = {r["unit_code"]: r for r in result.rows()}
    assert by_code["06001"]["rank"] == 1 and by_code["99001"]["rank"] == 4, by_code
    # minmax 0–100 for online dossiers: 90,5 % scores 0,905
    assert by_code["06001"]["nodes"]["CQS.HS_TRUC_TUYEN"]["score"] == pytest.approx(0.905)
    codes = service.subunit_codes(session, "20")
    assert sorted(codes) == ["06001", "06002", "06003"]
    drag = service.unit_drag(result, unit_codes=codes)
    assert drag[0]["unit_code"] == "06002"
    assert drag[0]["drag"] > 0 > drag[-1]["drag"]


def test_405_results_rank_by_the_published_total_until_points_are_known(loaded, tmp_path
                                                                        ) -> None:
    session = loaded
    rows = [_province("01", "Hà Nội", [0.9] * 8, total=0.8512, rank=1),
            _province("20", "Lạng Sơn", [0.6] * 8, total=0.6021, rank=2),
            _province("30", "Hải Phòng", [0.6] * 8, total=0.6021, rank=2)]
    service.import_results(session, _write_csv(tmp_path / "dti_2024.csv", rows),
                           framework_code="DTI_TINH_405", year=2024, access=_system(session))
    result = service.ranking(session, year=2024)
    assert result.framework.code == "DTI_TINH_405" and result.total_source == "published"
    by_code = {r["unit_code"]: r for r in result.rows()}
    assert [by_code[c]["rank"] for c in ("01", "20", "30")] == [1, 2, 2]
    assert by_code["20"]["nodes"]["CQS"]["score"] == 0.6
    with pytest.raises(FrameworkError, match="no official weights"):
        service.what_if(result, "20", {"CQS": 1.0})
