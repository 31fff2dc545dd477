"""`chiso users …`: accounts from the command line (for the first days and for scripts)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from chiso.accounts.access import Access, Action
from chiso.cli.tables import print_table

console = Console()
CLI_JOB = "cli"
"""The operator's authority at the console: audited as `system:cli`."""
users_app = typer.Typer(help="Tài khoản người dùng / user accounts.\n\nExample: chiso users list",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _fail(message: str) -> None:
    console.print(f"[red]✗[/] {message}")
    raise typer.Exit(1)


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="Tên đăng nhập (chữ thường) / User name (lower "
                                             "case)."),
    role: str = typer.Option(..., help="Vai trò: quản trị (admin), cơ quan thường trực "
                                       "(standing_office), cán bộ đầu mối (focal_officer), lãnh "
                                       "đạo (leader), người xem (viewer) / admin, "
                                       "standing_office, focal_officer, leader, viewer"),
    unit: str = typer.Option("", help="Mã đơn vị của vai trò (không cần cho quản trị, lãnh đạo) "
                                      "/ Unit code the role applies to (not for admin/leader)."),
    full_name: str = typer.Option("", help="Họ tên, ví dụ 'Nguyễn Văn A' / Full name, e.g. "
                                           "'Nguyễn Văn A'."),
    email: str = typer.Option("", help="Thư điện tử để đặt lại mật khẩu / E-mail for password "
                                       "resets."),
    subunits: bool = typer.Option(True, help="Cả các đơn vị trực thuộc / Also the unit's "
                                             "sub-units."),
) -> None:
    """Tạo tài khoản; mật khẩu sinh ra chỉ in một lần.

    Create a user; a generated password is printed once.

    Example: chiso users add nva --role focal_officer --unit 06187 --full-name "Nguyễn Văn A"
    """
    from chiso.accounts.passwords import generate_password
    from chiso.accounts.service import AccountError, create_user
    from chiso.admin.service import parse_role_choice
    from chiso.db import session_scope

    password = generate_password()
    try:
        with session_scope() as session:
            choice = parse_role_choice(session, role=role, unit_code=unit)
            create_user(session, username=username, password=password, role=choice.role,
                        unit_id=choice.unit_id, full_name=full_name, email=email,
                        include_subunits=subunits, access=Access.system(session, CLI_JOB))
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"[green]✓[/] {username}  mật khẩu / password: [bold]{password}[/]  "
                  "(chỉ hiện một lần / shown once)")


@users_app.command("list")
def list_command() -> None:
    """Liệt kê tài khoản với vai trò, đơn vị và trạng thái.

    List users with their roles, units and status.

    Example: chiso users list
    """
    from chiso.accounts.service import list_users
    from chiso.admin.service import membership_labels
    from chiso.db import session_scope

    with session_scope() as session:
        users = list_users(session)
        labels = membership_labels(session, users)
        table = Table("Tài khoản / user", "Họ tên / full name", "Thư / e-mail",
                      "Vai trò @ đơn vị / role @ unit", "Trạng thái / state",
                      caption="(+): cả các đơn vị trực thuộc / with its sub-units")
        for user in users:
            table.add_row(user.username, user.full_name, user.email, labels[user.id],
                          "hoạt động / active" if user.is_active else "đã khóa / disabled")
    print_table(console, table)


@users_app.command("disable")
def disable(username: str = typer.Argument(..., help="Tên đăng nhập / User name.")) -> None:
    """Khóa tài khoản: không đăng nhập được nữa; phiên và mã truy cập đều hết hiệu lực.

    Disable an account: it can no longer sign in; its sessions and tokens end.

    Example: chiso users disable nva
    """
    _set_active(username, False)


@users_app.command("enable")
def enable(username: str = typer.Argument(..., help="Tên đăng nhập / User name.")) -> None:
    """Mở lại tài khoản đã khóa.

    Enable a disabled account again.

    Example: chiso users enable nva
    """
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    from chiso.accounts.service import AccountError, find_user, set_active
    from chiso.db import session_scope

    try:
        with session_scope() as session:
            set_active(session, find_user(session, username), active,
                       access=Access.system(session, CLI_JOB))
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"[green]✓[/] {username}: {'enabled' if active else 'disabled'}")


