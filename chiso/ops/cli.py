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
    return get_settings().data_dir / "backups" / f"chiso-{stamp}.tar"


def backup_command(
    target: Path = typer.Argument(None, help="Tệp sao lưu sẽ ghi (mặc định: data/backups/…) / "
                                             "Archive to write (default: data/backups/…)."),
    portable: bool = typer.Option(False, help="Chép cơ sở dữ liệu theo định dạng riêng của "
                                              "chiso, SQLite và PostgreSQL đều đọc được / Copy "
                                              "the database in chiso's own gzip'd JSON-lines "
                                              "format, readable by SQLite and PostgreSQL alike."),
) -> None:
    """Sao lưu toàn bộ hệ thống khi vẫn đang chạy.

    Một tệp gồm cơ sở dữ liệu, kho hồ sơ một cửa, minh chứng, tệp tải lên và báo cáo đã lập, kèm
    danh sách mã kiểm tra.

    Back up the whole installation while it keeps running: one archive of the database,
    the records store, evidence files, uploads and generated reports, with a manifest of
    checksums.

    Example: chiso backup /mnt/usb/chiso-2025-06-30.tar
    """
    from chiso.ops.service import BackupError, backup

    target = target or _default_target()
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
    source: Path = typer.Argument(..., help="Tệp sao lưu do `chiso backup` ghi / An archive "
                                            "written by `chiso backup`."),
    yes: bool = typer.Option(False, "--yes", help="Xác nhận: nội dung hiện có sẽ bị thay / "
                                                  "Confirm: the current content is replaced."),
    check: bool = typer.Option(False, "--check", help="Chỉ đối chiếu bản sao lưu với danh sách "
                                                      "tệp, không thay đổi gì / Only verify the "
                                                      "archive against its manifest; change "
                                                      "nothing."),
) -> None:
    """Khôi phục cơ sở dữ liệu và thư mục dữ liệu từ bản sao lưu.

    Tất cả hoặc không, sau khi đối chiếu từng tệp với danh sách trong bản sao lưu. Máy chủ đang chạy
    bỏ số liệu ghi nhớ ở yêu cầu kế tiếp.

    Replace the database and the data directory's files by a backup's, all or nothing,
    after checking every file against the archive's manifest. Running servers drop their
    memoised figures on their next request.

    Example: chiso restore data/backups/chiso-20250630-170000.tar --yes
    """
    from chiso.ops.service import BackupError, restore, verify

    if check:
        try:
            manifest = verify(source)
        except BackupError as exc:
            console.print(f"[red]✗[/] {exc}")
            raise typer.Exit(1) from exc
        console.print(f"[green]✓[/] Tệp sao lưu nguyên vẹn / the backup is intact: "
                      f"{len(manifest.files)} tệp / files, {manifest.created_at}")
        return
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
