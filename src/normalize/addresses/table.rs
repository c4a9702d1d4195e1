//! The GB/T 2260 division table: [`Level`], [`RegionTable`], loading the
//! embedded `data/regions.tsv`, and code / name lookups.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::names::name_variants;
use super::text::normalize_text;

/// The embedded GB/T 2260 table (`code\tname\tlevel\tparent_code`).
const EMBEDDED_TSV: &str = include_str!("../../../data/regions.tsv");

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

    pub(super) fn index(self) -> usize {
        match self {
            Level::Province => 0,
            Level::City => 1,
            Level::County => 2,
        }
    }
}

/// One row of the table, with precomputed ancestry.
#[derive(Debug)]
pub(super) struct Region {
    pub(super) code: Box<str>,
    pub(super) name: Box<str>,
    pub(super) level: Level,
    pub(super) parent: Option<u32>,
    /// Index of the province (itself for a province).
    pub(super) province: u32,
    /// Index of the prefecture city (itself for a city; `None` for provinces
    /// and for counties directly under a province).
    pub(super) city: Option<u32>,
    /// Whether any row names this one as parent.
    pub(super) has_children: bool,
}

/// Region ids registered under one spelling of a name.
#[derive(Debug, Default)]
struct NameEntry {
    /// Spellings that carry an administrative suffix (`定远县`, `长阳县` for
    /// 长阳土家族自治县, `恩施州`…): safe to match anywhere a unit is expected.
    suffixed: Vec<u32>,
    /// Bare short forms (`定远`, `安徽`, `广西`): only trusted with context.
    bare: Vec<u32>,
    /// Whether the text is also the start of a longer name (an entry can be only that, with no
    /// ids): a scan stops as soon as the text read so far begins no name at all.
    prefix: bool,
}

#[derive(Debug, Default)]
struct NameIndex {
    /// Every name and every proper prefix of one: a scan looks each prefix of the text up once,
    /// for both questions (a name? the start of a longer one?).
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
        for (end, _) in key.char_indices().skip(1) {
            self.map.entry(key[..end].into()).or_default().prefix = true;
        }
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

/// A name found in the text at some position.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hit<'t> {
    pub(super) end: usize,
    pub(super) ids: &'t [u32],
    pub(super) bare: bool,
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

    pub(super) fn region(&self, id: u32) -> &Region {
        &self.regions[id as usize]
    }

    pub(super) fn id(&self, code: &str) -> Option<u32> {
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
    pub(super) fn lookup_all(&self, level: Level, name: &str) -> Vec<u32> {
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
    pub(super) fn hits_at<'t>(&'t self, level: Level, s: &str, pos: usize, out: &mut Vec<Hit<'t>>) {
        let idx = &self.index[level.index()];
        let rest = &s[pos..];
        for (k, (off, ch)) in rest.char_indices().enumerate() {
            if k >= idx.max_chars {
                break;
            }
            let end = off + ch.len_utf8();
            let found = idx.map.get(&rest[..end]);
            let is_prefix = found.is_some_and(|e| e.prefix);
            if k == 0 {
                if !is_prefix {
                    break;
                }
                continue;
            }
            if let Some(e) = found {
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
            if !is_prefix {
                break;
            }
        }
    }
}
