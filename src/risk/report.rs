//! The weekly report the notice requires (信息统计周报, 逐级报送): for one ISO week, new flags by
//! cause and level, covered vs uncovered, handled in time vs overdue, rolled up village →
//! township → county, written as an Excel workbook officers can forward and an HTML page with
//! inline SVG charts (no scripts, no network).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, IsoWeek, NaiveDate, Weekday};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;

use super::RiskError;
use super::cases::Status;
use super::evaluate::short_title;
use super::rules::{Level, RuleSet};
use crate::registry::Registry;

/// An ISO week, `2026-W45`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    /// Monday.
    pub start: NaiveDate,
    /// Sunday.
    pub end: NaiveDate,
}

impl Week {
    /// The week containing `day`.
    pub fn containing(day: NaiveDate) -> Week {
        let week: IsoWeek = day.iso_week();
        Week::from_iso(week.year(), week.week()).unwrap_or(Week {
            start: day,
            end: day,
        })
    }

    /// Week `week` of ISO year `year`.
    pub fn from_iso(year: i32, week: u32) -> Option<Week> {
        let start = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
        Some(Week {
            start,
            end: start.checked_add_days(Days::new(6))?,
        })
    }

    /// Parses `YYYY-Www`.
    pub fn parse(text: &str) -> Result<Week, String> {
        let bad = || format!("\"{text}\" is not a week such as 2026-W45");
        let (year, week) = text.split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        Week::from_iso(year, week).ok_or_else(bad)
    }

    /// `2026-W45`.
    pub fn label(&self) -> String {
        let week = self.start.iso_week();
        format!("{}-W{:02}", week.year(), week.week())
    }
}

/// Counts of one place (a village, a township or county subtotal, or the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Flags opened or reopened in the week.
    pub new: u64,
    /// … by level: high, medium, low.
    pub new_by_level: [u64; 3],
    /// … of households no programme covers.
    pub new_uncovered: u64,
    /// … of households on the roster.
    pub new_covered: u64,
    /// Cases closed or dismissed in the week by their due date.
    pub handled_in_time: u64,
    /// Cases closed or dismissed in the week after their due date.
    pub handled_late: u64,
    /// Cases still open at the week's end past their due date.
    pub overdue_open: u64,
    /// Cases still open at the week's end, not yet due.
    pub open_in_time: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.new += other.new;
        for i in 0..3 {
            self.new_by_level[i] += other.new_by_level[i];
        }
        self.new_uncovered += other.new_uncovered;
        self.new_covered += other.new_covered;
        self.handled_in_time += other.handled_in_time;
        self.handled_late += other.handled_late;
        self.overdue_open += other.overdue_open;
        self.open_in_time += other.open_in_time;
    }
}

/// One line of the roll-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceRow {
    /// County (or `合计`).
    pub county: String,
    /// Township, empty on a county subtotal.
    pub township: String,
    /// Village, empty on a township subtotal.
    pub village: String,
    /// 0 = total, 1 = county, 2 = township, 3 = village.
    pub depth: u8,
    /// The counts.
    pub counts: Counts,
}

/// A flag listed in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedFlag {
    /// Flag id.
    pub flag_id: i64,
    /// Household.
    pub household_id: String,
    /// County / township / village.
    pub place: [String; 3],
    /// Level.
    pub level: String,
    /// Score.
    pub score: i64,
    /// Reasons.
    pub reasons: String,
    /// Covered by a programme.
    pub covered: bool,
    /// Responsible unit.
    pub responsible_unit: String,
    /// Status.
    pub status: String,
    /// Due date.
    pub due_date: String,
}

/// The week's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    /// Week label.
    pub week: String,
    /// Monday.
    pub start: String,
    /// Sunday.
    pub end: String,
    /// Roll-up: total, then each county, its townships and their villages.
    pub places: Vec<PlaceRow>,
    /// New flags by cause (rule title) and level.
    pub causes: Vec<(String, [u64; 3])>,
    /// Flags opened or reopened in the week, uncovered first.
    pub new_flags: Vec<ListedFlag>,
    /// Open flags past their due date at the week's end.
    pub overdue: Vec<ListedFlag>,
}