@users_app.command("set-role")
def set_role(
    username: str = typer.Argument(..., help="Tên đăng nhập / User name."),
    role: str = typer.Option(..., help="Vai trò: quản trị (admin), cơ quan thường trực "
                                       "(standing_office), cán bộ đầu mối (focal_officer), lãnh "
                                       "đạo (leader), người xem (viewer) / admin, "
                                       "standing_office, focal_officer, leader, viewer"),
    unit: str = typer.Option("", help="Mã đơn vị (không cần cho quản trị, lãnh đạo) / Unit code "
                                      "(not for admin/leader)."),
    subunits: bool = typer.Option(True, help="Cả các đơn vị trực thuộc / Also the unit's "
                                             "sub-units."),
) -> None:
    """Giao cho tài khoản một vai trò trên một đơn vị, thay vai trò cũ.

    Give a user one role over one unit, replacing the previous role.

    Example: chiso users set-role nva --role standing_office --unit 20
    """
    from chiso.accounts.service import AccountError, find_user, set_membership
    from chiso.admin.service import parse_role_choice
    from chiso.db import session_scope

    try:
        with session_scope() as session:
            choice = parse_role_choice(session, role=role, unit_code=unit)
            set_membership(session, find_user(session, username), role=choice.role,
                           unit_id=choice.unit_id, include_subunits=subunits,
                           access=Access.system(session, CLI_JOB))
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"[green]✓[/] {username}: {role} {unit}")


@users_app.command("reset-password")
def reset_password(username: str = typer.Argument(..., help="Tên đăng nhập / User name.")) -> None:
    """Cấp mật khẩu mới cho tài khoản (in một lần); các phiên đang mở kết thúc.

    Give a user a new generated password, printed once; open sessions end.

    Example: chiso users reset-password nva
    """
    from chiso.accounts.passwords import generate_password
    from chiso.accounts.service import AccountError, find_user, set_password
    from chiso.db import session_scope

    password = generate_password()
    try:
        with session_scope() as session:
            set_password(session, find_user(session, username), password,
                         access=Access.system(session, CLI_JOB))
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"[green]✓[/] {username}  mật khẩu mới / new password: [bold]{password}[/]  "
                  "(chỉ hiện một lần / shown once)")


@users_app.command("token")
def token(
    username: str = typer.Argument(..., help="Chủ của mã truy cập / Owner of the token."),
    name: str = typer.Option(..., help="Mã truy cập dùng để làm gì / What the token is for."),
    action: list[Action] = typer.Option([Action.CAPTURE], help="Thao tác được phép / Allowed "
                                                               "action(s)."),
    unit: list[str] = typer.Option([], help="Mã đơn vị; không ghi = toàn bộ phạm vi của chủ / "
                                            "Unit code(s); none = the owner's whole scope."),
    days: int = typer.Option(90, min=1, max=730, help="Số ngày đến khi hết hạn / Days until it "
                                                      "expires."),
) -> None:
    """Tạo mã truy cập API cho kết nối giữa các hệ thống; mã bí mật chỉ in một lần.

    Create an API token for a system-to-system feed; the secret is printed once.

    Example: chiso users token feed-bot --name "một cửa" --action capture --unit 06187
    """
    from chiso.accounts.service import AccountError, create_api_token, find_user
    from chiso.admin.service import unit_by_code
    from chiso.db import session_scope

    try:
        with session_scope() as session:
            secret, _row = create_api_token(
                session, user=find_user(session, username), name=name, actions=action,
                unit_ids=[unit_by_code(session, code).id for code in unit], days=days,
                access=Access.system(session, CLI_JOB))
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"[green]✓[/] Authorization: Bearer [bold]{secret}[/]  "
                  "(chỉ hiện một lần / shown once)")
