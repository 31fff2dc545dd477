"""`chiso catalog …` and `chiso plan …` through the real command line app."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from chiso.cli.main import app
from tests.plans_support import PLAN_CODE, PLAN_YAML, make_units

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), env={"COLUMNS": "160"})
    return result


@pytest.mark.slow
def test_catalog_and_plan_commands(session, tmp_path) -> None:
    make_units(session)
    session.commit()
    first = _run("catalog", "load")
    assert first.exit_code == 0, first.output
    assert "thêm 63 inserted" in first.output
    assert "giữ nguyên 63 unchanged" in _run("catalog", "load").output
    listed = _run("catalog", "list", "--pillar", "CKS")
    assert listed.exit_code == 0 and "CKS.TG_THONG_QUAN" in listed.output
    assert "CQS.HS_TRUC_TUYEN" not in listed.output

    dry = _run("plan", "load", str(PLAN_YAML), "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output, dry.output
    assert "no plans yet" in _run("plan", "list").output
    loaded = _run("plan", "load", str(PLAN_YAML))
    assert "thêm 13 inserted" in loaded.output, loaded.output
    assert PLAN_CODE in _run("plan", "list").output
    shown = _run("plan", "show", PLAN_CODE)
    assert shown.exit_code == 0 and "XHS.HO_CAP_QUANG" in shown.output, shown.output
    out = tmp_path / "plan.xlsx"
    exported = _run("plan", "export", PLAN_CODE, "-o", str(out))
    assert exported.exit_code == 0 and out.stat().st_size > 0, exported.output
    back = _run("plan", "load", str(out))
    assert "giữ nguyên 13 unchanged" in back.output and "thêm 0 inserted" in back.output
    assert _run("plan", "show", "99/KH").exit_code == 1


def test_bad_catalog_file_exits_1_naming_the_entry(db_url, tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text('version: "x"\nindicators:\n  - code: CQS.X\n    name_vi: X\n'
                    "    name_en: X\n    pillar: CQS\n    kind: ratio\n"
                    "    unit_aggregation: ratio_of_sums\n    time_aggregation: sum\n",
                    encoding="utf-8")
    result = _run("catalog", "load", str(path))
    assert result.exit_code == 1
    text = re.sub(r"\s+", " ", result.output)
    assert "mục 1 (CQS.X), trường 'scale'" in text and "entry 1 (CQS.X), field 'scale'" in text


@pytest.mark.slow
def test_every_command_has_an_example() -> None:
    for group, commands in (("catalog", ("load", "list")),
                            ("plan", ("load", "list", "show", "export"))):
        for command in commands:
            result = _run(group, command, "--help")
            assert f"Example: chiso {group} {command}" in result.output, (group, command)
