"""Backup and restore of the whole installation: the database AND the files chiso keeps.

A backup that held only the database restored an installation whose evidence downloads
answered 500 and whose next one-stop batch recomputed a month from an empty records store
(H6). `backup()` therefore writes ONE archive (a tar file):

    database/<dump>      a consistent copy of the database (`chiso.ops.database`)
    data/<path>          every file under CHISO_DATA_DIR: the records store, evidence
                         files, uploads, generated reports… — except the backups
                         themselves, the SQLite database file (copied above, consistently)
                         and the development signing key (no secret in a backup)
    manifest.json        format, version, when, the database method, and each file's
                         size and SHA-256

The records writer lock is held from the database copy to the last file, so no batch can
add or remove store files in between: the copy is one moment of the installation.

`restore()` is all or nothing. It first unpacks the archive beside the data directory and
checks every file against the manifest (and refuses unsafe paths); only then does it swap
the data directory's contents for the unpacked ones and load the database in one
transaction — if that fails, the files are swapped back. Finally it writes a new data
generation (`chiso.ops.models.DataGeneration`), which every running server process reads in
its memo's stamp and so drops every memoised answer (M6).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import delete, insert, inspect
from sqlalchemy.engine import make_url

from chiso.db import get_engine
from chiso.db.base import utcnow
from chiso.ops.database import (
    BackupError,
    BackupResult,
    Progress,
    dump_database,
    is_database_dump,
    load_database,
)
from chiso.ops.models import DataGeneration
from chiso.records.store import store_dir, writer_lock
from chiso.settings import get_settings

__all__ = ["BackupError", "BackupResult", "backup", "restore", "verify"]

ARCHIVE_FORMAT = "chiso-backup"
ARCHIVE_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_DIR = "database"
DATA_DIR = "data"
STAGING_PREFIX = ".restore-"
# Never copied from the data directory: earlier backups, a restore in progress, the
# development signing key, the running servers' cards (analytics.resident), lock files.
# The SQLite database is copied by the database step.
SKIPPED_TOP = frozenset({"backups", ".secret_key", "run"})
SKIPPED_NAMES = frozenset({".lock"})
CHUNK = 1024 * 1024


@dataclass
class Manifest:
    created_at: str
    database: dict[str, str]
    files: dict[str, dict[str, Any]]  # archive path → {"size", "sha256"}

    def to_json(self) -> bytes:
        return json.dumps({"format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION,
                           "created_at": self.created_at, "database": self.database,
                           "files": self.files}, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes, source: Path) -> Manifest:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise _not_a_backup(source) from exc
        if data.get("format") != ARCHIVE_FORMAT or data.get("version") != ARCHIVE_VERSION:
            raise _not_a_backup(source)
        return cls(data["created_at"], data["database"], data["files"])


# ---------------------------------------------------------------- backup


def backup(target: Path, *, url: str | None = None, portable: bool = False,
           progress: Progress | None = None) -> BackupResult:
    """Write the one archive of the installation to `target`."""
    data_dir = get_settings().data_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with _scratch(data_dir) as scratch, writer_lock(store_dir(data_dir)):
        dump = dump_database(scratch / "database.dump", url=url, portable=portable,
                             progress=progress)
        manifest = Manifest(utcnow().isoformat(), {"method": dump.method,
                                                   "member": f"{DATABASE_DIR}/{dump.method}"},
                            {})
        with tarfile.open(partial, "w") as archive:
            _add(archive, manifest, dump.path, manifest.database["member"])
            for path in _data_files(data_dir, url, target):
                relative = path.relative_to(data_dir).as_posix()
                _add(archive, manifest, path, f"{DATA_DIR}/{relative}")
                if progress:
                    progress(relative, len(manifest.files))
            _add_bytes(archive, MANIFEST, manifest.to_json())
    partial.replace(target)  # a backup cut short never looks like a finished one
    return BackupResult(target, f"archive+{dump.method}", dump.rows)


def _data_files(data_dir: Path, url: str | None, target: Path) -> Iterator[Path]:
    """The files to copy, in a stable order."""
    skipped = {target.resolve()}
    database = _sqlite_file(url)
    if database is not None:
        skipped |= {database.with_name(database.name + suffix).resolve()
                    for suffix in ("", "-wal", "-shm", "-journal")}
    if not data_dir.is_dir():
        return
    for path in sorted(data_dir.rglob("*")):
        top = path.relative_to(data_dir).parts[0]
        if (not path.is_file() or path.is_symlink() or top in SKIPPED_TOP
                or top.startswith(STAGING_PREFIX) or path.name in SKIPPED_NAMES
                or path.name.endswith(".partial") or path.resolve() in skipped):
            continue
        yield path


def _sqlite_file(url: str | None) -> Path | None:
    url = url or get_settings().sqlalchemy_url
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def _add(archive: tarfile.TarFile, manifest: Manifest, path: Path, name: str) -> None:
    checked = _digest(path)
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as handle:
        archive.addfile(info, handle)
    manifest.files[name] = checked


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(utcnow().timestamp())
    archive.addfile(info, io.BytesIO(content))


def _digest(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return _hash_stream(handle)


def _hash_stream(source: IO[bytes], copy_to: IO[bytes] | None = None) -> dict[str, Any]:
    """Size and SHA-256 of a stream read in pieces, optionally copying it as it goes."""
    digest = hashlib.sha256()
    size = 0
    while block := source.read(CHUNK):
        digest.update(block)
        size += len(block)
        if copy_to is not None:
            copy_to.write(block)
    return {"size": size, "sha256": digest.hexdigest()}


# ---------------------------------------------------------------- verify


def verify(source: Path) -> Manifest:
    """Check an archive completely (every file against the manifest) without restoring."""
    data_dir = get_settings().data_dir
    with _scratch(data_dir) as scratch:
        return _unpack(source, scratch)


def _unpack(source: Path, into: Path) -> Manifest:
    """Unpack into `into`, hashing each file; refuse anything the manifest does not vouch
    for (a changed, missing or extra file, an unsafe path)."""
    seen: dict[str, dict[str, Any]] = {}
    manifest_raw: bytes | None = None
    try:
        with tarfile.open(source, "r:") as archive:
            for member in archive:
                if member.name == MANIFEST:
                    manifest_raw = _read(archive, member)
                    continue
                seen[member.name] = _extract(archive, member, into)
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"Tệp sao lưu '{source}' bị hỏng hoặc bị cắt ({exc})",
                          f"the backup '{source}' is damaged or cut short ({exc})") from exc
    if manifest_raw is None:
        raise _not_a_backup(source)
    manifest = Manifest.from_json(manifest_raw, source)
    if seen != manifest.files:
        wrong = sorted(set(seen) ^ set(manifest.files)) or sorted(
            name for name in seen if seen[name] != manifest.files.get(name))
        raise BackupError(
            f"Tệp sao lưu '{source}' không khớp với bản kê (tệp sai, thiếu hoặc thừa: "
            f"{', '.join(wrong[:5])}); không khôi phục gì",
            f"the backup '{source}' does not match its manifest (changed, missing or extra: "
            f"{', '.join(wrong[:5])}); nothing was restored")
    return manifest


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return handle.read() if handle is not None else b""


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, into: Path
             ) -> dict[str, Any]:
    path = PurePosixPath(member.name)
    if (not member.isfile() or path.is_absolute() or ".." in path.parts
            or path.parts[0] not in (DATABASE_DIR, DATA_DIR)):
        raise BackupError(f"Tệp sao lưu chứa mục không hợp lệ '{member.name}'",
                          f"the backup holds an entry that is not allowed: '{member.name}'")
    target = into.joinpath(*path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = archive.extractfile(member)
    assert source is not None
    with target.open("wb") as out:
        return _hash_stream(source, out)


def _not_a_backup(source: Path) -> BackupError:
    return BackupError(f"'{source}' không phải tệp sao lưu của chiso",
                       f"'{source}' is not a chiso backup")


# ---------------------------------------------------------------- restore


def restore(source: Path, *, url: str | None = None, progress: Progress | None = None
            ) -> BackupResult:
    """Replace the database and the data directory's files by the archive's, all or
    nothing. A bare database dump (written by chiso before 2026-12) restores the
    database alone."""
    if not source.is_file():
        raise BackupError(f"Không thấy tệp sao lưu '{source}'", "backup file not found")
    if not tarfile.is_tarfile(source):
        if not is_database_dump(source):
            raise _not_a_backup(source)
        result = load_database(source, url=url, progress=progress)
        new_generation(url)
        return result
    data_dir = get_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with _scratch(data_dir) as scratch, writer_lock(store_dir(data_dir)):
        manifest = _unpack(source, scratch)
        moved = _swap_in(data_dir, scratch / DATA_DIR, scratch / "previous", url)
        try:
            result = load_database(scratch / manifest.database["member"], url=url,
                                   progress=progress)
        except BaseException:
            _swap_back(data_dir, moved, scratch / "previous", url)
            raise
    new_generation(url)
    return BackupResult(source, f"archive+{result.method}", result.rows)


def _managed(data_dir: Path, url: str | None) -> list[Path]:
    """The data directory's entries a restore replaces: what a backup copies, less the
    live SQLite database (restored in place by the database step) and lock files."""
    database = _sqlite_file(url)
    live = set()
    if database is not None and database.resolve().is_relative_to(data_dir.resolve()):
        top = database.resolve().relative_to(data_dir.resolve()).parts[0]
        live = {top} | {top + suffix for suffix in ("-wal", "-shm", "-journal")}
    return [entry for entry in sorted(data_dir.iterdir())
            if entry.name not in SKIPPED_TOP | SKIPPED_NAMES | live
            and not entry.name.startswith(STAGING_PREFIX)]


def _swap_in(data_dir: Path, unpacked: Path, previous: Path, url: str | None) -> list[str]:
    """Move the current entries aside and the unpacked ones in (renames within one disk:
    each is atomic); returns what was moved aside."""
    previous.mkdir(parents=True, exist_ok=True)
    moved = []
    for entry in _managed(data_dir, url):
        entry.rename(previous / entry.name)
        moved.append(entry.name)
    if unpacked.is_dir():
        for entry in sorted(unpacked.iterdir()):
            entry.rename(data_dir / entry.name)
    _keep_lock_files(previous, data_dir, moved)
    return moved


def _keep_lock_files(old_root: Path, new_root: Path, names: list[str]) -> None:
    """A folder's `.lock` (the records writer lock other processes wait on) moves into its
    replacement, so a process locking that path still finds the same, held, lock."""
    for name in names:
        lock = old_root / name / ".lock"
        if lock.is_file() and (new_root / name).is_dir():
            lock.rename(new_root / name / ".lock")


def _swap_back(data_dir: Path, moved: list[str], previous: Path, url: str | None) -> None:
    restored = [entry.name for entry in _managed(data_dir, url)]
    for name in restored:
        if (data_dir / name / ".lock").is_file() and (previous / name).is_dir():
            (data_dir / name / ".lock").rename(previous / name / ".lock")
        _remove(data_dir / name)
    for name in moved:
        (previous / name).rename(data_dir / name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def _scratch(data_dir: Path) -> Iterator[Path]:
    """A working folder inside the data directory (same disk: renames are atomic),
    removed afterwards whatever happens."""
    data_dir.mkdir(parents=True, exist_ok=True)
    folder = data_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_generation(url: str | None = None) -> str | None:
    """Mark the data as a new generation: every server process's memo drops its answers
    on its next request (their stamps include this token). None when the restored
    database predates the table (`chiso db upgrade` creates it; the app waits for that)."""
    engine = get_engine(url)
    if not inspect(engine).has_table(DataGeneration.__tablename__):
        return None
    token = uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(delete(DataGeneration))
        connection.execute(insert(DataGeneration).values(id=1, token=token,
                                                         changed_at=dt.datetime.now(dt.UTC)))
    return token
