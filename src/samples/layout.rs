//! File-level layout of one export: container and encoding, header aliases,
//! column choice and order, title rows, two-row merged headers, blank rows,
//! footers, extra sheets — and the truth bookkeeping of which person each
//! data row mentions.
//!
//! File-level rates (each export draws its own profile):
//!
//! | feature | rate |
//! |---|---|
//! | container (≤ 20,000 households) | xlsx 50%, CSV UTF-8 20%, UTF-8 BOM 15%, GBK 15% |
//! | container (> 20,000 households) | xlsx 10% of exports with ≤ 20,000 rows, else CSV (UTF-8 40%, BOM 25%, GBK 35%) |
//! | header alias | first alias 45%, others uniform; `（元）` on money 30%; spaced `姓 名` 8%; line break (xlsx) 10% |
//! | column order | 1–3 swaps within a group 50%; two groups swapped 15% |
//! | `序号` / `备注` columns | 60% / 25% |
//! | title rows | 65% (two rows in 40% of those; blank row after 20%) |
//! | two-row merged header | 40% of xlsx, 8% of CSV |
//! | footer 合计 row / signature rows | 45% / 40% |
//! | blank rows inside data | 30% of files, 0.5% of rows |
//! | header repeated mid-file | 3% of CSV |
//! | xlsx extra sheet | hidden 说明 20%, 汇总 sheet 10%, data split over two sheets 12% |
//! | xlsx IDs and phones typed as numbers | 20% (shown with format `0` in half) |
//! | CSV IDs as `="…"` | 4% |
//! | real date cells in xlsx | 60% |
//! | duplicate row placement | next to the original 60%, at the end 40% |
//!
//! The first eight exports of a run get fixed feature sets (merged header
//! xlsx, GBK CSV, BOM CSV, hidden sheet with float IDs, split sheets, CSV
//! two-row header, summary sheet first, `="…"` IDs) so that every run of at
//! least one county contains each feature; the first and third also carry
//! one impossible date (`2026-02-30`) on a row that supports no situation.

use rand::RngExt;
use rand::rngs::StdRng;

use super::events::Record;
use super::geo::County;
use super::noise::{DATE_STYLES, DateStyle, MoneyStyle, Style};
use super::population::Household;
use super::render::{self, Col};
use super::schema::{Field, REMARK_HEADERS, SEQ_HEADERS, Source};
use super::sheets::{notes_sheet, push_footer, push_header, push_title, summary_sheet};
use super::specs::spec;
use super::util::{chance, mix, pick, pick_w};
use super::writers::{Cell, Container, Encoding, SheetPlan};

/// One person mention of one data row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mention {
    /// Sheet index (0 for CSV).
    pub sheet: usize,
    /// 1-based row / line number.
    pub row: u32,
    /// `subject` or the related role.
    pub role: &'static str,
    /// Person.
    pub pid: u64,
    /// Household.
    pub hid: u64,
}

/// A planned export file.
#[derive(Debug)]
pub(crate) struct Export {
    /// File name.
    pub name: String,
    /// Container and encoding.
    pub container: Container,
    /// Sheets (one for CSV).
    pub sheets: Vec<SheetPlan>,
    /// Mentions, in row order.
    pub mentions: Vec<Mention>,
    /// Number of data rows (rows describing a record).
    pub data_rows: usize,
}

/// Where the export comes from.
#[derive(Debug)]
pub(crate) struct FileCtx<'a> {
    /// Source system.
    pub source: Source,
    /// County.
    pub county: &'a County,
    /// Part number when a county's export is split (1-based).
    pub part: Option<usize>,
    /// The chunk's households (records index into them).
    pub households: &'a [Household],
    /// Large run: prefer CSV.
    pub large: bool,
    /// Fixed feature set for the first exports of a run.
    pub forced: Option<usize>,
}

