"""The same indicator computation written the straightforward vectorised pandas way, for
`chiso bench records` to compare against (same files, same unit map, same answer)."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from chiso.records.engine import COUNTS, INDICATORS

READ_COLUMNS = ["k", "dossier_code", "batch_id", "procedure_code", "unit_code", "month", "channel",
                "service_level", "due_at", "finished_at", "electronic_result", "digitised",
                "paid_online", "fee_due"]
ONLINE_LEVELS = ("toan_trinh", "mot_phan")


def read_store(versions: list[str], superseded: list[str]
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = _read(versions, READ_COLUMNS)
    empty = pd.DataFrame({"k": pd.Series(dtype="uint64"), "dossier_code": pd.Series(dtype=str),
                          "batch_id": pd.Series(dtype="int32")})
    gone = _read(superseded, ["k", "dossier_code", "batch_id"]) if superseded else empty
    return frame, gone


def _read(files: list[str], columns: list[str]) -> pd.DataFrame:
    return pq.ParquetDataset(files, partitioning=None).read(columns=columns).to_pandas()


def indicators(versions: pd.DataFrame, superseded: pd.DataFrame, procedures: pd.DataFrame,
               umap: pd.DataFrame, closure: pd.DataFrame) -> pd.DataFrame:
    """unit_id, month, indicator_code, numerator, denominator — like engine.indicator_table."""
    current = _current(versions, superseded)
    flagged = _flags(current, procedures).merge(umap, on=["unit_code", "month"])
    additive = (flagged.groupby(["leaf_id", "month"])[list(COUNTS)].sum().reset_index()
                .merge(closure, on="leaf_id").groupby(["unit_id", "month"])[list(COUNTS)]
                .sum())
    online_procs = procedures[procedures["service_level"].isin(ONLINE_LEVELS)]
    with_online = (flagged.loc[flagged["online"] & flagged["procedure_code"]
                               .isin(online_procs["code"]), ["leaf_id", "month",
                                                             "procedure_code"]]
                   .drop_duplicates().merge(closure, on="leaf_id")
                   .groupby(["unit_id", "month"])["procedure_code"].nunique()
                   .rename("services_with_online"))
    offered = (flagged[["leaf_id", "month", "level", "field"]].dropna().drop_duplicates()
               .merge(closure, on="leaf_id")[["unit_id", "month", "level", "field"]]
               .drop_duplicates()
               .merge(online_procs[["code", "level", "field"]], on=["level", "field"])
               .groupby(["unit_id", "month"])["code"].nunique().rename("services_offered"))
    wide = additive.join(with_online).join(offered).fillna(0).reset_index()
    return _long(wide)


def _current(versions: pd.DataFrame, superseded: pd.DataFrame) -> pd.DataFrame:
    """A version is replaced when its key, code and batch are listed as superseded."""
    keys = ["k", "dossier_code", "batch_id"]
    marked = versions.merge(superseded[keys].drop_duplicates(), on=keys, how="left",
                            indicator=True)
    return marked[marked["_merge"] == "left_only"].drop(columns="_merge")


def _flags(current: pd.DataFrame, procedures: pd.DataFrame) -> pd.DataFrame:
    catalogue = procedures.rename(columns={"code": "procedure_code",
                                           "service_level": "catalogue_level"})
    frame = current.merge(catalogue[["procedure_code", "catalogue_level", "level", "field"]],
                          on="procedure_code", how="left")
    level = frame["service_level"].fillna(frame["catalogue_level"])
    finished = frame["finished_at"].notna()
    with_fee = frame["fee_due"] > 0
    online = frame["channel"] == "truc_tuyen"
    return pd.DataFrame({
        "unit_code": frame["unit_code"], "month": frame["month"],
        "procedure_code": frame["procedure_code"], "level": frame["level"],
        "field": frame["field"], "online": online,
        "received": 1,
        "full_online": online & (level == "toan_trinh"),
        "finished": finished,
        "on_time": finished & (frame["due_at"].isna()
                               | (frame["finished_at"] <= frame["due_at"])),
        "digitised": frame["digitised"].astype(bool),
        "e_result": finished & frame["electronic_result"].astype(bool),
        "with_fee": with_fee,
        "paid_online": with_fee & frame["paid_online"].astype(bool),
    })


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    parts = [pd.DataFrame({"unit_id": wide["unit_id"].astype("int64"),
                           "month": wide["month"].astype("int32"), "indicator_code": code,
                           "numerator": wide[num].astype(float),
                           "denominator": wide[den].astype(float)})
             for code, (num, den) in INDICATORS.items()]
    return pd.concat(parts, ignore_index=True)
