"""The test fixtures' own promise: one failed test does not take the rest of the run with it.

Stop 25's CI ran out of its 90 minutes after a single failure: the failed test had left a
PostgreSQL session inside a transaction, and every later test's TRUNCATE waited for it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chiso.db import new_session
from tests.conftest import PG_ADMIN_URL, _empty_all_tables


@pytest.mark.postgresql
@pytest.mark.slow
def test_a_transaction_a_failed_test_left_open_does_not_stop_the_next_test(db_url: str
                                                                          ) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the TRUNCATE that waits is PostgreSQL's")
    import psycopg
    from sqlalchemy.engine import make_url

    leaked = new_session(db_url)
    leaked.execute(text("SELECT count(*) FROM org_unit"))  # holds a lock on org_unit, never closed
    # A session in a transaction on another database of the server (another test run, CI)
    # is none of this run's business and must survive.
    other = psycopg.connect(make_url(PG_ADMIN_URL).set(drivername="postgresql")
                            .render_as_string(hide_password=False))
    other.execute("SELECT 1")  # idle in a transaction from here on
    try:
        with pytest.warns(UserWarning, match="left open by an earlier test"):
            _empty_all_tables(db_url)
        with new_session(db_url) as db:
            assert db.execute(text("SELECT count(*) FROM org_unit")).scalar_one() == 0
        assert other.execute("SELECT 2").fetchone() == (2,)
    finally:
        other.close()
    leaked.invalidate()  # its connection was ended: drop it without a ROLLBACK


@pytest.mark.postgresql
@pytest.mark.slow
def test_a_thread_at_work_between_two_statements_is_not_taken_for_a_leak(db_url: str
                                                                        ) -> None:
    """A server's background thread of the last test, between two statements of its
    transaction, is 'idle in transaction' for a moment: it is left to finish, not ended."""
    if not db_url.startswith("postgresql"):
        pytest.skip("sessions idle in a transaction are PostgreSQL's to see")
    import threading
    import time
    import warnings

    started = threading.Event()

    def work() -> None:
        with new_session(db_url) as db:
            for _ in range(8):  # ~0.8 s of reads with pauses, in one transaction
                db.execute(text("SELECT count(*) FROM org_unit"))
                started.set()
                time.sleep(0.1)
            db.commit()

    thread = threading.Thread(target=work)
    thread.start()
    started.wait(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _empty_all_tables(db_url)  # waits for it: TRUNCATE needs its lock released
    thread.join(5)
    assert not thread.is_alive()
