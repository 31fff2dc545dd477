"""`chiso scoring …`: load a scoring framework, show a unit's scorecard and the rankings."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chiso.cli.tables import print_table

console = Console()
scoring_app = typer.Typer(help="Chấm điểm sở, ngành và xã: bộ tiêu chí, điểm có minh chứng, xếp "
                               "hạng.\n\nScored departments and communes: rubric indices, scores "
                               "with evidence, rankings.\n\nExample: chiso scoring rank "
                               "VD-CDS-1000 2025",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(scoring_app, name="scoring")


@scoring_app.command("load")
def load(file: Path = typer.Argument(..., dir_okay=False,
                                     help="Tệp YAML bộ chỉ số chấm điểm (docs/scoring.md) / A "
                                          "scoring framework YAML (docs/scoring.md).")) -> None:
    """Nạp hoặc cập nhật bộ chỉ số chấm điểm.

    Tất cả hoặc không; nạp lại không đổi gì; tiêu chí không bao giờ bị xóa.

    Load or update a scoring framework (bộ chỉ số). All or nothing; loading again
    changes nothing; criteria are never deleted.

    Example: chiso scoring load chiso/scoring/data/vi-du-chuyen-doi-so-1000.yaml
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.scoring.frameworks import load_scoring_framework

    try:
        with session_scope() as session:
            summary = load_scoring_framework(session, file,
                                             access=Access.system(session, "cli"))
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    state = "tạo mới / created" if summary.created else "cập nhật / updated"
    console.print(f"[green]✓[/] {summary.code} ({summary.file}): {state}; tiêu chí thêm hoặc "
                  f"sửa / criteria added or changed: {len(summary.changed)}", highlight=False)


@scoring_app.command("rank")
def rank(
    framework: str = typer.Argument(..., help="Mã bộ chỉ số / The framework's code."),
    period: str = typer.Argument(..., help="Kỳ đánh giá, ví dụ 2025 / The assessment period, "
                                           "e.g. 2025."),
    group: str = typer.Option("departments", "--group", help="Nhóm: sở, ngành (departments) hoặc "
                                                             "xã (communes) / departments or "
                                                             "communes."),
) -> None:
    """Xếp hạng sở, ngành hoặc xã theo tổng điểm thẩm định (chưa có thì điểm tự chấm).

    Rank departments or communes on their appraised (else self) totals.

    Example: chiso scoring rank VD-CDS-1000 2025 --group communes
    """
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.scoring.service import ranking
    from chiso.text import format_number

    table = Table("Hạng / rank", "Đơn vị / unit", "Tự chấm / self", "Thẩm định / appraised",
                  "Điểm xếp hạng / ranked on", title=f"{framework} · {period} · {group}")
    try:
        with session_scope() as session:
            for row in ranking(session, framework_code=framework, period=period, group=group):
                table.add_row(str(row.rank or "–"), row.unit_name,
                              format_number(row.self_total, 2),
                              format_number(row.appraised_total, 2),
                              (format_number(row.score, 2) + (" (thẩm định)" if row.appraised
                                                              else " (tự chấm)"))
                              if row.score is not None else "chưa chấm / not scored")
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    print_table(console, table)


@scoring_app.command("card")
def card(
    framework: str = typer.Argument(..., help="Mã bộ chỉ số / The framework's code."),
    period: str = typer.Argument(..., help="Kỳ đánh giá, ví dụ 2025 / The assessment period, "
                                           "e.g. 2025."),
    unit: str = typer.Argument(..., help="Mã đơn vị / The unit's code."),
) -> None:
    """Bảng điểm của một đơn vị: điểm tự chấm, điểm thẩm định và minh chứng từng tiêu chí.

    A unit's scorecard: each criterion's self and appraised points and evidence.

    Example: chiso scoring card VD-CDS-1000 2025 20.SKHCN
    """
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.periods import parse_period
    from chiso.scoring.service import ScoringNotFound, scorecard
    from chiso.text import format_date, format_number
    from chiso.values.service import unit_for_code

    try:
        with session_scope() as session:
            found = unit_for_code(session, unit, parse_period(period).id)
            if found is None:
                raise ScoringNotFound(f"đơn vị mã '{unit}'", f"unit '{unit}'")
            result = scorecard(session, framework_code=framework, unit=found, period=period)
            table = Table("Tiêu chí / criterion", "Tối đa / max", "Tự chấm / self",
                          "Thẩm định / appraised", "Minh chứng / evidence",
                          title=f"{found.name} · {framework} · {period}: tự chấm "
                          f"{format_number(result.self_total, 2)}, thẩm định "
                          f"{format_number(result.appraised_total, 2)}")
            for row in result.rows:
                entry = row.self_entry
                evidence = (f"{entry.evidence_number} {format_date(entry.evidence_date)}"
                            if entry and entry.evidence_number else "")
                table.add_row(f"{'  ' * row.depth}{row.criterion.code}. "
                              f"{row.criterion.name_vi}",
                              format_number(row.criterion.max_points, 0),
                              format_number(row.self_points, 2),
                              format_number(row.appraised_points, 2), evidence.strip())
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    print_table(console, table)
