#!/usr/bin/env python3
"""Where does `lifeline match` go wrong on generated data? Reads a SQLite registry that was
ingested from `lifeline samples` output and matched, and that output's truth/mentions.csv, and
prints the pairwise figures plus the worst split persons (false negatives) and merged persons
(false positives) with the fields of their mentions, so the causes can be read off.

    python3 tools/linkage/errors.py REGISTRY.db SAMPLES_DIR [--show 20]
"""
import csv
import sqlite3
import sys
from collections import Counter, defaultdict


def main():
    db, samples = sys.argv[1], sys.argv[2]
    show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 20
    truth = {}
    with open(f"{samples}/truth/mentions.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            truth[(r["file"], r["sheet"], int(r["row"]), r["role"])] = (r["person_id"], r["household_id"])
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT f.file_name, m.sheet, m.row_number, m.role, l.person_id, p.household_id, m.name, m.id_number, "
        "m.id_raw, m.id_status, m.birth_date, m.gender, m.phone, m.county, m.township, m.village, m.region_code "
        "FROM mentions m JOIN files f ON f.id = m.file_id JOIN mention_links l ON l.mention_id = m.id "
        "JOIN persons p ON p.person_id = l.person_id"
    ).fetchall()
    mentions = []
    for r in rows:
        t = truth.get((r[0], r[1], r[2], r[3]))
        if t is None:
            continue
        mentions.append(dict(file=r[0], row=r[2], role=r[3], pred=r[4], tp=t[0], name=r[6], id=r[7] or "",
                             raw=r[8], status=r[9], birth=r[10] or "", gender=r[11] or "", phone=r[12] or "",
                             place=f"{r[16] or ''}/{r[14] or ''}/{r[15] or ''}"))
    by_pred = defaultdict(list)
    by_true = defaultdict(list)
    joint = Counter()
    for m in mentions:
        by_pred[m["pred"]].append(m)
        by_true[m["tp"]].append(m)
        joint[(m["pred"], m["tp"])] += 1
    pairs = lambda n: n * (n - 1) // 2
    tp = sum(pairs(n) for n in joint.values())
    pp = sum(pairs(len(v)) for v in by_pred.values())
    tt = sum(pairs(len(v)) for v in by_true.values())
    p, r = tp / pp if pp else 1.0, tp / tt if tt else 1.0
    print(f"{len(mentions)} mentions; precision {p:.5f} recall {r:.5f} F1 {2 * p * r / (p + r):.5f}")
    print(f"missed pairs {tt - tp}, wrong pairs {pp - tp}")

    def line(m):
        return (f"  {m['pred']:>10} {m['role']:<10} {m['name'] or '-':<6} id={m['id'] or '(' + m['status'] + ':' + m['raw'] + ')'} "
                f"b={m['birth']} g={m['gender']} ph={m['phone']} {m['place']}  [{m['file']}:{m['row']}]")

    def mixed(groups, part_key):
        """Groups whose mentions fall into several parts, with the pairs that costs, worst first."""
        out = []
        for key, ms in groups.items():
            parts = Counter(m[part_key] for m in ms)
            if len(parts) > 1:
                out.append((pairs(len(ms)) - sum(pairs(n) for n in parts.values()), key, ms, parts))
        out.sort(reverse=True, key=lambda s: s[0])
        return out

    # false negatives: a true person spread over several predicted persons; pairs lost per split
    splits = mixed(by_true, "pred")
    causes = Counter()
    for _, _, ms, parts in splits:
        # the smaller parts: what kind of mention was left out
        main_part = parts.most_common(1)[0][0]
        for m in ms:
            if m["pred"] != main_part:
                kind = ("valid-id" if m["id"] else m["status"]) + "/" + ("subject" if m["role"] == "subject" else "related")
                kind += "/birth" if m["birth"] else "/no-birth"
                causes[kind] += parts[main_part]
    print("\nmissed pairs by the kind of mention left out (approx., vs the largest part):")
    for k, v in causes.most_common():
        print(f"  {v:>8}  {k}")
    print(f"\n{len(splits)} true persons split; the worst {show}:")
    for lost, person, ms, _ in splits[:show]:
        print(f"{person}: {lost} pairs lost")
        for m in sorted(ms, key=lambda m: m["pred"]):
            print(line(m))
    merges = mixed(by_pred, "tp")
    print(f"\n{len(merges)} predicted persons merge several true persons; the worst {show}:")
    for wrong, pred, ms, _ in merges[:show]:
        print(f"{pred}: {wrong} wrong pairs")
        for m in sorted(ms, key=lambda m: m["tp"]):
            print(f"  {m['tp']}" + line(m))


if __name__ == "__main__":
    main()