/// File-level features of an export.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Features {
    /// Two-row header with group captions.
    pub two_row: bool,
    /// Number of title rows (0–2).
    pub titles: u8,
    /// 合计 row.
    pub total: bool,
    /// 制表人/审核人/制表日期 row.
    pub sign: bool,
    /// Probability of a blank row before a data row.
    pub blank_rate: f64,
    /// Header repeated in the middle of the data.
    pub repeat_header: bool,
    /// Hidden 说明 sheet (xlsx).
    pub hidden_notes: bool,
    /// 汇总 sheet (xlsx).
    pub summary: bool,
    /// The 汇总 sheet comes first.
    pub summary_first: bool,
    /// Data split over two sheets (xlsx).
    pub split: bool,
}

fn choose_container(rng: &mut StdRng, ctx: &FileCtx<'_>, n: usize) -> Container {
    let csv = |rng: &mut StdRng, large: bool| {
        let enc = if large {
            pick_w(
                rng,
                &[
                    (Encoding::Utf8, 40),
                    (Encoding::Utf8Bom, 25),
                    (Encoding::Gbk, 35),
                ],
            )
        } else {
            pick_w(
                rng,
                &[
                    (Encoding::Utf8, 20),
                    (Encoding::Utf8Bom, 15),
                    (Encoding::Gbk, 15),
                ],
            )
        };
        let crlf = match enc {
            Encoding::Gbk => true,
            Encoding::Utf8Bom => chance(rng, 0.8),
            Encoding::Utf8 => chance(rng, 0.3),
        };
        Container::Csv { enc, crlf }
    };
    if ctx.large && n > 20_000 {
        return csv(rng, true);
    }
    match ctx.forced {
        Some(0 | 3 | 4 | 6) => Container::Xlsx,
        Some(1 | 7) => Container::Csv {
            enc: Encoding::Gbk,
            crlf: true,
        },
        Some(2) => Container::Csv {
            enc: Encoding::Utf8Bom,
            crlf: true,
        },
        Some(_) => Container::Csv {
            enc: Encoding::Utf8,
            crlf: false,
        },
        None if ctx.large => {
            if n <= 20_000 && chance(rng, 0.1) {
                Container::Xlsx
            } else {
                csv(rng, true)
            }
        }
        None => {
            if chance(rng, 0.5) {
                Container::Xlsx
            } else {
                csv(rng, false)
            }
        }
    }
}

fn choose_columns(rng: &mut StdRng, s: Source, xlsx: bool) -> Vec<Col> {
    let sp = spec(s);
    let mut cols: Vec<Col> = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    for cs in sp.columns() {
        if !chance(rng, cs.prob) {
            continue;
        }
        let aliases = &cs.aliases;
        let mut alias = if chance(rng, 0.45) {
            aliases[0]
        } else {
            pick(rng, aliases)
        };
        if used.contains(&alias) {
            match aliases.iter().find(|a| !used.contains(a)) {
                Some(a) => alias = a,
                None => continue,
            }
        }
        used.push(alias);
        let mut header = alias.to_string();
        if cs.field.is_money() && chance(rng, 0.3) {
            header.push_str(if chance(rng, 0.5) {
                "（元）"
            } else {
                "(元)"
            });
        } else if header.chars().count() == 2 && chance(rng, 0.08) {
            let ch: Vec<char> = header.chars().collect();
            header = format!(
                "{}{}{}",
                ch[0],
                if chance(rng, 0.5) { "　" } else { " " },
                ch[1]
            );
        } else if xlsx && header.chars().count() >= 6 && chance(rng, 0.1) {
            let ch: Vec<char> = header.chars().collect();
            let mid = ch.len() / 2;
            header = format!(
                "{}\n{}",
                ch[..mid].iter().collect::<String>(),
                ch[mid..].iter().collect::<String>()
            );
        }
        cols.push(Col {
            field: cs.field,
            header,
            group: cs.group,
        });
    }
    // Column order: swaps within a group, sometimes two groups swapped.
    if chance(rng, 0.5) && cols.len() > 2 {
        for _ in 0..rng.random_range(1..=3) {
            let i = rng.random_range(0..cols.len() - 1);
            if cols[i].group == cols[i + 1].group && cols[i].field != Field::Name {
                cols.swap(i, i + 1);
            }
        }
    }
    if chance(rng, 0.15) && sp.groups.len() > 2 {
        let (a, b) = (1, sp.groups.len() - 1);
        let mut reordered: Vec<Col> = cols
            .iter()
            .filter(|c| c.group != a && c.group != b)
            .cloned()
            .collect();
        reordered.extend(cols.iter().filter(|c| c.group == b).cloned());
        reordered.extend(cols.iter().filter(|c| c.group == a).cloned());
        cols = reordered;
    }
    if chance(rng, 0.6) {
        let h = if chance(rng, 0.85) {
            SEQ_HEADERS[0]
        } else {
            SEQ_HEADERS[1]
        };
        cols.insert(
            0,
            Col {
                field: Field::Seq,
                header: h.into(),
                group: usize::MAX,
            },
        );
    }
    if chance(rng, 0.25) {
        cols.push(Col {
            field: Field::Remark,
            header: (pick(rng, REMARK_HEADERS)).into(),
            group: usize::MAX,
        });
    }
    cols
}

