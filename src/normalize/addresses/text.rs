//! Text-level helpers: normalisation of the raw input, separators and filler,
//! the unit-suffix scanner ([`scan_unit`]) and canonical township / village
//! spellings.

/// Longest township / village name (in characters, suffix excluded) that the
/// scanner accepts.
pub(super) const MAX_UNIT_NAME_CHARS: usize = 12;

/// Characters that may not directly follow a bare (suffix-less) name when it
/// ends the administrative part: `中山路`, `长安街`, `城关镇`, `红旗村`…
pub(super) fn is_bare_stop(ch: char) -> bool {
    "路街道巷里弄门号楼栋幢村镇乡区县市州旗盟省社居组庄屯湾苑园广花公小学校站场厂店所院局委队府港桥"
        .contains(ch)
}

/// Separators skipped between address components: any character that is
/// neither a letter nor a digit (punctuation, brackets, symbols, emoji), except
/// `#` and `&` which belong to house numbers.
fn is_separator(ch: char) -> bool {
    // CJK ideographs, the bulk of an address, without the general Unicode table lookup
    if ('\u{4E00}'..='\u{9FFF}').contains(&ch) {
        return false;
    }
    !ch.is_alphanumeric() && ch != '#' && ch != '&'
}

/// Punctuation trimmed from the end of the detail part.
fn is_trailing_punct(ch: char) -> bool {
    matches!(
        ch,
        ',' | ';' | ':' | '、' | '/' | '\\' | '|' | '-' | '_' | '.' | '·' | '。' | '~'
    )
}

pub(super) fn skip_separators(s: &str, pos: usize) -> usize {
    let rest = &s[pos..];
    pos + (rest.len() - rest.trim_start_matches(is_separator).len())
}

/// Skips separators and filler that some exports put between levels
/// (`北京市市辖区东城区`, `湖北省省直辖县级行政区划仙桃市`).
pub(super) fn skip_filler(s: &str, pos: usize) -> usize {
    let mut pos = skip_separators(s, pos);
    for filler in [
        "自治区直辖县级行政区划",
        "省直辖县级行政区划",
        "省直辖行政单位",
        "省直辖县",
        "市辖区",
    ] {
        if s[pos..].starts_with(filler) {
            pos = skip_separators(s, pos + filler.len());
            break;
        }
    }
    pos
}

pub(super) fn trim_detail(s: &str) -> &str {
    s.trim_start_matches(is_separator)
        .trim_end_matches(is_trailing_punct)
}

/// Normalises free text for parsing: drops all whitespace (including the
/// ideographic space U+3000) and zero-width characters, and folds full-width
/// ASCII forms (U+FF01–U+FF5E: `１２号`, `（`, `，`) to half-width.
pub fn normalize_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_whitespace() || matches!(ch, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}') {
            continue;
        }
        let folded = match ch {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
            _ => ch,
        };
        out.push(folded);
    }
    out
}

/// Kind of unit found by [`scan_unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UnitKind {
    City,
    County,
    Township,
    Village,
    /// House-number / street material: ends the search for admin units.
    Stop,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Unit {
    pub(super) kind: UnitKind,
    /// Byte offset just past the suffix.
    pub(super) end: usize,
    /// Characters before the suffix.
    pub(super) name_chars: usize,
    /// The suffix itself.
    pub(super) suffix: &'static str,
}

/// Suffix markers, longest first where they share a prefix.
const MARKERS: &[(&str, UnitKind)] = &[
    ("街道办事处", UnitKind::Township),
    ("街道办", UnitKind::Township),
    ("街道", UnitKind::Township),
    ("苏木", UnitKind::Township),
    ("农场", UnitKind::Township),
    ("林场", UnitKind::Township),
    ("镇", UnitKind::Township),
    ("乡", UnitKind::Township),
    ("社区居民委员会", UnitKind::Village),
    ("社区居委会", UnitKind::Village),
    ("村民委员会", UnitKind::Village),
    ("居民委员会", UnitKind::Village),
    ("村委会", UnitKind::Village),
    ("居委会", UnitKind::Village),
    ("社区", UnitKind::Village),
    ("嘎查", UnitKind::Village),
    ("村", UnitKind::Village),
    ("自治州", UnitKind::City),
    ("地区", UnitKind::City),
    ("盟", UnitKind::City),
    ("自治县", UnitKind::County),
    ("自治旗", UnitKind::County),
    ("小区", UnitKind::Stop),
    ("园区", UnitKind::Stop),
    ("校区", UnitKind::Stop),
    ("景区", UnitKind::Stop),
    ("厂区", UnitKind::Stop),
    ("营区", UnitKind::Stop),
    ("街区", UnitKind::Stop),
    ("市场", UnitKind::Stop),
    ("超市", UnitKind::Stop),
    ("集市", UnitKind::Stop),
    ("门市", UnitKind::Stop),
    ("单元", UnitKind::Stop),
    ("大道", UnitKind::Stop),
    ("大街", UnitKind::Stop),
    ("胡同", UnitKind::Stop),
    ("县", UnitKind::County),
    ("旗", UnitKind::County),
    ("区", UnitKind::County),
    ("市", UnitKind::County),
    ("号", UnitKind::Stop),
    ("组", UnitKind::Stop),
    ("室", UnitKind::Stop),
    ("栋", UnitKind::Stop),
    ("幢", UnitKind::Stop),
    ("弄", UnitKind::Stop),
    ("巷", UnitKind::Stop),
];