struct FlagRow {
    listed: ListedFlag,
    level: Option<Level>,
    rules: Vec<String>,
    opened_on: String,
    closed_on: Option<String>,
    status: Option<Status>,
}

fn unknown(text: Option<String>) -> String {
    text.filter(|t| !t.is_empty())
        .unwrap_or_else(|| "（未知）".into())
}

/// Computes the report of `week` from the flags and case history.
pub async fn weekly_report(
    registry: &Registry,
    week: Week,
    rules: &RuleSet,
) -> Result<WeeklyReport, RiskError> {
    let pool = registry.pool();
    let (start, end) = (week.start.to_string(), week.end.to_string());
    let mut flags: BTreeMap<i64, FlagRow> = BTreeMap::new();
    let mut rows = sqlx::query(
        "SELECT flag_id, household_id, county, township, village, level, score, reasons, \
         covered, responsible_unit, status, due_date, rules, opened_on, closed_on, region_code \
         FROM risk_flags",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let level: String = row.try_get(5)?;
        let status: String = row.try_get(10)?;
        let county: Option<String> = row.try_get(2)?;
        let region: Option<String> = row.try_get(15)?;
        let rules_text: String = row.try_get(12)?;
        flags.insert(
            row.try_get(0)?,
            FlagRow {
                listed: ListedFlag {
                    flag_id: row.try_get(0)?,
                    household_id: row.try_get(1)?,
                    place: [
                        unknown(county.or(region)),
                        unknown(row.try_get(3)?),
                        unknown(row.try_get(4)?),
                    ],
                    level: level.clone(),
                    score: row.try_get(6)?,
                    reasons: row.try_get(7)?,
                    covered: row.try_get::<i64, _>(8)? != 0,
                    responsible_unit: row.try_get(9)?,
                    status: status.clone(),
                    due_date: row.try_get(11)?,
                },
                level: Level::parse(&level),
                rules: rules_text
                    .split(';')
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect(),
                opened_on: row.try_get(13)?,
                closed_on: row.try_get(14)?,
                status: Status::parse(&status),
            },
        );
    }
    drop(rows);
    // opened or reopened in the week; closed or dismissed in the week
    let mut new_in_week: BTreeMap<i64, ()> = BTreeMap::new();
    let mut handled: BTreeMap<i64, String> = BTreeMap::new();
    let mut rows = sqlx::query(
        "SELECT flag_id, action, to_status, on_date FROM case_history \
         WHERE on_date >= $1 AND on_date <= $2 ORDER BY id",
    )
    .bind(&start)
    .bind(&end)
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let flag_id: i64 = row.try_get(0)?;
        let action: String = row.try_get(1)?;
        let to_status: Option<String> = row.try_get(2)?;
        let on_date: String = row.try_get(3)?;
        match action.as_str() {
            "opened" | "reopened" => {
                new_in_week.insert(flag_id, ());
            }
            "transition"
                if to_status
                    .as_deref()
                    .and_then(Status::parse)
                    .is_some_and(|s| !s.is_open()) =>
            {
                handled.insert(flag_id, on_date);
            }
            _ => {}
        }
    }
    drop(rows);
    let mut villages: BTreeMap<[String; 3], Counts> = BTreeMap::new();
    let mut causes: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    let mut new_flags = Vec::new();
    let mut overdue = Vec::new();
    for (flag_id, flag) in &flags {
        let counts = villages.entry(flag.listed.place.clone()).or_default();
        let level_index = flag.level.map(|l| l.rank() as usize).unwrap_or(2);
        if new_in_week.contains_key(flag_id) {
            counts.new += 1;
            counts.new_by_level[level_index] += 1;
            if flag.listed.covered {
                counts.new_covered += 1;
            } else {
                counts.new_uncovered += 1;
            }
            for rule in &flag.rules {
                let title = rules
                    .rules
                    .iter()
                    .map(|r| (&r.name, &r.title))
                    .chain(rules.combinations.iter().map(|c| (&c.name, &c.title)))
                    .find(|(name, _)| *name == rule)
                    .map(|(_, title)| short_title(title).to_string())
                    .unwrap_or_else(|| rule.clone());
                causes.entry(title).or_default()[level_index] += 1;
            }
            new_flags.push(flag.listed.clone());
        }
        if let Some(on) = handled.get(flag_id) {
            if on.as_str() <= flag.listed.due_date.as_str() {
                counts.handled_in_time += 1;
            } else {
                counts.handled_late += 1;
            }
        }
        let open_at_end = flag.opened_on.as_str() <= end.as_str()
            && match (&flag.closed_on, flag.status) {
                (Some(closed), Some(status)) if !status.is_open() => closed.as_str() > end.as_str(),
                _ => true,
            };
        if open_at_end {
            if flag.listed.due_date.as_str() <= end.as_str() {
                counts.overdue_open += 1;
                overdue.push(flag.listed.clone());
            } else {
                counts.open_in_time += 1;
            }
        }
    }
    let sort = |list: &mut Vec<ListedFlag>| {
        list.sort_by(|a, b| {
            (a.covered, Level::parse(&a.level), -a.score, a.flag_id).cmp(&(
                b.covered,
                Level::parse(&b.level),
                -b.score,
                b.flag_id,
            ))
        })
    };
    sort(&mut new_flags);
    sort(&mut overdue);
    Ok(WeeklyReport {
        week: week.label(),
        start,
        end,
        places: roll_up(&villages),
        causes: causes.into_iter().collect(),
        new_flags,
        overdue,
    })
}

