//! Applying a resolved mapping to rows: cells → normalized person mentions and event, or
//! issues saying precisely which cell is wrong and why.
//!
//! A row is rejected only when it cannot stand: no subject name, or a required value missing or
//! unreadable. Any other bad value (a phone `12345`, an impossible birth date) is dropped with an
//! issue and the row is kept; an ID number that fails its checks is kept as raw text with its
//! status, since its row is still evidence.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::compile::{Mapping, PersonField, Target, ValueKind, normalize_value};
use super::resolve::Resolution;
use crate::normalize::addresses::{AddressHints, parse_address};
use crate::normalize::dates::{from_excel_serial, iso_date, parse_date};
use crate::normalize::gender::parse_gender;
use crate::normalize::id_number::{IdNumber, cross_check, parse_id_number, parse_id_number_float};
use crate::normalize::money::{money_from_f64, parse_money};
use crate::normalize::names::normalize_name;
use crate::normalize::phones::normalize_phone;
use crate::read::CellValue;
use crate::read::cell::format_float;
use crate::record::{Issue, PersonMention, Record, Severity};

/// A mapping ready to read the rows of one sheet; cheap to clone and sendable to the thread
/// that applies it.
#[derive(Debug, Clone)]
pub struct SheetPlan {
    /// The mapping.
    pub mapping: std::sync::Arc<Mapping>,
    /// `(column index, field index, officer's column name)`.
    pub columns: Vec<(usize, usize, String)>,
    /// Sheet name, copied into records and issues.
    pub sheet: String,
    /// Per column: what a bare number in it means in yuan (10,000 under a `（万元）` header).
    pub money_scale: Vec<f64>,
}

/// The unit a money column's header declares: `直接经济损失（万元）` counts in ten thousands.
pub fn money_scale_of(header: &str) -> f64 {
    let normalized = crate::read::header::normalize_header(header);
    if normalized.contains("(万元") || normalized.ends_with("万元") {
        10_000.0
    } else if normalized.contains("(千元") {
        1_000.0
    } else {
        1.0
    }
}

impl SheetPlan {
    /// Builds the plan from a resolution of `mapping`.
    pub fn new(mapping: &Mapping, resolution: &Resolution, sheet: &str) -> SheetPlan {
        SheetPlan {
            mapping: std::sync::Arc::new(mapping.clone()),
            columns: resolution.columns.clone(),
            sheet: sheet.to_string(),
            money_scale: resolution
                .columns
                .iter()
                .map(|(_, _, name)| money_scale_of(name))
                .collect(),
        }
    }
}

/// What one row became.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOutcome {
    /// The record, unless the row was rejected.
    pub record: Option<Record>,
    /// Problems found, in column order.
    pub issues: Vec<Issue>,
}

#[derive(Default)]
struct AddressParts {
    text: Option<String>,
    province: Option<String>,
    city: Option<String>,
    county: Option<String>,
    township: Option<String>,
    village: Option<String>,
}

struct Draft {
    mention: PersonMention,
    address: AddressParts,
    id_column: Option<String>,
    /// A birth date given only as year and month: `(column, text)`.
    birth_month: Option<(String, String)>,
}

fn empty_mention(role: &str) -> PersonMention {
    PersonMention {
        role: role.to_string(),
        name: None,
        id_number: parse_id_number(""),
        gender: None,
        birth_date: None,
        age: None,
        phone: None,
        address: Default::default(),
        relation: None,
    }
}

/// Whether a cell holds a "nothing here" placeholder (`/`, `无`, `暂无`…).
fn is_placeholder(cell: &CellValue) -> bool {
    match cell {
        CellValue::Text(text) => crate::normalize::is_placeholder(text),
        _ => false,
    }
}

/// The text of a cell as the officer sees it, trimmed.
fn cell_text(cell: &CellValue) -> String {
    cell_str(cell).into_owned()
}

/// [`cell_text`], borrowed from a text cell.
fn cell_str(cell: &CellValue) -> std::borrow::Cow<'_, str> {
    match cell {
        CellValue::Text(text) => std::borrow::Cow::Borrowed(text.trim()),
        other => std::borrow::Cow::Owned(other.display().trim().to_string()),
    }
}

