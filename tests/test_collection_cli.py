"""The reporting-cycle commands, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from collection_support import build_province
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.cli.main import app
from chiso.errors import UserError
from chiso.values.service import save_value

DATA_SET_YAML = """
code: XHS_NAM
name_vi: Báo cáo năm xã hội số
period_type: Y
due_days: 15
reminder_offsets: [-7, 0, 7]
units: ["06001", "06002"]
indicators: [CQS.HS_TRUC_TUYEN, CQS.SO_DVCTT]
"""


@pytest.mark.slow
def test_dataset_submission_quality_and_dhis2_commands(session, tmp_path: Path) -> None:
    province = build_province(session)
    w = province.world
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.ratio.id, period="2025",
               numerator=30, denominator=40, access=Access.system(session, "test"))
    session.commit()
    runner = CliRunner()
    spec = tmp_path / "bieu-mau.yaml"
    spec.write_text(DATA_SET_YAML, "utf-8")
    # The commands live under `chiso collection`; the old names still work (hidden).
    defined = runner.invoke(app, ["collection", "dataset", "define", str(spec)])
    assert defined.exit_code == 0, defined.output
    assert "Báo cáo năm xã hội số" in runner.invoke(app, ["dataset", "list"]).output

    out = tmp_path / "mau.xlsx"
    made = runner.invoke(app, ["collection", "dataset", "template", "XHS_NAM", "06001", "2025",
                               "--out", str(out)])
    assert made.exit_code == 0 and out.read_bytes()[:2] == b"PK"

    listed = runner.invoke(app, ["collection", "submission", "list", "XHS_NAM", "2025"])
    assert "Xã Đồng Đăng" in listed.output and "Xã Mới" not in listed.output  # listed only
    step = runner.invoke(app, ["submission", "step", "XHS_NAM", "2025", "06001", "submit"])
    assert step.exit_code == 0 and "submitted" in step.output
    wrong = runner.invoke(app, ["collection", "submission", "step", "XHS_NAM", "2025", "06001",
                                "submit"])
    assert isinstance(wrong.exception, UserError) and "cannot be submitted" in str(
        wrong.exception)

    shown = runner.invoke(app, ["collection", "quality", "show", "XHS_NAM", "2025", "--json"])
    card = json.loads(shown.output)
    assert card["totals"]["present_values"] == 1 and card["totals"]["expected_values"] == 4

    exported = tmp_path / "dhis2.json"
    assert runner.invoke(app, ["collection", "dhis2", "export", "XHS_NAM", "2025",
                               str(exported)]).exit_code == 0
    values = json.loads(exported.read_text("utf-8"))["dataValues"]
    assert [(v["categoryOptionCombo"], v["value"]) for v in values] == [
        ("NUMERATOR", "30"), ("DENOMINATOR", "40")]
    again = runner.invoke(app, ["dhis2", "import", str(exported), "--dry-run"])
    assert again.exit_code == 0 and "sửa / updated 2" in again.output
    as_csv = tmp_path / "dhis2.csv"
    runner.invoke(app, ["dhis2", "export", "XHS_NAM", "2025", str(as_csv)])
    assert as_csv.read_text("utf-8").splitlines()[0] == ",".join(
        ["dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo",
         "value", "storedby", "lastupdated", "comment", "followup", "deleted"])
    bad = runner.invoke(app, ["dhis2", "import", str(exported), "--id-scheme", "attribute:x"])
    assert isinstance(bad.exception, UserError) and "CODE" in str(bad.exception)

    rules = tmp_path / "quy-tac.yaml"
    rules.write_text("- code: DVCTT_TOI_DA\n  left: CQS.SO_DVCTT\n  operator: '<='\n"
                     "  right: '2000'\n  importance: low\n  message_vi: Quá nhiều\n"
                     "  message_en: Too many\n", "utf-8")
    loaded = runner.invoke(app, ["collection", "quality", "rules", "--file", str(rules)])
    assert loaded.exit_code == 0 and "Quá nhiều" in loaded.output and "✓ 1" in loaded.output
    rules.write_text("- code: HONG\n  left: CQS.SO_DVCTT\n  operator: '=>'\n  right: '1'\n"
                     "  message_vi: x\n  message_en: x\n", "utf-8")
    broken = runner.invoke(app, ["quality", "rules", "--file", str(rules)])
    assert isinstance(broken.exception, UserError) and "operator" in str(broken.exception)
