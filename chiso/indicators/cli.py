"""`chiso catalog …`: load the indicator catalogue (shipped or your own YAML), list it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chiso.cli.tables import print_table

console = Console()
catalog_app = typer.Typer(help="Danh mục chỉ tiêu: trụ cột và chỉ tiêu.\n\nIndicator catalogue: "
                               "pillars and indicators.\n\nExample: chiso catalog list --pillar "
                               "CQS",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")


@catalog_app.command("load")
def load(
    file: Path = typer.Argument(None, dir_okay=False,
                                help="Tệp YAML danh mục của đơn vị (mặc định: danh mục có sẵn) / "
                                     "Your own catalogue YAML (default: the shipped one)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Chỉ kiểm tra và báo cáo, không lưu / "
                                                          "Check and report, store nothing."),
) -> None:
    """Nạp danh mục chỉ tiêu có sẵn, hoặc tệp YAML thêm, sửa chỉ tiêu.

    Tất cả hoặc không: tệp có lỗi thì không lưu gì và liệt kê mọi lỗi; nạp lại cùng tệp không đổi
    gì.

    Load the shipped indicator catalogue, or a YAML file that adds or updates indicators.
    All or nothing: a file with an error stores nothing and lists every problem; loading the
    same file again changes nothing.

    Example: chiso catalog load my-indicators.yaml --dry-run
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.indicators.problems import InputRejected
    from chiso.indicators.service import load_catalog

    try:
        with session_scope() as session:
            summary = load_catalog(session, file, access=Access.system(session, "cli"),
                                   dry_run=dry_run)
            if dry_run:
                session.rollback()
    except InputRejected as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    mode = "[yellow]Chạy thử, không lưu / dry run, nothing stored[/]\n" if dry_run else ""
    console.print(
        f"{mode}[green]✓[/] {summary.file} (phiên bản / version {summary.version}): "
        f"trụ cột / pillars +{len(summary.pillars_inserted)} ~{len(summary.pillars_updated)}; "
        f"chỉ số / indicators: thêm {len(summary.inserted)} inserted, cập nhật "
        f"{len(summary.updated)} updated, giữ nguyên {len(summary.unchanged)} unchanged",
        highlight=False)
    for code in summary.inserted:
        console.print(f"  + {code}", highlight=False)
    for code in summary.updated:
        console.print(f"  ~ {code}", highlight=False)


@catalog_app.command("list")
def list_indicators(
    pillar: str = typer.Option(None, "--pillar", help="Chỉ trụ cột này (mã trụ cột) / Only this "
                                                      "pillar: CQS, KTS, XHS, …"),
    lang: str = typer.Option("vi", "--lang", help="Tên bằng tiếng Việt (vi) hoặc tiếng Anh (en) "
                                                  "/ Names in 'vi' or 'en'."),
) -> None:
    """Liệt kê chỉ tiêu cùng đơn vị tính, loại, chiều tốt và cách tổng hợp.

    List the indicators with their unit, kind, direction and aggregation.

    Example: chiso catalog list --pillar CQS
    """
    from chiso.db import session_scope
    from chiso.indicators.service import list_indicators as indicators

    table = Table()
    table.add_column("Mã / code", no_wrap=True)  # a code cut in two cannot be copied
    for header in ("Tên / name", "Đơn vị / unit", "Loại / kind", "Hướng / direction",
                   "Tổng hợp / aggregation"):
        table.add_column(header)
    with session_scope() as session:
        rows = indicators(session, pillar)
        for i in rows:
            table.add_row(i.code, i.name_en if lang == "en" else i.name_vi,
                          i.unit_en if lang == "en" else i.unit_vi, i.kind, i.direction,
                          f"{i.unit_aggregation} / {i.time_aggregation}")
    if not rows:
        console.print("Chưa có chỉ số nào; chạy / no indicators yet; run: chiso catalog load")
        raise typer.Exit(1 if pillar else 0)
    print_table(console, table)
    console.print(f"{len(rows)} chỉ số / indicators")


@catalog_app.command("frameworks")
def frameworks_cmd(
    load: Path = typer.Option(None, "--load", dir_okay=False,
                              help="Nạp tệp YAML bộ mục tiêu này trước (mặc định: chỉ xem) / "
                                   "Load this frameworks YAML first (default: show only)."),
    shipped: bool = typer.Option(False, "--shipped", help="Nạp các bộ mục tiêu có sẵn trước / "
                                                          "Load the shipped frameworks first."),
) -> None:
    """Các bộ mục tiêu quốc gia, mỗi mục tiêu kèm văn bản và nguồn.

    NQ 57-NQ/TW đến 2030, kế hoạch năm 2026, …: số hiệu, ngày, điều khoản và nguồn; có thể nạp tệp
    trước.

    National frameworks of targets (NQ 57-NQ/TW to 2030, the 2026 plan, …), each target
    with its document (số hiệu, date), article and source; optionally load a file first.

    Example: chiso catalog frameworks --load my-frameworks.yaml
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.indicators.frameworks import framework_listing, load_frameworks
    from chiso.indicators.problems import InputRejected
    from chiso.text import format_date, format_number

    try:
        with session_scope() as session:
            if load or shipped:
                summary = load_frameworks(session, load, access=Access.system(session, "cli"))
                console.print(f"[green]✓[/] {summary.file}: văn bản / documents "
                              f"{len(summary.documents)}, khung / frameworks "
                              f"{len(summary.frameworks)}, mục tiêu / targets "
                              f"{len(summary.targets)} thêm hoặc sửa / added or changed",
                              highlight=False)
            for framework, document, targets in framework_listing(session):
                day = document.issued_on or document.reported_on
                table = Table("Chỉ số / indicator", "Năm / year", "Mục tiêu / target",
                              "Văn bản, điều / document, article",
                              title=f"{framework.name_vi} — {document.code} {format_date(day)}")
                for t in targets:
                    value = (f"{format_number(t.value, t.decimals)}–"
                             f"{format_number(t.value_high, t.decimals)}"
                             if t.comparator == "between" else
                             f"{t.comparator} {format_number(t.value, t.decimals)}")
                    table.add_row(f"{t.indicator_name_vi}\n[dim]{t.indicator_code}[/]",
                                  str(t.year), f"{value} {t.unit_vi}",
                                  f"{t.document.code}, {t.article}")
                print_table(console, table)
    except InputRejected as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