fn cell_date(cell: &CellValue) -> Result<NaiveDate, String> {
    match cell {
        CellValue::DateTime(datetime) => Ok(datetime.date()),
        CellValue::Int(value) => number_date(*value as f64),
        CellValue::Float(value) => number_date(*value),
        other => parse_date(&cell_text(other)).map_err(|e| e.to_string()),
    }
}

/// A number in a date column: `19900102` typed as a number, or an Excel serial.
fn number_date(value: f64) -> Result<NaiveDate, String> {
    if (10_000_000.0..100_000_000.0).contains(&value) && value.fract() == 0.0 {
        return parse_date(&format!("{}", value as i64)).map_err(|e| e.to_string());
    }
    from_excel_serial(value).ok_or_else(|| format!("{} is not a date", format_float(value)))
}

/// An amount in yuan; `scale` is the header's unit for bare numbers (1, or 10,000 for 万元). Text
/// that names its own unit (`1.2万`, `3500元`) keeps it.
fn cell_money(cell: &CellValue, scale: f64) -> Result<Option<f64>, String> {
    let (fen, own_unit) = match cell {
        CellValue::Int(value) => (Some(value.saturating_mul(100)), false),
        CellValue::Float(value) => (
            Some(money_from_f64(*value).ok_or("not an amount of money")?),
            false,
        ),
        other => {
            let text = cell_text(other);
            let own_unit = text.contains('万') || text.contains('千') || text.contains('元');
            (parse_money(&text).map_err(|e| e.to_string())?, own_unit)
        }
    };
    let scale = if own_unit { 1.0 } else { scale };
    Ok(fen.map(|fen| (fen as f64 / 100.0 * scale * 100.0).round() / 100.0))
}

fn cell_number(cell: &CellValue) -> Result<f64, String> {
    match cell {
        CellValue::Int(value) => Ok(*value as f64),
        CellValue::Float(value) => Ok(*value),
        other => {
            let text = cell_text(other);
            let digits: String = text
                .chars()
                .map(crate::normalize::names::to_half_width)
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                .collect();
            digits
                .parse::<f64>()
                .map_err(|_| format!("\"{text}\" is not a number"))
        }
    }
}

fn cell_integer(cell: &CellValue) -> Result<i64, String> {
    let value = cell_number(cell)?;
    if value.fract() != 0.0 || value.abs() > 1e15 {
        return Err(format!("{} is not a whole number", format_float(value)));
    }
    Ok(value as i64)
}

fn cell_id(cell: &CellValue) -> IdNumber {
    match cell {
        CellValue::Float(value) => parse_id_number_float(*value),
        CellValue::Int(value) => parse_id_number(&value.to_string()),
        other => parse_id_number(&other.display()),
    }
}

