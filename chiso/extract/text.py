"""A document's text as the extractor reads it: NFC, one kind of line break, no
non-breaking or zero-width spaces, legacy TCVN3/VNI paragraphs converted to Unicode.
Unlike `chiso.text.nfc` (for one-line cells) line breaks are kept: they carry headings."""

from __future__ import annotations

import re
import unicodedata

from chiso.collection.legacy import convert, detect

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")


def normalize_document(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = _ZERO_WIDTH.sub("", text.replace("\u00a0", " ").replace("\t", " "))
    return "\n".join(_unicode_line(line) for line in text.split("\n"))


def _unicode_line(line: str) -> str:
    """A paragraph typed in TCVN3 (.VnTime) or VNI arrives as Windows-1252 look-alikes
    ('Hµ Néi'); the collection domain's detector picks the reading with fewest characters
    foreign to Vietnamese, and never changes a line that is already Unicode."""
    if not line.strip() or line.isascii() or not _latin1_only(line):
        return line  # Unicode Vietnamese has ơ, ư, đ, ạ …: none of them is in Windows-1252
    encoding = detect(line)
    converted = convert(line, encoding) if encoding in ("tcvn3", "vni") else line
    return unicodedata.normalize("NFC", converted or line)


def _latin1_only(line: str) -> bool:
    try:
        line.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
