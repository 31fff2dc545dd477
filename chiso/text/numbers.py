"""Numbers as people write them: '76,6%', '1.234.567', '1.234.567,89', '12,5 %' — the one
parser (`parse_number`; `chiso.text.columns` applies the same rules to whole columns).

Rules, by style (`NumberStyle`):
- both styles: with both '.' and ',', the last of them is the decimal separator; several of
  the same separator group thousands ('1.234.567', '1,234,567'); a sign and a trailing '%'
  are kept; spaces, no-break spaces and the Unicode minus are accepted.
- `vi` (the default, Vietnamese first): a lone ',' is the decimal comma ('76,6'); a lone '.'
  followed by exactly three digits after a non-zero whole part groups thousands ('1.234' is
  one thousand two hundred and thirty-four), otherwise it is a decimal point ('76.6',
  '0.125').
- `dot` (a table known to write '.' as its decimal mark, e.g. published DTI indices
  '0.6949', or an English table): a lone '.' is always the decimal point ('1.234' is
  1.234); a lone ',' before exactly three digits after a non-zero whole part groups
  thousands ('1,234'), otherwise it is a decimal comma ('0,6949').
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from chiso.errors import UserError

_ALLOWED = re.compile(r"^[+-]?[\d.,]+$")


class NumberStyle(enum.StrEnum):
    """How a source writes numbers: `vi` ('1.234,5') or `dot` ('1234.5', '0.6949')."""

    VI = "vi"
    DOT_DECIMAL = "dot"


class NumberError(UserError, ValueError):
    """Text that is not a number (422)."""

    status = 422

    def __init__(self, text: object) -> None:
        super().__init__(f"'{text}' không phải là số", f"'{text}' is not a number")


@dataclass(frozen=True)
class ParsedNumber:
    value: Decimal
    percent: bool  # the text ended with '%'


def parse_number(text: object, style: NumberStyle | str = NumberStyle.VI) -> ParsedNumber:
    """Parse a number written the Vietnamese (`vi`) or the decimal-point (`dot`) way.
    Python numbers pass through. Raises NumberError."""
    if isinstance(text, bool):
        raise NumberError(text)
    if isinstance(text, int | float | Decimal):
        return ParsedNumber(Decimal(str(text)), False)
    raw = str(text).strip().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    percent = raw.endswith("%")
    body = raw[:-1] if percent else raw
    if not body or not _ALLOWED.match(body):
        raise NumberError(text)
    try:
        value = Decimal(_to_plain(body, NumberStyle(style)))
    except InvalidOperation:
        raise NumberError(text) from None
    if not value.is_finite():
        raise NumberError(text)
    return ParsedNumber(value, percent)


def parse_float(text: object, style: NumberStyle | str = NumberStyle.VI) -> float | None:
    """The number as a float, None for a blank cell; a '%' is kept as written ('76,6%' →
    76.6). Raises NumberError for text that is not a number."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return float(parse_number(text, style).value)


def _to_plain(body: str, style: NumberStyle) -> str:
    sign = ""
    if body[0] in "+-":
        sign, body = ("-" if body[0] == "-" else ""), body[1:]
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        if body.count(decimal_sep) > 1:
            raise InvalidOperation
        plain = body.replace(group_sep, "").replace(decimal_sep, ".")
    elif commas > 1:
        plain = _grouped(body, ",")
    elif dots > 1:
        plain = _grouped(body, ".")
    elif commas == 1:
        plain = _lone(body, ",") if style is NumberStyle.DOT_DECIMAL else body.replace(",", ".")
    elif dots == 1:
        plain = body if style is NumberStyle.DOT_DECIMAL else _lone(body, ".")
    else:
        plain = body
    return sign + plain


def _lone(body: str, sep: str) -> str:
    """A lone separator before exactly three digits after a non-zero whole part groups
    thousands; otherwise it is the decimal mark."""
    whole, frac = body.split(sep)
    return whole + frac if len(frac) == 3 and whole.strip("0") else f"{whole}.{frac}"


def _grouped(body: str, sep: str) -> str:
    head, *groups = body.split(sep)
    if not head or any(len(g) != 3 for g in groups):
        raise InvalidOperation
    return head + "".join(groups)
