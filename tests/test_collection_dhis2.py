"""DHIS2 on the wire: files written the way DHIS2's documentation writes them (JSON and CSV,
with `deleted` rows and one unknown data element) posted to `/api/dataValueSets` with
basic auth, answered with DHIS2's import summary; chiso's CSV export read back by a reader
that follows DHIS2's column positions; the export re-imports into an empty install."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest
from collection_support import build_province
from sqlalchemy import func, select

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.collection import dhis2, service
from chiso.collection.models import Submission, ValueFlag
from chiso.values.models import DataValue
from chiso.values.service import save_value
from tests.conftest import _empty_all_tables

VOLATILE = ("created", "lastUpdated", "storedBy")
# DHIS2's CsvDataValueSetReader reads by position, whatever the header says.
DHIS2_POSITIONS = {"dataElement": 0, "period": 1, "orgUnit": 2, "categoryOptionCombo": 3,
                   "attributeOptionCombo": 4, "value": 5, "storedBy": 6, "lastUpdated": 7,
                   "comment": 8, "followup": 9, "deleted": 10}


def _system(session):  # type: ignore[no-untyped-def]
    return Access.system(session, "test")


def _basic(user, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _figures(session, w) -> None:  # type: ignore[no-untyped-def]
    access = _system(session)
    save_value(session, unit_id=w.world.commune_a.id, indicator_id=w.world.ratio.id,
               period="2025Q3", numerator=766, denominator=1000,
               comment="Cổng DVC tỉnh [mẫu số] Tổng hồ sơ tiếp nhận", access=access)
    save_value(session, unit_id=w.world.commune_b.id, indicator_id=w.world.ratio.id,
               period="2025Q3", value="81,25", access=access)
    save_value(session, unit_id=w.world.commune_a.id, indicator_id=w.world.count.id,
               period="2025Q3", value=12, access=access)
    save_value(session, unit_id=w.world.commune_a.id, indicator_id=w.on_time.id,
               period="2025Q3", numerator=1, denominator=3, access=access)


# Written as DHIS2's docs write a bulk dataValueSet (period and orgUnit on each value),
# with chiso's codes as identifiers, a deletion and one data element chiso does not know.
DOCUMENTED_JSON = {"dataValues": [
    {"dataElement": "CQS.HS_TRUC_TUYEN", "period": "2025Q3", "orgUnit": "06001",
     "categoryOptionCombo": "NUMERATOR", "value": "420", "comment": "Theo một cửa"},
    {"dataElement": "CQS.HS_TRUC_TUYEN", "period": "2025Q3", "orgUnit": "06001",
     "categoryOptionCombo": "DENOMINATOR", "value": "500", "comment": "Hồ sơ tiếp nhận"},
    {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "06001", "value": "9"},
    {"dataElement": "f7n9E0hX8qk", "period": "2025Q3", "orgUnit": "06001", "value": "12"},
    {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "06002", "value": "4",
     "deleted": True},
]}

# DHIS2's CSV columns in DHIS2's order (a header row first), a deletion, an unknown element.
DOCUMENTED_CSV = (
    '"dataelement","period","orgunit","categoryoptioncombo","attributeoptioncombo","value",'
    '"storedby","lastupdated","comment","followup","deleted"\n'
    '"CQS.SO_DVCTT","2025Q3","06002","HllvX50cXC0","HllvX50cXC0","7","dhis2","2025-10-02",'
    '"Theo sổ","true","false"\n'
    '"CQS.SO_DVCTT","2025Q3","06001","HllvX50cXC0","HllvX50cXC0","9","dhis2","2025-10-02",'
    '"","false","true"\n'
    '"eY5ehpbEsB7","2025Q3","06001","HllvX50cXC0","HllvX50cXC0","16","dhis2","2025-10-02",'
    '"","false","false"\n')


@pytest.fixture
def province(session):  # type: ignore[no-untyped-def]
    built = build_province(session)
    session.commit()
    return built


@pytest.mark.slow
def test_documented_json_imports_with_dhis2s_summary(client, session, province, make_user
                                                     ) -> None:
    w = province.world
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    save_value(session, unit_id=w.commune_b.id, indicator_id=w.count.id, period="2025Q3",
               value=4, access=_system(session))
    session.commit()
    auth = _basic(office, password)

    dry = client.post("/api/dataValueSets?dryRun=true", headers=auth,
                      json=DOCUMENTED_JSON)
    assert dry.status_code == 409  # DHIS2 answers 409 when any value is in conflict
    body = dry.json()
    assert (body["httpStatus"], body["status"]) == ("Conflict", "WARNING")
    summary = body["response"]
    assert summary["responseType"] == "ImportSummary" and summary["status"] == "WARNING"
    # A ratio's two parts are two data values, as in DHIS2; the unknown one is ignored.
    assert summary["importCount"] == {"imported": 3, "updated": 0, "ignored": 1,
                                      "deleted": 1}
    [conflict] = summary["conflicts"]
    assert conflict["errorCode"] == "E7610" and conflict["object"] == "f7n9E0hX8qk"
    assert conflict["indexes"] == [3] and summary["rejectedIndexes"] == [3]
    assert summary["importOptions"]["dryRun"] is True
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(DataValue)) == 1  # nothing stored

    stored = client.post("/api/dataValueSets", headers=auth, json=DOCUMENTED_JSON)
    assert stored.json()["response"]["importCount"]["imported"] == 3
    session.expire_all()
    ratio = session.scalar(select(DataValue).where(DataValue.indicator_id == w.ratio.id))
    assert (ratio.numerator, ratio.denominator, ratio.value) == (420, 500, 84.0)
    assert ratio.comment == "Theo một cửa [mẫu số] Hồ sơ tiếp nhận"  # both comments kept
    gone = session.scalar(select(DataValue).where(DataValue.unit_id == w.commune_b.id))
    assert gone.deleted

    again = client.post("/api/dataValueSets?importStrategy=CREATE", headers=auth,
                        json=DOCUMENTED_JSON).json()["response"]["importCount"]
    assert again == {"imported": 0, "updated": 0, "ignored": 5, "deleted": 0}
    update = client.post("/api/dataValueSets", headers=auth, params={
        "importStrategy": "UPDATE"}, json={"dataValues": DOCUMENTED_JSON["dataValues"][:3]})
    assert update.status_code == 200
    assert update.json()["response"]["importCount"] == {"imported": 0, "updated": 3,
                                                        "ignored": 0, "deleted": 0}
    wiped = client.post("/api/dataValueSets?importStrategy=DELETE", headers=auth,
                        json={"dataValues": DOCUMENTED_JSON["dataValues"][:3]})
    assert wiped.json()["response"]["importCount"]["deleted"] == 3


def test_documented_csv_posts_as_a_raw_body(client, session, province, make_user) -> None:
    w = province.world
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.count.id, period="2025Q3",
               value=9, access=_system(session))
    session.commit()
    answer = client.post("/api/dataValueSets", content=DOCUMENTED_CSV.encode(),
                         headers={**_basic(office, password),
                                  "Content-Type": "application/csv"})
    summary = answer.json()["response"]
    assert summary["importCount"] == {"imported": 1, "updated": 0, "ignored": 1,
                                      "deleted": 1}
    assert summary["conflicts"][0]["object"] == "eY5ehpbEsB7"
    assert summary["conflicts"][0]["indexes"] == [2]
    session.expire_all()
    kept = session.scalar(select(DataValue).where(DataValue.unit_id == w.commune_b.id))
    assert (kept.value, kept.comment) == (7, "Theo sổ")
    assert session.scalar(select(func.count()).select_from(ValueFlag)) == 1  # followup


def test_a_unit_the_caller_cannot_write_is_a_conflict_not_a_failure(client, session,
                                                                    province, make_user
                                                                    ) -> None:
    focal, password = make_user(Role.FOCAL_OFFICER, province.world.commune_a.id)
    answer = client.post("/api/dataValueSets", headers=_basic(focal, password), json={
        "dataValues": [
            {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "06001",
             "value": "3"},
            {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "06002",
             "value": "5"}]})
    summary = answer.json()["response"]
    assert summary["importCount"]["imported"] == 1 and summary["importCount"]["ignored"] == 1
    assert summary["conflicts"][0]["errorCode"] == "E7612"
    assert client.post("/api/dataValueSets", headers=_basic(focal, "wrong"),
                       json={"dataValues": []}).status_code == 401


def test_complete_date_registers_only_the_report_named(client, session, province,
                                                       make_user) -> None:
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    document = {"dataSet": "CCHC_QUY", "period": "2025Q3", "orgUnit": "06002",
                "completeDate": "2025-10-03", "dataValues": [
                    {"dataElement": "CQS.HS_DUNG_HAN", "categoryOptionCombo": "NUMERATOR",
                     "value": "45"},
                    {"dataElement": "CQS.HS_DUNG_HAN", "categoryOptionCombo": "DENOMINATOR",
                     "value": "50"}]}
    answer = client.post("/api/dataValueSets", headers=_basic(office, password),
                         json=document)
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"]["dataSetComplete"] == "2025-10-03"
    session.expire_all()
    rows = session.scalars(select(Submission).where(Submission.period == "2025Q3")).all()
    sent = {r.unit_id: r for r in rows if r.status == "submitted"}
    assert list(sent) == [province.world.commune_b.id]  # no other unit marked complete
    assert service.vn_date(sent[province.world.commune_b.id].first_submitted_at
                           ).isoformat() == "2025-10-03"  # the date is kept


def test_csv_export_reads_back_in_dhis2s_column_order(client, session, province, make_user
                                                      ) -> None:
    _figures(session, province)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, province.world.province.id)
    answer = client.get("/api/dataValueSets.csv?dataSet=CCHC_QUY&period=2025Q3",
                        headers=_basic(office, password))
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == list(dhis2.CSV_COLUMNS) and len(rows[0]) == 11
    by_position = [{k: row[i] for k, i in DHIS2_POSITIONS.items()} for row in rows[1:]]
    numerator = next(r for r in by_position if r["categoryOptionCombo"] == "NUMERATOR"
                     and r["value"] == "766")
    denominator = next(r for r in by_position if r["categoryOptionCombo"] == "DENOMINATOR"
                       and r["value"] == "1000")
    assert numerator["comment"] == "Cổng DVC tỉnh" and numerator["followup"] == "false"
    assert denominator["comment"] == "Tổng hồ sơ tiếp nhận"
    assert {r["deleted"] for r in by_position} == {"false"}
    as_json = client.get("/api/dataValueSets", params={"dataSet": "CCHC_QUY",
                                                      "period": "2025Q3", "orgUnit": "06001"},
                         headers=_basic(office, password)).json()
    assert as_json["orgUnit"] == "06001" and "completeDate" not in as_json  # not sent yet


def test_export_reimports_into_an_empty_install_unchanged(session, db_url, province,
                                                          tmp_path: Path) -> None:
    _figures(session, province)
    session.commit()
    first = dhis2.export_data_values(session, data_sets=[province.data_set],
                                     periods=["2025Q3"])
    assert {v["categoryOptionCombo"] for v in first["dataValues"]} == {
        "NUMERATOR", "DENOMINATOR", "default"}
    raw = json.dumps(first, ensure_ascii=False).encode()

    session.close()
    _empty_all_tables(db_url)
    province = build_province(session)
    session.commit()
    options = dhis2.ImportOptions(dry_run=False)
    done = dhis2.import_body(session, raw, "json", options=options, access=_system(session))
    session.commit()
    assert done.status == "SUCCESS" and done.imported == 6  # 3 ratios in parts, 1 count
    again = dhis2.export_data_values(session, data_sets=[province.data_set],
                                     periods=["2025Q3"])
    stable = [[{k: v for k, v in value.items() if k not in VOLATILE}
               for value in document["dataValues"]] for document in (first, again)]
    assert stable[0] == stable[1]
    third_value = session.scalar(select(DataValue.value).where(
        DataValue.indicator_id == province.on_time.id))
    assert third_value == pytest.approx(100 / 3)  # recomputed from the parts, not rounded


def test_bad_values_are_conflicts_with_their_index(session, province) -> None:
    document = {"dataValues": [
        {"dataElement": "CQS.SO_DVCTT", "period": "2025W3", "orgUnit": "06001", "value": "1"},
        {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "06001",
         "categoryOptionCombo": "HcxE8z7kq2Q", "value": "1"},
        {"dataElement": "CQS.HS_TRUC_TUYEN", "period": "2025Q3", "orgUnit": "06001",
         "categoryOptionCombo": "NUMERATOR", "value": "9"},
        {"dataElement": "CQS.HS_TRUC_TUYEN", "period": "2025Q3", "orgUnit": "06001",
         "categoryOptionCombo": "DENOMINATOR", "value": "3"},
        {"dataElement": "CQS.SO_DVCTT", "period": "2025Q3", "orgUnit": "99999", "value": "1"},
    ]}
    summary = dhis2.import_document(session, document, options=dhis2.ImportOptions(),
                                    access=_system(session))
    codes: dict[str, list[int]] = {}
    for conflict in summary.conflicts:
        codes.setdefault(conflict["errorCode"], []).extend(conflict["indexes"])
    assert codes["E7611"] == [0] and codes["E7613"] == [1] and codes["E7612"] == [4]
    assert codes["E7619"] == [2, 3]  # numerator above denominator: both parts refused
    assert summary.ignored == 5 and summary.imported == 0
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0
    with pytest.raises(dhis2.Dhis2Error):
        dhis2.ImportOptions.from_params({"idScheme": "attribute:abc"})


def test_a_comment_that_looks_like_a_formula_stays_text_both_ways(session, province,
                                                                   tmp_path: Path) -> None:
    from chiso.collection import template

    w = province.world
    access = _system(session)
    trap = '=HYPERLINK("http://x.invalid","bấm")'
    save_value(session, unit_id=w.commune_a.id, indicator_id=w.count.id, period="2025Q3",
               value=5, comment=trap, access=access)
    session.commit()
    document = dhis2.export_data_values(session, data_sets=[province.data_set],
                                        periods=["2025Q3"])
    text = dhis2.to_csv(document)
    row = next(csv.reader(io.StringIO(text.splitlines()[1])))
    assert row[8] == "'" + trap and row[5] == "5"  # the comment guarded, the figure not
    assert dhis2.read_csv(text)["dataValues"][0]["comment"] == trap  # read back as typed

    path = template.build_template(session, province.data_set, w.commune_a, "2025Q3",
                                   tmp_path / "mau.xlsx")
    import openpyxl

    sheet = openpyxl.load_workbook(path)["Số liệu"]
    written = [c.value for r in sheet.iter_rows() for c in r if isinstance(c.value, str)
               and "HYPERLINK" in c.value]
    assert written == ["'" + trap] and sheet.cell(9, 11).data_type == "s"
    again = template.upload_template(session, path, data_set=province.data_set,
                                     unit=w.commune_a, period="2025Q3", access=access)
    assert again.result.ok and again.result.counts["updated"] == 0  # unchanged round trip
