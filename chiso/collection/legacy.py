"""Legacy Vietnamese encodings in old Excel files: TCVN3 (ABC, fonts .VnTime) and VNI
(fonts VNI-Times), both read by Excel as Windows-1252 text ("Hµ Néi", "Haø Noäi").

The tables are TCVN 5712:1993 (VN3) and VNI for Windows. Detection is per column, with a
per-cell fallback: each candidate conversion is scored by how many characters in it cannot
occur in Vietnamese text; the lowest score wins and the original wins ties, so Unicode text
is never changed. The user can force an encoding (`unicode`, `tcvn3`, `vni`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

ENCODINGS = ("auto", "unicode", "tcvn3", "vni")

# TCVN3 byte (as Windows-1252 text) → Unicode. Capitals with marks share the lower-case
# codes (TCVN3 draws them with the ".VnTimeH" capital font), so they convert to lower case.
_TCVN3_PAIRS = (
    "µà ¸á ¶ả ·ã ¹ạ ¨ă »ằ ¾ắ ¼ẳ ½ẵ Æặ ©â Çầ Êấ Èẩ Éẫ Ëậ ®đ Ìè Ðé Îẻ Ïẽ Ñẹ ªê Òề Õế Óể "
    "Ôễ Öệ ×ì Ýí Øỉ Üĩ Þị ßò ãó áỏ âõ äọ «ô åồ èố æổ çỗ éộ ¬ơ êờ íớ ëở ìỡ îợ ïù óú ñủ "
    "òũ ôụ \u00adư õừ øứ öử ÷ữ ùự úỳ ýý ûỷ üỹ þỵ ¡Ă ¢Â £Ê ¤Ô ¥Ơ ¦Ư §Đ"
)
TCVN3: dict[str, str] = {pair[0]: pair[1] for pair in _TCVN3_PAIRS.split()}
TCVN3["\u00ad"] = "ư"

# VNI: a base letter followed by mark characters; tones in the order sắc, huyền, hỏi, ngã,
# nặng. Upper-case marks for upper-case letters.
_TONES_LOWER = ("ù", "ø", "û", "õ", "ï")
_TONES_UPPER = ("Ù", "Ø", "Û", "Õ", "Ï")
_BASES = {  # unicode base → VNI spelling (lower case), with the tone marks used
    "a": "a", "â": "aâ", "ă": "aê", "e": "e", "ê": "eâ", "o": "o", "ô": "oâ", "ơ": "ô",
    "u": "u", "ư": "ö", "y": "y",
}
_CIRCUMFLEX_TONES = ("á", "à", "å", "ã", "ä")
_BREVE_TONES = ("é", "è", "ú", "ü", "ë")
_TONE_MARKS = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for base, spelling in _BASES.items():
        for tone_index, mark in enumerate(_TONE_MARKS):
            target = unicodedata.normalize("NFC", base + mark)
            if spelling.endswith(("aâ", "eâ", "oâ")):
                lower = spelling[0] + _CIRCUMFLEX_TONES[tone_index]
            elif spelling == "aê":
                lower = "a" + _BREVE_TONES[tone_index]
            else:
                lower = spelling + _TONES_LOWER[tone_index]
            table[lower] = target
            table[_upper_vni(lower, tone_index)] = target.upper()
        if len(spelling) > 1 or spelling in ("ô", "ö"):
            table[spelling] = base
            table[spelling.upper()] = base.upper()
    # i and the heavy y have their own single characters.
    for text, target in (("í", "í"), ("ì", "ì"), ("æ", "ỉ"), ("ó", "ĩ"), ("ò", "ị"),
                         ("î", "ỵ"), ("ñ", "đ")):
        table[text] = target
        table[text.upper()] = target.upper()
    for lower in [k for k in table if k.startswith("y") and k.endswith("ï")]:
        del table[lower]  # ỵ is "î", not "yï"
    return table


def _upper_vni(lower: str, tone_index: int) -> str:
    if lower[-1] in _TONES_LOWER:
        return lower[:-1].upper() + _TONES_UPPER[tone_index]
    return lower.upper()


VNI = _vni_table()
_VNI_PATTERN = re.compile("|".join(sorted(map(re.escape, VNI), key=len, reverse=True)))
_TCVN3_PATTERN = re.compile("[" + re.escape("".join(TCVN3)) + "]")

_VIETNAMESE = set(
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữự"
    "vxyỳýỷỹỵfjwz"
)
_ALLOWED = _VIETNAMESE | {c.upper() for c in _VIETNAMESE} | set(
    "0123456789 .,;:!?%()[]/-+*'\"&@#_=<>\n\t–—…“”‘’°")


def from_tcvn3(text: str) -> str:
    return unicodedata.normalize("NFC", _TCVN3_PATTERN.sub(lambda m: TCVN3[m.group(0)], text))


def from_vni(text: str) -> str:
    # Only letters adjacent to VNI marks change: "ô" alone is ơ in VNI.
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: VNI[m.group(0)], text))


def _foreign(text: str) -> int:
    """Characters that do not occur in Vietnamese text."""
    return sum(ch not in _ALLOWED for ch in text)


def _vni_pairs(text: str) -> int:
    return sum(len(m.group(0)) > 1 for m in _VNI_PATTERN.finditer(text))


def candidates(text: str) -> dict[str, str]:
    return {"unicode": text, "tcvn3": from_tcvn3(text), "vni": from_vni(text)}


def detect(text: str) -> str:
    """'unicode', 'tcvn3' or 'vni' for one cell."""
    if text.isascii():
        return "unicode"
    scores = {name: _foreign(value) for name, value in candidates(text).items()}
    # A plain vowel followed by a VNI mark ("aø", "oä") is VNI's signature; TCVN3 text
    # puts its marks in place of the vowel instead.
    if _vni_pairs(text) and scores["vni"] <= scores["tcvn3"]:
        return "vni" if scores["vni"] < scores["unicode"] or _vni_pairs(text) > 1 else "unicode"
    best = min(scores, key=lambda name: (scores[name], name != "unicode"))
    return best if scores[best] < scores["unicode"] else "unicode"


def detect_column(texts: Iterable[str | None]) -> str:
    """The encoding most cells of a column are in (Unicode unless some cell is clearly
    legacy and no cell is clearly Unicode-only)."""
    votes = {"unicode": 0, "tcvn3": 0, "vni": 0}
    for text in texts:
        if text and not text.isascii():
            votes[detect(text)] += 1
    legacy = max(("tcvn3", "vni"), key=lambda name: votes[name])
    return legacy if votes[legacy] > votes["unicode"] else "unicode"


def convert(text: str | None, encoding: str) -> str | None:
    if text is None or encoding == "unicode":
        return text
    if encoding == "tcvn3":
        return from_tcvn3(text)
    if encoding == "vni":
        return from_vni(text)
    return convert(text, detect(text))


def to_tcvn3(text: str) -> str:
    """Unicode → TCVN3 (for tests and for writing files old software reads)."""
    reverse = {v: k for k, v in TCVN3.items() if k != "\u00ad"} | {"ư": "\u00ad"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(reverse.get(ch) or reverse.get(ch.lower(), ch))
    return "".join(out)


def to_vni(text: str) -> str:
    reverse: dict[str, str] = {}
    for spelling, target in VNI.items():
        reverse.setdefault(target, spelling)
    return "".join(reverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))
