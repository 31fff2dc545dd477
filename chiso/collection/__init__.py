"""The reporting cycle (data sets, submissions, templates, DHIS2) and data quality.

Importing the domain (as `chiso.db.models` does for every process: web, CLI, tests)
registers the approval lock with the values service, so it holds on every write path.
"""


def _register_approval_lock() -> None:
    from chiso.collection.service import register_write_guard

    register_write_guard()


_register_approval_lock()
