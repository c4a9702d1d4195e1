//! The full parse: [`parse_address`] and [`RegionTable::parse_address`], and
//! their result and hint types ([`Address`], [`AddressHints`]).

use super::resolve::{CodeHint, Scope};
use super::table::{Level, RegionTable};
use super::text::{
    MAX_UNIT_NAME_CHARS, UnitKind, canonical_township, canonical_village, normalize_text,
    scan_unit, skip_filler, skip_separators, trim_detail,
};

impl RegionTable {
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
