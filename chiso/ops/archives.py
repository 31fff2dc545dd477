"""Bounded reading of zip-based files (XLSX, XLSM, ODS, DOCX, ODT, PPTX, ZIP) — zip bombs.

A 2,9 MiB XLSX can hold gigabytes of sheet XML: openpyxl or calamine would expand all of it
in memory. `check_archive` looks first, with bounded memory: the zip's central directory
(entry count, declared sizes), then every entry decompressed in 64 KiB pieces, counting the
bytes really produced (a header may lie about its size; zipfile also checks each entry's
CRC), checking that XML parts are well-formed and declare no DTD (OOXML never does; a DTD is
how entity-expansion bombs work) and counting spreadsheet cells. It refuses, as a
`UserError`, a file over `CHISO_MAX_UNZIPPED_MB` once decompressed or over
`CHISO_MAX_SPREADSHEET_CELLS` cells (413), and a file that is not a readable zip or holds
malformed XML (422) — before any reader sees it. The web layer runs it on every uploaded
zip-based file (`chiso.web.uploads`); every command that reads a file a person gave it
runs it through `check_input_file` (a zip bomb sent by e-mail to the operator is as
dangerous at the console as in an upload).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.parsers import expat

from chiso.errors import TooLarge, UserError
from chiso.settings import get_settings

ZIP_EXTENSIONS = frozenset({"xlsx", "xlsm", "ods", "docx", "odt", "pptx", "zip"})
ZIP_MAGIC = b"PK\x03\x04"
MAX_ENTRIES = 10_000  # an XLSX has a few dozen parts; a zip of evidence a few hundred files
CHUNK = 64 * 1024
MB = 1024 * 1024

# A spreadsheet cell: <c …> in an XLSX sheet (any namespace prefix), <table:table-cell …> in
# ODS content.xml. Matches are short, so a match cut by a chunk boundary is found once
# the next chunk arrives (see _CellCounter).
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,15}:)?(?:c|table-cell)[\s/>]")
_CELL_PARTS = re.compile(r"^(xl/worksheets/[^/]+\.xml|content\.xml)$")
_XML_PARTS = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)


class ArchiveMalformed(UserError):
    """A file that claims to be an archive but cannot be read as one: 422."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_unzipped_bytes: int
    max_cells: int
    max_entries: int = MAX_ENTRIES

    @classmethod
    def from_settings(cls) -> ArchiveLimits:
        settings = get_settings()
        return cls(settings.max_unzipped_mb * MB, settings.max_spreadsheet_cells)


def is_archive_name(filename: str) -> bool:
    return filename.rsplit(".", 1)[-1].lower() in ZIP_EXTENSIONS if "." in filename else False


def check_input_file(path: Path, limits: ArchiveLimits | None = None) -> Path:
    """The command line's gate for a file it is about to read: a zip-based file (by its
    name, or by its first bytes whatever its name) gets the upload's archive checks; any
    other file, or a path that is not a file (the reader says what is wrong), passes.
    Returns `path`, so a call reads `read(check_input_file(path))`."""
    if path.is_file() and (is_archive_name(path.name) or _starts_like_zip(path)):
        check_archive_path(path, limits)
    return path


def _starts_like_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC


def check_archive_path(path: Path, limits: ArchiveLimits | None = None) -> None:
    """`check_archive` on a file on disk (the command line's readers)."""
    with path.open("rb") as handle:
        check_archive(handle, path.name, limits)


