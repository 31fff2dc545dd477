"""DHIS2 dataValueSets: chiso's export re-imports into an empty chiso with no change, and
a hand-written DHIS2 file (code id schemes, NUMERATOR/DENOMINATOR combos) imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from collection_support import build_province
from sqlalchemy import func, select

from chiso.collection import dhis2, service
from chiso.collection.models import Submission, ValueFlag
from chiso.values.models import DataValue
from chiso.values.service import save_value
from tests.conftest import _empty_all_tables

VOLATILE = ("created", "lastUpdated", "storedBy")


def _stable(document: dict) -> list[dict]:  # type: ignore[type-arg]
    return [{k: v for k, v in value.items() if k not in VOLATILE}
            for value in document["dataValues"]]


def _figures(session, w, p) -> None:  # type: ignore[no-untyped-def]
    save_value(session, unit_id=w.world.commune_a.id, indicator_id=w.world.ratio.id,
               period="2025Q3", numerator=766, denominator=1000, comment="Cổng DVC tỉnh")
    save_value(session, unit_id=w.world.commune_b.id, indicator_id=w.world.ratio.id,
               period="2025Q3", value="81,25")
    save_value(session, unit_id=w.world.commune_a.id, indicator_id=w.world.count.id,
               period="2025Q3", value=12)
    save_value(session, unit_id=w.world.commune_a.id, indicator_id=w.on_time.id,
               period="2025Q3", numerator=1, denominator=3)


def test_export_reimports_into_an_empty_install_unchanged(session, db_url, tmp_path: Path
                                                          ) -> None:
    province = build_province(session)
    _figures(session, province, "2025Q3")
    session.commit()
    first = dhis2.export_data_values(session, data_set=province.data_set, periods=["2025Q3"])
    assert {v["categoryOptionCombo"] for v in first["dataValues"]} == {
        "NUMERATOR", "DENOMINATOR", "default"}
    assert all(v["attributeOptionCombo"] == "default" for v in first["dataValues"])
    path = tmp_path / "dataValueSets.json"
    path.write_text(json.dumps(first, ensure_ascii=False), "utf-8")

    session.close()
    _empty_all_tables(db_url)
    province = build_province(session)
    session.commit()
    preview = dhis2.import_file(session, path, dry_run=True)
    assert preview.result.ok, preview.result.errors
    assert preview.result.counts["inserted"] == 4
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0
    done = dhis2.import_file(session, path, dry_run=False)
    session.commit()
    assert done.result.counts["inserted"] == 4
    again = dhis2.export_data_values(session, data_set=province.data_set, periods=["2025Q3"])
    assert _stable(again) == _stable(first)
    third_value = session.scalar(select(DataValue.value).where(
        DataValue.indicator_id == province.on_time.id))
    assert third_value == pytest.approx(100 / 3)  # recomputed from the parts, not rounded
    repeat = dhis2.import_file(session, path, dry_run=False)
    assert repeat.result.counts == {"rows": 4, "inserted": 0, "updated": 0, "unchanged": 4,
                                    "errors": 0}


HAND_WRITTEN_CSV = (
    "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,"
    "followup\n"
    "CQS.HS_TRUC_TUYEN,2025Q3,06001,NUMERATOR,default,420,dhis2-admin,2025-10-02T08:00:00,"
    "Theo hệ thống một cửa,false\n"
) + """
CQS.HS_TRUC_TUYEN,2025Q3,06001,DENOMINATOR,default,500,dhis2-admin,2025-10-02T08:00:00,,false
CQS.SO_DVCTT,2025Q3,06002,default,default,9,dhis2-admin,2025-10-02T08:00:00,,true
"""


def test_hand_written_dhis2_files_import(session, tmp_path: Path) -> None:
    province = build_province(session)
    session.commit()
    csv_path = tmp_path / "tu-dhis2.csv"
    csv_path.write_text(HAND_WRITTEN_CSV, "utf-8")
    outcome = dhis2.import_file(session, csv_path, dry_run=False,
                                options={"idScheme": "code", "orgUnitIdScheme": "CODE"})
    session.commit()
    assert outcome.result.ok, outcome.result.errors
    stored = session.scalar(select(DataValue).where(DataValue.indicator_id ==
                                                    province.world.ratio.id))
    assert (stored.numerator, stored.denominator, stored.value) == (420, 500, 84.0)
    assert stored.source == "dhis2" and stored.comment == "Theo hệ thống một cửa"
    assert session.scalar(select(func.count()).select_from(ValueFlag)) == 1  # followup

    document = {"dataSet": "CCHC_QUY", "period": "2025Q3", "orgUnit": "06002",
                "completeDate": "2025-10-03", "dataValues": [
                    {"dataElement": "CQS.HS_DUNG_HAN", "categoryOptionCombo": "NUMERATOR",
                     "value": "45"},
                    {"dataElement": "CQS.HS_DUNG_HAN", "categoryOptionCombo": "DENOMINATOR",
                     "value": "50"}]}
    json_path = tmp_path / "hoan-thanh.json"
    json_path.write_text(json.dumps(document), "utf-8")
    done = dhis2.import_file(session, json_path, dry_run=False)
    session.commit()
    assert done.result.ok and done.completed
    status = session.scalar(select(Submission.status).where(
        Submission.unit_id == province.world.commune_b.id))
    assert status == "submitted"  # completeDate registers the report as complete

    with pytest.raises(dhis2.Dhis2Error):
        dhis2.import_file(session, json_path, options={"idScheme": "UID"})


def test_a_bad_dhis2_file_lists_every_value_and_stores_nothing(session, tmp_path: Path
                                                               ) -> None:
    build_province(session)
    session.commit()
    document = {"dataValues": [
        {"dataElement": "CQS.KHONG_CO", "period": "2025Q3", "orgUnit": "06001", "value": "1"},
        {"dataElement": "CQS.SO_DVCTT", "period": "2025W3", "orgUnit": "06001", "value": "1"},
        {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "06001",
         "categoryOptionCombo": "HcxE8z7kq2Q", "value": "1"},
        {"dataElement": "CQS.HS_TRUC_TUYEN", "period": "2025Q3", "orgUnit": "06001",
         "categoryOptionCombo": "NUMERATOR", "value": "9"},
        {"dataElement": "CQS.HS_TRUC_TUYEN", "period": "2025Q3", "orgUnit": "06001",
         "categoryOptionCombo": "DENOMINATOR", "value": "3"},
    ]}
    path = tmp_path / "loi.json"
    path.write_text(json.dumps(document), "utf-8")
    outcome = dhis2.import_file(session, path, dry_run=False)
    rules = {(e.row, e.column, e.rule) for e in outcome.result.errors}
    assert (1, "dataElement", "indicator_unknown") in rules
    assert (2, "period", "dhis2_period") in rules
    assert (3, "categoryOptionCombo", "dhis2_combo") in rules
    assert any(row == 4 and rule == "numerator_le_denominator" for row, _c, rule in rules)
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0
    assert service.data_set_by_code(session, "CCHC_QUY")
