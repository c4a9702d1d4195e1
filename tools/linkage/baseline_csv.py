#!/usr/bin/env python3
"""Baseline: recordlinkage deduplication of a CSV of Chinese person records.

Input CSV columns (header required, UTF-8):
    rec_id,name,id_number,gender,birth_date,phone,county,address,truth
`truth` is the ground-truth entity key: two records with the same truth value are a
true match. All columns are read as strings (leading zeros / trailing X in ID numbers
kept); empty cells are missing values.

Pipeline (the generic recordlinkage workflow, same as baseline_febrl4.py):
  index    union of Block(id_number), Block([name, birth_date]), Block(phone)
           (records with the blocking key missing are not blocked on it)
  compare  name: Jaro-Winkler >= 0.85 (on the pypinyin reading of the name, tone-less,
           when the pypinyin package is importable -- otherwise on the characters;
           force with --name-mode chars|pinyin)
           exact: id_number, birth_date, gender, phone, county
  classify ECMClassifier (unsupervised); a pair is a match when P(match) >= 0.5
Evaluation (pairs, against all true pairs, including those the blocking missed):
  pairwise   the predicted links as they are
  closure    the links' transitive closure (connected components as clusters),
             comparable with an engine that outputs clusters
Timing: wall time of load -> index -> compare -> classify (imports excluded; the
evaluation itself is not timed).

Usage: venv/bin/python baseline_csv.py people.csv [--name-mode auto|chars|pinyin]
                                       [--json result.json] [--pairs-out links.csv]
"""
import argparse
import json
import os
import platform
import sys
import time

_t_import = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import recordlinkage as rl  # noqa: E402
from recordlinkage.compare import Exact, String  # noqa: E402
from recordlinkage.index import Block  # noqa: E402
from scipy.sparse import coo_matrix  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

try:
    from pypinyin import lazy_pinyin  # noqa: E402
except ImportError:  # pragma: no cover
    lazy_pinyin = None
IMPORT_SECONDS = time.perf_counter() - _t_import

COLUMNS = ["rec_id", "name", "id_number", "gender", "birth_date", "phone", "county", "address", "truth"]