def check_archive(file: IO[bytes], name: str, limits: ArchiveLimits | None = None) -> None:
    """Refuse (UserError) an archive that is malformed or expands beyond the limits."""
    limits = limits or ArchiveLimits.from_settings()
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise _malformed(name, "không đọc được tệp nén", "it is not a readable zip file",
                         exc) from exc
    with archive:
        entries = archive.infolist()
        _check_declared(name, entries, limits)
        produced = cells = 0
        for entry in entries:
            counter = _CellCounter() if _CELL_PARTS.match(entry.filename) else None
            for piece in _xml_checked(name, entry, _pieces(archive, entry, name)):
                produced += len(piece)
                if produced > limits.max_unzipped_bytes:
                    raise _too_big(name, limits)
                if counter is not None:
                    counter.feed(piece)
            if counter is not None:
                cells += counter.finish()
                if cells > limits.max_cells:
                    raise _too_many_cells(name, limits)


def _check_declared(name: str, entries: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """The cheap refusal first: what the central directory itself announces."""
    if len(entries) > limits.max_entries:
        raise TooLarge(
            f"Tệp '{name}' chứa {len(entries)} tệp con, tối đa {limits.max_entries}",
            f"file '{name}' holds {len(entries)} entries, at most {limits.max_entries}")
    if sum(entry.file_size for entry in entries) > limits.max_unzipped_bytes:
        raise _too_big(name, limits)


def _pieces(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    if entry.is_dir():
        return
    try:
        with archive.open(entry) as member:
            while piece := member.read(CHUNK):
                yield piece
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            zlib.error) as exc:  # bad CRC, unknown method, encrypted, truncated
        raise _malformed(name, f"phần '{entry.filename}' bị hỏng",
                         f"part '{entry.filename}' is damaged", exc) from exc


def _xml_checked(name: str, entry: zipfile.ZipInfo, pieces: Iterator[bytes]
                 ) -> Iterator[bytes]:
    """Pass the pieces on, feeding XML parts to expat (C, no entity expansion without a
    DTD, which is refused) to prove they are well-formed."""
    if not _XML_PARTS.search(entry.filename):
        yield from pieces
        return
    parser = expat.ParserCreate()

    def refuse_dtd(*_: object) -> None:
        raise _malformed(name, f"phần '{entry.filename}' khai báo DTD",
                         f"part '{entry.filename}' declares a DTD", None)

    parser.StartDoctypeDeclHandler = refuse_dtd
    try:
        for piece in pieces:
            parser.Parse(piece, False)
            yield piece
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _malformed(name, f"phần '{entry.filename}' không phải XML hợp lệ "
                               f"(dòng {exc.lineno})",
                         f"part '{entry.filename}' is not well-formed XML (line {exc.lineno})",
                         exc) from exc


class _CellCounter:
    """Counts cell elements in a stream of pieces; a match is counted once even when a
    piece boundary cuts it (matches are at most TAIL bytes long)."""

    TAIL = 32

    def __init__(self) -> None:
        self.count = 0
        self._carry = b""

    def feed(self, piece: bytes) -> None:
        buffer = self._carry + piece
        settled = max(len(buffer) - self.TAIL, 0)
        self.count += sum(1 for match in _CELL.finditer(buffer) if match.start() < settled)
        self._carry = buffer[settled:]

    def finish(self) -> int:
        self.count += len(_CELL.findall(self._carry))
        self._carry = b""
        return self.count


def _too_big(name: str, limits: ArchiveLimits) -> TooLarge:
    mb = limits.max_unzipped_bytes // MB
    return TooLarge(f"Tệp '{name}' khi giải nén vượt quá {mb} MB",
                    f"file '{name}' expands to more than {mb} MB once decompressed")


def _too_many_cells(name: str, limits: ArchiveLimits) -> TooLarge:
    return TooLarge(f"Tệp '{name}' có hơn {limits.max_cells:,} ô".replace(",", "."),
                    f"file '{name}' has more than {limits.max_cells:,} cells")


def _malformed(name: str, why_vi: str, why_en: str, exc: BaseException | None
               ) -> ArchiveMalformed:
    detail = f" ({exc})" if exc is not None and str(exc) else ""
    return ArchiveMalformed(f"Tệp '{name}': {why_vi}{detail}", f"file '{name}': {why_en}{detail}")
