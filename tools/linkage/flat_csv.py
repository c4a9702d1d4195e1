#!/usr/bin/env python3
"""Writes the mentions of an ingested registry as one flat CSV of person records with their
truth, for running `lifeline link` and other linkage tools side by side on the same file:

    python3 tools/linkage/flat_csv.py REGISTRY.db SAMPLES_DIR OUT.csv

Columns: rec_id, name, id_number, gender, birth_date, phone, county, address, truth.
The values are the ones the officers' files carried, as ingest read them: the name and ID
number as written (traditional characters, typos, float-cut numbers and all), the birth date,
gender and phone as normalized, the county as a region code (from the row's address, else the
county named in the file name, as `lifeline match` does), the address as written. `truth` is the
true person from SAMPLES_DIR/truth/mentions.csv.
"""
import csv
import sqlite3
import sys


def main():
    db, samples, out = sys.argv[1], sys.argv[2], sys.argv[3]
    truth = {}
    with open(f"{samples}/truth/mentions.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            truth[(r["file"], r["sheet"], int(r["row"]), r["role"])] = r["person_id"]
    con = sqlite3.connect(db)
    # county names seen with a region code, to place mentions by the county in their file name
    codes = {}
    for name, code in con.execute(
        "SELECT county, region_code FROM mentions WHERE county IS NOT NULL AND length(region_code) = 6 "
        "GROUP BY county, region_code"
    ):
        codes.setdefault(name, code)
    by_file = {}
    rows = con.execute(
        "SELECT m.id, f.file_name, m.sheet, m.row_number, m.role, m.name_raw, m.id_raw, m.gender, "
        "m.birth_date, m.phone, m.region_code, m.address FROM mentions m JOIN files f ON f.id = m.file_id "
        "ORDER BY m.id"
    )
    written = 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rec_id", "name", "id_number", "gender", "birth_date", "phone", "county", "address", "truth"])
        for mid, file, sheet, row, role, name, id_raw, gender, birth, phone, region, address in rows:
            t = truth.get((file, sheet, row, role))
            if t is None:
                continue
            county = (region or "")[:6]
            if len(county) != 6:
                if file not in by_file:
                    found = [c for n, c in codes.items() if n in file]
                    by_file[file] = found[0] if len(set(found)) == 1 else ""
                county = by_file[file]
            w.writerow([f"m{mid}", name or "", id_raw or "", gender or "", birth or "", phone or "", county,
                        address or "", t])
            written += 1
    print(f"{written} records written to {out}")


if __name__ == "__main__":
    main()
