"""Unicode normalisation and matching keys for Vietnamese names.

'Lạng Sơn' typed on a Mac arrives decomposed (NFD) and differs byte for byte from the same
name typed on Windows; 'Thanh Hoá' and 'Thanh Hóa' place the tone mark differently.
Match names on `name_key` (NFC, one tone style, casefolded) or on `accent_free_key`.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")

# Old-style tone placement (hoá, thuỷ, uỷ) → new style (hóa, thủy, ủy), per Unicode NFC.
_OLD_TO_NEW_TONE = {
    "oá": "óa", "oà": "òa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oé": "óe", "oè": "òe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uý": "úy", "uỳ": "ùy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
_TONE_PATTERN = re.compile("|".join(_OLD_TO_NEW_TONE))


def nfc(text: object) -> str:
    """NFC-normalised text with runs of white space folded to one space and trimmed."""
    if text is None:
        return ""
    cleaned = unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ")
    return _SPACES.sub(" ", cleaned).strip()


def _new_tone_style(text: str) -> str:
    return _TONE_PATTERN.sub(lambda m: _OLD_TO_NEW_TONE[m.group(0)], text)


def name_key(text: object) -> str:
    """Key that equates spellings differing only in normalisation, tone placement or case."""
    return _new_tone_style(nfc(text).lower()).casefold()


def accent_free_key(text: object) -> str:
    """'Đồng Đăng' → 'dong dang'. Đ does not decompose in Unicode, so it is mapped by hand."""
    decomposed = unicodedata.normalize("NFD", nfc(text).replace("Đ", "D").replace("đ", "d"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.lower()
