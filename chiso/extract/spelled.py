"""Numbers written out in Vietnamese words: 'mười lăm' → 15, 'một trăm phần trăm' → 100 %.

Returns what `chiso.text.parse_number` returns for digits (a `ParsedNumber`), so the rest of
the extractor treats '15' and 'mười lăm' alike. Only whole numbers below a million are read:
plans and reports spell out small counts and round percentages, never decimals.
"""

from __future__ import annotations

import re
from decimal import Decimal

from chiso.text import ParsedNumber, nfc

_DIGITS = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5,
           "lăm": 5, "nhăm": 5, "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9}
_WORDS = set(_DIGITS) | {"mười", "mươi", "trăm", "nghìn", "ngàn", "linh", "lẻ"}
# A run of number words, optionally followed by 'phần trăm'. 'năm' and 'tư' are also
# ordinary words ('năm 2025', 'tư nhân'), so a run must hold a word that is only a number.
_ALTERNATIVES = "|".join(sorted(_WORDS, key=len, reverse=True))
_RUN = re.compile(rf"(?<![\wÀ-ỹ])((?:(?:{_ALTERNATIVES})\s+)*(?:{_ALTERNATIVES}))"
                  rf"(\s+phần\s+trăm)?(?![\wÀ-ỹ])", re.IGNORECASE)
_ONLY_NUMBER = {"một", "hai", "ba", "bốn", "sáu", "bảy", "bẩy", "tám", "chín", "mười", "mươi",
                "trăm", "nghìn", "ngàn", "lăm", "mốt"}


def parse_spelled_number(text: str) -> ParsedNumber | None:
    """'mười lăm' → 15; 'một trăm phần trăm' → 100 with percent; None if not a number."""
    words = nfc(text).lower().split()
    percent = words[-2:] == ["phần", "trăm"]
    if percent:
        words = words[:-2]
    if not words or any(w not in _WORDS for w in words):
        return None
    value = _read(words)
    return None if value is None else ParsedNumber(Decimal(value), percent)


def _read(words: list[str]) -> int | None:
    if "nghìn" in words or "ngàn" in words:
        cut = next(i for i, w in enumerate(words) if w in ("nghìn", "ngàn"))
        high, low = _below_thousand(words[:cut] or ["một"]), _below_thousand(words[cut + 1:])
        return None if high is None or low is None else high * 1000 + low
    return _below_thousand(words)


def _below_thousand(words: list[str]) -> int | None:
    if not words:
        return 0
    hundreds = 0
    if "trăm" in words:
        cut = words.index("trăm")
        if cut != 1 or words[0] not in _DIGITS:
            return None
        hundreds, words = _DIGITS[words[0]] * 100, words[2:]
        if words[:1] in (["linh"], ["lẻ"]):
            words = words[1:]
    tens = _below_hundred(words)
    return None if tens is None else hundreds + tens


def _below_hundred(words: list[str]) -> int | None:
    if not words:
        return 0
    if words[0] == "mười":
        return _unit(10, words[1:])
    if len(words) >= 2 and words[1] == "mươi" and words[0] in _DIGITS:
        return _unit(_DIGITS[words[0]] * 10, words[2:])
    if len(words) == 1 and words[0] in _DIGITS and words[0] not in ("lăm", "nhăm", "mốt"):
        return _DIGITS[words[0]]
    return None


def _unit(tens: int, rest: list[str]) -> int | None:
    if not rest:
        return tens
    if len(rest) == 1 and rest[0] in _DIGITS and not (tens == 10 and rest[0] == "mốt"):
        return tens + _DIGITS[rest[0]]
    return None


def find_spelled_numbers(text: str) -> list[tuple[int, int, ParsedNumber]]:
    """(start, end, number) of each spelled-out number in `text`."""
    found = []
    for match in _RUN.finditer(text):
        words = match.group(1).lower().split()
        if not any(w in _ONLY_NUMBER for w in words):
            continue
        parsed = parse_spelled_number(match.group(0))
        if parsed is not None:
            found.append((match.start(), match.end(), parsed))
    return found
