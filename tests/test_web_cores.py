"""Server processes keep to one core each (chiso/web/cores.py): real processes, real
affinity read back from /proc, real file locks."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux and two cores this process may use")

# A process that pins itself, starts a thread afterwards, prints the core and the cores
# each of its threads may use, then holds its claim until its input closes.
CHILD = textwrap.dedent("""
    import os, sys, threading
    from pathlib import Path
    from chiso.web.cores import pin_this_process
    import polars as pl
    pl.DataFrame({"a": [1, 2]}).filter(pl.col("a") > 1)  # Polars' workers exist before
    core = pin_this_process(Path(sys.argv[1]))
    later = threading.Thread(target=sys.stdin.read)
    later.start()
    masks = {tuple(sorted(os.sched_getaffinity(int(t)))) for t in os.listdir("/proc/self/task")}
    print(core, sorted(masks), flush=True)
    later.join()
""")


def _start(folder: Path) -> tuple[subprocess.Popen[str], int | None, list[tuple[int, ...]]]:
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    core, masks = process.stdout.readline().split(" ", 1)
    return process, None if core == "None" else int(core), ast.literal_eval(masks)


def _stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    assert process.wait(10) == 0


def test_each_process_keeps_every_thread_on_a_core_of_its_own(tmp_path: Path) -> None:
    first, core_a, masks_a = _start(tmp_path)
    second, core_b, masks_b = _start(tmp_path)
    try:
        assert core_a != core_b
        assert masks_a == [(core_a,)]  # Polars' workers, the main thread and a later one
        assert masks_b == [(core_b,)]
    finally:
        _stop(first)
        _stop(second)


def test_a_claim_ends_with_its_process(tmp_path: Path) -> None:
    first, core_a, _ = _start(tmp_path)
    _stop(first)
    again, core_again, _ = _start(tmp_path)
    _stop(again)
    assert core_again == core_a  # the first core is free again


def test_more_processes_than_cores_share_them_evenly(tmp_path: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    started = [_start(tmp_path) for _ in range(cores + 1)]
    try:
        claimed = [core for _, core, _ in started if core is not None]
        assert sorted(claimed[:cores]) == sorted(os.sched_getaffinity(0))  # none left out
        assert claimed[cores] == claimed[0]  # a second round begins with the first core
    finally:
        for process, _, _ in started:
            _stop(process)


def test_a_claims_folder_of_another_owner_pins_nothing(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("making a folder someone else's needs root")
    folder = tmp_path / "theirs"
    folder.mkdir()
    os.chown(folder, 12345, 12345)
    process, core, masks = _start(folder)
    _stop(process)
    assert core is None
    assert masks == [tuple(sorted(os.sched_getaffinity(0)))]


def test_a_claims_folder_that_cannot_be_made_pins_nothing_and_starts_anyway(
        tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    process, core, masks = _start(blocked / "claims")
    _stop(process)
    assert core is None
    assert masks == [tuple(sorted(os.sched_getaffinity(0)))]


def test_a_link_in_place_of_the_claims_folder_pins_nothing(tmp_path: Path) -> None:
    """A link left under the shared temporary folder would make us write lock files
    wherever it points."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "claims"
    link.symlink_to(elsewhere)
    process, core, masks = _start(link)
    _stop(process)
    assert core is None
    assert list(elsewhere.iterdir()) == []
    assert masks == [tuple(sorted(os.sched_getaffinity(0)))]