def load(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise SystemExit(f"missing columns: {missing}")
    for c in COLUMNS:
        df[c] = df[c].str.strip().replace("", np.nan)
    df = df.set_index("rec_id", drop=False)
    if not df.index.is_unique:
        raise SystemExit("rec_id is not unique")
    return df


def add_name_key(df, mode):
    if mode == "pinyin":
        # tone-less pinyin syllables joined by spaces; non-Chinese characters pass through
        uniq = df["name"].dropna().unique()
        py = dict(zip(uniq, (" ".join(lazy_pinyin(s)) for s in uniq)))
        df["name_key"] = df["name"].map(py)
    else:
        df["name_key"] = df["name"]
    return df


def pair_counts(groups):
    """number of unordered pairs inside groups, given group sizes."""
    g = np.asarray(groups, dtype=np.int64)
    return int((g * (g - 1) // 2).sum())


def evaluate(df, links):
    truth = df["truth"]
    # true pairs: same non-missing truth value
    n_true = pair_counts(truth.dropna().value_counts().values)
    # pairwise
    if len(links):
        ta = truth.reindex(links.get_level_values(0)).values
        tb = truth.reindex(links.get_level_values(1)).values
        tp = int(np.sum((ta == tb) & pd.notna(ta)))
    else:
        tp = 0
    pw = prf(tp, len(links), n_true)
    # transitive closure of the links
    pos = pd.Series(np.arange(len(df)), index=df.index)
    n = len(df)
    if len(links):
        i = pos.reindex(links.get_level_values(0)).values
        j = pos.reindex(links.get_level_values(1)).values
        g = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
        _, comp = connected_components(g, directed=False)
    else:
        comp = np.arange(n)
    comp = pd.Series(comp, index=df.index)
    n_pred = pair_counts(comp.value_counts().values)
    both = pd.DataFrame({"c": comp.values, "t": truth.values}).dropna()
    tp_c = pair_counts(both.groupby(["c", "t"]).size().values)
    cl = prf(tp_c, n_pred, n_true)
    return n_true, pw, cl


def prf(tp, n_pred, n_true):
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return dict(pairs=int(n_pred), tp=int(tp), fp=int(n_pred - tp), fn=int(n_true - tp),
                precision=p, recall=r, f1=f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--name-mode", choices=["auto", "chars", "pinyin"], default="auto")
    ap.add_argument("--threshold", type=float, default=0.85, help="Jaro-Winkler threshold for name agreement")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--pairs-out", help="write predicted links (rec_id_a,rec_id_b) to this CSV")
    args = ap.parse_args()
    mode = args.name_mode
    if mode == "auto":
        mode = "pinyin" if lazy_pinyin is not None else "chars"
    if mode == "pinyin" and lazy_pinyin is None:
        raise SystemExit("pypinyin is not installed")

    from importlib.metadata import version
    env = {m: version(m) for m in ("recordlinkage", "pandas", "numpy", "scikit-learn", "jellyfish")}
    if lazy_pinyin is not None:
        env["pypinyin"] = version("pypinyin")
    print(f"python {platform.python_version()} ({platform.machine()}, {os.cpu_count()} cpus) "
          + " ".join(f"{k} {v}" for k, v in env.items()))
    print(f"import time (not counted): {IMPORT_SECONDS:.3f}s; name comparison on: {mode}")

    t0 = time.perf_counter()
    df = load(args.csv)
    df = add_name_key(df, mode)
    t_load = time.perf_counter()

    indexer = rl.Index()
    indexer.add(Block("id_number"))
    indexer.add(Block(["name", "birth_date"]))
    indexer.add(Block("phone"))
    pairs = indexer.index(df)
    t_index = time.perf_counter()

    c = rl.Compare()
    c.add(String("name_key", "name_key", method="jarowinkler", threshold=args.threshold, label="name"))
    for col in ("id_number", "birth_date", "gender", "phone", "county"):
        c.add(Exact(col, col, label=col))
    X = c.compute(pairs, df)
    t_cmp = time.perf_counter()

    if len(X):
        ecm = rl.ECMClassifier()
        links = ecm.fit_predict(X)
    else:
        links = pairs[:0]
    t_cls = time.perf_counter()
    total = t_cls - t0

    n_true, pw, cl = evaluate(df, links)
    cand_tp = evaluate(df, pairs)[1]["tp"]
    print(f"records: {len(df)}  true pairs: {n_true}  candidate pairs: {len(pairs)}  "
          f"pairs completeness: {cand_tp / n_true if n_true else 0:.4f}")
    print(f"time: load {t_load - t0:.3f}s  index {t_index - t_load:.3f}s  compare {t_cmp - t_index:.3f}s  "
          f"classify {t_cls - t_cmp:.3f}s  total {total:.3f}s")
    for label, m in (("pairwise", pw), ("closure", cl)):
        print(f"{label:<9} pairs {m['pairs']:>8}  TP {m['tp']:>8}  FP {m['fp']:>7}  FN {m['fn']:>7}  "
              f"precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f}")

    if args.pairs_out:
        pd.DataFrame({"rec_id_a": links.get_level_values(0), "rec_id_b": links.get_level_values(1)}).to_csv(
            args.pairs_out, index=False)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(dict(tool="recordlinkage", env=env, name_mode=mode, records=len(df), true_pairs=n_true,
                           candidate_pairs=len(pairs), pairs_completeness=cand_tp / n_true if n_true else 0,
                           seconds=dict(load=t_load - t0, index=t_index - t_load, compare=t_cmp - t_index,
                                        classify=t_cls - t_cmp, total=total),
                           pairwise=pw, closure=cl), f, ensure_ascii=False, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
