"""Derive chiso's own administrative-unit data from the `vietnamadminunits` package.

A developer tool, run by hand when the official list changes; chiso never imports the
package at run time. It writes three gzipped CSV files into chiso/units/data/:

- units-2025.csv.gz    34 provinces and 3,321 communes (xã, phường, đặc khu) in force
                       from 1/7/2025 (Nghị quyết 202/2025/QH15 and the Standing Committee's
                       commune resolutions); a province whose code and name continue is one
                       row valid since 1900-01-01.
- units-legacy.csv.gz  the structure before 1/7/2025: 63 provinces, the districts
                       (huyện, quận, thị xã, thành phố thuộc tỉnh) and communes
                       (xã, phường, thị trấn), valid until 30/6/2025.
- lineage-2025.csv.gz  old → new links on 1/7/2025: commune merges and splits (one primary
                       successor per split: the package's default new ward), district →
                       province absorption, province merges.

Usage: .venv/bin/python scripts/derive_units.py [--check]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sqlite3
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import vietnamadminunits

SOURCE_DIR = Path(vietnamadminunits.__file__).parent / "data"
OUT_DIR = Path(__file__).resolve().parent.parent / "chiso" / "units" / "data"

FAR_PAST = "1900-01-01"
LAST_OLD_DAY = "2025-06-30"
REFORM_DAY = "2025-07-01"

BASIS_PROVINCE = "Nghị quyết 202/2025/QH15 về sắp xếp đơn vị hành chính cấp tỉnh"
BASIS_COMMUNE = "Nghị quyết của UBTVQH15 về sắp xếp đơn vị hành chính cấp xã năm 2025"
BASIS_DISTRICT = ("Luật Tổ chức chính quyền địa phương 2025 (72/2025/QH15): "
                  "kết thúc cấp huyện từ 1/7/2025")

KIND_BY_TYPE = {
    "Tỉnh": "tinh",
    "Huyện": "huyen",
    "Quận": "quan",
    "Thị xã": "thi_xa",
    "Thành phố": "thanh_pho_thuoc_tinh",
    "Xã": "xa",
    "Phường": "phuong",
    "Thị trấn": "thi_tran",
    "Đặc khu": "dac_khu",
}
ENGLISH_SUFFIX = {
    "tinh": "Province", "thanh_pho_tw": "City", "huyen": "District", "quan": "District",
    "thi_xa": "Town", "thanh_pho_thuoc_tinh": "City", "xa": "Commune", "phuong": "Ward",
    "thi_tran": "Township", "dac_khu": "Special Zone",
}
UNIT_COLUMNS = ["code", "name", "short_name", "name_en", "kind", "parent_code",
                "valid_from", "valid_to", "area_km2", "latitude", "longitude"]
LINEAGE_COLUMNS = ["predecessor_code", "predecessor_valid_from", "successor_code",
                   "successor_valid_from", "event_date", "kind", "share", "is_primary",
                   "legal_basis"]


def ascii_name(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "").strip()


def province_kind(full_name: str) -> str:
    return "thanh_pho_tw" if full_name.startswith("Thành phố") else "tinh"


def unit_row(code: str, name: str, short: str, kind: str, parent: str, valid_from: str,
             valid_to: str, area: float | None = None, lat: float | None = None,
             lon: float | None = None) -> dict[str, object]:
    return {
        "code": code, "name": nfc(name), "short_name": nfc(short),
        "name_en": f"{ascii_name(nfc(short))} {ENGLISH_SUFFIX[kind]}", "kind": kind,
        "parent_code": parent, "valid_from": valid_from, "valid_to": valid_to,
        "area_km2": "" if not area else round(area, 2),
        "latitude": "" if lat is None else round(lat, 6),
        "longitude": "" if lon is None else round(lon, 6),
    }


def lineage_row(pred: tuple[str, str], succ: tuple[str, str], kind: str, basis: str,
                share: float = 1.0, primary: bool = True) -> dict[str, object]:
    return {
        "predecessor_code": pred[0], "predecessor_valid_from": pred[1],
        "successor_code": succ[0], "successor_valid_from": succ[1],
        "event_date": REFORM_DAY, "kind": kind, "share": round(share, 4),
        "is_primary": int(primary), "legal_basis": basis,
    }


class Source:
    """The package's SQLite file and converter JSON, read once."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(SOURCE_DIR / "dataset.db")
        self.db.row_factory = sqlite3.Row
        self.converter = json.loads((SOURCE_DIR / "converter_2025.json").read_text("utf-8"))

    def rows(self, sql: str) -> list[sqlite3.Row]:
        return self.db.execute(sql).fetchall()