fn roll_up(villages: &BTreeMap<[String; 3], Counts>) -> Vec<PlaceRow> {
    let mut total = Counts::default();
    let mut counties: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut townships: BTreeMap<(&str, &str), Counts> = BTreeMap::new();
    for (place, counts) in villages {
        total.add(counts);
        counties.entry(&place[0]).or_default().add(counts);
        townships
            .entry((&place[0], &place[1]))
            .or_default()
            .add(counts);
    }
    let mut out = vec![PlaceRow {
        county: "合计".into(),
        township: String::new(),
        village: String::new(),
        depth: 0,
        counts: total,
    }];
    for (county, counts) in &counties {
        out.push(PlaceRow {
            county: county.to_string(),
            township: String::new(),
            village: String::new(),
            depth: 1,
            counts: *counts,
        });
        for ((c, township), counts) in townships.range((*county, "")..) {
            if c != county {
                break;
            }
            out.push(PlaceRow {
                county: county.to_string(),
                township: township.to_string(),
                village: String::new(),
                depth: 2,
                counts: *counts,
            });
            for (place, counts) in
                villages.range([county.to_string(), township.to_string(), String::new()]..)
            {
                if place[0] != *county || place[1] != *township {
                    break;
                }
                out.push(PlaceRow {
                    county: county.to_string(),
                    township: township.to_string(),
                    village: place[2].clone(),
                    depth: 3,
                    counts: *counts,
                });
            }
        }
    }
    out
}

const PLACE_HEADERS: [&str; 14] = [
    "县(区)",
    "乡镇(街道)",
    "村(社区)",
    "新增预警",
    "高",
    "中",
    "低",
    "未纳入低保特困",
    "已纳入低保特困",
    "按期办结",
    "逾期办结",
    "逾期未办结",
    "在办未到期",
    "层级",
];

fn place_values(row: &PlaceRow) -> [u64; 10] {
    let c = &row.counts;
    [
        c.new,
        c.new_by_level[0],
        c.new_by_level[1],
        c.new_by_level[2],
        c.new_uncovered,
        c.new_covered,
        c.handled_in_time,
        c.handled_late,
        c.overdue_open,
        c.open_in_time,
    ]
}

fn depth_label(depth: u8) -> &'static str {
    match depth {
        0 => "全部",
        1 => "县",
        2 => "乡镇",
        _ => "村",
    }
}

