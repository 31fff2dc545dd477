"""The collector pause around bulk reads: nested and concurrent readers, and a collector
someone else turned off stays off."""

from __future__ import annotations

import gc
import threading

from chiso.db.reads import collector_paused


def test_the_collector_runs_again_when_the_last_reader_is_done() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other_reader() -> None:
        with collector_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_reader)
    with collector_paused():
        assert not gc.isenabled()
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other reader is still reading
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
