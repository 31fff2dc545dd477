"""The one store for files (chiso.storage), on SQLite and PostgreSQL, with the files on disk
and in the database: a file is kept once under its SHA-256 and read back byte for byte; an
upload is judged by what its bytes are, not by its name, and by the size limit; a write cut
short leaves nothing; files kept in the old evidence folders are still read and
`chiso storage migrate` moves them into the database."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso import storage
from chiso.cli.main import app as cli
from chiso.errors import TooLarge, UnsupportedType
from chiso.settings import get_settings, reset_settings_cache
from chiso.storage.models import StoredBlob, StoredChunk
from chiso.storage.service import local_store

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)


@pytest.fixture(params=["local", "database"])
def file_store(request: pytest.FixtureRequest, db_url: str, monkeypatch: pytest.MonkeyPatch
               ) -> str:
    monkeypatch.setenv("CHISO_FILE_STORE", request.param)
    reset_settings_cache()
    return str(request.param)


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Chỉ tiêu", "Giá trị"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_file_is_kept_once_under_its_sha256(session: Session, file_store: str) -> None:
    content = os.urandom(2 * 1024 * 1024 + 17)  # three chunks in the database
    first = storage.save(session, content, file_name="ban-chup.pdf", trusted=True)
    again = storage.save(session, content, file_name="ban-sao.pdf", trusted=True)
    session.commit()
    assert first.sha256 == again.sha256 == hashlib.sha256(content).hexdigest()
    assert storage.exists(first.sha256) and storage.read_bytes(first.sha256) == content
    assert [len(c) for c in storage.open_file(first.sha256)] == [1048576, 1048576, 17]
    blobs = session.scalar(select(func.count()).select_from(StoredBlob))
    chunks = session.scalar(select(func.count()).select_from(StoredChunk))
    on_disk = [p for p in (get_settings().data_dir / "files").rglob("*") if p.is_file()]
    if file_store == "database":
        assert (blobs, chunks, on_disk) == (1, 3, [])  # nothing on this server's disk
    else:
        assert (blobs, on_disk) == (0, [local_store().path(first.sha256)])
    assert not storage.exists("0" * 64)
    with pytest.raises(storage.MissingFile, match=r"bien-ban\.pdf"):
        storage.read_bytes("0" * 64, "bien-ban.pdf")


def test_a_file_in_the_database_is_part_of_the_transaction(session: Session, db_url: str,
                                                           monkeypatch) -> None:
    monkeypatch.setenv("CHISO_FILE_STORE", "database")
    reset_settings_cache()
    kept = storage.save(session, PDF, file_name="bien-ban.pdf")
    session.rollback()  # the evidence row it belonged to was refused
    assert not storage.exists(kept.sha256)


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("bien-ban.txt", PDF, "pdf"),  # the bytes decide, not the name
    ("anh-chup.pdf", b"\x89PNG\r\n\x1a\n" + bytes(40), "png"),
    ("anh.jpg", b"\xff\xd8\xff\xe0" + bytes(40), "jpeg"),
    ("so-lieu.xlsx", _xlsx(), "xlsx"),
    ("so-lieu.zip", _xlsx(), "xlsx"),
    ("danh-sach.csv", "Mã;Tên\n06001;Phường Kỳ Lừa\n".encode(), "csv"),
    ("ghi-chu", "Biên bản họp ngày 05/12/2025".encode(), "txt"),
    ("cu-tcvn3.csv", b"M\xb5 \xae\xad n v\xfc;T\xaan\n06001;X\xb7 An\n", "csv"),  # TCVN3
    ("cu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "xls"),
    ("cu.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "doc"),
])
def test_a_file_is_what_its_bytes_say(session: Session, file_store: str, name: str,
                                      content: bytes, kind: str) -> None:
    kept = storage.save(session, content, file_name=name)
    assert kept.kind is not None and kept.kind.code == kind


@pytest.mark.parametrize("content", [PROGRAM, b"<html><script>alert(1)</script>\x00",
                                     bytes(range(256))])
def test_a_program_named_pdf_is_refused_naming_the_file(session: Session, file_store: str,
                                                        content: bytes) -> None:
    with pytest.raises(UnsupportedType) as refused:
        storage.save(session, content, file_name="bien-ban.pdf")
    assert refused.value.status == 415
    assert "bien-ban.pdf" in refused.value.message_vi and "PDF" in refused.value.message_en
    assert refused.value.issues[0]["rule"] == "file_type"
    session.commit()
    assert session.scalar(select(func.count()).select_from(StoredBlob)) == 0
    assert not (get_settings().data_dir / "files").exists()


def test_size_and_kinds_come_from_the_settings(session: Session, file_store: str,
                                               monkeypatch) -> None:
    monkeypatch.setenv("CHISO_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("CHISO_EVIDENCE_TYPES", "pdf")
    reset_settings_cache()
    exactly = PDF + b" " * (1024 * 1024 - len(PDF))
    assert storage.save(session, exactly, file_name="du-1-mb.pdf").size == 1024 * 1024
    with pytest.raises(TooLarge, match="1 MB") as too_large:
        storage.save(session, exactly + b" ", file_name="qua-1-mb.pdf")
    assert too_large.value.status == 413
    with pytest.raises(UnsupportedType, match="chỉ nhận PDF"):
        storage.save(session, b"\x89PNG\r\n\x1a\n" + bytes(40), file_name="anh.png")
    with pytest.raises(UnsupportedType, match="rỗng"):
        storage.save(session, b"", file_name="trong.pdf")


def test_a_write_cut_short_leaves_nothing(session: Session, db_url: str, monkeypatch) -> None:
    def power_cut(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError, match="disk full"):
        storage.save(session, PDF, file_name="bien-ban.pdf")
    files = get_settings().data_dir / "files"
    assert [p.name for p in files.rglob("*") if p.is_file()] == []
    assert not storage.exists(hashlib.sha256(PDF).hexdigest())


def _keep_the_old_way(folder: str, content: bytes) -> Path:
    """A file as the domains wrote it before the store: <data_dir>/<folder>/<aa>/<sha>."""
    digest = hashlib.sha256(content).hexdigest()
    path = get_settings().data_dir / folder / digest[:2] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("folder", ["evidence", "evidence/tasks", "dti/evidence",
                                    "scoring/evidence"])
def test_files_in_the_old_folders_are_still_read(session: Session, file_store: str,
                                                 folder: str) -> None:
    old = _keep_the_old_way(folder, PDF + folder.encode())
    assert storage.exists(old.name)
    assert storage.read_bytes(old.name) == old.read_bytes()


def test_migrate_moves_old_files_into_the_database(session: Session, db_url: str,
                                                   monkeypatch) -> None:
    evidence = _keep_the_old_way("evidence", PDF)
    task_file = _keep_the_old_way("evidence/tasks", "Biên bản nghiệm thu".encode())
    damaged = _keep_the_old_way("dti/evidence", b"%PDF-1.4 minh chung")
    damaged.write_bytes(b"%PDF-1.4 sua doi")  # no longer what its name says
    monkeypatch.setenv("CHISO_FILE_STORE", "database")
    reset_settings_cache()
    moved = CliRunner().invoke(cli, ["storage", "migrate"])
    assert moved.exit_code == 1, moved.output  # the damaged file is named, not copied
    assert "Đã chép / copied 2" in moved.output
    assert damaged.name in moved.output.replace("\n", "")
    evidence.unlink()
    task_file.unlink()
    assert storage.read_bytes(evidence.name) == PDF  # now from the database
    assert storage.read_bytes(task_file.name) == "Biên bản nghiệm thu".encode()
    assert session.scalar(select(func.count()).select_from(StoredBlob)) == 2
    again = CliRunner().invoke(cli, ["storage", "migrate"])
    assert "copied 0" in again.output
    status = CliRunner().invoke(cli, ["storage", "status"])
    assert status.exit_code == 0 and "database" in status.output and "2 tệp" in status.output


def test_migrate_publishes_a_local_records_store(session: Session, db_url: str, tmp_path: Path,
                                                 monkeypatch) -> None:
    """An installation that kept its dossiers on one disk moves to several servers: after
    `chiso storage migrate`, a server with an empty data directory counts the same."""
    from chiso.records.service import ingest_records, procedures_without_online
    from tests.records_support import august_records, feed_access, make_world

    units = make_world(session, tmp_path)
    ingest_records(session, august_records(), access=feed_access(session))
    session.commit()
    before = procedures_without_online(session, units["06300"].id, [202508]).to_dicts()
    assert [p["code"] for p in before] == ["P2"]
    monkeypatch.setenv("CHISO_RECORDS_STORE", "database")
    reset_settings_cache()
    moved = CliRunner().invoke(cli, ["storage", "migrate"])
    assert moved.exit_code == 0 and "records: 1 tệp" in moved.output.replace("\n", ""), \
        moved.output
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "server-b"))
    reset_settings_cache()
    assert procedures_without_online(session, units["06300"].id, [202508]).to_dicts() == before
    assert list((tmp_path / "server-b" / "records").rglob("*.parquet"))  # fetched, cached
    again = CliRunner().invoke(cli, ["storage", "migrate"])
    assert "records: 0 tệp" in again.output.replace("\n", "")
