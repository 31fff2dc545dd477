"""Indicators computed from hand-made one-stop dossiers, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from records_support import (
    august_records,
    feed_access,
    make_world,
    record,
    write_csv,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.records import service
from chiso.records.feed import FeedRejected
from chiso.records.models import RecordBatch
from chiso.values.models import DataValue, DataValueVersion


@pytest.fixture
def world(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_world(session, tmp_path)


def values_of(session: Session, unit_id: int, period: str) -> dict[str, tuple]:
    from chiso.indicators.models import Indicator

    rows = session.execute(
        select(Indicator.code, DataValue.numerator, DataValue.denominator, DataValue.value,
               DataValue.source)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.unit_id == unit_id, DataValue.period == period)).all()
    return {r[0].removeprefix("CQS."): (r[1], r[2], round(r[3], 2), r[4]) for r in rows}


def ingest(session: Session, path: Path) -> service.IngestResult:
    result = service.ingest_file(session, path, access=feed_access(session))
    session.commit()
    return result


def test_each_indicator_at_commune_and_province_level(session, world, tmp_path):
    result = ingest(session, write_csv(tmp_path / "aug.csv", august_records()))
    assert (result.rows_read, result.rows_stored, result.months) == (6, 6, [202508])

    assert values_of(session, world["06200"].id, "202508") == {
        "DVCTT_PHAT_SINH_HS": (2, 2, 100.0, "records"),  # P1 and P2 both got online dossiers
        "HS_TRUC_TUYEN": (2, 4, 50.0, "records"),
        "HS_TOAN_TRINH": (1, 4, 25.0, "records"),
        "HS_DUNG_HAN": (2, 3, 66.67, "records"),  # D2 late, D4 unfinished
        "SO_HOA_HS": (2, 4, 50.0, "records"),
        "KQ_DIEN_TU": (1, 3, 33.33, "records"),
        "TT_TRUC_TUYEN": (1, 2, 50.0, "records"),
    }
    assert values_of(session, world["06300"].id, "202508") == {
        "DVCTT_PHAT_SINH_HS": (1, 2, 50.0, "records"),  # P2 offered, no online dossier
        "HS_TRUC_TUYEN": (1, 2, 50.0, "records"),
        "HS_TOAN_TRINH": (1, 2, 50.0, "records"),
        "HS_DUNG_HAN": (1, 1, 100.0, "records"),
        "SO_HOA_HS": (0, 2, 0.0, "records"),
        "KQ_DIEN_TU": (1, 1, 100.0, "records"),
        "TT_TRUC_TUYEN": (0, 1, 0.0, "records"),
    }
    province = values_of(session, world["20"].id, "202508")
    # Distinct services: both communes use P1, so the province has 2 services with online
    # dossiers out of 2 offered — not 3 of 4, which summing the communes would give.
    assert province["DVCTT_PHAT_SINH_HS"] == (2, 2, 100.0, "records")
    assert province == {
        "DVCTT_PHAT_SINH_HS": (2, 2, 100.0, "records"),
        "HS_TRUC_TUYEN": (3, 6, 50.0, "records"),
        "HS_TOAN_TRINH": (2, 6, 33.33, "records"),
        "HS_DUNG_HAN": (3, 4, 75.0, "records"),
        "SO_HOA_HS": (2, 6, 33.33, "records"),
        "KQ_DIEN_TU": (2, 4, 50.0, "records"),
        "TT_TRUC_TUYEN": (1, 3, 33.33, "records"),
    }


def test_resent_records_update_and_the_latest_status_wins(session, world, tmp_path):
    ingest(session, write_csv(tmp_path / "aug.csv", august_records()))
    resend = [
        # D4 finished on time: a newer version.
        record("D4", "P1", "06200", "2025-08-07 14:00", "trực tiếp", level="toàn trình",
               status="da_tra_ket_qua", due="2025-08-20 17:00", finished="2025-08-15 09:00",
               updated="2025-08-15 09:00"),
        # An OLDER version of D1 (still being processed) arriving later: ignored.
        record("D1", "P1", "06200", "2025-08-04 08:00", "Trực tuyến", level="toàn trình",
               updated="2025-08-04 08:00"),
    ]
    result = ingest(session, write_csv(tmp_path / "resend.csv", resend))
    assert (result.rows_stored, result.rows_ignored) == (1, 1)
    commune = values_of(session, world["06200"].id, "202508")
    assert commune["HS_DUNG_HAN"][:3] == (3, 4, 75.0)
    assert commune["HS_TRUC_TUYEN"][:2] == (2, 4)  # re-sent D4 did not duplicate
    assert values_of(session, world["20"].id, "202508")["HS_DUNG_HAN"][:2] == (4, 5)


def test_latest_version_wins_within_one_file_whatever_the_order(session, world, tmp_path):
    rows = [
        record("X1", "P1", "06300", "2025-09-01 08:00", "truc_tuyen", status="da_tra_ket_qua",
               due="2025-09-05 17:00", finished="2025-09-02 08:00",
               updated="2025-09-02 08:00"),
        record("X1", "P1", "06300", "2025-09-01 08:00", "truc_tuyen",
               updated="2025-09-01 08:00"),
    ]
    ingest(session, write_csv(tmp_path / "sep.csv", rows))
    commune = values_of(session, world["06300"].id, "202509")
    assert commune["HS_DUNG_HAN"][:2] == (1, 1)
    assert commune["HS_TRUC_TUYEN"][:2] == (1, 1)


def test_a_record_moved_to_another_month_leaves_the_old_month(session, world, tmp_path):
    ingest(session, write_csv(tmp_path / "aug.csv", august_records()))
    moved = record("D6", "P3", "06300", "2025-09-02 07:45", "Bưu chính công ích",
                   updated="2025-09-03 08:00")
    ingest(session, write_csv(tmp_path / "moved.csv", [moved]))
    assert values_of(session, world["06300"].id, "202508")["HS_TRUC_TUYEN"][:2] == (1, 1)
    assert values_of(session, world["06300"].id, "202509")["HS_TRUC_TUYEN"][:2] == (0, 1)


def test_a_batch_committed_by_another_process_is_looked_up_too(session, world, tmp_path):
    """Each process keeps an index of which months hold which dossiers; a batch another
    process committed must be found all the same, or a re-sent dossier would be counted
    twice."""
    import copy

    from chiso.records import keyindex, store

    ingest(session, write_csv(tmp_path / "aug.csv", august_records()))
    keyindex.warm()  # as the web server does at start-up
    index = keyindex.for_store(store.store_dir())
    assert index.ready and index.by_month
    before_other = {k: copy.deepcopy(v) for k, v in index.__dict__.items() if k != "_lock"}
    moved = record("D6", "P3", "06300", "2025-09-02 07:45", "Bưu chính công ích",
                   updated="2025-09-03 08:00")
    ingest(session, write_csv(tmp_path / "moved.csv", [moved]))
    index.__dict__.update(before_other)  # this process did not see that batch
    again = record("D6", "P3", "06300", "2025-09-02 07:45", "Trực tuyến",
                   updated="2025-09-04 08:00")
    ingest(session, write_csv(tmp_path / "again.csv", [again]))
    # D6 counts once, online, in September; not at all in August.
    assert values_of(session, world["06300"].id, "202509")["HS_TRUC_TUYEN"][:2] == (1, 1)
    assert values_of(session, world["06300"].id, "202508")["HS_TRUC_TUYEN"][:2] == (1, 1)


def test_ingesting_the_same_file_twice_changes_nothing(session, world, tmp_path):
    path = write_csv(tmp_path / "aug.csv", august_records())
    ingest(session, path)
    versions = session.scalar(select(func.count()).select_from(DataValueVersion))
    second = ingest(session, path)
    assert second.already_ingested
    # The same rows under another file name: stored nothing new either.
    copy = write_csv(tmp_path / "aug-copy.csv", august_records()[::-1])
    third = ingest(session, copy)
    assert (third.rows_stored, third.rows_ignored) == (0, 6)
    assert session.scalar(select(func.count()).select_from(DataValueVersion)) == versions
    assert values_of(session, world["20"].id, "202508")["HS_TRUC_TUYEN"][:2] == (3, 6)


def test_a_malformed_row_stores_nothing_and_names_the_row(session, world, tmp_path):
    rows = august_records()
    rows[2]["received_at"] = "31/02/2025"
    rows[4]["channel"] = "fax"
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(FeedRejected) as caught:
        service.ingest_file(session, path, access=feed_access(session))
    session.rollback()
    text = str(caught.value)
    assert ("Tệp 'bad.csv', dòng 4, cột 'received_at': ngày giờ không hợp lệ" in text)
    assert "file 'bad.csv', row 4, column 'received_at': not a valid date-time" in text
    assert "dòng 6, cột 'channel'" in text and "row 6, column 'channel'" in text
    assert "nothing from this file was stored" in text
    assert session.scalar(select(func.count()).select_from(DataValue)) == 0
    assert session.scalar(select(func.count()).select_from(RecordBatch)) == 0
    # Nothing is left in the store: the good file afterwards gives exactly its own figures.
    ingest(session, write_csv(tmp_path / "good.csv", august_records()))
    assert values_of(session, world["20"].id, "202508")["HS_TRUC_TUYEN"][:2] == (3, 6)


def test_unknown_unit_and_procedure_are_named(session, world, tmp_path):
    rows = august_records()[:2]
    rows[0]["unit_code"] = "99999"
    rows[1]["procedure_code"] = "NOPE"
    with pytest.raises(FeedRejected) as caught:
        service.ingest_file(session, write_csv(tmp_path / "x.csv", rows),
                            access=feed_access(session))
    text = str(caught.value)
    assert "dòng 2, cột 'unit_code': mã đơn vị không có trong danh mục đơn vị" in text
    assert "row 3, column 'procedure_code'" in text


def test_unreadable_files_are_refused_naming_line_and_column(session, world, tmp_path):
    """Bytes DuckDB cannot read get the same bilingual refusal as a bad value."""
    good = write_csv(tmp_path / "good.csv", august_records()).read_bytes()
    lines = good.split(b"\n")
    lines[3] = lines[3].replace(b"06200", "06200é".encode("latin-1"), 1)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"\n".join(lines))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"dossier_code": "A1"}\n\n{"dossier_code": "A2", "unit_code": 06200}\n'
                      "[1, 2]\n", encoding="utf-8")
    array = tmp_path / "array.jsonl"
    array.write_text('{"dossier_code": "A1"}\n[1, 2]\n', encoding="utf-8")
    expected = {
        latin: ("Tệp 'latin.csv', dòng 4, cột 'unit_code': không phải văn bản UTF-8",
                "file 'latin.csv', row 4, column 'unit_code': not UTF-8 text"),
        broken: ("Tệp 'broken.jsonl', dòng 3, cột 'unit_code': dòng JSON không hợp lệ",
                 "file 'broken.jsonl', row 3, column 'unit_code': not valid JSON"),
        array: ("Tệp 'array.jsonl', dòng 2: mỗi dòng phải là một đối tượng JSON",
                "file 'array.jsonl', row 2: each line must be a JSON object"),
    }
    for path, (vi, en) in expected.items():
        with pytest.raises(FeedRejected) as caught:
            service.ingest_file(session, path, access=feed_access(session))
        session.rollback()
        assert vi in str(caught.value) and en in str(caught.value), str(caught.value)
    assert session.scalar(select(func.count()).select_from(RecordBatch)) == 0


def test_merged_commune_records_count_under_the_successor(session, world, tmp_path):
    rows = [
        # Before the merger both old communes receive dossiers for the shared service P1.
        record("M1", "P1", "06001", "2025-03-03 08:00", "truc_tuyen"),
        record("M2", "P1", "06002", "2025-03-04 08:00", "truc_tuyen"),
        record("M3", "P2", "06002", "2025-03-05 08:00", "truc_tiep"),
        # After it, the old code 06002 is still used by a clerk: it counts under 06001-new.
        record("M4", "P1", "06002", "2025-08-04 08:00", "truc_tuyen"),
        record("M5", "P1", "06001", "2025-08-05 08:00", "truc_tiep"),
    ]
    ingest(session, write_csv(tmp_path / "merge.csv", rows))
    merged, old_a, old_b = world["merged"], world["old_a"], world["old_b"]
    assert values_of(session, merged.id, "202508")["HS_TRUC_TUYEN"][:2] == (1, 2)
    assert values_of(session, old_b.id, "202508") == {}
    # Before 1/7/2025 the stored values belong to the units that existed then …
    assert values_of(session, old_a.id, "202503")["HS_TRUC_TUYEN"][:2] == (1, 1)
    assert values_of(session, world["H01"].id, "202503")["HS_TRUC_TUYEN"][:2] == (2, 3)
    assert values_of(session, merged.id, "202503") == {}
    # … and on today's boundaries the successor's history counts both predecessors, with
    # P1 counted once although both old communes used it.
    live = service.live_indicators(session, merged.id, [202503])
    figures = {r["indicator_code"]: (r["numerator"], r["denominator"])
               for r in live.iter_rows(named=True)}
    assert figures["CQS.HS_TRUC_TUYEN"] == (2, 3)
    assert figures["CQS.DVCTT_PHAT_SINH_HS"] == (1, 2)


def test_full_recompute_repairs_values(session, world, tmp_path):
    ingest(session, write_csv(tmp_path / "aug.csv", august_records()))
    row = session.scalar(select(DataValue).where(DataValue.unit_id == world["20"].id,
                                                 DataValue.period == "202508"))
    assert row is not None
    original = (row.numerator, row.denominator, row.value)
    from chiso.values.service import save_value

    save_value(session, unit_id=row.unit_id, indicator_id=row.indicator_id, period="202508",
               numerator=1, denominator=1, source="manual", access=Access.system(session, "test"))
    session.commit()
    result = service.recompute(session, access=feed_access(session))
    session.commit()
    assert result.months == [202508] and result.updated == 1
    session.refresh(row)
    assert (row.numerator, row.denominator, row.value) == original
    assert row.source == "records"


def test_procedures_without_online_dossiers(session, world, tmp_path):
    ingest(session, write_csv(tmp_path / "aug.csv", august_records()))
    found = service.procedures_without_online(session, world["06300"].id, [202508])
    assert found.select("code", "name", "dossiers").rows() == [("P2", "Đăng ký kết hôn", 0)]
    assert service.procedures_without_online(session, world["20"].id, [202508]).is_empty()


# DuckDB's hash() gives these two codes the same 64-bit key (a digit swapped in two places).
TWINS = ("H20.SDTTG-202605-0006134", "H20.SDTTG-202602-0006131")


def test_a_dossier_whose_key_collides_with_another_is_kept_apart(session, world, tmp_path):
    import duckdb

    assert duckdb.sql(f"SELECT hash('{TWINS[0]}') = hash('{TWINS[1]}')").fetchall() == [(True,)]
    first = [record(TWINS[0], "P1", "06200", "2025-08-04 08:00", "truc_tuyen"),
             record(TWINS[1], "P1", "06300", "2025-08-05 08:00", "truc_tuyen")]
    result = ingest(session, write_csv(tmp_path / "twins.csv", first))
    assert (result.rows_stored, result.rows_ignored) == (2, 0)
    # The first is re-sent (now in person); the other, untouched, must still count.
    resent = [{**first[0], "channel": "truc_tiep", "updated_at": "2025-08-06 08:00"}]
    ingest(session, write_csv(tmp_path / "resent.csv", resent))
    assert values_of(session, world["06200"].id, "202508")["HS_TRUC_TUYEN"][:2] == (0, 1)
    assert values_of(session, world["06300"].id, "202508")["HS_TRUC_TUYEN"][:2] == (1, 1)
    assert values_of(session, world["20"].id, "202508")["HS_TRUC_TUYEN"][:2] == (1, 2)
    repaired = service.recompute(session, access=feed_access(session))
    assert (repaired.inserted, repaired.updated) == (0, 0)
