"""How a criterion turns an answer into points, and competition ranks. Pure functions.

- **level**: the answer names one of the criterion's levels (its label, or its number in the
  list); the points are that level's.
- **ratio**: the answer is a percentage ('76,5%', '76,5'); with `steps` the points are those of
  the highest step reached (≥ 80 %: 100; ≥ 60 %: 70 …; below every step: 0), otherwise they
  are in proportion up to `full_at` (max × ratio ÷ full_at, at most max), to 2 decimals.
- **yes_no**: 'có', 'yes', 'x', 1 → all the points; 'không', 'no', 0 → none.

Ranks are competition ranks on the total at two decimals: ties share a rank and the next
rank skips (1, 2, 2, 4), as chiso ranks the DTI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chiso.errors import UserError
from chiso.scoring.models import Method
from chiso.text import accent_free_key, format_number, parse_number
from chiso.text.numbers import NumberError

YES = {"co", "yes", "x", "1", "true", "dat", "đat"}
NO = {"khong", "no", "0", "false", "chua", "khong dat"}


class AnswerRejected(UserError):
    """An answer that the criterion's method cannot score (422)."""

    status = 422

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"Tiêu chí {code}: {message_vi}", f"criterion {code}: {message_en}",
                         issues=[{"column": "answer", "rule": "answer", "criterion": code}])


@dataclass(frozen=True)
class Scored:
    points: float
    answer: str  # as stored and shown: the level's label, '76,5%', 'có' / 'không'


def score(code: str, method: str, max_points: float, rule: Any, answer: object) -> Scored:
    """Points for `answer` on a criterion (code, method, max, rule as stored)."""
    if method == Method.LEVEL:
        return _level(code, rule or [], answer)
    if method == Method.RATIO:
        return _ratio(code, max_points, rule or {}, answer)
    if method == Method.YES_NO:
        return _yes_no(code, max_points, answer)
    raise AnswerRejected(code, "nhóm tiêu chí được tính từ các tiêu chí con",
                         "a group is the sum of its sub-criteria")


def _level(code: str, levels: list[dict[str, Any]], answer: object) -> Scored:
    text = " ".join(str(answer if answer is not None else "").split())
    key = accent_free_key(text)
    for index, level in enumerate(levels, start=1):
        if key in (accent_free_key(level["label_vi"]), accent_free_key(level.get("label_en", "")),
                   str(index)):
            return Scored(float(level["points"]), level["label_vi"])
    choices = "; ".join(f"{i}. {lv['label_vi']}" for i, lv in enumerate(levels, start=1))
    raise AnswerRejected(code, f"'{text}' không phải một mức của tiêu chí ({choices})",
                         f"'{text}' is not one of the criterion's levels ({choices})")


def _ratio(code: str, max_points: float, rule: dict[str, Any], answer: object) -> Scored:
    try:
        ratio = float(parse_number(answer).value)
    except NumberError:
        raise AnswerRejected(code, f"'{answer}' không phải là tỷ lệ phần trăm (ví dụ 76,5%)",
                             f"'{answer}' is not a percentage (e.g. 76.5%)") from None
    if not 0 <= ratio <= 100:
        raise AnswerRejected(code, f"tỷ lệ {format_number(ratio, 1)}% nằm ngoài 0–100%",
                             f"{ratio}% is outside 0–100%")
    decimals = 0 if ratio == int(ratio) else 1 if round(ratio, 1) == ratio else 2
    shown = f"{format_number(ratio, decimals)}%"
    steps = rule.get("steps")
    if steps:
        reached = [s["points"] for s in steps if ratio >= float(s["from"])]
        return Scored(float(max(reached)) if reached else 0.0, shown)
    full_at = float(rule.get("full_at", 100))
    return Scored(round(max_points * min(ratio / full_at, 1.0), 2), shown)


def _yes_no(code: str, max_points: float, answer: object) -> Scored:
    key = accent_free_key(str(answer if answer is not None else "")).strip()
    if answer is True or key in YES:
        return Scored(max_points, "có")
    if answer is False or key in NO:
        return Scored(0.0, "không")
    raise AnswerRejected(code, f"'{answer}' không phải 'có' hay 'không'",
                         f"'{answer}' is neither yes nor no")


def competition_ranks(totals: list[float | None]) -> list[int | None]:
    """Ranks for totals (None: not scored, no rank): ties at two decimals share a rank and
    the next rank skips."""
    rounded = [None if t is None else round(t, 2) for t in totals]
    scored = [t for t in rounded if t is not None]
    return [None if t is None else 1 + sum(1 for other in scored if other > t)
            for t in rounded]
