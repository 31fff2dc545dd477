"""Tables on a narrow terminal (chiso/cli/tables.py): one block per row, and a name that
wraps keeps its indent under its heading."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from chiso.cli.tables import print_table


def test_an_indented_name_keeps_its_indent_on_every_wrapped_line() -> None:
    table = Table(title="Chỉ tiêu của đơn vị 20 năm 2025")
    for header in ("Chỉ tiêu", "Mục tiêu", "Thực hiện"):
        table.add_column(header)
    table.add_row("Chính quyền số")
    table.add_row("  Tỷ lệ hệ thống thông tin được xác định cấp độ và triển khai phương án bảo "
                  "đảm an toàn thông tin theo cấp độ", "≥ 100,0%", "88,2%")
    console = Console(width=60, record=True, color_system=None)
    print_table(console, table)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    start = next(i for i, line in enumerate(lines) if "Tỷ lệ hệ thống" in line)
    name_lines = lines[start:start + 2]
    assert all(line.startswith("  ") and not line.startswith("   ") for line in name_lines), \
        lines
    assert "Mục tiêu: ≥ 100,0%" in lines[start + 2], lines


def test_in_a_wide_table_too_a_wrapped_name_stays_under_its_indent() -> None:
    table = Table(title="Tỉnh Lạng Sơn: chỉ tiêu năm 2026")
    for header in ("Chỉ tiêu", "Mục tiêu", "Thực hiện", "Tiến độ kỳ vọng", "Dự báo cuối kỳ",
                   "Trạng thái"):
        table.add_column(header)
    table.add_row("[bold cyan]Chính quyền số[/]")
    table.add_row("  Tỷ lệ hệ thống thông tin được xác định cấp độ và triển khai phương án bảo "
                  "đảm an toàn thông tin theo cấp độ", "≥ 100,0%", "88,2%", "98,7%", "93,1%",
                  "[yellow]● Có nguy cơ chậm[/]")
    console = Console(width=120, record=True, color_system=None)
    print_table(console, table)
    lines = console.export_text().splitlines()
    cells = [line.split("│")[1] for line in lines if line.startswith("│")]
    name = [cell for cell in cells if cell.strip() and "Chính quyền số" not in cell]
    assert len(name) >= 2, lines  # it wraps at this width
    assert all(cell.startswith("   ") and not cell.startswith("    ") for cell in name), lines
    assert any(cell.strip() == "Chính quyền số" for cell in cells), lines  # markup rendered
