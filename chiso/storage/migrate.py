"""`chiso storage migrate`: bring files kept the old way into the configured stores.

- Evidence files in each domain's old folder (and, once `CHISO_FILE_STORE=database`, in the
  local store) are copied into the file store, each checked against its SHA-256 name.
- With `CHISO_RECORDS_STORE=database`, the local records store's files of committed
  batches that the database does not list yet are published.

The old files stay where they are (they are still read as a fallback). One audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.records.store import FILE_BATCH, committed_batch_ids, store_dir
from chiso.storage import service, shared


@dataclass
class MigrationReport:
    copied: int = 0
    already: int = 0
    damaged: list[str] = field(default_factory=list)
    records_published: int = 0


def migrate(session: Session, *, access: Access) -> MigrationReport:
    """Copy and publish what the stores lack (ADMIN over the installation); the caller
    commits."""
    access.require(Action.ADMIN)
    files = service.migrate(session)
    report = MigrationReport(files.copied, files.already, files.damaged or [])
    if shared.records_in_database():
        report.records_published = shared.publish(session, store_dir(),
                                                  unpublished_records(session))
    record_event(session, action="storage.migrate", object_type="storage",
                 actor=access.actor, after={"copied": report.copied,
                                            "records_published": report.records_published,
                                            "damaged": report.damaged[:20]})
    return report


def unpublished_records(session: Session) -> list[Path]:
    """The local records store's files of committed batches not in the database yet."""
    root = store_dir()
    listed = set(shared.names())
    committed = committed_batch_ids(session)
    found = []
    for path in sorted(root.glob("*/*/*.parquet")):
        batch = FILE_BATCH.match(path.name)
        if (batch and int(batch.group(1)) in committed
                and path.relative_to(root).as_posix() not in listed):
            found.append(path)
    return found