def current_provinces(src: Source) -> dict[str, sqlite3.Row]:
    return {r["provinceCode"]: r for r in src.rows(
        "SELECT DISTINCT provinceCode, province, provinceShort, provinceKey, provinceLat, "
        "provinceLon FROM admin_units")}


def legacy_provinces(src: Source) -> dict[str, sqlite3.Row]:
    return {r["provinceCode"]: r for r in src.rows(
        "SELECT DISTINCT provinceCode, province, provinceShort, provinceKey, provinceLat, "
        "provinceLon FROM admin_units_legacy")}


def continuing_codes(src: Source) -> set[str]:
    """Provinces whose code and name survive 1/7/2025: one unit, no end date."""
    old = legacy_provinces(src)
    return {code for code, row in current_provinces(src).items()
            if code in old and nfc(old[code]["province"]) == nfc(row["province"])}


def build_current(src: Source, continuing: set[str]) -> list[dict[str, object]]:
    provinces = current_provinces(src)
    # No province area: the source's commune areas have gaps (some are 0), so their sum
    # would understate the official figure.
    rows = [unit_row(code, p["province"], p["provinceShort"], province_kind(p["province"]),
                     "", FAR_PAST if code in continuing else REFORM_DAY, "",
                     None, p["provinceLat"], p["provinceLon"])
            for code, p in sorted(provinces.items())]
    for w in src.rows("SELECT * FROM admin_units ORDER BY wardCode"):
        rows.append(unit_row(w["wardCode"], w["ward"], w["wardShort"],
                             KIND_BY_TYPE[w["wardType"]], w["provinceCode"], REFORM_DAY, "",
                             w["wardAreaKm2"], w["wardLat"], w["wardLon"]))
    return rows


def build_legacy(src: Source, continuing: set[str]) -> list[dict[str, object]]:
    rows = [unit_row(code, p["province"], p["provinceShort"], province_kind(p["province"]),
                     "", FAR_PAST, LAST_OLD_DAY, None, p["provinceLat"], p["provinceLon"])
            for code, p in sorted(legacy_provinces(src).items()) if code not in continuing]
    for d in src.rows("SELECT DISTINCT districtCode, district, districtShort, districtType, "
                      "provinceCode, districtLat, districtLon FROM admin_units_legacy "
                      "ORDER BY districtCode"):
        rows.append(unit_row(d["districtCode"], d["district"], d["districtShort"],
                             KIND_BY_TYPE[d["districtType"]], d["provinceCode"], FAR_PAST,
                             LAST_OLD_DAY, None, d["districtLat"], d["districtLon"]))
    for w in src.rows("SELECT * FROM admin_units_legacy WHERE wardCode IS NOT NULL "
                      "ORDER BY wardCode"):
        rows.append(unit_row(w["wardCode"], w["ward"], w["wardShort"],
                             KIND_BY_TYPE[w["wardType"]], w["districtCode"], FAR_PAST,
                             LAST_OLD_DAY, None, w["wardLat"], w["wardLon"]))
    return rows


class Keys:
    """The converter names units by keys ('tinhlangson_huyencaoloc_xahopthanh'); map them
    to official codes."""

    def __init__(self, src: Source) -> None:
        self.new_ward = {(r["provinceKey"], r["wardKey"]): r["wardCode"]
                         for r in src.rows("SELECT provinceKey, wardKey, wardCode "
                                           "FROM admin_units")}
        self.new_area = {r["wardCode"]: r["wardAreaKm2"] or 0.0
                         for r in src.rows("SELECT wardCode, wardAreaKm2 FROM admin_units")}
        self.new_province = {r["provinceKey"]: r["provinceCode"]
                             for r in src.rows("SELECT DISTINCT provinceKey, provinceCode "
                                               "FROM admin_units")}
        legacy = src.rows("SELECT provinceKey, districtKey, wardKey, wardCode, districtCode, "
                          "provinceCode FROM admin_units_legacy")
        self.old_ward = {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}":
                         (r["wardCode"], r["districtCode"]) for r in legacy}
        self.old_province = {r["provinceKey"]: r["provinceCode"] for r in legacy}
        self.district_province = {r["districtCode"]: r["provinceKey"] for r in legacy}


def commune_links(src: Source, keys: Keys) -> list[dict[str, object]]:
    """Whole communes merged into one new commune, and communes split over several."""
    links: list[dict[str, object]] = []
    for province_key, wards in src.converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            new_code = keys.new_ward[(province_key, ward_key)]
            for old_key in old_keys:
                old_code, district_code = keys.old_ward[old_key]
                if old_code is None:  # a district without communes became a đặc khu
                    links.append(lineage_row((district_code, FAR_PAST), (new_code, REFORM_DAY),
                                             "merge", BASIS_COMMUNE))
                else:
                    links.append(lineage_row((old_code, FAR_PAST), (new_code, REFORM_DAY),
                                             "merge", BASIS_COMMUNE))
    for province_key, olds in src.converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in olds.items():
            links.extend(split_links(keys, province_key, old_key, parts))
    return links


