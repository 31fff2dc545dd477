"""Write a new migration by comparing the models with a database at the current heads.

Example:
    python scripts/new_migration.py tasks_0001 "task tables" --down core_0001

The file lands in chiso/db/migrations/versions/; read it and tidy it before committing.
"""

from __future__ import annotations

import argparse
import tempfile

from alembic import command

import chiso.db.models  # noqa: F401  (registers every table)
from chiso.db.base import Base
from chiso.db.migrate import alembic_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("revision")
    parser.add_argument("message")
    parser.add_argument("--down", default=None, help="revision this one follows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.sqlite"
        config = alembic_config(url)
        command.upgrade(config, "heads")
        config.attributes["target_metadata"] = Base.metadata
        command.revision(
            config,
            message=args.message,
            autogenerate=True,
            rev_id=args.revision,
            head=args.down or "heads",
        )


if __name__ == "__main__":
    main()
