"""`chiso dti ...`: frameworks, published results, ranks, profiles, what-if, bottlenecks,
sensitivity and the self-assessment spreadsheet. Commands are thin: the work is in
service.py, assessment.py and engine.py."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from chiso.text import format_number

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


def _fail(message: str) -> None:
    console.print(f"[red]✗[/] {message}")
    raise typer.Exit(1)


def _num(value: float | None, decimals: int = 4) -> str:
    return format_number(value, decimals) if value is not None else "–"


@framework_app.command("load")
def framework_load(path: Path, dry_run: bool = typer.Option(False, "--dry-run")) -> None:
    """Validate and store a framework file (YAML) as a new version.

    Example: chiso dti framework load khung_so_nganh_2025.yaml
    """
    from chiso.db import session_scope
    from chiso.dti.framework import FrameworkError
    from chiso.dti.service import load_framework_path

    try:
        with session_scope() as session:
            result = load_framework_path(session, path, dry_run=dry_run)
    except FrameworkError as exc:
        _fail(str(exc))
        return
    state = "sẽ tạo / would create" if dry_run and result.created else (
        "đã tạo / created" if result.created else "không đổi / unchanged")
    console.print(f"[green]✓[/] {result.code} v{result.version}: {state}")


@framework_app.command("list")
def framework_list() -> None:
    """List the current frameworks.

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
    console.print(table)


@results_app.command("import")
def results_import(
    path: Path,
    framework: str = typer.Option("DTI_TINH_922", help="Framework code."),
    year: int = typer.Option(None, help="Year, when the file has no 'Năm' column."),
    dry_run: bool = typer.Option(False, "--dry-run"),
) -> None:
    """Import a published ranking table (CSV/XLSX): unit code, name, main indicators, total.

    Example: chiso dti results import dti_2022.xlsx --framework DTI_TINH_922 --year 2022
    """
    from chiso.db import session_scope
    from chiso.dti.framework import FrameworkError
    from chiso.dti.service import ImportRejected, import_results

    try:
        with session_scope() as session:
            summary = import_results(session, path, framework_code=framework, year=year,
                                     dry_run=dry_run)
    except ImportRejected as exc:
        for error in exc.errors:
            console.print(f"[red]✗[/] {error}")
        raise typer.Exit(1) from exc
    except FrameworkError as exc:
        _fail(str(exc))
        return
    prefix = "(chạy thử / dry run) " if dry_run else ""
    console.print(f"[green]✓[/] {prefix}{summary.file}: {summary.units} đơn vị / units, "
                  f"thêm / inserted {summary.inserted}, cập nhật / updated {summary.updated}, "
                  f"không đổi / unchanged {summary.unchanged}")


@dti_app.command("rank")
def rank(
    year: int = typer.Option(..., help="Assessment year."),
    framework: str = typer.Option(None, help="Framework code (default: the year's)."),
    merged: bool = typer.Option(False, help="Express over today's (merged) units."),
    top: int = typer.Option(0, help="Show only the first N."),
) -> None:
    """Rank units by the composite index, with main-indicator ranks and the change.

    Example: chiso dti rank --year 2022
    """
    from chiso.db import session_scope
    from chiso.dti.service import check_against_published, ranking

    with session_scope() as session:
        result = ranking(session, year=year, framework_code=framework, merged=merged)
    mains = [n.code for n in result.framework.main_indicators if n.weight]
    table = Table("Hạng", "±", "Mã", "Đơn vị / unit", "Chỉ số / index", *mains,
                  title=f"{result.framework.name_vi} — {year}")
    rows = result.rows()
    for row in rows[:top or None]:
        change = row["rank_change"]
        table.add_row(str(row["rank"] or "–"), "–" if change is None else f"{change:+d}",
                      row["unit_code"], row["unit_name"], _num(row["total"]),
                      *[_num(row["nodes"][c]["score"]) for c in mains])
    console.print(table)
    bad = [c for c in check_against_published(result) if not (c.total_ok and c.rank_ok)]
    if bad:
        console.print(f"[yellow]![/] {len(bad)} đơn vị lệch kết quả công bố / differ from "
                      f"the published figures: {', '.join(c.unit_code for c in bad)}")