/// The first characters of [`MARKERS`]: a character that is none of them starts no marker.
static MARKER_STARTS: std::sync::LazyLock<Vec<char>> = std::sync::LazyLock::new(|| {
    let mut starts: Vec<char> = MARKERS
        .iter()
        .filter_map(|(m, _)| m.chars().next())
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts
});

fn starts_with_township(s: &str) -> bool {
    MARKERS
        .iter()
        .any(|(m, k)| *k == UnitKind::Township && s.starts_with(m))
}

/// Finds the first unit suffix in `s[pos..]` (within `max_chars` characters).
/// Name-bearing suffixes need at least one character of name before them.
pub(super) fn scan_unit(s: &str, pos: usize, max_chars: usize) -> Option<Unit> {
    let rest = &s[pos..];
    for (k, (off, ch)) in rest.char_indices().enumerate() {
        if k > max_chars {
            return None;
        }
        let here = &rest[off..];
        if ch.is_ascii_digit() || is_separator(ch) {
            return Some(Unit {
                kind: UnitKind::Stop,
                end: pos + off,
                name_chars: k,
                suffix: "",
            });
        }
        // 路 / 街 end a unit search (人民路12号) unless a unit suffix follows
        // directly (解放路街道, 钟灵街社区) or it is 路口 / 街口 (路口镇).
        let after = &here[ch.len_utf8()..];
        if (ch == '路' || ch == '街')
            && !after.starts_with('口')
            && !(ch == '街' && after.starts_with('道'))
            && !MARKERS.iter().any(|(m, k)| {
                matches!(k, UnitKind::Township | UnitKind::Village) && after.starts_with(m)
            })
        {
            if k == 0 {
                return None;
            }
            return Some(Unit {
                kind: UnitKind::Stop,
                end: pos + off,
                name_chars: k,
                suffix: "",
            });
        }
        if MARKER_STARTS.binary_search(&ch).is_err() {
            continue;
        }
        for (marker, kind) in MARKERS {
            if let Some(tail) = here.strip_prefix(marker) {
                if k == 0 && *kind != UnitKind::Stop {
                    break;
                }
                // 中关村街道, 新村镇: a village suffix directly followed by a
                // township suffix belongs to the township's name.
                if *kind == UnitKind::Village && starts_with_township(tail) {
                    break;
                }
                return Some(Unit {
                    kind: *kind,
                    end: pos + off + marker.len(),
                    name_chars: k,
                    suffix: marker,
                });
            }
        }
    }
    None
}

/// Canonical township spelling: `…街道办事处`/`…街道办` → `…街道`, drops a
/// trailing `人民政府`.
pub(super) fn canonical_township(s: &str) -> String {
    let s = s.strip_suffix("人民政府").unwrap_or(s);
    for long in ["街道办事处", "街道办"] {
        if let Some(base) = s.strip_suffix(long) {
            return format!("{base}街道");
        }
    }
    s.to_string()
}

/// Canonical village spelling: `…村委会`/`…村民委员会` → `…村`,
/// `…社区居委会`/`…社区居民委员会` → `…社区`, `…居民委员会` → `…居委会`.
pub(super) fn canonical_village(s: &str) -> String {
    for (long, short) in [
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "居委会"),
    ] {
        if let Some(base) = s.strip_suffix(long) {
            if short == "村" && base.ends_with('村') {
                return base.to_string();
            }
            if short == "社区" && base.ends_with("社区") {
                return base.to_string();
            }
            return format!("{base}{short}");
        }
    }
    s.to_string()
}
