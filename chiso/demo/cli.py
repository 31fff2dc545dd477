"""`chiso demo`: build the demo province and, optionally, serve it."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.table import Table

from chiso.settings import get_settings

console = Console()


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    serve: bool = typer.Option(False, "--serve", help="Start the web app afterwards."),
    today: str = typer.Option("", help="Pretend today is this date (YYYY-MM-DD); "
                              "default CHISO_TODAY or the real date."),
) -> None:
    """Build a believable demo province — Lạng Sơn with its real communes and departments,
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
    from chiso.text import format_number

    with console.status("Đang dựng dữ liệu minh họa / building the demo…") as status:
        result = build_demo(today=day, step=lambda text: status.update(text))
    console.print(f"[green]✓[/] Demo Lạng Sơn: {format_number(result.values, 0)} số liệu / "
                  f"values; {format_number(result.records, 0)} hồ sơ một cửa / one-stop "
                  "dossiers; "
                  f"{result.tasks} nhiệm vụ / tasks; DTI minh họa / illustrative DTI: "
                  f"{result.dti_provinces} tỉnh / provinces; "
                  f"tình trạng 2025 / 2025 statuses: {result.statuses_2025}")
    _print_credentials(result.credentials)
    if serve:
        from chiso.cli.core import run_server

        run_server()


def _print_credentials(credentials: list[tuple[str, str, str]]) -> None:
    if not credentials:
        console.print("Tài khoản đã có từ lần trước / accounts exist from an earlier run.")
        return
    table = Table(title="Tài khoản minh họa (mật khẩu chỉ hiện một lần) / demo accounts")
    for column in ("Tài khoản / user", "Mật khẩu / password", "Vai trò / role"):
        table.add_column(column)
    for row in credentials:
        table.add_row(*row)
    console.print(table)
