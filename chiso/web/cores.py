"""One processor core for each server process (`chiso serve`).

Polars hands each step of an evaluation to its worker threads and waits for them to finish.
When the waiting thread and the worker sit on different cores, every hand-over is a wake-up
across cores, which on a virtual machine goes through the hypervisor: ~0.2–0.5 ms here for
a filter or a join of 100 rows that takes 0.05–0.08 ms on one core. A province's overview
makes some 260 such steps on small frames, so the demo's cold overview took 177–302 ms
median with the process free to use both cores of this machine and 125–130 ms on one
(06/12/2026, docs/performance.md). A server's work comes as many small requests, each run
by one Python thread at a time (the GIL), so keeping a process on one core costs it little
(a national roll-up in one request does lose wall time: docs/settings.md), and with
`--workers N` the processes take different cores.

Each process claims a core by locking a file `core-<cpu>-<round>.lock` in a folder of the
user's own under the system's temporary directory (`chiso-cores-<uid>`), so that servers of
several data directories on one machine spread over its cores too; the lock goes with the
process, however it ends. First a free core, then a second round on each, and so on. Only
Linux has both calls; elsewhere nothing is pinned. The setting
`pin_server_cores` (CHISO_PIN_SERVER_CORES=false) turns it off, e.g. when a container
already gives each process its own core. Commands (`chiso bench`, imports) are not pinned:
their large frames do gain from several cores.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import IO

from fastapi import FastAPI

from chiso.settings import get_settings

log = logging.getLogger(__name__)

ROUNDS = 8  # processes per core that still get a core of their own to share
_held: list[IO[bytes]] = []  # the claimed lock, open for the life of the process


def claims_folder() -> Path:
    """Where this user's server processes claim their cores, machine-wide."""
    return Path(tempfile.gettempdir()) / f"chiso-cores-{os.getuid()}"


def pin_this_process(folder: Path | None = None) -> int | None:
    """Keep every thread of this process, and those it starts later, on one core of those
    it may use, claimed in `folder` (default `claims_folder()`) so that other server
    processes take other cores. Returns the core, or None when nothing was pinned (not
    Linux, a claims folder that is not ours or cannot be made, or every claim taken);
    the server then runs unpinned, never refuses to start."""
    if not hasattr(os, "sched_setaffinity") or not Path("/proc/self/task").is_dir():
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) == 1:
        return allowed[0]  # pinned already, by whoever started us
    import fcntl

    folder = folder or claims_folder()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = folder.lstat()  # the name itself: a link someone left there is not ours
    except OSError as error:  # a read-only temporary folder: serve anyway, unpinned
        log.warning("core claims folder %s unusable (%s): server not pinned", folder, error)
        return None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
        log.warning("core claims folder %s is not ours: server not pinned", folder)
        return None
    for round_ in range(ROUNDS):
        for cpu in allowed:
            try:
                lock = (folder / f"core-{cpu}-{round_}.lock").open("ab")
            except OSError:  # a file we may not write: a claim we cannot make
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held by another process (or locks unsupported there)
                lock.close()
                continue
            _held.append(lock)
            _pin_threads(cpu)
            log.info("server process %d runs on core %d", os.getpid(), cpu)
            return cpu
    return None


PIN_PASSES = 20


def _pin_threads(cpu: int) -> None:
    # sched_setaffinity acts on one thread (a task id): every thread running now, so that
    # Polars' workers, if already started, share the core; threads started later inherit it
    # from their creator. A thread may be starting while we pin (one created by a worker
    # not yet pinned), so pass again until a pass finds every thread already on the core:
    # after that, every new thread has a pinned creator.
    for _ in range(PIN_PASSES):
        moved = 0
        for task in Path("/proc/self/task").iterdir():
            try:
                if os.sched_getaffinity(int(task.name)) != {cpu}:
                    os.sched_setaffinity(int(task.name), {cpu})
                    moved += 1
            except OSError:  # the thread ended meanwhile (or may not be moved)
                continue
        if not moved:
            return
        time.sleep(0.001)


def pin_server_process() -> int | None:
    """`pin_this_process` unless the setting `pin_server_cores` is off: what every
    `chiso serve` process does before it serves."""
    return pin_this_process() if get_settings().pin_server_cores else None


def pinned_app() -> FastAPI:
    """The app factory each worker of `chiso serve --workers N` calls in its own process."""
    from chiso.web.app import create_app

    pin_server_process()
    return create_app()
