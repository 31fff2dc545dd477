"""`chiso demo`: build the demo province and, optionally, serve it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from chiso.cli.tables import print_table
from chiso.settings import get_settings

if TYPE_CHECKING:  # the CLI starts without polars
    from chiso.demo.provenance import Provenance

console = Console()


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    serve: bool = typer.Option(False, "--serve", help="Chạy ứng dụng web sau khi dựng / Start "
                                                      "the web app afterwards."),
    today: str = typer.Option("", help="Coi hôm nay là ngày này (YYYY-MM-DD); mặc định "
                                       "CHISO_TODAY hoặc ngày thật / Pretend today is this date "
                                       "(YYYY-MM-DD); default CHISO_TODAY or the real date."),
) -> None:
    """Dựng tỉnh minh họa Lạng Sơn, số liệu từ 2022 đến nay.

    Các xã, sở thật, kế hoạch và mục tiêu 2023–2026, số liệu hằng tháng từ 2022 đến nay, trên cơ sở
    dữ liệu đã cấu hình (mặc định một tệp SQLite). Cùng một ngày cho cùng một kết quả.

    Build a believable demo province — Lạng Sơn with its real communes and departments,
    plans with targets for 2023–2026 and monthly data from 2022 to today — on the configured
    database (an embedded SQLite file by default). Deterministic for a given date.

    Example: chiso demo --serve
    """
    import os

    from chiso.demo.service import build_demo
    from chiso.settings import reset_settings_cache

    if today:  # every part of chiso (status, task deadlines) must see the same "today"
        os.environ["CHISO_TODAY"] = dt.date.fromisoformat(today).isoformat()
        reset_settings_cache()
    day = get_settings().current_date()
    with console.status("Đang dựng dữ liệu minh họa / building the demo…") as status:
        result = build_demo(today=day, step=lambda text: status.update(text))
    _print_summary(result.provenance)
    _print_credentials(result.credentials)
    if serve:
        from chiso.cli.core import run_server

        run_server()


def _print_summary(facts: Provenance) -> None:
    """What was built: the real parts with their documents, the invented parts marked
    (they are marked 'Số liệu minh họa' on every page and report too)."""
    from chiso.demo.provenance import invented_lines, real_lines, status_line

    console.print("[green]✓[/] Demo Lạng Sơn đã dựng / built")
    console.print("[bold]Số liệu thật, có nguồn / real, with their source:[/]")
    for line in real_lines(facts):
        console.print(f"  • {line}")
    console.print("[bold yellow]Số liệu minh họa (bịa, có đánh dấu) / illustrative (invented, "
                  "marked):[/]")
    for line in invented_lines(facts):
        console.print(f"  • {line}")
    console.print("Mục tiêu năm 2025 (năm đã kết thúc; số liệu minh họa) / 2025 targets (a "
                  f"closed year; illustrative): {status_line(facts.statuses_2025)}")


def _print_credentials(credentials: list[tuple[str, str, str]]) -> None:
    if not credentials:
        console.print("Tài khoản đã có từ lần trước / accounts exist from an earlier run.")
        return
    table = Table(title="Tài khoản minh họa (mật khẩu chỉ hiện một lần) / demo accounts")
    for column in ("Tài khoản / user", "Mật khẩu / password", "Vai trò / role"):
        table.add_column(column)
    for user, password, role in credentials:
        table.add_row(user, password, role_name(role))
    print_table(console, table)


def role_name(role: str) -> str:
    """'Cơ quan thường trực / standing office', never the code 'standing_office'."""
    from chiso.web.i18n import gettext_for

    english = {"admin": "administrator"}.get(role, role.replace("_", " "))
    return f"{gettext_for('vi')(role)} / {english}"
