"""`chiso dti ...`: frameworks, published results, ranks, profiles, what-if, bottlenecks,
sensitivity and the self-assessment spreadsheet. Commands are thin: the work is in
service.py, assessment.py and engine.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from chiso.cli.tables import print_table
from chiso.errors import UserError
from chiso.text import format_number

if TYPE_CHECKING:  # the CLI starts without numpy and the DTI models
    from sqlalchemy.orm import Session

    from chiso.accounts.access import Access
    from chiso.dti.models import DtiAssessment
    from chiso.dti.service import Ranking

console = Console()
dti_app = typer.Typer(help="Chỉ số chuyển đổi số (DTI) / composite index and the DTI.\n\n"
                      "Example: chiso dti rank --year 2022",
                      no_args_is_help=True)
framework_app = typer.Typer(help="Khung chỉ số / frameworks.\n\nExample: chiso dti framework list",
                            no_args_is_help=True)
results_app = typer.Typer(help="Kết quả công bố / published results.\n\nExample: chiso dti results "
                          "import chiso/dti/data/dti_2022_mau.csv --year 2022 --dry-run",
                          no_args_is_help=True)
assessment_app = typer.Typer(help="Tự đánh giá / self-assessment.\n\nExample: chiso dti assessment "
                             "export tdg.xlsx --framework VIDU_SO_NGANH --year 2025 --unit 20",
                             no_args_is_help=True)
dti_app.add_typer(framework_app, name="framework")
dti_app.add_typer(results_app, name="results")
dti_app.add_typer(assessment_app, name="assessment")


def register(app: typer.Typer) -> None:
    app.add_typer(dti_app, name="dti")


def _operator(session: Session) -> Access:
    """The operator at the console acts as the system (audited as system:cli)."""
    from chiso.accounts.access import Access

    return Access.system(session, "cli")


def _num(value: float | None, decimals: int = 4) -> str:
    return format_number(value, decimals) if value is not None else "–"


@framework_app.command("load")
def framework_load(path: Path, dry_run: bool = typer.Option(False, "--dry-run")) -> None:
    """Kiểm tra và lưu tệp khung chỉ số (YAML) thành một phiên bản mới.

    Validate and store a framework file (YAML) as a new version.

    Example: chiso dti framework load khung_so_nganh_2025.yaml
    """
    from chiso.db import session_scope
    from chiso.dti.service import load_framework_path
    from chiso.ops.archives import check_input_file

    with session_scope() as session:
        result = load_framework_path(session, check_input_file(path), access=_operator(session),
                                     dry_run=dry_run)
    state = "sẽ tạo / would create" if dry_run and result.created else (
        "đã tạo / created" if result.created else "không đổi / unchanged")
    console.print(f"[green]✓[/] {result.code} v{result.version}: {state}")


@framework_app.command("list")
def framework_list() -> None:
    """Liệt kê các khung chỉ số hiện hành.

    List the current frameworks.

    Example: chiso dti framework list
    """
    from chiso.db import session_scope
    from chiso.dti.service import current_frameworks

    table = Table("Mã / code", "Phiên bản", "Cấp / level", "Năm / years", "Tên / name",
                  "Trọng số / weights")
    with session_scope() as session:
        for fw in current_frameworks(session):
            years = f"{fw.valid_from_year}–{fw.valid_to_year or ''}"
            weights = "đủ / known" if fw.weights_known else (
                f"chưa biết / unknown: {len(fw.unknown_weights())}")
            table.add_row(fw.code, str(fw.version), fw.level, years, fw.name_vi, weights)
    print_table(console, table)


@results_app.command("import")
def results_import(
    path: Path,
    framework: str = typer.Option("DTI_TINH_922", help="Mã khung chỉ số / Framework code."),
    year: int = typer.Option(None, help="Năm, khi tệp không có cột 'Năm' / Year, when the file "
                                        "has no 'Năm' column."),
    source: str = typer.Option("", help="Văn bản nguồn của số liệu (mặc định: tên tệp); cột "
                                        "'Nguồn' thay cho từng dòng / The document the figures "
                                        "come from (default: the file name); a 'Nguồn' column "
                                        "overrides it per row."),
    merged: bool = typer.Option(False, "--merged", help="Bảng công bố lại theo các tỉnh hiện nay "
                                                        "(sau sáp nhập), ví dụ DTI 2024 cho 34 "
                                                        "tỉnh / The table is republished over "
                                                        "today's (merged) provinces, e.g. DTI "
                                                        "2024 for the 34."),
    dry_run: bool = typer.Option(False, "--dry-run"),
) -> None:
    """Nhập bảng xếp hạng đã công bố (CSV/XLSX).

    Mã, tên đơn vị, các chỉ số chính, tổng điểm, hạng, nguồn. Tên hiển thị lấy theo danh mục đơn vị.

    Import a published ranking table (CSV/XLSX): unit code, name, main indicators, total,
    rank, source. Names shown stay the unit register's.

    Example: chiso dti results import dti_2022.xlsx --framework DTI_TINH_922 --year 2022
    """
    from chiso.db import session_scope
    from chiso.dti.service import MERGED, import_results
    from chiso.ops.archives import check_input_file

    with session_scope() as session:
        summary = import_results(session, check_input_file(path), framework_code=framework,
                                 year=year,
                                 source=source, basis=MERGED if merged else "",
                                 access=_operator(session), dry_run=dry_run)
    prefix = "(chạy thử / dry run) " if dry_run else ""
    console.print(f"[green]✓[/] {prefix}{summary.file}: {summary.units} đơn vị / units, "
                  f"thêm / inserted {summary.inserted}, cập nhật / updated {summary.updated}, "
                  f"không đổi / unchanged {summary.unchanged}")
    for warning in summary.name_warnings:
        console.print(f"[yellow]![/] {warning}")


@dti_app.command("rank")
def rank(
    year: int = typer.Option(..., help="Năm đánh giá / Assessment year."),
    framework: str = typer.Option(None, help="Mã khung chỉ số (mặc định: khung của năm) / "
                                             "Framework code (default: the year's)."),
    merged: bool = typer.Option(False, help="Tính theo đơn vị hiện nay (sau sáp nhập) / Express "
                                            "over today's (merged) units."),
    top: int = typer.Option(0, help="Chỉ hiện N đơn vị đầu / Show only the first N."),
) -> None:
    """Xếp hạng các đơn vị theo chỉ số tổng hợp.

    Kèm hạng từng chỉ số chính và thay đổi so với năm trước.

    Rank units by the composite index, with main-indicator ranks and the change.

    Example: chiso dti rank --year 2022
    """
    from chiso.db import session_scope
    from chiso.dti.service import check_against_published, ranking

    with session_scope() as session:
        result = ranking(session, year=year, framework_code=framework, merged=merged)
    mains = [n.code for n in result.framework.main_indicators
             if n.weight or not result.framework.weights_known]
    invented = result.any_illustrative
    table = Table("Hạng", "±", "Mã", "Đơn vị / unit", "Chỉ số / index", *mains,
                  *(["Số liệu / data"] if invented else []),
                  title=f"{result.framework.name_vi} — {year}")
    rows = result.rows()
    for row in rows[:top or None]:
        change = row["rank_change"]
        table.add_row(str(row["rank"] or "–"), "–" if change is None else f"{change:+d}",
                      row["unit_code"], row["unit_name"], _num(row["total"]),
                      *[_num(row["nodes"][c]["score"]) for c in mains],
                      *([ILLUSTRATIVE_CELL if row["illustrative"] else ""] if invented else []))
    print_table(console, table)
    _print_provenance(result)
    bad = [c for c in check_against_published(result) if not (c.total_ok and c.rank_ok)]
    if bad:
        console.print(f"[yellow]![/] {len(bad)} đơn vị lệch kết quả công bố / differ from "
                      f"the published figures: {', '.join(c.unit_code for c in bad)}")


ILLUSTRATIVE_CELL = "minh họa / illustrative"


def _print_provenance(result: Ranking) -> None:
    """Which figures are invented (the demo's) and which documents the real ones are from."""
    if result.any_illustrative:
        console.print("[yellow]![/] Số liệu minh họa: các dòng ghi 'minh họa' là số liệu bịa "
                      "của bản demo, không phải kết quả công bố / rows marked 'illustrative' "
                      "are invented demo figures, not published results")
    for source in result.sources:
        console.print(f"Nguồn / source: {source}")


@dti_app.command("profile")
def profile_command(unit: str, year: int = typer.Option(...)) -> None:
    """Các chỉ số chính của một đơn vị so với trung vị và đơn vị dẫn đầu.

    A unit's main indicators against the median and the best.

    Example: chiso dti profile 48 --year 2022
    """
    from chiso.db import session_scope
    from chiso.dti.service import profile, ranking

    with session_scope() as session:
        result = ranking(session, year=year)
        found = profile(result, unit)
    mark = f" [yellow]({ILLUSTRATIVE_CELL})[/]" if found.illustrative else ""
    console.print(f"[bold]{found.unit_name}[/] {year}: {_num(found.total)} — hạng / rank "
                  f"{found.rank}/{found.units}{mark}")
    table = Table("Chỉ số chính", "Điểm", "Giá trị", "Hạng", "Trung vị", "Cao nhất")
    for row in found.indicators:
        table.add_row(row["name_vi"], _num(row["points"], 0), _num(row["score"]),
                      str(row["rank"]), _num(row["median"]), f"{_num(row['best'])} "
                      f"({row['best_unit']})")
    print_table(console, table)
    _print_provenance(result)


def _parse_changes(values: list[str]) -> dict[str, str]:
    """CODE=VALUE pairs, the values as typed ("0,85", "0.85", "85%"): the service parses
    them as the web page's are parsed."""
    changes = {}
    for item in values:
        code, _, raw = item.partition("=")
        if not raw.strip():
            raise UserError(f"'{item}': dùng MÃ=GIÁ_TRỊ", f"'{item}': use CODE=VALUE")
        changes[code.strip()] = raw.strip()
    return changes


@dti_app.command("what-if")
def what_if_command(unit: str, year: int = typer.Option(...),
                    set_: list[str] = typer.Option(..., "--set", help="Mã chỉ số = giá trị mới "
                                                                      "(lặp lại được) / "
                                                                      "CODE=VALUE")) -> None:
    """Thay giá trị chỉ số của một đơn vị; in chỉ số tổng hợp, hạng mới và số điểm tăng thêm.

    Change indicator values of a unit; print the new index, rank and points gained.

    Example: chiso dti what-if 79 --year 2022 --set NLS=0,85 --set XHS=0,5
    """
    from chiso.db import session_scope
    from chiso.dti.service import ranking, what_if

    with session_scope() as session:
        found = what_if(ranking(session, year=year), unit, _parse_changes(set_))
    mark = f" [yellow]({ILLUSTRATIVE_CELL})[/]" if found.illustrative else ""
    gained = format_number(found.points_gained, 2)
    console.print(f"Chỉ số / index {_num(found.total_before)} → [bold]{_num(found.total_after)}"
                  f"[/] ({'+' if found.points_gained >= 0 else ''}{gained} điểm / points); "
                  f"hạng / rank {found.rank_before} → [bold]{found.rank_after}[/]/{found.units}"
                  f"{mark}")


@dti_app.command("bottlenecks")
def bottlenecks_command(unit: str, year: int = typer.Option(...),
                        places: int = typer.Option(1, help="Số bậc hạng muốn tăng / Rank places "
                                                           "to gain.")) -> None:
    """Điểm nghẽn: số điểm mất ở từng chỉ số chính và phương án nhỏ nhất để tăng hạng.

    Điểm nghẽn: points lost per main indicator and the smallest plan to move up.

    Example: chiso dti bottlenecks 79 --year 2022 --places 1
    """
    from chiso.db import session_scope
    from chiso.dti.service import bottlenecks, ranking

    with session_scope() as session:
        result = ranking(session, year=year)
        found = bottlenecks(result, unit, places=places)
    points = result.framework.total_points
    table = Table("Chỉ số", "Giá trị", "Mất so với tối đa", "Mất so với tốt nhất")
    for row in found.losses:
        table.add_row(row["name_vi"], _num(row["score"]), _num(row["lost_vs_max"], 2),
                      _num(row["lost_vs_best"], 2))
    print_table(console, table)
    _print_provenance(result)
    console.print(f"Hạng / rank {found.rank} → {found.target_rank}: cần / needs "
                  f"{_num(found.needed_gain, 2)} điểm / points")
    for move in found.plan_fewest:
        console.print(f"  • {move.code}: {_num(move.current)} → {_num(move.proposed)} "
                      f"(+{_num(move.gain * points, 2)} điểm / points)")
    if found.plan_fewest:
        console.print(f"Hạng sau kế hoạch / rank after the plan: {found.rank_after_plan}")
    else:
        console.print("Không thể đạt được / not reachable")


@dti_app.command("sensitivity")
def sensitivity_command(
    year: int = typer.Option(...),
    samples: int = typer.Option(1000),
    spread: float = typer.Option(0.2, help="Biên độ thay đổi trọng số / Weights × U(1−s, 1+s)."),
    methods: str = typer.Option("framework", help="Các phương pháp chuẩn hóa, cách nhau bằng dấu "
                                                  "phẩy / Comma list: "
                                                  "framework,minmax,rank,zscore"),
) -> None:
    """Khoảng hạng Monte Carlo (phân vị 5–95) khi trọng số thay đổi.

    Monte Carlo rank intervals (5th–95th percentile) under perturbed weights.

    Example: chiso dti sensitivity --year 2022 --samples 1000 --methods framework,minmax,rank
    """
    from chiso.db import session_scope
    from chiso.dti.service import ranking, sensitivity_table

    with session_scope() as session:
        result = ranking(session, year=year)
    with Progress() as bar:
        task = bar.add_task("Monte Carlo", total=samples)
        rows = sensitivity_table(result, samples=samples, spread=spread,
                                 methods=tuple(methods.split(",")),
                                 progress=lambda n: bar.advance(task, n))
    table = Table("Hạng", "Đơn vị", "P5", "Trung vị", "P95")
    for row in rows:
        table.add_row(str(row["rank"]), row["unit_name"], str(row["p05"]), str(row["median"]),
                      str(row["p95"]))
    print_table(console, table)
    _print_provenance(result)


def _assessment(session: Session, framework: str, year: int, unit: str) -> DtiAssessment:
    from chiso.dti.assessment import open_assessment
    from chiso.dti.service import get_framework

    return open_assessment(session, get_framework(session, framework), year, unit,
                           access=_operator(session))


@assessment_app.command("export")
def assessment_export(path: Path, framework: str = typer.Option(...),
                      year: int = typer.Option(...), unit: str = typer.Option(...)) -> None:
    """Ghi phiên tự đánh giá ra bảng tính theo mẫu chung.

    Write the self-assessment in the common spreadsheet layout.

    Example: chiso dti assessment export tdg.xlsx --framework VIDU_SO_NGANH --year 2025 --unit 20
    """
    from chiso.db import session_scope
    from chiso.dti.assessment import export_xlsx

    with session_scope() as session:
        export_xlsx(_assessment(session, framework, year, unit), path)
    console.print(f"[green]✓[/] {path}")


@assessment_app.command("import")
def assessment_import(path: Path, framework: str = typer.Option(...),
                      year: int = typer.Option(...), unit: str = typer.Option(...),
                      dry_run: bool = typer.Option(False, "--dry-run")) -> None:
    """Đọc bảng tính theo mẫu chung vào phiên tự đánh giá (tất cả hoặc không).

    Read the common spreadsheet layout into the workspace (all-or-nothing).

    Example: chiso dti assessment import tdg.xlsx --framework VIDU_SO_NGANH --year 2025 --unit 20
    """
    from chiso.db import session_scope
    from chiso.dti.assessment import import_spreadsheet
    from chiso.ops.archives import check_input_file

    check_input_file(path)
    with session_scope() as session:
        found = import_spreadsheet(session, _assessment(session, framework, year, unit),
                                   path, access=_operator(session), dry_run=dry_run)
    console.print(f"[green]✓[/] {found.file}: tạo / created {found.created}, cập nhật / "
                  f"updated {found.updated}, không đổi / unchanged {found.unchanged}")


@dti_app.command("drag")
def drag_command(year: int = typer.Option(...), framework: str = typer.Option(...),
                 parent: str = typer.Option(None, help="Chỉ các đơn vị trực thuộc đơn vị này / "
                                                       "Only units under this unit."),
                 top: int = typer.Option(10)) -> None:
    """Những đơn vị kéo điểm của tỉnh xuống nhiều nhất.

    Which of a province's units pull its figures down most.

    Example: chiso dti drag --framework VIDU_CAP_XA --year 2025 --parent 20
    """
    from chiso.db import session_scope
    from chiso.dti.service import ranking, subunit_codes, unit_drag

    with session_scope() as session:
        result = ranking(session, year=year, framework_code=framework)
        codes = subunit_codes(session, parent) if parent else None
        rows = unit_drag(result, unit_codes=codes, top=top)
    table = Table("Mã", "Đơn vị / unit", "Chỉ số / index", "Kéo xuống / drag",
                  "Yếu nhất / weakest")
    for row in rows:
        table.add_row(row["unit_code"], row["unit_name"], _num(row["score"]),
                      _num(row["drag"], 5), row["worst_indicator"] or "–")
    print_table(console, table)
    _print_provenance(result)
