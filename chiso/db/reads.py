"""Reading many rows at once without the garbage collector in the way.

A fetch of 40,000 rows (the values of a province's overview on the demo) creates 40,000
tuples, each tracked by Python's cyclic garbage collector: every 700 of them start a young
collection, and the survivors soon set off a full one, which walks every object of a
server's heap (ORM classes, templates, memoised answers). Measured on the demo's province
read (`chiso.analytics.frames.load_values`, 39,052 rows, best and median of 20 after one
overview): 49 ms best but 115 ms median with the collector running, 46 / 47 ms with it
paused. The rows hold only numbers and strings, so they form no cycle the collector could
free; reference counting frees them as always.

The pause is process-wide: while readers in several threads overlap, the collector stays
paused, and it runs at the first allocation after the last of them is done (CPython keeps
counting allocations while it is paused, so it catches up then).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # readers in `collector_paused` now, over all threads
_resume = False  # whether the collector was running when the first of them paused it


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk read; it runs again when the last
    concurrent reader is done, unless it was already off before the first one."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()