fn choose_style(rng: &mut StdRng, xlsx: bool, cols: &[Col], forced: Option<usize>) -> Style {
    const DATE_W: [u32; 7] = [35, 15, 8, 12, 10, 10, 10];
    let weighted: Vec<(DateStyle, u32)> = DATE_STYLES.iter().copied().zip(DATE_W).collect();
    let id_numbers = match forced {
        Some(3 | 4) => true,
        Some(_) => false,
        None => xlsx && chance(rng, 0.2),
    };
    Style {
        xlsx,
        date: pick_w(rng, &weighted),
        date_cells: (xlsx && (forced == Some(3) || chance(rng, 0.6)))
            .then(|| pick(rng, &["yyyy-mm-dd", "yyyy/m/d", "yyyy年m月d日"])),
        year_month: cols
            .iter()
            .any(|c| c.field == Field::BirthDate && c.header.starts_with("出生年月")),
        money: pick_w(
            rng,
            &[
                (MoneyStyle::Plain, 55),
                (MoneyStyle::Grouped, 20),
                (MoneyStyle::Short, 15),
                (MoneyStyle::Yuan, 10),
            ],
        ),
        money_cells: xlsx && (forced == Some(0) || chance(rng, 0.75)),
        gender: pick_w(
            rng,
            &[
                (("男", "女"), 70),
                (("1", "2"), 15),
                (("男性", "女性"), 10),
                (("M", "F"), 5),
            ],
        ),
        id_numbers,
        id_integer_format: forced == Some(4) || (forced.is_none() && chance(rng, 0.5)),
        id_formula_text: !xlsx && (forced == Some(7) || (forced.is_none() && chance(rng, 0.04))),
        name_pad: chance(rng, 0.2),
        lower_x: chance(rng, 0.25),
        code_salt: rng.random_range(0..1000),
        admin_cols: cols
            .iter()
            .any(|c| matches!(c.field, Field::Township | Field::Village)),
    }
}

