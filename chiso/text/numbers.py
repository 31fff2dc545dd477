"""Numbers as Vietnamese users write them: '76,6%', '1.234.567', '1.234.567,89', '12,5 %'.

Rules (Vietnamese first):
- with both '.' and ',', the last of them is the decimal separator;
- a lone ',' is a decimal comma ('76,6'); several commas group thousands ('1,234,567');
- several '.' group thousands ('1.234.567'); a lone '.' followed by exactly three digits
  after a non-zero integer part groups thousands ('1.234'), otherwise it is a decimal
  point ('76.6', '0.125').
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_ALLOWED = re.compile(r"^[+-]?[\d.,]+$")


class NumberError(ValueError):
    """Text that is not a number."""


@dataclass(frozen=True)
class ParsedNumber:
    value: Decimal
    percent: bool  # the text ended with '%'


def parse_number(text: object) -> ParsedNumber:
    """Parse a number written the Vietnamese or the English way. Raises NumberError."""
    if isinstance(text, bool):
        raise NumberError(f"'{text}' không phải là số / is not a number")
    if isinstance(text, int | float | Decimal):
        return ParsedNumber(Decimal(str(text)), False)
    raw = str(text).strip().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    percent = raw.endswith("%")
    body = raw[:-1] if percent else raw
    if not body or not _ALLOWED.match(body):
        raise NumberError(f"'{text}' không phải là số / is not a number")
    try:
        return ParsedNumber(Decimal(_to_plain(body)), percent)
    except InvalidOperation as exc:
        raise NumberError(f"'{text}' không phải là số / is not a number") from exc


def _to_plain(body: str) -> str:
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
    elif commas:
        plain = body.replace(",", ".") if commas == 1 else _grouped(body, ",")
    elif dots > 1:
        plain = _grouped(body, ".")
    elif dots == 1:
        whole, frac = body.split(".")
        plain = whole + frac if len(frac) == 3 and whole.strip("0") else body
    else:
        plain = body
    return sign + plain


def _grouped(body: str, sep: str) -> str:
    head, *groups = body.split(sep)
    if not head or any(len(g) != 3 for g in groups):
        raise InvalidOperation
    return head + "".join(groups)