/// Reads one data row. `cells` start at column A.
pub fn apply_row(plan: &SheetPlan, row: u32, cells: &[CellValue]) -> RowOutcome {
    let mapping = &*plan.mapping;
    let mut drafts: Vec<Draft> = mapping
        .roles
        .iter()
        .map(|role| Draft {
            mention: empty_mention(role),
            address: AddressParts::default(),
            id_column: None,
            birth_month: None,
        })
        .collect();
    let mut event_date = None;
    let mut attributes = Map::new();
    let mut issues = Vec::new();
    let mut filled = vec![false; mapping.fields.len()];
    let issue = |column: &str, value: String, reason: String| Issue {
        sheet: plan.sheet.clone(),
        row,
        column: column.to_string(),
        value,
        reason,
        severity: Severity::Value,
    };
    for (position, (column, field_index, column_name)) in plan.columns.iter().enumerate() {
        let Some(cell) = cells.get(*column) else {
            continue;
        };
        if cell.is_blank() {
            continue;
        }
        let def = &mapping.fields[*field_index];
        // "无" is "nothing" in most columns, but a declared code word where a mapping lists it
        // (house damage 无 = none)
        let declared_word = match &def.target {
            Target::Attribute { codes, .. } if !codes.is_empty() => {
                codes.contains_key(&normalize_value(&cell_text(cell)))
            }
            _ => false,
        };
        if !declared_word && is_placeholder(cell) {
            continue;
        }
        if let CellValue::Error(error) = cell {
            issues.push(issue(
                column_name,
                error.clone(),
                "the cell holds a formula error".into(),
            ));
            continue;
        }
        match &def.target {
            Target::Person { role, field } => {
                let draft = &mut drafts[*role];
                let ok = person_value(draft, *field, cell, column_name, &mut |value, reason| {
                    issues.push(issue(column_name, value, reason))
                });
                filled[*field_index] = ok;
            }
            Target::EventDate => match cell_date(cell) {
                Ok(date) => {
                    event_date = Some(date);
                    filled[*field_index] = true;
                }
                Err(reason) => issues.push(issue(column_name, cell_text(cell), reason)),
            },
            Target::Attribute { name, kind, codes } => {
                let value = match kind {
                    ValueKind::Text => Ok(Some(Value::String(cell_text(cell)))),
                    ValueKind::Date => cell_date(cell).map(|d| Some(Value::String(iso_date(d)))),
                    ValueKind::Money => {
                        let scale = plan.money_scale.get(position).copied().unwrap_or(1.0);
                        cell_money(cell, scale).map(|m| m.map(Value::from))
                    }
                    ValueKind::Integer => cell_integer(cell).map(|v| Some(Value::from(v))),
                    ValueKind::Number => cell_number(cell).map(|v| Some(Value::from(v))),
                    ValueKind::Code => {
                        let text = cell_text(cell);
                        match codes.get(&normalize_value(&text)) {
                            Some(code) => Ok(Some(Value::String(code.clone()))),
                            None => {
                                let mut known: Vec<&String> = codes.values().collect();
                                known.sort();
                                known.dedup();
                                issues.push(issue(
                                    column_name,
                                    text.clone(),
                                    format!(
                                        "not a known value of {name} (known: {}); kept as written",
                                        known
                                            .iter()
                                            .map(|s| s.as_str())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                ));
                                Ok(Some(Value::String(text)))
                            }
                        }
                    }
                };
                match value {
                    Ok(Some(value)) => {
                        attributes.insert(name.clone(), value);
                        filled[*field_index] = true;
                    }
                    Ok(None) => {}
                    Err(reason) => issues.push(issue(column_name, cell_text(cell), reason)),
                }
            }
        }
    }
    let mut persons = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let Draft {
            mut mention,
            address,
            id_column,
            birth_month,
        } = draft;
        finish_person(&mut mention, address);
        // 出生年月 columns often hold only year and month: not an error, and the ID number gives
        // the full date; only without a valid ID number is something lost, and that is said
        if let Some((column, text)) = birth_month
            && !mention.id_number.status.is_usable()
        {
            issues.push(issue(
                &column,
                text,
                "only year and month given and no valid id number: the birth date is left empty"
                    .into(),
            ));
        }
        if let Some(column) = id_column {
            for conflict in cross_check(&mention.id_number, mention.birth_date, mention.gender) {
                issues.push(issue(
                    &column,
                    mention.id_number.raw.clone(),
                    conflict.to_string(),
                ));
            }
        }
        if mention.role == crate::record::SUBJECT_ROLE || mention.is_present() {
            persons.push(mention);
        }
    }
    // Fill what only the ID number tells.
    for mention in &mut persons {
        if mention.id_number.status.is_usable() {
            mention.birth_date = mention.birth_date.or(mention.id_number.birth_date);
            mention.gender = mention.gender.or(mention.id_number.gender);
        }
    }
    let mut reject = None;
    if persons.first().is_none_or(|p| p.name.is_none()) {
        reject = Some((
            "",
            "the row names no person: the name column is empty or not a name".to_string(),
        ));
    }
    for &required in &mapping.required {
        if !filled[required] && reject.is_none() {
            let def = &mapping.fields[required];
            let column = plan
                .columns
                .iter()
                .find(|c| c.1 == required)
                .map(|c| c.2.as_str())
                .unwrap_or("");
            let value = plan
                .columns
                .iter()
                .find(|c| c.1 == required)
                .and_then(|c| cells.get(c.0))
                .map(cell_text)
                .unwrap_or_default();
            let why = if value.is_empty() {
                "is empty"
            } else {
                "could not be read"
            };
            reject = Some((column, format!("required value {} {why}", def.key)));
        }
    }
    if let Some((column, reason)) = reject {
        let value = plan
            .columns
            .iter()
            .find(|c| c.2 == column)
            .and_then(|c| cells.get(c.0))
            .map(cell_text)
            .unwrap_or_default();
        issues.insert(
            0,
            Issue {
                sheet: plan.sheet.clone(),
                row,
                column: column.to_string(),
                value,
                reason,
                severity: Severity::Row,
            },
        );
        return RowOutcome {
            record: None,
            issues,
        };
    }
    RowOutcome {
        record: Some(Record {
            sheet: plan.sheet.clone(),
            row,
            mapping: mapping.name.clone(),
            department: mapping.department.clone(),
            event_kind: mapping.event_kind.clone(),
            event_date,
            attributes,
            persons,
        }),
        issues,
    }
}