fn choose_features(rng: &mut StdRng, xlsx: bool, forced: Option<usize>) -> Features {
    let mut f = Features {
        two_row: chance(rng, if xlsx { 0.4 } else { 0.08 }),
        titles: if chance(rng, 0.65) {
            if chance(rng, 0.4) { 2 } else { 1 }
        } else {
            0
        },
        total: chance(rng, 0.45),
        sign: chance(rng, 0.4),
        blank_rate: if chance(rng, 0.3) { 0.005 } else { 0.0 },
        repeat_header: !xlsx && chance(rng, 0.03),
        ..Features::default()
    };
    if xlsx {
        let x: f64 = rng.random();
        f.hidden_notes = x < 0.2;
        f.summary = (0.2..0.3).contains(&x);
        f.summary_first = chance(rng, 0.5);
        f.split = (0.3..0.42).contains(&x);
    }
    match forced {
        Some(0) => {
            (
                f.two_row,
                f.titles,
                f.total,
                f.sign,
                f.split,
                f.summary,
                f.hidden_notes,
            ) = (true, 2, true, true, false, false, false)
        }
        Some(1) => (f.titles, f.sign) = (1, true),
        Some(2) => (f.total, f.blank_rate) = (true, 0.02),
        Some(3) => (f.hidden_notes, f.summary, f.split, f.sign) = (true, false, false, true),
        Some(4) => (f.split, f.summary, f.hidden_notes) = (true, false, false),
        Some(5) => (f.two_row, f.repeat_header) = (true, true),
        Some(6) => {
            (f.summary, f.summary_first, f.split, f.hidden_notes) = (true, true, false, false)
        }
        _ => {}
    }
    f
}

fn file_name(ctx: &FileCtx<'_>, xlsx: bool) -> String {
    let sp = spec(ctx.source);
    // The same county names its batches alike: the pattern depends on the
    // county and source only.
    let salt = mix(u64::from(ctx.county.code) * 16 + ctx.source.index() as u64) as usize;
    let names = if xlsx { sp.xlsx_names } else { sp.csv_names };
    let pattern = names[salt % names.len()];
    let k = ctx.part.map_or(String::new(), |k| format!("_第{k}批"));
    let stem = pattern.replace("{c}", ctx.county.name).replace("{k}", &k);
    format!("{stem}.{}", if xlsx { "xlsx" } else { "csv" })
}

fn fill(template: &str, c: &County, unit: &str) -> String {
    template
        .replace("{c}", c.name)
        .replace("{city}", c.city)
        .replace("{u}", unit)
        .replace("{ym}", "2026年10月")
}

