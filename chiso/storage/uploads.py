"""Uploaded data files kept between their dry run and its confirmation (values, the reporting
cycle's forms, budget tables): the confirmation re-posts only the file's SHA-256, so that
exactly the bytes that were previewed are imported.

A file is kept under `<data_dir>/uploads/<owner>/<sha256><suffix>` — the importers read a
path — and, with `CHISO_FILE_STORE=database`, also in the database under that name, so the
confirmation may reach another app server than the dry run: that server fetches it. The
owner (a user's id) is part of the name: one user cannot confirm another's upload.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chiso.db import session_scope
from chiso.errors import UnsupportedType
from chiso.settings import get_settings
from chiso.storage import shared
from chiso.storage.backends import write_atomically

UPLOADS = "uploads"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class KeptUpload:
    path: Path
    digest: str
    name: str


def uploads_root() -> Path:
    return get_settings().data_dir / UPLOADS


def keep_upload(file_name: str, content: bytes, *, owner: str, suffixes: tuple[str, ...]
                ) -> KeptUpload:
    """Keep an uploaded file whose suffix is one of `suffixes` (415 otherwise)."""
    name = Path(file_name).name
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise UnsupportedType(f"Không nhận tệp '{name}' (chỉ {', '.join(suffixes)})",
                              f"'{name}' is not accepted (only {', '.join(suffixes)})")
    digest = hashlib.sha256(content).hexdigest()
    path = uploads_root() / owner / f"{digest}{suffix}"
    if not path.is_file():
        write_atomically(path, content)
    if get_settings().file_store.strip().lower() == "database":
        with session_scope() as session:  # kept whatever the dry run's transaction does
            shared.publish(session, uploads_root(), [path], namespace=UPLOADS)
    return KeptUpload(path, digest, name)


def kept_upload(*, owner: str, digest: str, suffix: str, suffixes: tuple[str, ...]
                ) -> Path | None:
    """The file `keep_upload` kept for this owner, fetched from the database when another
    server kept it; None when the digest or suffix is not one, or the file is gone."""
    if not _DIGEST.match(digest) or suffix not in suffixes:
        return None
    path = uploads_root() / owner / f"{digest}{suffix}"
    if path.is_file():
        return path
    if get_settings().file_store.strip().lower() == "database":
        relative = path.relative_to(uploads_root()).as_posix()
        listed = {k: v for k, v in shared.names(relative, namespace=UPLOADS).items()
                  if k == relative}
        if listed:
            shared.fetch(uploads_root(), listed)
            return path
    return None
