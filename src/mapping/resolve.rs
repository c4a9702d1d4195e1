//! Matching a sheet's header to a mapping: which column fills which field, which mapping fits a
//! file dropped without a hint, and — when none fits — the closest one and what it lacks.
//!
//! A column matches an alias exactly (after header normalization, with or without a trailing
//! bracket note such as `(元)`), through its two-row group (`监护人信息` + `姓名` = `监护人姓名`),
//! or, weakest, by containing the alias (`家庭详细住址` contains `住址`). Stronger matches claim
//! their columns first, so `监护人身份证号` goes to the guardian even though it contains `身份证号`.

use std::collections::HashSet;

use super::compile::{Mapping, MappingSet};
use crate::read::header::{Header, HeaderColumn, normalize_header, strip_bracket_suffix};

/// Match strength of a column to a field.
const GROUP_EXACT: u8 = 4;
const EXACT: u8 = 3;
const CONTAINS: u8 = 1;

/// How a mapping reads a header.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// Index of the mapping in its [`MappingSet`].
    pub mapping: usize,
    /// `(column index, field index, officer's column name)` for each matched column.
    pub columns: Vec<(usize, usize, String)>,
    /// Required fields with no column.
    pub missing: Vec<usize>,
    /// Header columns no field claimed (kept in the receipt so the officer sees them).
    pub ignored: Vec<String>,
    /// Columns naming a field another column already fills: `(column name, field key)`.
    pub duplicates: Vec<(String, String)>,
    /// Sum of match strengths.
    pub score: u32,
}

impl Resolution {
    /// Whether every required column is present.
    pub fn fits(&self) -> bool {
        self.missing.is_empty()
    }
}

fn label_forms(label: &str) -> Vec<String> {
    let normalized = normalize_header(label);
    let mut forms = vec![normalized.clone()];
    if let Some(base) = strip_bracket_suffix(&normalized) {
        forms.push(base.to_string());
    }
    forms
}

fn group_prefix(group: &str) -> String {
    let mut g = normalize_header(group);
    if let Some(base) = strip_bracket_suffix(&g) {
        g = base.to_string();
    }
    for suffix in ["基本信息", "基本情况", "信息", "情况"] {
        if let Some(base) = g.strip_suffix(suffix)
            && !base.is_empty()
        {
            return base.to_string();
        }
    }
    g
}

/// The strength with which a column named `label` under `group` matches one alias list.
fn strength(group: Option<&str>, label: &str, aliases: &[String]) -> u8 {
    let forms = label_forms(label);
    if let Some(group) = group {
        let prefix = group_prefix(group);
        for form in &forms {
            let combined = format!("{prefix}{form}");
            if aliases.contains(&combined) {
                return GROUP_EXACT;
            }
        }
    }
    if forms.iter().any(|f| aliases.contains(f)) {
        return EXACT;
    }
    match forms.last() {
        Some(base) if contained_alias(base, aliases).is_some() => CONTAINS,
        _ => 0,
    }
}

/// The longest alias (of two characters or more) a header contains, when the header is not
/// much longer than the alias: `家庭详细住址` contains `住址`; a long title line matches nothing.
fn contained_alias<'a>(base: &str, aliases: &'a [String]) -> Option<&'a String> {
    let base_chars = base.chars().count();
    aliases
        .iter()
        .filter(|alias| {
            let alias_chars = alias.chars().count();
            alias_chars >= 2 && base_chars <= alias_chars + 4 && base.contains(alias.as_str())
        })
        .max_by_key(|alias| alias.chars().count())
}

