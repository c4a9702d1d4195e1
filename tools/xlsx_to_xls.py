#!/usr/bin/env python3
"""Convert an .xlsx workbook to a legacy .xls (BIFF8) workbook.

Used to add an old-format export to the committed sample set
(`samples/README.md`): `lifeline samples` writes xlsx and CSV only, but
county offices still send .xls files saved by old Excel/WPS versions.

Every sheet is copied cell by cell at the same position, so row numbers in
`truth/mentions.csv` stay valid; only the file name changes, and
`--truth DIR` rewrites it in `DIR/mentions.csv` and `DIR/files.csv`.

Kept: sheet names and order, hidden sheets, merged ranges, cell types
(strings stay strings; numbers stay numbers with their number format, so an
ID typed as a number stays a float cell shown as `0`; date cells stay date
cells), bold header fonts and column widths. Formulas are written as
formulas; BIFF8 written by xlwt carries no cached result, so readers that do
not recalculate (xlrd, calamine) see an empty value for them.

Requires: pip install openpyxl xlwt

Usage: xlsx_to_xls.py IN.xlsx OUT.xls [--truth DIR] [--remove-source]
"""

import argparse
import csv
import datetime
import os
import sys

import openpyxl
import xlwt
from openpyxl.utils import get_column_letter

DATE_FALLBACK = "yyyy-mm-dd"


def style_for(cell, cache):
    """An xlwt style matching the cell's number format and boldness."""
    fmt = cell.number_format or "General"
    if isinstance(cell.value, (datetime.datetime, datetime.date)) and fmt == "General":
        fmt = DATE_FALLBACK
    bold = bool(cell.font and cell.font.b)
    key = (fmt, bold)
    if key not in cache:
        style = xlwt.XFStyle()
        style.num_format_str = fmt
        if bold:
            font = xlwt.Font()
            font.bold = True
            style.font = font
        cache[key] = style
    return cache[key]


def value_for(cell):
    """The value to write: formulas become xlwt formulas, the rest as is."""
    v = cell.value
    if isinstance(v, str) and v.startswith("=") and cell.data_type == "f":
        return xlwt.Formula(v[1:])
    if isinstance(v, datetime.time):
        return v.isoformat()
    return v


def convert(src, dst):
    wb = openpyxl.load_workbook(src)  # formulas kept as text
    out = xlwt.Workbook(encoding="utf-8")
    styles = {}
    for ws in wb.worksheets:
        sheet = out.add_sheet(ws.title, cell_overwrite_ok=True)
        if ws.sheet_state != "visible":
            sheet.visibility = 1
        merged = {}
        covered = set()
        for rng in ws.merged_cells.ranges:
            merged[(rng.min_row, rng.min_col)] = rng
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if (r, c) != (rng.min_row, rng.min_col):
                        covered.add((r, c))
        for row in ws.iter_rows():
            for cell in row:
                r, c = cell.row, cell.column
                if (r, c) in covered:
                    continue
                if (r, c) in merged:
                    m = merged[(r, c)]
                    sheet.write_merge(m.min_row - 1, m.max_row - 1, m.min_col - 1, m.max_col - 1,
                                      value_for(cell), style_for(cell, styles))
                    continue
                if cell.value is None:
                    continue
                sheet.write(r - 1, c - 1, value_for(cell), style_for(cell, styles))
        for c in range(1, (ws.max_column or 0) + 1):
            dim = ws.column_dimensions.get(get_column_letter(c))
            if dim is not None and dim.width:
                sheet.col(c - 1).width = min(int(dim.width * 256), 65535)
    out.save(dst)


def rewrite_truth(truth_dir, old, new):
    """Replace the file name `old` by `new` in the truth CSV files."""
    for name, fix in (("mentions.csv", None), ("files.csv", "xls")):
        path = os.path.join(truth_dir, name)
        if not os.path.exists(path):
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        fi = header.index("file")
        for row in rows[1:]:
            if row[fi] == old:
                row[fi] = new
                if fix and "format" in header:
                    row[header.index("format")] = fix
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--truth", help="truth directory whose file names to update")
    ap.add_argument("--remove-source", action="store_true", help="delete the .xlsx afterwards")
    args = ap.parse_args()
    convert(args.src, args.dst)
    if args.truth:
        rewrite_truth(args.truth, os.path.basename(args.src), os.path.basename(args.dst))
    if args.remove_source:
        os.remove(args.src)
    print(f"wrote {args.dst}", file=sys.stderr)


if __name__ == "__main__":
    main()
