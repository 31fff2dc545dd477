"""The one store for files: evidence (minh chứng) of values, tasks, DTI criteria and scores,
and generated reports. Three functions: `save`, `open_file`, `exists`.

- Content-addressed: a file is named by its SHA-256; the same bytes are stored once
  however many rows refer to them, and nothing stored is ever changed.
- Checked: an upload (`save(..., trusted=False)`, the default) is refused when it is larger
  than `CHISO_MAX_UPLOAD_MB` (`TooLarge`, 413) or when its first bytes — not its name — show
  a kind outside `CHISO_EVIDENCE_TYPES` (`UnsupportedType`, 415), in Vietnamese and English.
- Placed by `CHISO_FILE_STORE`: `local` (the data directory, the default) or `database`
  (chiso/storage/backends.py). Files written before this store existed, under each domain's
  old folder (`evidence/`, `evidence/tasks/`, `dti/evidence/`, `scoring/evidence/`), and
  files of the local store read by a server since switched to the database, are still
  found there; `chiso storage migrate` copies them into the configured store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from chiso.errors import NotFound, TooLarge, UnsupportedType
from chiso.settings import get_settings
from chiso.storage.backends import (
    LOCAL_FOLDER,
    Backend,
    DatabaseFiles,
    LocalFiles,
    read_file,
)
from chiso.storage.kinds import Kind, parse_kinds, sniff

STORES = ("local", "database")
# Each domain's folder before the one store (same <aa>/<sha256> layout), oldest last.
LEGACY_FOLDERS = ("evidence", "evidence/tasks", "dti/evidence", "scoring/evidence")


@dataclass(frozen=True)
class StoredFile:
    """A file in the store: its SHA-256 (the name every row keeps), size and kind."""

    sha256: str
    size: int
    kind: Kind | None


class MissingFile(NotFound):
    """A row names a file the store does not hold (lost disk, partial restore)."""

    def __init__(self, file_name: str) -> None:
        super().__init__(f"Tệp «{file_name}» không còn trong kho lưu trữ; đề nghị tải lên lại",
                         f"the file “{file_name}” is missing from the store; ask for it to "
                         "be uploaded again")


def backend() -> Backend:
    """The store `CHISO_FILE_STORE` names."""
    choice = get_settings().file_store.strip().lower()
    if choice == "database":
        return DatabaseFiles()
    if choice == "local":
        return local_store()
    raise ValueError(f"CHISO_FILE_STORE must be one of {', '.join(STORES)}, not {choice!r}")


def local_store() -> LocalFiles:
    return LocalFiles(get_settings().data_dir / LOCAL_FOLDER)


def save(session: Session, content: bytes, *, file_name: str, trusted: bool = False
         ) -> StoredFile:
    """Keep `content` and return its name in the store. An upload is checked first;
    `trusted=True` is for files chiso wrote itself (reports). In the database store the
    file is part of `session`'s transaction."""
    kind = sniff(content, file_name)
    if not trusted:
        check_upload(content, file_name, kind)
    digest = hashlib.sha256(content).hexdigest()
    backend().put(session, digest, content, kind.code if kind else "")
    return StoredFile(digest, len(content), kind)


def check_upload(content: bytes, file_name: str, kind: Kind | None = None) -> Kind:
    """The size and kind rules for an uploaded file; returns its kind."""
    settings = get_settings()
    limit = settings.max_upload_mb * 1024 * 1024
    if len(content) > limit:
        raise TooLarge(f"Tệp '{file_name}' lớn hơn {settings.max_upload_mb} MB",
                       f"the file '{file_name}' is larger than {settings.max_upload_mb} MB",
                       issues=[_issue("file_size", f"quá {settings.max_upload_mb} MB",
                                      f"over {settings.max_upload_mb} MB", file_name)])
    if not content:
        raise UnsupportedType(f"Tệp '{file_name}' rỗng", f"the file '{file_name}' is empty",
                              issues=[_issue("file_type", "tệp rỗng", "empty file",
                                             file_name)])
    allowed = parse_kinds(settings.evidence_types)
    kind = kind or sniff(content, file_name)
    if kind is None or kind not in allowed:
        labels = ", ".join(dict.fromkeys(k.label for k in allowed))
        found = f" ({kind.label})" if kind else ""
        raise UnsupportedType(
            f"Không nhận tệp '{file_name}'{found}: chỉ nhận {labels}",
            f"the file '{file_name}'{found} is not accepted: only {labels}",
            issues=[_issue("file_type", f"nội dung tệp không phải {labels}",
                           f"the file's content is not {labels}", file_name)])
    return kind