/// Puts one cell into a person draft; returns whether a value was kept.
fn person_value(
    draft: &mut Draft,
    field: PersonField,
    cell: &CellValue,
    column_name: &str,
    report: &mut dyn FnMut(String, String),
) -> bool {
    let text = || cell_text(cell);
    let mention = &mut draft.mention;
    match field {
        PersonField::Name => match normalize_name(&match cell {
            // the name's raw text is the cell exactly as read, untrimmed
            CellValue::Text(text) => std::borrow::Cow::Borrowed(text.as_str()),
            other => std::borrow::Cow::Owned(other.display()),
        }) {
            Some(name) if crate::normalize::names::is_plausible_name(&name.normalized) => {
                mention.name = Some(name);
                true
            }
            _ => {
                report(text(), "not a person's name".into());
                false
            }
        },
        PersonField::IdNumber => {
            mention.id_number = cell_id(cell);
            draft.id_column = Some(column_name.to_string());
            let status = mention.id_number.status;
            if !status.is_usable() {
                report(
                    mention.id_number.raw.clone(),
                    format!(
                        "id number {}: kept as raw text only",
                        status.as_str().replace('_', " ")
                    ),
                );
            }
            true
        }
        PersonField::Gender => match parse_gender(&cell_str(cell)) {
            Ok(gender) => {
                mention.gender = gender;
                gender.is_some()
            }
            Err(e) => {
                report(text(), e.to_string());
                false
            }
        },
        PersonField::BirthDate => match cell_date(cell) {
            Ok(date) => {
                mention.birth_date = Some(date);
                true
            }
            Err(reason) => {
                if crate::normalize::dates::parse_year_month(&text()).is_ok() {
                    draft.birth_month = Some((column_name.to_string(), text()));
                } else {
                    report(text(), reason);
                }
                false
            }
        },
        PersonField::Age => match cell_integer(cell) {
            Ok(age) if (0..=130).contains(&age) => {
                mention.age = Some(age);
                true
            }
            _ => {
                report(text(), "not an age in years".into());
                false
            }
        },
        PersonField::Phone => {
            let raw = match cell {
                CellValue::Float(v) => std::borrow::Cow::Owned(format_float(*v)),
                other => cell_str(other),
            };
            match normalize_phone(&raw) {
                Ok(phone) => {
                    mention.phone = phone.map(|p| p.normalized);
                    mention.phone.is_some()
                }
                Err(e) => {
                    report(raw.into_owned(), e.to_string());
                    false
                }
            }
        }
        PersonField::Relation => {
            mention.relation = Some(text());
            true
        }
        PersonField::Address => set(&mut draft.address.text, text()),
        PersonField::Province => set(&mut draft.address.province, text()),
        PersonField::City => set(&mut draft.address.city, text()),
        PersonField::County => set(&mut draft.address.county, text()),
        PersonField::Township => set(&mut draft.address.township, text()),
        PersonField::Village => set(&mut draft.address.village, text()),
    }
}

fn set(slot: &mut Option<String>, value: String) -> bool {
    *slot = Some(value);
    true
}

