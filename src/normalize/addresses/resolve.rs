//! Table-driven resolution of the `province? city? county?` prefix: candidate
//! paths, their scoring, and narrowing of candidates by context and hints.

use super::table::{Hit, Level, Region, RegionTable};
use super::text::{
    MAX_UNIT_NAME_CHARS, UnitKind, is_bare_stop, scan_unit, skip_filler, skip_separators,
};

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
pub(super) struct Scope {
    pub(super) province: Option<u32>,
    pub(super) city: Option<u32>,
    pub(super) code: Option<CodeHint>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct CodeHint {
    pub(super) digits: [u8; 6],
    /// 2, 4 or 6: how many leading digits are significant.
    pub(super) significant: usize,
}

impl CodeHint {
    /// Accepts `34`, `3411`, `341125`, or any longer digit string (12-digit
    /// village code, 18-digit id number) whose first six digits are used.
    pub(super) fn parse(s: &str) -> Option<CodeHint> {
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

    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits).unwrap_or("")
    }
}

/// Result of the table-driven administrative prefix parse.
#[derive(Debug, Default)]
pub(super) struct AdminParse {
    pub(super) province: Option<u32>,
    pub(super) city: Option<u32>,
    /// County candidates (non-empty when a county name was recognised).
    pub(super) county: Vec<u32>,
    /// Byte range of the recognised county text.
    pub(super) county_span: Option<(usize, usize)>,
    pub(super) end: usize,
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
    /// Keeps the ids consistent with a hard context (the text's own province
    /// and city).
    pub(super) fn filter_hard(
        &self,
        ids: &[u32],
        province: Option<u32>,
        city: Option<u32>,
    ) -> Vec<u32> {
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
    pub(super) fn narrow_soft(&self, ids: &mut Vec<u32>, scope: &Scope) {
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
    pub(super) fn parse_admin(&self, s: &str, start: usize, scope: &Scope) -> AdminParse {
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
    pub(super) fn resolve_hint(&self, level: Level, value: &str) -> Vec<u32> {
        self.lookup_all(level, value)
    }

    /// The common ancestor (`Region::province` or `Region::city`) of all ids.
    pub(super) fn common<F: Fn(&Region) -> Option<u32>>(&self, ids: &[u32], f: F) -> Option<u32> {
        let first = f(self.region(*ids.first()?))?;
        ids.iter()
            .all(|id| f(self.region(*id)) == Some(first))
            .then_some(first)
    }
}
