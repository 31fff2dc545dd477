"""Tables on a terminal: a Rich table where it fits, one block per row where it does not.

At 80 columns a six-column table wrapped an indicator's or a task's name over five to
eleven lines (issue 14). Under `NARROW` columns each row is printed as its first cell, then
"Header: value" for the other cells on one line that wraps between words, like a card.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.errors import MarkupError
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

NARROW = 100  # columns: a table of names and figures needs this much to stay a table
SHORT = 12  # characters: a first cell this short is a code or a number, not a name


def print_table(console: Console, table: Table) -> None:
    """Print `table`, or its rows as blocks when the terminal is narrower than `NARROW`."""
    if console.width >= NARROW or len(table.columns) < 3:
        # A first cell written with leading spaces keeps its indent when it wraps in a
        # column too; the other cells are left as they are (Rich highlights plain strings).
        # Rich keeps a column's cells in `_cells` (no public setter).
        first = table.columns[0] if table.columns else None
        if first is not None:
            first._cells = [_indented(_text(cell)) if _leads_with_space(cell) else cell
                            for cell in first._cells]
        console.print(table)
        return
    for block in as_blocks(table):
        console.print(block)


def as_blocks(table: Table) -> list[RenderableType]:
    """The title, then per row: the first cell, and its other cells as "Header: value".
    A row with only its first cell (a pillar's heading in `chiso status`) stands alone."""
    headers = [" ".join(_plain(column.header).split()) for column in table.columns]
    columns = [list(column.cells) for column in table.columns]
    blocks: list[RenderableType] = []
    if table.title:
        blocks += [Text(_plain(table.title), style="bold"), Text("")]
    for cells in zip(*columns, strict=True):
        pairs = [(header, _text(cell)) for header, cell in zip(headers[1:], cells[1:],
                                                                 strict=True)]
        pairs = [(header, text) for header, text in pairs if text.plain.strip()]
        first = _text(cells[0])
        if not pairs:
            blocks.append(Text(first.plain.strip(), style="bold"))
            continue
        if len(first.plain) <= SHORT and pairs[0][0] == headers[1]:
            # A code, number or rank leads the row: its name (the next cell) goes beside it.
            first = Text.assemble(first, "  ", pairs.pop(0)[1])
        blocks.append(_indented(first))
        if pairs:
            blocks.append(_pairs(pairs))
    if table.caption:
        blocks += [Text(""), Text(_plain(table.caption), style="dim")]
    return blocks


def _indented(first: Text) -> RenderableType:
    """A first cell written with leading spaces (an indicator under its pillar) keeps its
    indent on every line it wraps to, not only on the first."""
    indent = len(first.plain) - len(first.plain.lstrip(" "))
    return Padding(first[indent:], (0, 0, 0, indent)) if indent else first


def _leads_with_space(cell: RenderableType) -> bool:
    return isinstance(cell, str | Text) and _text(cell).plain.startswith(" ")


def _pairs(pairs: list[tuple[str, Text]]) -> Padding:
    """The row's other cells on one line, indented, wrapping under itself."""
    line = Text()
    for index, (header, value) in enumerate(pairs):
        if index:
            line.append("  ·  ")
        line.append(f"{header}: ", style="dim")
        line.append_text(value)
    return Padding(line, (0, 0, 0, 2))


def _text(cell: RenderableType) -> Text:
    if isinstance(cell, Text):
        return cell
    try:
        return Text.from_markup(str(cell))
    except MarkupError:
        return Text(str(cell))


def _plain(value: RenderableType | None) -> str:
    return "" if value is None else _text(value).plain
