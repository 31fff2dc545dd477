"""Match a phrase to the indicator catalogue, and find the register's units in a sentence.

Indicators: both sides become sets of syllables (name_key: case, NFC and tone placement do
not matter), common abbreviations expanded and filler words dropped; each syllable weighs
by how rare it is in the catalogue (IDF), so 'cáp quang' counts for more than 'tỷ lệ'. The
score is the weighted F1 of the overlap, plus a little for shared syllable pairs (word
order). Below `NEW_BELOW` the phrase is proposed as a new indicator.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from chiso.extract.registers import IndicatorEntry, Registers, UnitEntry
from chiso.text import name_key

NEW_BELOW = 0.55
_ABBREVIATIONS = {
    "tthc": "thủ tục hành chính", "dvctt": "dịch vụ công trực tuyến",
    "dvc": "dịch vụ công", "csdl": "cơ sở dữ liệu", "cntt": "công nghệ thông tin",
    "cđs": "chuyển đổi số", "dn": "doanh nghiệp", "cqđt": "chính quyền điện tử",
    "ttđt": "thông tin điện tử", "attt": "an toàn thông tin", "tmđt": "thương mại điện tử",
    "cbccvc": "cán bộ công chức viên chức", "hssk": "hồ sơ sức khỏe",
}
# DVC "mức độ 4" is what Nghị định 42/2022 calls "toàn trình".
_SYNONYM_OF = {"mức độ 4": "toàn trình", "mức 4": "toàn trình", "thôn/bản": "thôn bản",
               "smartphone": "điện thoại thông minh"}
_SYNONYMS = re.compile("|".join(re.escape(k) for k in _SYNONYM_OF))
_FILLER = frozenset({
    "tỷ", "lệ", "tỉ", "của", "các", "và", "được", "có", "trên", "tại", "trong", "cho", "với",
    "từ", "đến", "những", "một", "đạt", "phấn", "đấu", "là", "đã", "này", "đó", "theo", "về",
    "hoặc", "khác", "toàn", "tỉnh", "ngay", "khi"})
_WORD = re.compile(r"[\wÀ-ỹ&]+")


def word_keys(text: str) -> str:
    """`name_key` word by word, keeping every offset of `text` (name_key folds spaces)."""
    return re.sub(r"\S+", lambda m: name_key(m.group(0)), text)


def syllables(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(_SYNONYMS.sub(lambda m: _SYNONYM_OF[m.group(0)], name_key(text))):
        words += _ABBREVIATIONS.get(word, word).split()
    return words


@dataclass
class IndicatorMatch:
    """The best catalogue indicator for a phrase, or none (`code` None: a new indicator)."""

    code: str | None
    name: str
    confidence: float
    alternatives: list[dict[str, object]] = field(default_factory=list)
    entry: IndicatorEntry | None = None


class IndicatorMatcher:
    def __init__(self, indicators: list[IndicatorEntry]) -> None:
        self.indicators = indicators
        self._tokens = [self._content(i.name_vi) for i in indicators]

    @staticmethod
    def _content(text: str) -> list[str]:
        return [w for w in syllables(text) if w not in _FILLER]

    @cached_property
    def _idf(self) -> dict[str, float]:
        counts = Counter(w for tokens in self._tokens for w in set(tokens))
        total = len(self._tokens) + 1
        return {w: math.log(total / n) + 0.5 for w, n in counts.items()}

    def _weight(self, word: str) -> float:
        return self._idf.get(word, 1.0)

    def score(self, phrase_tokens: list[str], index: int) -> float:
        mine, theirs = set(phrase_tokens), set(self._tokens[index])
        common = mine & theirs
        if not common:
            return 0.0
        recall = sum(map(self._weight, common)) / sum(map(self._weight, theirs))
        precision = sum(map(self._weight, common)) / sum(map(self._weight, mine))
        f1 = 2 * recall * precision / (recall + precision)
        pairs = _pairs(phrase_tokens) & _pairs(self._tokens[index])
        return f1 + 0.04 * len(pairs)  # may pass 1: ties broken by word order

    def match(self, phrase: str, *, percent: bool | None = None) -> IndicatorMatch:
        tokens = self._content(phrase)
        if not tokens:
            return IndicatorMatch(None, phrase.strip(), 0.0)
        ranked = sorted(((self._fit(tokens, i, percent), -i) for i in range(len(self.indicators))),
                        reverse=True)[:4]
        ranked = [(score, -i) for score, i in ranked]
        alternatives = [{"code": self.indicators[i].code, "name": self.indicators[i].name_vi,
                         "confidence": round(min(s, 1.0), 2)} for s, i in ranked if s > 0.2]
        best_score, best = ranked[0]
        if best_score < NEW_BELOW:
            return IndicatorMatch(None, phrase.strip(), round(1 - best_score, 2), alternatives)
        entry = self.indicators[best]
        return IndicatorMatch(entry.code, entry.name_vi, round(min(best_score, 1.0), 2),
                              alternatives[1:], entry)

    def _fit(self, tokens: list[str], index: int, percent: bool | None) -> float:
        score = self.score(tokens, index)
        if percent is not None and (self.indicators[index].unit_vi == "%") != percent:
            score *= 0.6  # a percentage is rarely a count indicator, and the reverse
        return score


def _pairs(tokens: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(tokens))


@dataclass(frozen=True)
class UnitMention:
    unit: UnitEntry
    start: int
    end: int


class UnitFinder:
    """Finds register units named in a text: full name or short name, longest first."""

    def __init__(self, registers: Registers) -> None:
        names: list[tuple[str, UnitEntry]] = []
        for unit in registers.units:
            if unit.is_province:
                continue
            for name in {unit.name, unit.short_name} - {""}:
                names.append((name_key(name), unit))
        names.sort(key=lambda pair: -len(pair[0]))
        self._names = names
        self.provinces = {name_key(u.short_name or u.name): u for u in registers.units
                          if u.is_province}

    def find(self, text: str) -> list[UnitMention]:
        key = word_keys(text)
        found: list[UnitMention] = []
        taken = [False] * len(key)
        for name, unit in self._names:
            for match in re.finditer(r"(?<![\wÀ-ỹ])" + re.escape(name) + r"(?![\wÀ-ỹ])", key):
                if not any(taken[match.start():match.end()]):
                    found.append(UnitMention(unit, match.start(), match.end()))
                    taken[match.start():match.end()] = [True] * (match.end() - match.start())
        return sorted(found, key=lambda m: m.start)