/// Resolves `header` against one mapping.
pub fn resolve(index: usize, mapping: &Mapping, header: &Header) -> Resolution {
    let mut candidates: Vec<(u8, usize, usize)> = Vec::new();
    for (position, column) in header.columns.iter().enumerate() {
        for (field, def) in mapping.fields.iter().enumerate() {
            let s = strength(column.group.as_deref(), &column.label, &def.normalized);
            if s > 0 {
                candidates.push((s, position, field));
            }
        }
    }
    // strongest first; for equal strength the leftmost column wins
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut taken_columns = HashSet::new();
    let mut filled = HashSet::new();
    let mut columns = Vec::new();
    let mut duplicates = Vec::new();
    let mut score = 0u32;
    for (s, position, field) in candidates {
        if taken_columns.contains(&position) {
            continue;
        }
        let column: &HeaderColumn = &header.columns[position];
        if filled.contains(&field) {
            if s >= EXACT {
                duplicates.push((column.display_name(), mapping.fields[field].key.clone()));
                taken_columns.insert(position);
            }
            continue;
        }
        filled.insert(field);
        taken_columns.insert(position);
        score += s as u32;
        columns.push((column.index, field, column.display_name()));
    }
    columns.sort_by_key(|c| c.0);
    let ignored = header
        .columns
        .iter()
        .enumerate()
        .filter(|(position, _)| !taken_columns.contains(position))
        .map(|(_, c)| c.display_name())
        .collect();
    let missing = mapping
        .required
        .iter()
        .copied()
        .filter(|f| !filled.contains(f))
        .collect();
    Resolution {
        mapping: index,
        columns,
        missing,
        ignored,
        duplicates,
        score,
    }
}

/// Why no mapping reads a header.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NoFit {
    /// `--mapping NAME` named a mapping that does not exist.
    #[error("no mapping named \"{name}\" (known: {known})")]
    Unknown {
        /// The name given.
        name: String,
        /// Known names.
        known: String,
    },
    /// No mapping has all its required columns in the header.
    #[error(
        "no mapping fits the columns {columns}; closest is \"{closest}\" ({file}), which lacks {lacking}; \
         if the file names these differently, add its column name to that field's aliases in {file}"
    )]
    NoMapping {
        /// The header's columns.
        columns: String,
        /// Closest mapping.
        closest: String,
        /// Its file.
        file: String,
        /// Missing fields with their aliases.
        lacking: String,
    },
}