def split_links(keys: Keys, province_key: str, old_key: str,
                parts: list[dict[str, object]]) -> list[dict[str, object]]:
    """The source gives no area per piece, only each successor's area; the share is that
    area's fraction among the successors, an estimate. The default new ward is primary:
    it receives the old commune's reported figures."""
    old_code, _district = keys.old_ward[old_key]
    codes = [keys.new_ward[(province_key, str(p["newWardKey"]))] for p in parts]
    areas = [keys.new_area[c] for c in codes]
    total = sum(areas)
    return [lineage_row((old_code, FAR_PAST), (code, REFORM_DAY), "split", BASIS_COMMUNE,
                        share=(area / total) if total else 1 / len(codes),
                        primary=bool(part["isDefaultNewWard"]))
            for code, area, part in zip(codes, areas, parts, strict=True)]


def province_links(src: Source, keys: Keys, continuing: set[str]) -> list[dict[str, object]]:
    links = []
    for new_key, old_keys in src.converter["DICT_PROVINCE"].items():
        new_code = keys.new_province[new_key]
        new_from = FAR_PAST if new_code in continuing else REFORM_DAY
        for old_key in old_keys:
            old_code = keys.old_province[old_key]
            if old_code == new_code and new_code in continuing:
                continue  # the same unit, not a succession
            links.append(lineage_row((old_code, FAR_PAST), (new_code, new_from), "merge",
                                     BASIS_PROVINCE))
    return links


def district_links(src: Source, keys: Keys, continuing: set[str],
                   communeless: set[str]) -> list[dict[str, object]]:
    """Districts ended on 1/7/2025; their territory belongs to the new province."""
    new_of_old = {old: new for new, olds in src.converter["DICT_PROVINCE"].items()
                  for old in olds}
    links = []
    for district_code, province_key in sorted(keys.district_province.items()):
        if district_code in communeless:
            continue  # linked to its đặc khu instead
        new_code = keys.new_province[new_of_old[province_key]]
        new_from = FAR_PAST if new_code in continuing else REFORM_DAY
        links.append(lineage_row((district_code, FAR_PAST), (new_code, new_from), "absorb",
                                 BASIS_DISTRICT))
    return links


def write_csv(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    # mtime=0 keeps the file byte-identical between runs, so git sees no change.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        text = gz_text(columns, rows)
        gz.write(text.encode("utf-8"))


def gz_text(columns: list[str], rows: list[dict[str, object]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def check(current: list[dict[str, object]], legacy: list[dict[str, object]],
          lineage: list[dict[str, object]]) -> None:
    def count(rows: list[dict[str, object]], kinds: set[str]) -> int:
        return sum(1 for r in rows if r["kind"] in kinds)

    provinces = {"tinh", "thanh_pho_tw"}
    old_provinces = count(legacy, provinces) + sum(
        1 for r in current if r["kind"] in provinces and r["valid_from"] == FAR_PAST)
    assert count(current, provinces) == 34, count(current, provinces)
    assert count(current, {"xa", "phuong", "dac_khu"}) == 3321
    assert old_provinces == 63, old_provinces
    assert count(legacy, {"xa", "phuong", "thi_tran"}) == 10035
    keys = Counter((r["code"], r["valid_from"]) for r in current + legacy)
    assert max(keys.values()) == 1, "duplicate (code, valid_from)"
    splits = Counter(r["predecessor_code"] for r in lineage if r["kind"] == "split"
                     and r["is_primary"])
    assert set(splits.values()) == {1}, "a split without exactly one primary successor"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify only, write nothing")
    args = parser.parse_args()
    src = Source()
    continuing = continuing_codes(src)
    keys = Keys(src)
    communeless = {d for key, (w, d) in keys.old_ward.items() if w is None}
    current = build_current(src, continuing)
    legacy = build_legacy(src, continuing)
    lineage = (commune_links(src, keys) + district_links(src, keys, continuing, communeless)
               + province_links(src, keys, continuing))
    check(current, legacy, lineage)
    print(f"current units: {len(current)}, legacy units: {len(legacy)}, "
          f"lineage links: {len(lineage)}, continuing provinces: {len(continuing)}")
    if not args.check:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        write_csv(OUT_DIR / "units-2025.csv.gz", UNIT_COLUMNS, current)
        write_csv(OUT_DIR / "units-legacy.csv.gz", UNIT_COLUMNS, legacy)
        write_csv(OUT_DIR / "lineage-2025.csv.gz", LINEAGE_COLUMNS, lineage)
        print(f"written to {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
