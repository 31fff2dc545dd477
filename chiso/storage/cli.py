"""`chiso storage`: where files live, and moving them into the configured store."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
storage_app = typer.Typer(
    help="Tệp đã lưu: minh chứng, báo cáo, kho hồ sơ một cửa.\n\nStored files: evidence, "
         "reports, the records store.\n\nExample: chiso storage status",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(storage_app, name="storage")


@storage_app.command("status")
def status_command() -> None:
    """Tệp và kho hồ sơ đang ở đâu, cơ sở dữ liệu chứa bao nhiêu.

    Where files and the records store live, and how much the database holds.

    Example: chiso storage status
    """
    from chiso.settings import get_settings
    from chiso.storage.backends import database_size
    from chiso.storage.service import legacy_files

    settings = get_settings()
    count, size = database_size()
    console.print(f"Tệp / files: {settings.file_store} · hồ sơ một cửa / records: "
                  f"{settings.records_store}")
    console.print(f"Trong CSDL / in the database: {count} tệp / files, "
                  f"{size / 1024 / 1024:.1f} MB")
    waiting = sum(1 for _ in legacy_files())
    if waiting:
        console.print(f"[yellow]![/] {waiting} tệp ở thư mục cũ; chạy 'chiso storage migrate' "
                      f"/ {waiting} files in old folders; run 'chiso storage migrate'")


@storage_app.command("migrate")
def migrate_command() -> None:
    """Chuyển các tệp lưu theo cách cũ vào kho đã cấu hình.

    Copy files kept the old way into the configured stores.

    Evidence files in the old folders go into CHISO_FILE_STORE; with
    CHISO_RECORDS_STORE=database the local records store is published in the database.
    Safe to run again: what is already stored is skipped.

    Example: chiso storage migrate
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.storage.migrate import migrate

    with session_scope() as session:
        report = migrate(session, access=Access.system(session, "storage-migrate"))
    console.print(f"[green]✓[/] Đã chép / copied {report.copied} tệp / files "
                  f"({report.already} đã có / already stored); hồ sơ một cửa / records: "
                  f"{report.records_published} tệp / files")
    for path in report.damaged:
        console.print(f"[red]✗[/] Tệp hỏng, không chép / damaged, not copied: {path}")
    if report.damaged:
        raise typer.Exit(1)
