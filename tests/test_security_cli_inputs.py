"""Files read at the command line are bounded as uploads are (issue 12, H5): a zip-based
file that expands past CHISO_MAX_UNZIPPED_MB is refused before any reader opens it, by
every command that reads a file a person gave it. A zip bomb sent by e-mail to the
operator who runs `chiso import` is as dangerous as one uploaded."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from chiso.cli.main import app as cli
from chiso.errors import TooLarge
from chiso.ops.archives import ArchiveLimits, ArchiveMalformed, check_input_file
from chiso.settings import reset_settings_cache

SHEET = "xl/worksheets/sheet1.xml"


def _bomb() -> bytes:
    """A real workbook whose sheet expands from a few kB to 3 MB."""
    book = Workbook()
    book.active.append(["ma_don_vi", "chi_tieu", "ky", "gia_tri"])
    plain = io.BytesIO()
    book.save(plain)
    source, out = zipfile.ZipFile(plain), io.BytesIO()
    huge = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b" " * (3 * 1024 * 1024) + b"</sheetData></worksheet>")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, huge if item.filename == SHEET
                            else source.read(item.filename))
    return out.getvalue()


@pytest.fixture
def one_mb(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_MAX_UNZIPPED_MB", "1")
    reset_settings_cache()


# Each command that reads a person's file, with the file name it is given.
READERS = [
    (["import", "{f}"], "so-lieu.xlsx"),
    (["plan", "load", "{f}"], "ke-hoach.xlsx"),
    (["dti", "results", "import", "{f}", "--year", "2022"], "dti-2022.xlsx"),
    (["dti", "assessment", "import", "{f}", "--framework", "VIDU", "--year", "2025",
      "--unit", "20"], "tu-danh-gia.xlsx"),
    (["funding", "import", "{f}"], "du-toan-2026.xlsx"),
    (["records", "ingest", "{f}"], "ho-so.xlsx"),
    (["records", "ingest", "{f}"], "ho-so.csv"),  # a zip whatever its name says
    (["records", "procedures", "{f}"], "thu-tuc.csv"),
    (["extract", "{f}"], "ke-hoach.docx"),
    (["tasks", "import", "{f}"], "nhiem-vu.xlsx"),
    (["tasks", "progress", "NV-0001", "--percent", "10", "--evidence", "{f}"], "bb.zip"),
]


@pytest.mark.parametrize(("command", "name"), READERS,
                         ids=[f"{' '.join(c[:2])}:{n}" for c, n in READERS])
def test_every_reader_refuses_a_zip_bomb_before_reading_it(one_mb, tmp_path: Path,
                                                           command: list[str],
                                                           name: str) -> None:
    bomb = tmp_path / name
    bomb.write_bytes(_bomb())
    assert bomb.stat().st_size < 20_000
    shown = CliRunner().invoke(cli, [part.format(f=bomb) for part in command])
    assert isinstance(shown.exception, TooLarge), (shown.exception, shown.output)
    assert shown.exception.message_en == (
        f"file '{name}' expands to more than 1 MB once decompressed")


def test_plain_files_and_missing_paths_pass_to_their_reader(tmp_path: Path) -> None:
    text = tmp_path / "so-lieu.csv"
    text.write_text("ma_don_vi,chi_tieu,ky,gia_tri\n06187,CQS.HS_TRUC_TUYEN,2025Q3,70\n")
    assert check_input_file(text) == text
    assert check_input_file(tmp_path / "missing.xlsx") == tmp_path / "missing.xlsx"


def test_a_damaged_workbook_is_named_before_a_reader_trips_on_it(tmp_path: Path) -> None:
    damaged = tmp_path / "so-lieu.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveMalformed, match=r"so-lieu\.xlsx"):
        check_input_file(damaged, ArchiveLimits(10 * 1024 * 1024, 1000))
