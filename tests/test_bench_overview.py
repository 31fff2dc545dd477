"""`chiso bench overview`: the cold overview timed on the configured database, both ways
(units forgotten each run, or a new as-of day), with the statuses it computed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chiso.cli.main import app
from tests.analytics_world import build_world


@pytest.mark.parametrize("way", ["--fresh-units", "--no-fresh-units"])
def test_bench_overview_times_the_overview_it_computes(session, monkeypatch, way) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2025-09-30")
    monkeypatch.setenv("COLUMNS", "200")
    world = build_world(session)  # committed, as every save below
    world.save([(commune, "CQS.SO_HS", f"2025{m:02d}", None, None, 10.0)
                for commune in ("06001", "06002") for m in range(7, 10)])
    world.target("CQS.SO_HS", 1000.0)
    done = CliRunner().invoke(app, ["bench", "overview", "--unit", "20", "--year", "2025",
                                    "--runs", "2", "--no-pin", way])
    assert done.exit_code == 0, done.output
    assert "median" in done.output and "wall" in done.output and "CPU" in done.output
    assert "2 runs after 3 to warm up" in done.output
    assert "Chậm tiến độ 1" in done.output or "Có nguy cơ chậm 1" in done.output, done.output
    assert ("units forgotten" if way == "--fresh-units" else "a new day") in done.output