def _issue(rule: str, vi: str, en: str, file_name: str) -> dict[str, str]:
    return {"file": file_name, "column": "file", "rule": rule, "message_vi": vi,
            "message_en": en}


def store_path(sha256: str) -> str:
    """The file's name in the store as a path (`files/<aa>/<sha256>`), for rows that keep
    one (DTI evidence): under the data directory in the local store."""
    return f"{LOCAL_FOLDER}/{sha256[:2]}/{sha256}"


def open_file(sha256: str, file_name: str = "") -> Iterator[bytes]:
    """The file's bytes, in pieces of at most 1 MiB; `MissingFile` (404, naming
    `file_name`) when the store holds no such file."""
    chunks = _find(sha256)
    if chunks is None:
        raise MissingFile(file_name or sha256)
    return chunks


def read_bytes(sha256: str, file_name: str = "") -> bytes:
    return b"".join(open_file(sha256, file_name))


def exists(sha256: str) -> bool:
    return _find(sha256) is not None


def local_path(sha256: str) -> Path | None:
    """The file on this server's disk, when the store or an old folder keeps it there
    (lets the web server send it with ranges and without reading it through Python)."""
    if not _is_digest(sha256):
        return None
    if get_settings().file_store.strip().lower() == "local" and local_store().has(sha256):
        return local_store().path(sha256)
    return _legacy_path(sha256)


def _find(sha256: str) -> Iterator[bytes] | None:
    if not _is_digest(sha256):
        return None
    found = backend().chunks(sha256)
    if found is not None:
        return found
    fallback = _fallback_path(sha256)
    return read_file(fallback) if fallback else None


def _fallback_path(sha256: str) -> Path | None:
    """Where a file stored before this store (or before the switch to the database) is."""
    if get_settings().file_store.strip().lower() != "local" and local_store().has(sha256):
        return local_store().path(sha256)
    return _legacy_path(sha256)


def _legacy_path(sha256: str) -> Path | None:
    data_dir = get_settings().data_dir
    for folder in LEGACY_FOLDERS:
        path = data_dir / folder / sha256[:2] / sha256
        if path.is_file():
            return path
    return None


def _is_digest(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def legacy_files() -> Iterator[Path]:
    """Every file in the old folders and (when the store is the database) in the local
    store: what `chiso storage migrate` copies."""
    data_dir = get_settings().data_dir
    folders = list(LEGACY_FOLDERS)
    if get_settings().file_store.strip().lower() != "local":
        folders.append(LOCAL_FOLDER)
    for folder in folders:
        for path in sorted((data_dir / folder).glob("[0-9a-f][0-9a-f]/*")):
            if path.is_file() and _is_digest(path.name):
                yield path


@dataclass
class Migrated:
    copied: int = 0
    already: int = 0
    damaged: list[str] | None = None


def migrate(session: Session) -> Migrated:
    """Copy the files of the old folders into the configured store (checked against their
    name: a file whose bytes no longer hash to it is reported, not copied). The old files
    stay where they are; the caller commits."""
    result = Migrated(damaged=[])
    store = backend()
    seen: set[str] = set()
    for path in legacy_files():
        if path.name in seen:
            continue
        seen.add(path.name)
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != path.name:
            result.damaged.append(str(path))  # type: ignore[union-attr]
            continue
        if store.has(path.name):
            result.already += 1
            continue
        kind = sniff(content, path.name)
        store.put(session, path.name, content, kind.code if kind else "")
        result.copied += 1
    return result