/// Plans one export of `records` (all of one source, chunk and county).
pub(crate) fn plan(rng: &mut StdRng, ctx: &FileCtx<'_>, records: &[Record]) -> Export {
    let container = choose_container(rng, ctx, records.len());
    let xlsx = container == Container::Xlsx;
    let cols = choose_columns(rng, ctx.source, xlsx);
    let st = choose_style(rng, xlsx, &cols, ctx.forced);
    let feat = choose_features(rng, xlsx, ctx.forced);
    let name = file_name(ctx, xlsx);
    let sp = spec(ctx.source);
    let c = ctx.county;
    let unit = fill(pick(rng, sp.units), c, "");
    let nominal_age = cols
        .iter()
        .any(|col| col.field == Field::Age && col.header.contains("享年"));

    // Row order: by date or by place; duplicates next to the original or at the end.
    let mut order: Vec<usize> = (0..records.len()).collect();
    let by_place = chance(
        rng,
        if matches!(ctx.source, Source::Health | Source::Funeral | Source::Hrss) {
            0.3
        } else {
            0.7
        },
    );
    let hh = ctx.households;
    order.sort_by_cached_key(|&i| {
        let r = &records[i];
        let h = &hh[r.hh];
        if by_place {
            (h.place.township, h.place.village.clone(), r.date, i)
        } else {
            (0, String::new(), r.date, i)
        }
    });
    let mut rows_order: Vec<usize> = Vec::with_capacity(order.len());
    let mut tail = Vec::new();
    for i in order {
        rows_order.push(i);
        if records[i].duplicate {
            if chance(rng, 0.6) {
                rows_order.push(i)
            } else {
                tail.push(i)
            }
        }
    }
    rows_order.extend(tail);

    let n_sheets = if feat.split && rows_order.len() >= 2 {
        2
    } else {
        1
    };
    let per_sheet = rows_order.len().div_ceil(n_sheets);
    let sheet_names: Vec<String> = if n_sheets == 2 {
        let (a, b) = pick(
            rng,
            &[
                ("明细1", "明细2"),
                ("Sheet1", "Sheet2"),
                ("第一批", "第二批"),
                ("上半部分", "下半部分"),
            ],
        );
        vec![a.to_string(), b.to_string()]
    } else {
        vec![(pick(rng, sp.sheets)).to_string()]
    };
    let mut sheets = Vec::new();
    let mut mentions = Vec::new();
    let mut seq = 0usize;
    let mut bad_done = false;
    for (si, chunk) in rows_order
        .chunks(per_sheet.max(1))
        .enumerate()
        .take(n_sheets)
    {
        let mut sheet = SheetPlan {
            name: sheet_names[si.min(sheet_names.len() - 1)].clone(),
            ..SheetPlan::default()
        };
        let ncols = cols.len();
        if si == 0 && feat.titles > 0 {
            let title = fill(pick(rng, sp.titles), c, &unit);
            push_title(&mut sheet, title, ncols, xlsx, rng);
            if feat.titles > 1 {
                let has_money = cols.iter().any(|c| c.field.is_money());
                let sub = if chance(rng, 0.6) {
                    let yuan = if has_money {
                        "　　　　　　　　单位：元"
                    } else {
                        ""
                    };
                    format!("填报单位：{unit}（盖章）{yuan}")
                } else {
                    "统计时间：2024年11月1日—2026年10月31日".to_string()
                };
                push_title(&mut sheet, sub, ncols, xlsx, rng);
            }
            if chance(rng, 0.2) {
                sheet.rows.push(Vec::new());
            }
        }
        push_header(&mut sheet, &cols, sp.groups, feat.two_row, xlsx);
        let first_data = sheet.rows.len() as u32;
        let repeat_at = (feat.repeat_header && chunk.len() >= 20)
            .then(|| rng.random_range(chunk.len() / 3..chunk.len() * 2 / 3));
        for (k, &ri) in chunk.iter().enumerate() {
            if repeat_at == Some(k) {
                push_header(&mut sheet, &cols, sp.groups, feat.two_row, false);
            }
            if feat.blank_rate > 0.0 && chance(rng, feat.blank_rate) {
                sheet.rows.push(if chance(rng, 0.5) {
                    Vec::new()
                } else {
                    vec![Cell::Empty; ncols]
                });
            }
            let rec = &records[ri];
            let h = &hh[rec.hh];
            seq += 1;
            // The first exports of a run (fixed feature sets) each carry one
            // impossible date on their first row that supports no situation.
            let force_bad_date = matches!(ctx.forced, Some(0 | 2)) && !bad_done && !rec.critical;
            bad_done |= force_bad_date;
            let opts = render::RowOpts {
                seq,
                nominal_age,
                force_bad_date,
            };
            let (cells, info) = render::row(rng, rec, h, c, &cols, &st, opts);
            sheet.rows.push(cells);
            let row = sheet.rows.len() as u32;
            mentions.push(Mention {
                sheet: si,
                row,
                role: "subject",
                pid: h.members[rec.subject].pid,
                hid: h.hid,
            });
            if let (Some(role), Some((j, _)), true) =
                (ctx.source.role(), rec.related, info.related_written)
            {
                mentions.push(Mention {
                    sheet: si,
                    row,
                    role,
                    pid: h.members[j].pid,
                    hid: h.hid,
                });
            }
        }
        let last_data = sheet.rows.len() as u32;
        if si + 1 == n_sheets {
            push_footer(
                &mut sheet,
                &cols,
                &feat,
                records,
                &rows_order,
                first_data,
                last_data,
                xlsx,
                rng,
            );
        }
        sheets.push(sheet);
    }
    if xlsx && n_sheets == 1 {
        if feat.hidden_notes {
            sheets.push(notes_sheet(ctx.source));
        } else if feat.summary {
            let s = summary_sheet(ctx, records);
            if feat.summary_first {
                sheets.insert(0, s);
                mentions.iter_mut().for_each(|m| m.sheet += 1);
            } else {
                sheets.push(s);
            }
        }
    }
    Export {
        name,
        container,
        sheets,
        mentions,
        data_rows: rows_order.len(),
    }
}
