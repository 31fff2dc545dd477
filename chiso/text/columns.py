"""The number parser of `chiso.text.numbers`, for whole columns: numbers users put in files
("76,6%", "1.234.567", "1.234.567,89"), parsed as polars expressions so that a
100,000-row file is read a column at a time, never row by row. The rules, and the
`NumberStyle` policy, are exactly those of `parse_number` (a property test holds the two
together); `cell_text` writes a typed spreadsheet cell as text these rules read back.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import polars as pl

from chiso.text.numbers import NumberStyle

_ALLOWED_NUMBER = r"^[+-]?[\d.,]+$"


def number_text(column: str) -> pl.Expr:
    """The cell with spaces removed and the Unicode minus replaced, or null when blank."""
    raw = (pl.col(column).cast(pl.String).str.replace_all(r"[\s\u00a0]", "")
           .str.replace_all("\u2212", "-", literal=True))
    return pl.when(raw.str.len_chars() > 0).then(raw).otherwise(None)


def is_percent(column: str) -> pl.Expr:
    """The cell ends with '%' ("76,6%")."""
    return number_text(column).str.ends_with("%").fill_null(False)


def parse_number_expr(column: str, style: NumberStyle | str = NumberStyle.VI) -> pl.Expr:
    """Float64 value of a Vietnamese/English number cell; null when blank or not a number
    (tell the two apart with `number_text(column).is_null()`). For whole frames prefer
    `parse_number_columns`, which evaluates each intermediate step once."""
    body = number_text(column).str.strip_suffix("%")
    return _signed_value(body, _plain_digits(body.str.replace(r"^[+-]", ""),
                                             NumberStyle(style)))


def _signed_value(body: pl.Expr, plain: pl.Expr) -> pl.Expr:
    valid = body.str.contains(_ALLOWED_NUMBER)
    magnitude = pl.when(valid).then(plain).otherwise(None).cast(pl.Float64, strict=False)
    return pl.when(body.str.starts_with("-")).then(-magnitude).otherwise(magnitude)


def parse_number_columns(frame: pl.DataFrame, columns: tuple[str, ...],
                         style: NumberStyle | str = NumberStyle.VI) -> pl.DataFrame:
    """For each column: `<c>_text` (cleaned text), `<c>_percent`, and `<c>` parsed to
    Float64; `<c>_typed` keeps what the user typed, for messages. Staged so each string
    operation runs once per cell; plain digits (most cells) skip the separator rules."""
    frame = frame.with_columns(
        *[number_text(c).alias(f"{c}_text") for c in columns],
        *[pl.col(c).cast(pl.String).str.strip_chars().alias(f"{c}_typed") for c in columns])
    frame = frame.with_columns(
        *[pl.col(f"{c}_text").str.ends_with("%").fill_null(False).alias(f"{c}_percent")
          for c in columns],
        *[pl.col(f"{c}_text").str.strip_suffix("%").alias(f"__{c}_body") for c in columns])
    frame = frame.with_columns(
        pl.col(f"__{c}_body").str.replace(r"^[+-]", "").alias(f"__{c}_digits")
        for c in columns)
    frame = frame.with_columns(
        pl.when(pl.col(f"__{c}_digits").str.contains(r"^\d+$"))
        .then(pl.col(f"__{c}_digits"))
        .otherwise(_plain_digits(pl.col(f"__{c}_digits"), NumberStyle(style)))
        .alias(f"__{c}_plain")
        for c in columns)
    frame = frame.with_columns(
        _signed_value(pl.col(f"__{c}_body"), pl.col(f"__{c}_plain")).alias(c)
        for c in columns)
    return frame.drop([f"__{c}_{part}" for c in columns for part in ("body", "digits",
                                                                      "plain")])


def _plain_digits(digits: pl.Expr, style: NumberStyle) -> pl.Expr:
    """Rewrite '1.234.567,89' → '1234567.89' following the rules of chiso.text.numbers."""
    dots = digits.str.count_matches(".", literal=True)
    commas = digits.str.count_matches(",", literal=True)
    # With both separators, the last one is the decimal separator.
    comma_is_decimal = digits.str.contains(r",[^.]*$")
    mixed = (
        pl.when(comma_is_decimal & (commas == 1))
        .then(digits.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(~comma_is_decimal & (dots == 1))
        .then(digits.str.replace_all(",", "", literal=True))
        .otherwise(None)
    )
    grouped_commas = pl.when(digits.str.contains(r"^\d+(,\d{3})+$")).then(
        digits.str.replace_all(",", "", literal=True)).otherwise(None)
    grouped_dots = pl.when(digits.str.contains(r"^\d+(\.\d{3})+$")).then(
        digits.str.replace_all(".", "", literal=True)).otherwise(None)
    decimal_comma = digits.str.replace(",", ".", literal=True)
    if style is NumberStyle.DOT_DECIMAL:
        lone_comma, lone_dot = _lone(digits, ","), digits
    else:
        lone_comma, lone_dot = decimal_comma, _lone(digits, ".")
    return (
        pl.when((dots > 0) & (commas > 0)).then(mixed)
        .when(commas > 1).then(grouped_commas)
        .when(dots > 1).then(grouped_dots)
        .when(commas == 1).then(lone_comma)
        .when(dots == 1).then(lone_dot)
        .otherwise(digits)
    )


def _lone(digits: pl.Expr, sep: str) -> pl.Expr:
    """A lone separator before exactly three digits after a non-zero whole part groups
    thousands; otherwise it is the decimal mark."""
    groups = pl.when(digits.str.contains(rf"^0*[1-9]\d*\{sep}\d{{3}}$"))
    return groups.then(digits.str.replace(sep, "", literal=True)).otherwise(
        digits.str.replace(sep, ".", literal=True))


def cell_text(cell: object) -> str | None:
    """A typed cell (from Excel or Python) as text that `parse_number_expr` reads back to the
    same number: decimals are written with a comma and never grouped, because "1.234" would
    read as one thousand two hundred and thirty-four."""
    kind = type(cell)
    if kind is str:
        return cell or None  # type: ignore[return-value]
    if cell is None:
        return None
    if kind is float:
        return _float_text(cell)  # type: ignore[arg-type]
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return _float_text(cell)
    if isinstance(cell, Decimal):
        return _decimal_text(cell)
    if isinstance(cell, dt.datetime | dt.date):
        return cell.strftime("%d/%m/%Y")
    return str(cell)


def _float_text(number: float) -> str | None:
    """repr() is the shortest text that reads back to the same float; only exponent forms
    ("1e-07") need the slower exact expansion."""
    if math.isnan(number):
        return None
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    if "e" in text or "inf" in text:
        return _decimal_text(Decimal(text))
    return text.replace(".", ",")


def _decimal_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")
