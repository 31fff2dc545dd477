"""What a file is, read from its first bytes (its "magic number"), not from its name.

A file called `bien-ban.pdf` that starts with `MZ` is a Windows program, whatever its name
says; one called `so-lieu.txt` that starts with `%PDF-` is a PDF. The store decides a file's
kind here and checks it against the kinds the installation accepts (`CHISO_EVIDENCE_TYPES`).

Where the bytes cannot tell kinds apart, the name chooses among the kinds the bytes allow,
and only among them: an OLE2 compound file (old Word or Excel) is `doc` or `xls` by its
suffix; text is `csv` or `txt`.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class Kind:
    """A kind of file: its code (as written in `CHISO_EVIDENCE_TYPES`), the media type it is
    sent with and the suffixes that name it."""

    code: str
    media_type: str
    suffixes: tuple[str, ...]
    label: str


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("pdf", "application/pdf", (".pdf",), "PDF"),
    Kind("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPG"),
    Kind("png", "image/png", (".png",), "PNG"),
    Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         (".docx",), "Word"),
    Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         (".xlsx", ".xlsm"), "Excel"),
    Kind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
         (".pptx",), "PowerPoint"),
    Kind("doc", "application/msword", (".doc",), "Word 97–2003"),
    Kind("xls", "application/vnd.ms-excel", (".xls",), "Excel 97–2003"),
    Kind("odt", "application/vnd.oasis.opendocument.text", (".odt",), "ODT"),
    Kind("ods", "application/vnd.oasis.opendocument.spreadsheet", (".ods",), "ODS"),
    Kind("zip", "application/zip", (".zip",), "ZIP"),
    Kind("csv", "text/csv; charset=utf-8", (".csv",), "CSV"),
    Kind("txt", "text/plain; charset=utf-8", (".txt",), "TXT"),
)}
OCTET_STREAM = "application/octet-stream"

_OOXML_PARTS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
_OPENDOCUMENT = {b"application/vnd.oasis.opendocument.text": "odt",
                 b"application/vnd.oasis.opendocument.spreadsheet": "ods"}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_PROBE = 64 * 1024


def sniff(content: bytes, file_name: str = "") -> Kind | None:
    """The file's kind from its bytes (the name only chooses among look-alikes), or None
    when it is none of the kinds chiso knows."""
    suffix = PurePath(file_name).suffix.lower()
    if content.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if content.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if content.startswith(b"PK\x03\x04") or content.startswith(b"PK\x05\x06"):
        return _zip_kind(content)
    if content.startswith(_OLE2):
        return KINDS["xls"] if suffix in KINDS["xls"].suffixes else KINDS["doc"]
    if _is_text(content):
        return KINDS["csv"] if suffix == ".csv" else KINDS["txt"]
    return None


def _zip_kind(content: bytes) -> Kind:
    """An Office Open XML or OpenDocument file is a zip with known parts; any other zip is
    a zip. Only the central directory is read (no member is decompressed but ODF's short
    `mimetype`)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
            code = _OPENDOCUMENT.get(archive.read("mimetype").strip())
            if code:
                return KINDS[code]
    except (zipfile.BadZipFile, OSError, ValueError):
        return KINDS["zip"]  # named PK but unreadable: a damaged zip is still only a zip
    if "[Content_Types].xml" in names:
        for prefix, code in _OOXML_PARTS:
            if any(name.startswith(prefix) for name in names):
                return KINDS[code]
    return KINDS["zip"]


def _is_text(content: bytes) -> bool:
    """Text, as the upload guard judges it: no NUL byte in its first 64 KiB (UTF-16 with its
    byte-order mark aside). Not only UTF-8: old spreadsheets' CSV exports in TCVN3 or VNI
    are text too; any program or image has NUL bytes in its header."""
    head = content[:_TEXT_PROBE]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return bool(head) and b"\x00" not in head


def media_type_for(file_name: str) -> str:
    """The media type a file is sent with, by its name (for files chiso itself wrote)."""
    suffix = PurePath(file_name).suffix.lower()
    for kind in KINDS.values():
        if suffix in kind.suffixes:
            return kind.media_type
    return OCTET_STREAM


def parse_kinds(setting: str) -> list[Kind]:
    """The kinds named in `CHISO_EVIDENCE_TYPES` ("pdf,jpeg,png,…"); unknown codes are an
    error at start-up, not a silent refusal of every file later."""
    codes = [c.strip().lower().lstrip(".") for c in setting.split(",") if c.strip()]
    aliases = {"jpg": "jpeg", "xlsm": "xlsx"}
    unknown = [c for c in codes if aliases.get(c, c) not in KINDS]
    if unknown:
        raise ValueError(f"CHISO_EVIDENCE_TYPES: unknown kind(s) {', '.join(unknown)}; "
                         f"known: {', '.join(KINDS)}")
    return [KINDS[aliases.get(c, c)] for c in dict.fromkeys(codes)]
