"""Moved to `benchmarks.core` (issue 13: benchmarks live outside the runtime package).

Kept only for the bench modules still inside `chiso/` (records, dti, extract), whose owners
move them; delete this file when none imports it."""

from benchmarks.core import (
    Comparison,
    Timing,
    assert_close,
    console,
    load_average,
    print_comparison,
    timed,
)

__all__ = ["Comparison", "Timing", "assert_close", "console", "load_average",
           "print_comparison", "timed"]