@dti_app.command("profile")
def profile_command(unit: str, year: int = typer.Option(...)) -> None:
    """A unit's main indicators against the median and the best.

    Example: chiso dti profile 48 --year 2022
    """
    from chiso.db import session_scope
    from chiso.dti.service import profile, ranking

    with session_scope() as session:
        found = profile(ranking(session, year=year), unit)
    console.print(f"[bold]{found.unit_name}[/] {year}: {_num(found.total)} — hạng / rank "
                  f"{found.rank}/{found.units}")
    table = Table("Chỉ số chính", "Điểm", "Giá trị", "Hạng", "Trung vị", "Cao nhất")
    for row in found.indicators:
        table.add_row(row["name_vi"], _num(row["points"], 0), _num(row["score"]),
                      str(row["rank"]), _num(row["median"]), f"{_num(row['best'])} "
                      f"({row['best_unit']})")
    console.print(table)


def _parse_changes(values: list[str]) -> dict[str, float]:
    from chiso.text import parse_number

    changes = {}
    for item in values:
        code, _, raw = item.partition("=")
        if not raw:
            _fail(f"'{item}': dùng MÃ=GIÁ_TRỊ / use CODE=VALUE")
        changes[code.strip()] = float(parse_number(raw).value)
    return changes


@dti_app.command("what-if")
def what_if_command(unit: str, year: int = typer.Option(...),
                    set_: list[str] = typer.Option(..., "--set", help="CODE=VALUE")) -> None:
    """Change indicator values of a unit; print the new index, rank and points gained.

    Example: chiso dti what-if 79 --year 2022 --set NLS=0,85 --set XHS=0,5
    """
    from chiso.db import session_scope
    from chiso.dti.service import ranking, what_if

    with session_scope() as session:
        found = what_if(ranking(session, year=year), unit, _parse_changes(set_))
    console.print(f"Chỉ số / index {_num(found.total_before)} → [bold]{_num(found.total_after)}"
                  f"[/] ({found.points_gained:+.2f} điểm / points); hạng / rank "
                  f"{found.rank_before} → [bold]{found.rank_after}[/]/{found.units}")


@dti_app.command("bottlenecks")
def bottlenecks_command(unit: str, year: int = typer.Option(...),
                        places: int = typer.Option(1, help="Rank places to gain.")) -> None:
    """Điểm nghẽn: points lost per main indicator and the smallest plan to move up.

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
    console.print(table)
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
    spread: float = typer.Option(0.2, help="Weights × U(1−s, 1+s)."),
    methods: str = typer.Option("framework", help="Comma list: framework,minmax,rank,zscore"),
) -> None:
    """Monte Carlo rank intervals (5th–95th percentile) under perturbed weights.

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
    console.print(table)


def _assessment(session, framework: str, year: int, unit: str):  # type: ignore[no-untyped-def]
    from chiso.dti.assessment import open_assessment
    from chiso.dti.service import get_framework

    return open_assessment(session, get_framework(session, framework), year, unit)


@assessment_app.command("export")
def assessment_export(path: Path, framework: str = typer.Option(...),
                      year: int = typer.Option(...), unit: str = typer.Option(...)) -> None:
    """Write the self-assessment in the common spreadsheet layout.

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
    """Read the common spreadsheet layout into the workspace (all-or-nothing).

    Example: chiso dti assessment import tdg.xlsx --framework VIDU_SO_NGANH --year 2025 --unit 20
    """
    from chiso.db import session_scope
    from chiso.dti.assessment import AssessmentError, import_spreadsheet
    from chiso.dti.service import ImportRejected

    try:
        with session_scope() as session:
            found = import_spreadsheet(session, _assessment(session, framework, year, unit),
                                       path, dry_run=dry_run)
    except ImportRejected as exc:
        for error in exc.errors:
            console.print(f"[red]✗[/] {error}")
        raise typer.Exit(1) from exc
    except AssessmentError as exc:
        _fail(str(exc))
        return
    console.print(f"[green]✓[/] {found.file}: tạo / created {found.created}, cập nhật / "
                  f"updated {found.updated}, không đổi / unchanged {found.unchanged}")


@dti_app.command("drag")
def drag_command(year: int = typer.Option(...), framework: str = typer.Option(...),
                 parent: str = typer.Option(None, help="Only units under this unit."),
                 top: int = typer.Option(10)) -> None:
    """Which of a province's units pull its figures down most.

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
    console.print(table)