fn finish_person(mention: &mut PersonMention, parts: AddressParts) {
    let has_any = parts.text.is_some()
        || parts.province.is_some()
        || parts.city.is_some()
        || parts.county.is_some()
        || parts.township.is_some()
        || parts.village.is_some();
    if !has_any {
        return;
    }
    let hints = AddressHints {
        province: parts.province.as_deref(),
        city: parts.city.as_deref(),
        county: parts.county.as_deref(),
        township: parts.township.as_deref(),
        village: parts.village.as_deref(),
        region_code: None,
    };
    mention.address = parse_address(parts.text.as_deref().unwrap_or(""), &hints);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_columns_in_ten_thousands_are_scaled_unless_the_cell_names_its_unit() {
        assert_eq!(money_scale_of("直接经济损失（万元）"), 10_000.0);
        assert_eq!(money_scale_of("损失金额(万元)"), 10_000.0);
        assert_eq!(money_scale_of("个人自付（元）"), 1.0);
        assert_eq!(
            cell_money(&CellValue::Float(1.25), 10_000.0),
            Ok(Some(12_500.0))
        );
        assert_eq!(
            cell_money(&CellValue::Text("1.25".into()), 10_000.0),
            Ok(Some(12_500.0))
        );
        assert_eq!(
            cell_money(&CellValue::Text("3500元".into()), 10_000.0),
            Ok(Some(3_500.0))
        );
        assert_eq!(
            cell_money(&CellValue::Text("1,234.50".into()), 1.0),
            Ok(Some(1_234.5))
        );
    }

    #[test]
    fn placeholders_are_empty_cells() {
        for text in ["/", "无", " 暂无 ", "-", "——", "N/A", "不详"] {
            assert!(is_placeholder(&CellValue::Text(text.into())), "{text}");
        }
        for text in ["0", "王无忌", "1/2"] {
            assert!(!is_placeholder(&CellValue::Text(text.into())), "{text}");
        }
    }

    /// Regression: treating 无 as an empty cell rejected every emergency row whose house
    /// damage was declared 无 (none) — a code word of the mapping.
    #[test]
    fn a_declared_code_word_is_a_value_even_when_it_is_a_placeholder_elsewhere() {
        use crate::mapping::MappingSet;
        use crate::read::header::Header;
        let set = MappingSet::built_in().unwrap();
        let labels = ["户主姓名", "身份证号", "房屋受损情况", "联系电话"];
        let header = Header::of_labels(&labels);
        let resolution = crate::mapping::resolve::choose(&set, &header, Some("emergency")).unwrap();
        let plan = SheetPlan::new(&set.mappings[resolution.mapping], &resolution, "台账");
        let cells: Vec<CellValue> = ["张三", "", "无", "无"]
            .iter()
            .map(|t| CellValue::Text(t.to_string()))
            .collect();
        let outcome = apply_row(&plan, 2, &cells);
        let record = outcome.record.expect("row accepted");
        assert_eq!(record.attributes["house_damage"], "none");
        assert_eq!(
            record.persons[0].phone, None,
            "无 in the phone column is no phone"
        );
        assert!(outcome.issues.is_empty(), "{:?}", outcome.issues);
    }

    #[test]
    fn a_birth_year_and_month_is_only_reported_when_no_id_number_gives_the_date() {
        use crate::mapping::MappingSet;
        use crate::read::header::Header;
        let set = MappingSet::built_in().unwrap();
        let labels = ["姓名", "身份证号", "出生年月", "入院日期", "个人自付"];
        let header = Header::of_labels(&labels);
        let resolution = crate::mapping::resolve::choose(&set, &header, None).unwrap();
        let plan = SheetPlan::new(&set.mappings[resolution.mapping], &resolution, "");
        let row = |id: &str| -> Vec<CellValue> {
            ["张三", id, "1949-12", "2026-03-01", "100"]
                .iter()
                .map(|t| CellValue::Text(t.to_string()))
                .collect()
        };
        let with_id = apply_row(&plan, 2, &row("11010519491231002X"));
        assert!(with_id.issues.is_empty(), "{:?}", with_id.issues);
        let birth = with_id.record.unwrap().persons[0].birth_date;
        assert_eq!(birth, NaiveDate::from_ymd_opt(1949, 12, 31));
        let without_id = apply_row(&plan, 3, &row(""));
        assert_eq!(without_id.issues.len(), 1);
        assert_eq!(without_id.issues[0].column, "出生年月");
        assert!(without_id.issues[0].reason.contains("only year and month"));
    }
}