const FLAG_HEADERS: [&str; 11] = [
    "预警编号",
    "户编号",
    "县(区)",
    "乡镇(街道)",
    "村(社区)",
    "等级",
    "评分",
    "预警原因",
    "是否纳入低保特困",
    "责任单位",
    "状态 / 办理期限",
];

fn flag_values(flag: &ListedFlag) -> [String; 11] {
    [
        flag.flag_id.to_string(),
        flag.household_id.clone(),
        flag.place[0].clone(),
        flag.place[1].clone(),
        flag.place[2].clone(),
        Level::parse(&flag.level)
            .map(|l| l.label().to_string())
            .unwrap_or_else(|| flag.level.clone()),
        flag.score.to_string(),
        flag.reasons.clone(),
        if flag.covered { "是" } else { "否" }.into(),
        flag.responsible_unit.clone(),
        format!(
            "{} / {}",
            Status::parse(&flag.status)
                .map(|s| s.label())
                .unwrap_or(flag.status.as_str()),
            flag.due_date
        ),
    ]
}

/// Writes `周报_<week>.xlsx` into `dir`; returns its path.
pub fn write_workbook(report: &WeeklyReport, dir: &Path) -> Result<PathBuf, RiskError> {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let path = dir.join(format!("周报_{}.xlsx", report.week));
    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_background_color(0xDDEBF7)
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name("周报汇总")?;
    sheet.write_string_with_format(
        0,
        0,
        format!(
            "救急难主动发现预警周报 {}（{} 至 {}）",
            report.week, report.start, report.end
        ),
        &title,
    )?;
    for (column, text) in PLACE_HEADERS.iter().enumerate() {
        sheet.write_string_with_format(2, column as u16, *text, &header)?;
    }
    for (index, row) in report.places.iter().enumerate() {
        let r = 3 + index as u32;
        let format = (row.depth < 3).then_some(&bold);
        let names = [&row.county, &row.township, &row.village];
        for (column, name) in names.iter().enumerate() {
            match format {
                Some(f) => sheet.write_string_with_format(r, column as u16, name.as_str(), f)?,
                None => sheet.write_string(r, column as u16, name.as_str())?,
            };
        }
        for (column, value) in place_values(row).iter().enumerate() {
            match format {
                Some(f) => {
                    sheet.write_number_with_format(r, 3 + column as u16, *value as f64, f)?
                }
                None => sheet.write_number(r, 3 + column as u16, *value as f64)?,
            };
        }
        sheet.write_string(r, 13, depth_label(row.depth))?;
    }
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 16)?;
    sheet.set_column_width(2, 16)?;
    sheet.set_freeze_panes(3, 3)?;
    let sheet = workbook.add_worksheet();
    sheet.set_name("按原因")?;
    sheet.write_string_with_format(
        0,
        0,
        format!("新增预警按原因和等级 {}", report.week),
        &title,
    )?;
    for (column, text) in ["原因", "高", "中", "低", "合计"].iter().enumerate() {
        sheet.write_string_with_format(2, column as u16, *text, &header)?;
    }
    for (index, (cause, levels)) in report.causes.iter().enumerate() {
        let r = 3 + index as u32;
        sheet.write_string(r, 0, cause)?;
        for (column, value) in levels.iter().enumerate() {
            sheet.write_number(r, 1 + column as u16, *value as f64)?;
        }
        sheet.write_number(r, 4, levels.iter().sum::<u64>() as f64)?;
    }
    sheet.set_column_width(0, 24)?;
    for (name, list) in [
        ("新增预警明细", &report.new_flags),
        ("逾期未办结", &report.overdue),
    ] {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        for (column, text) in FLAG_HEADERS.iter().enumerate() {
            sheet.write_string_with_format(0, column as u16, *text, &header)?;
        }
        for (index, flag) in list.iter().enumerate() {
            for (column, value) in flag_values(flag).iter().enumerate() {
                sheet.write_string(1 + index as u32, column as u16, value)?;
            }
        }
        sheet.set_column_width(7, 60)?;
        sheet.set_column_width(9, 18)?;
        sheet.set_freeze_panes(1, 0)?;
    }
    workbook.save(&path)?;
    Ok(path)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal stacked bar chart as inline SVG.
