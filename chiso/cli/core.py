"""Commands about the installation itself: init, db upgrade, serve."""

from __future__ import annotations

import typer
from rich.console import Console

from chiso.settings import get_settings

console = Console()
db_app = typer.Typer(help="Cấu trúc cơ sở dữ liệu.\n\nDatabase schema.\n\nExample: chiso db "
                          "upgrade", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(serve)
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Tạo hoặc cập nhật cấu trúc cơ sở dữ liệu lên phiên bản hiện tại.

    Create or update the database schema to the current version.

    Example: chiso db upgrade
    """
    from chiso.db.migrate import upgrade

    upgrade()
    console.print(f"[green]✓[/] Cơ sở dữ liệu đã cập nhật / database is up to date: "
                  f"{_safe_url()}")


def init(
    admin: str = typer.Option("admin", help="Tên đăng nhập của quản trị viên đầu tiên / User "
                                            "name of the first administrator."),
) -> None:
    """Khởi tạo: cơ sở dữ liệu, danh mục đơn vị, chỉ tiêu và quản trị viên đầu tiên.

    Mật khẩu của quản trị viên được sinh ra và chỉ in một lần.

    Create the database, load the official units and catalogue, and create the first admin,
    whose generated password is printed once.

    Example: chiso init --admin admin
    """
    from chiso.setup import initialise

    result = initialise(admin_username=admin)
    console.print(f"[green]✓[/] chiso sẵn sàng / ready: {_safe_url()}")
    if result.admin_password:
        console.print(
            f"Quản trị viên / administrator: [bold]{admin}[/]  mật khẩu / password: "
            f"[bold]{result.admin_password}[/]  (chỉ hiện một lần / shown once)"
        )


def serve(
    host: str | None = typer.Option(None, help="Địa chỉ lắng nghe (mặc định theo CHISO_HOST) / "
                                               "Address to listen on (default from CHISO_HOST)."),
    port: int | None = typer.Option(None, help="Cổng (mặc định theo CHISO_PORT) / Port (default "
                                               "from CHISO_PORT)."),
    workers: int | None = typer.Option(None, min=1, help="Số tiến trình máy chủ (mặc định theo "
                                                         "CHISO_WORKERS) / Server processes "
                                                         "(default from CHISO_WORKERS; one per "
                                                         "processor core under load)."),
) -> None:
    """Chạy ứng dụng web.

    Start the web application.

    Example: chiso serve --port 8000
    """
    run_server(host=host, port=port, workers=workers)


def run_server(*, host: str | None = None, port: int | None = None,
               workers: int | None = None) -> None:
    """Serve the web app until stopped; None takes the setting (`chiso serve`, `chiso demo
    --serve`). A plain function: a Typer command called from Python gets its option
    objects, not their defaults."""
    import uvicorn

    from chiso.web.app import create_app
    from chiso.web.cores import pin_server_process

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.workers
    app = create_app()  # here, once: refuse an unmigrated database before forking
    console.print(f"chiso đang chạy tại / running at [bold]http://{host}:{port}/[/]")
    if workers == 1:
        pin_server_process()
        uvicorn.run(app, host=host, port=port, log_level="warning")
    else:  # each worker pins itself to a core of its own (chiso.web.cores)
        uvicorn.run("chiso.web.cores:pinned_app", factory=True, workers=workers, host=host,
                    port=port, log_level="warning")


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().sqlalchemy_url).render_as_string(hide_password=True)