/// Picks the mapping for a header: the named one, or the best fitting one.
pub fn choose(
    set: &MappingSet,
    header: &Header,
    forced: Option<&str>,
) -> Result<Resolution, NoFit> {
    let resolutions: Vec<Resolution> = match forced {
        Some(name) => {
            let Some(index) = set.mappings.iter().position(|m| m.name == name) else {
                return Err(NoFit::Unknown {
                    name: name.into(),
                    known: set.names().join(", "),
                });
            };
            vec![resolve(index, &set.mappings[index], header)]
        }
        None => set
            .mappings
            .iter()
            .enumerate()
            .map(|(index, mapping)| resolve(index, mapping, header))
            .collect(),
    };
    let best_fit = resolutions
        .iter()
        .filter(|r| r.fits())
        .max_by_key(|r| (r.score, r.columns.len()));
    if let Some(best) = best_fit {
        return Ok(best.clone());
    }
    let closest = resolutions
        .iter()
        .max_by_key(|r| {
            let mapping = &set.mappings[r.mapping];
            let present = mapping.required.len() - r.missing.len();
            (present * 1000 / mapping.required.len().max(1), r.score)
        })
        .ok_or_else(|| NoFit::Unknown {
            name: String::new(),
            known: set.names().join(", "),
        })?;
    let mapping = &set.mappings[closest.mapping];
    let lacking = closest
        .missing
        .iter()
        .map(|&f| {
            let def = &mapping.fields[f];
            let aliases: Vec<&str> = def.aliases.iter().take(4).map(String::as_str).collect();
            format!("{} (a column named {})", def.key, aliases.join(" / "))
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(NoFit::NoMapping {
        columns: header
            .columns
            .iter()
            .map(HeaderColumn::display_name)
            .collect::<Vec<_>>()
            .join(", "),
        closest: mapping.name.clone(),
        file: mapping.source.clone(),
        lacking,
    })
}

/// Every header text any mapping knows, for header detection.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    aliases: Vec<String>,
    exact: HashSet<String>,
}

impl Vocabulary {
    /// Collects the aliases of every mapping in `set`.
    pub fn new(set: &MappingSet) -> Vocabulary {
        let mut aliases: Vec<String> = set
            .mappings
            .iter()
            .flat_map(|m| m.fields.iter().flat_map(|f| f.normalized.iter().cloned()))
            .collect();
        aliases.sort();
        aliases.dedup();
        let exact = aliases.iter().cloned().collect();
        Vocabulary { aliases, exact }
    }

    /// The known column name a header text (under an optional group) matches, if any:
    /// the group-qualified alias, the exact alias, or the alias it contains.
    pub fn knows(&self, group: Option<&str>, label: &str) -> Option<String> {
        let forms = label_forms(label);
        if let Some(group) = group {
            let prefix = group_prefix(group);
            for form in &forms {
                let combined = format!("{prefix}{form}");
                if self.exact.contains(&combined) {
                    return Some(combined);
                }
            }
        }
        if let Some(form) = forms.iter().find(|f| self.exact.contains(*f)) {
            return Some(form.clone());
        }
        contained_alias(forms.last()?, &self.aliases).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::header::HeaderColumn;

    fn header(columns: &[(&str, Option<&str>)]) -> Header {
        Header {
            rows: vec![1],
            columns: columns
                .iter()
                .enumerate()
                .map(|(index, (label, group))| HeaderColumn {
                    index,
                    label: label.to_string(),
                    group: group.map(str::to_string),
                })
                .collect(),
            known: columns.len(),
        }
    }

    fn fields_of(set: &MappingSet, r: &Resolution) -> Vec<String> {
        let m = &set.mappings[r.mapping];
        r.columns
            .iter()
            .map(|(_, f, _)| m.fields[*f].key.clone())
            .collect()
    }

    #[test]
    fn health_export_detected_from_its_headers() {
        let set = MappingSet::built_in().unwrap();
        let h = header(&[
            ("序号", None),
            ("患者姓名", None),
            ("身份证号码", None),
            ("入院日期", None),
            ("出院日期", None),
            ("医疗总费用(元)", None),
            ("个人自付金额（元）", None),
        ]);
        let r = choose(&set, &h, None).unwrap();
        assert_eq!(set.mappings[r.mapping].name, "health");
        assert_eq!(
            fields_of(&set, &r),
            [
                "subject.name",
                "subject.id_number",
                "event.date",
                "attributes.discharge_date",
                "attributes.total_cost",
                "attributes.out_of_pocket"
            ]
        );
        assert_eq!(r.ignored, vec!["序号"]);
    }

    #[test]
    fn guardian_columns_go_to_the_guardian_by_group_and_by_name() {
        let set = MappingSet::built_in().unwrap();
        let h = header(&[
            ("姓名", Some("学生信息")),
            ("身份证号", Some("学生信息")),
            ("学籍状态", None),
            ("姓名", Some("监护人信息")),
            ("监护人身份证号", None),
        ]);
        let r = choose(&set, &h, None).unwrap();
        assert_eq!(set.mappings[r.mapping].name, "education");
        assert_eq!(
            fields_of(&set, &r),
            [
                "subject.name",
                "subject.id_number",
                "attributes.enrolment_status",
                "guardian.name",
                "guardian.id_number"
            ]
        );
    }

    #[test]
    fn no_fit_names_the_closest_mapping_and_what_it_lacks() {
        let set = MappingSet::built_in().unwrap();
        let h = header(&[
            ("姓名", None),
            ("身份证号", None),
            ("入院日期", None),
            ("住院天数", None),
        ]);
        let error = choose(&set, &h, None).unwrap_err().to_string();
        assert!(error.contains("closest is \"health\""), "{error}");
        assert!(
            error.contains("attributes.out_of_pocket (a column named 个人自付"),
            "{error}"
        );
    }

    #[test]
    fn duplicated_header_names_keep_the_first_and_report_the_second() {
        let set = MappingSet::built_in().unwrap();
        let h = header(&[("姓名", None), ("死亡日期", None), ("姓名", None)]);
        let r = choose(&set, &h, Some("funeral")).unwrap();
        assert_eq!(r.columns[0].0, 0);
        assert_eq!(
            r.duplicates,
            vec![("姓名".to_string(), "subject.name".to_string())]
        );
    }
}

/// Headers as other counties write them, never seen by the shipped aliases verbatim: each must
/// be recognised as its export with its key columns assigned.
#[cfg(test)]
mod unseen_exports {
    use super::*;

    fn detect(labels: &[&str]) -> (String, Vec<String>) {
        let set = MappingSet::built_in().unwrap();
        let header = Header::of_labels(labels);
        let resolution = choose(&set, &header, None).unwrap_or_else(|e| panic!("{labels:?}: {e}"));
        let mapping = &set.mappings[resolution.mapping];
        let fields = resolution
            .columns
            .iter()
            .map(|(_, f, _)| mapping.fields[*f].key.clone())
            .collect();
        (mapping.name.clone(), fields)
    }

    #[test]
    fn variants_from_other_counties_are_recognised() {
        let cases: &[(&[&str], &str, &[&str])] = &[
            (
                &[
                    "编号",
                    "患者姓名",
                    "身份证号码（18位）",
                    "入院时间",
                    "出院时间",
                    "住院总费用（元）",
                    "个人自付金额（元）",
                    "现居住地址",
                ],
                "health",
                &[
                    "subject.name",
                    "subject.id_number",
                    "event.date",
                    "attributes.out_of_pocket",
                    "subject.address",
                ],
            ),
            (
                &[
                    "序号",
                    "逝者姓名",
                    "性别",
                    "公民身份号码",
                    "死亡时间",
                    "火化时间",
                    "家属姓名",
                    "家属联系电话",
                    "与逝者关系",
                ],
                "funeral",
                &[
                    "subject.name",
                    "subject.id_number",
                    "event.date",
                    "next_of_kin.name",
                    "next_of_kin.phone",
                    "next_of_kin.relation",
                ],
            ),
            (
                &[
                    "学校名称",
                    "年级",
                    "学生姓名",
                    "学生身份证号",
                    "学籍状态",
                    "监护人姓名",
                    "监护人联系电话",
                ],
                "education",
                &[
                    "subject.name",
                    "subject.id_number",
                    "attributes.enrolment_status",
                    "guardian.name",
                    "guardian.phone",
                ],
            ),
            (
                &[
                    "乡镇（街道）",
                    "村（社区）",
                    "户主姓名",
                    "户主身份证号",
                    "危险等级",
                    "鉴定时间",
                ],
                "housing",
                &[
                    "subject.name",
                    "subject.id_number",
                    "attributes.house_grade",
                    "event.date",
                ],
            ),
            (
                &[
                    "受灾户主",
                    "身份证号",
                    "灾种",
                    "倒损情况",
                    "直接经济损失（万元）",
                    "受灾时间",
                ],
                "emergency",
                &[
                    "subject.name",
                    "attributes.house_damage",
                    "attributes.loss_amount",
                ],
            ),
            (
                &[
                    "姓名",
                    "社会保障号码",
                    "失业登记日期",
                    "失业保险金（元/月）",
                    "原工作单位",
                ],
                "hrss",
                &[
                    "subject.name",
                    "subject.id_number",
                    "event.date",
                    "attributes.benefit_monthly",
                ],
            ),
            (
                &[
                    "保障对象姓名",
                    "身份证号码",
                    "保障类别",
                    "保障人口",
                    "月保障金额（元）",
                ],
                "civil_affairs_roster",
                &[
                    "subject.name",
                    "subject.id_number",
                    "attributes.assistance_type",
                ],
            ),
            (
                &[
                    "扶助对象姓名",
                    "身份证号",
                    "扶助类别",
                    "子女姓名",
                    "子女身份证号",
                ],
                "family_planning",
                &[
                    "subject.name",
                    "attributes.special_type",
                    "only_child.name",
                    "only_child.id_number",
                ],
            ),
        ];
        for (labels, mapping, fields) in cases {
            let (found, assigned) = detect(labels);
            assert_eq!(&found, mapping, "{labels:?}");
            for field in *fields {
                assert!(
                    assigned.iter().any(|a| a == field),
                    "{mapping}: {field} not assigned in {assigned:?}"
                );
            }
        }
    }
}