fn bar_chart(title: &str, series: &[(&str, &str)], bars: &[(String, Vec<u64>)]) -> String {
    let label_width = 150.0;
    let chart_width = 480.0;
    let bar_height = 22.0;
    let top = 40.0;
    let max = bars
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let height = top + bars.len() as f64 * (bar_height + 6.0) + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img" aria-label="{}">"#,
        label_width + chart_width + 60.0,
        escape(title)
    );
    let _ = write!(
        svg,
        r#"<text x="0" y="16" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let mut x = label_width;
    for (name, color) in series {
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="24" width="10" height="10" fill="{color}"/><text x="{}" y="33" font-size="11">{}</text>"#,
            x + 14.0,
            escape(name)
        );
        x += 24.0 + name.chars().count() as f64 * 12.0;
    }
    for (index, (label, values)) in bars.iter().enumerate() {
        let y = top + index as f64 * (bar_height + 6.0);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
            label_width - 6.0,
            y + 15.0,
            escape(label)
        );
        let mut x = label_width;
        for (value, (name, color)) in values.iter().zip(series) {
            let width = *value as f64 / max * chart_width;
            if width > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y}" width="{width:.1}" height="{bar_height}" fill="{color}"><title>{} {}: {value}</title></rect>"#,
                    escape(label),
                    escape(name)
                );
            }
            x += width;
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="12">{}</text>"#,
            x + 4.0,
            y + 15.0,
            values.iter().sum::<u64>()
        );
    }
    svg.push_str("</svg>");
    svg
}

