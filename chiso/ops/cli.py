"""`chiso backup` and `chiso restore`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

console = Console()


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def _default_target() -> Path:
    from chiso.settings import get_settings

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite" if get_settings().is_sqlite else "pgdump"
    return get_settings().data_dir / "backups" / f"chiso-{stamp}.{suffix}"


def backup_command(
    target: Path = typer.Argument(None, help="File to write (default: data/backups/…)."),
    portable: bool = typer.Option(False, help="chiso's own gzip'd JSON-lines format, readable "
                                              "by SQLite and PostgreSQL alike."),
) -> None:
    """Back up the whole database while the application keeps running.

    Example: chiso backup /mnt/usb/chiso-2025-06-30.sqlite
    """
    from chiso.ops.service import BackupError, backup

    target = target or _default_target()
    if portable and target.suffix != ".gz":
        target = target.with_name(target.name + ".jsonl.gz")
    try:
        with _progress() as (bar, task):
            result = backup(target, portable=portable,
                            progress=lambda table, n: bar.update(task, description=table))
    except BackupError as exc:
        console.print(f"[red]✗[/] {exc}")
        raise typer.Exit(1) from exc
    size = result.path.stat().st_size / 1024 / 1024
    console.print(f"[green]✓[/] Đã sao lưu / backed up ({result.method}, {size:.1f} MB): "
                  f"{result.path}")


def restore_command(
    source: Path = typer.Argument(..., help="A file written by `chiso backup`."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: the current content is replaced."),
) -> None:
    """Replace the database's content by a backup, all or nothing.

    Example: chiso restore data/backups/chiso-20250630-170000.sqlite --yes
    """
    from chiso.ops.service import BackupError, restore

    if not yes:
        console.print("[yellow]![/] Khôi phục sẽ thay toàn bộ dữ liệu hiện có; thêm --yes để "
                      "xác nhận / restoring replaces all current data; add --yes to confirm")
        raise typer.Exit(2)
    try:
        with _progress() as (bar, task):
            result = restore(source,
                             progress=lambda table, n: bar.update(task, description=table))
    except BackupError as exc:
        console.print(f"[red]✗[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] Đã khôi phục / restored ({result.method}) từ / from {source}")


class _progress:
    """A spinner naming the table being copied (sizes are unknown in advance)."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                            console=console, transient=True)
        self.bar.__enter__()
        return self.bar, self.bar.add_task("…", total=None)

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)  # type: ignore[arg-type]