fn html_table(headers: &[&str], rows: impl Iterator<Item = (Vec<String>, bool)>) -> String {
    let mut html = String::from("<table><thead><tr>");
    for header in headers {
        let _ = write!(html, "<th>{}</th>", escape(header));
    }
    html.push_str("</tr></thead><tbody>");
    for (cells, strong) in rows {
        html.push_str(if strong { "<tr class=\"sub\">" } else { "<tr>" });
        for cell in cells {
            let _ = write!(html, "<td>{}</td>", escape(&cell));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// Writes `周报_<week>.html` into `dir`; returns its path.
pub fn write_html(report: &WeeklyReport, dir: &Path) -> Result<PathBuf, RiskError> {
    let path = dir.join(format!("周报_{}.html", report.week));
    let total = report.places.first().map(|p| p.counts).unwrap_or_default();
    let levels = [("高", "#c0392b"), ("中", "#e67e22"), ("低", "#f1c40f")];
    let counties: Vec<&PlaceRow> = report.places.iter().filter(|p| p.depth == 1).collect();
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>救急难预警周报 {week}</title>
<style>body{{font-family:"Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222}}
table{{border-collapse:collapse;margin:8px 0 24px}}th,td{{border:1px solid #bbb;padding:3px 8px;font-size:13px}}
th{{background:#ddebf7}}tr.sub td{{font-weight:bold;background:#f5f5f5}}td:nth-child(n+4){{text-align:right}}
.cards{{display:flex;gap:16px;margin:16px 0}}.card{{border:1px solid #ccc;border-radius:6px;padding:8px 16px}}
.card b{{font-size:22px;display:block}}</style></head><body>
<h1>救急难主动发现预警周报 {week}</h1><p>{start} 至 {end}。按村（社区）→ 乡镇（街道）→ 县（区）逐级汇总。</p>"#,
        week = escape(&report.week),
        start = report.start,
        end = report.end
    );
    let _ = write!(
        html,
        r#"<div class="cards"><div class="card">新增预警<b>{}</b></div><div class="card">其中未纳入低保特困<b>{}</b></div><div class="card">按期办结<b>{}</b></div><div class="card">逾期办结<b>{}</b></div><div class="card">逾期未办结<b>{}</b></div></div>"#,
        total.new,
        total.new_uncovered,
        total.handled_in_time,
        total.handled_late,
        total.overdue_open
    );
    html.push_str(&bar_chart(
        "新增预警按原因和等级",
        &levels,
        &report
            .causes
            .iter()
            .map(|(cause, v)| (cause.clone(), v.to_vec()))
            .collect::<Vec<_>>(),
    ));
    html.push_str(&bar_chart(
        "各县新增预警：未纳入 / 已纳入低保特困",
        &[("未纳入", "#c0392b"), ("已纳入", "#7f8c8d")],
        &counties
            .iter()
            .map(|p| {
                (
                    p.county.clone(),
                    vec![p.counts.new_uncovered, p.counts.new_covered],
                )
            })
            .collect::<Vec<_>>(),
    ));
    html.push_str(&bar_chart(
        "各县办理时效",
        &[
            ("按期办结", "#27ae60"),
            ("逾期办结", "#e67e22"),
            ("逾期未办结", "#c0392b"),
            ("在办未到期", "#3498db"),
        ],
        &counties
            .iter()
            .map(|p| {
                (
                    p.county.clone(),
                    vec![
                        p.counts.handled_in_time,
                        p.counts.handled_late,
                        p.counts.overdue_open,
                        p.counts.open_in_time,
                    ],
                )
            })
            .collect::<Vec<_>>(),
    ));
    html.push_str("<h2>逐级汇总</h2>");
    html.push_str(&html_table(
        &PLACE_HEADERS[..13],
        report.places.iter().map(|p| {
            let mut cells = vec![p.county.clone(), p.township.clone(), p.village.clone()];
            cells.extend(place_values(p).iter().map(|v| v.to_string()));
            (cells, p.depth < 3)
        }),
    ));
    for (title, list) in [
        ("新增预警明细（未纳入保障的在前）", &report.new_flags),
        ("逾期未办结", &report.overdue),
    ] {
        let _ = write!(html, "<h2>{title}</h2>");
        html.push_str(&html_table(
            &FLAG_HEADERS,
            list.iter().map(|f| (flag_values(f).to_vec(), false)),
        ));
    }
    html.push_str("</body></html>\n");
    std::fs::write(&path, html).map_err(|source| RiskError::Write {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}

/// Computes the report of `week` and writes the workbook and the HTML page into `dir`.
pub async fn write_weekly_report(
    registry: &Registry,
    week: Week,
    rules: &RuleSet,
    dir: &Path,
) -> Result<(WeeklyReport, Vec<PathBuf>), RiskError> {
    std::fs::create_dir_all(dir).map_err(|source| RiskError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let report = weekly_report(registry, week, rules).await?;
    let paths = vec![write_workbook(&report, dir)?, write_html(&report, dir)?];
    Ok((report, paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_and_label_as_iso_weeks() {
        let week = Week::parse("2026-W45").expect("valid");
        assert_eq!(week.start.to_string(), "2026-11-02");
        assert_eq!(week.end.to_string(), "2026-11-08");
        assert_eq!(week.label(), "2026-W45");
        assert_eq!(
            Week::containing(NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")).label(),
            "2026-W44"
        );
        assert!(Week::parse("2026-45").is_err());
        assert!(Week::parse("2026-W54").is_err());
    }

    #[test]
    fn roll_up_adds_villages_into_townships_counties_and_the_total() {
        let mut villages = BTreeMap::new();
        let counts = Counts {
            new: 1,
            ..Counts::default()
        };
        for place in [
            ["A县", "甲镇", "一村"],
            ["A县", "甲镇", "二村"],
            ["B县", "乙镇", "三村"],
        ] {
            villages.insert(place.map(str::to_string), counts);
        }
        let rows = roll_up(&villages);
        let summary: Vec<(u8, &str, u64)> = rows
            .iter()
            .map(|r| (r.depth, r.village.as_str(), r.counts.new))
            .collect();
        assert_eq!(
            summary,
            [
                (0, "", 3),
                (1, "", 2),
                (2, "", 2),
                (3, "一村", 1),
                (3, "二村", 1),
                (1, "", 1),
                (2, "", 1),
                (3, "三村", 1)
            ]
        );
    }
}
