//! Non-data parts of an export: title rows, one- or two-row headers with
//! merged group captions, 合计 and signature footers, the hidden 说明 sheet
//! and the per-township 汇总 sheet.

use rand::RngExt;
use rand::rngs::StdRng;

use super::events::{Detail, Record};
use super::layout::{Features, FileCtx};
use super::names;
use super::render::Col;
use super::schema::{Field, Source};
use super::specs::spec;
use super::util::{cents_plain, chance};
use super::writers::{Cell, Merge, NumFmt, SheetPlan};

/// Appends a title row (merged across the columns in xlsx).
pub(crate) fn push_title(
    sheet: &mut SheetPlan,
    title: String,
    ncols: usize,
    xlsx: bool,
    rng: &mut StdRng,
) {
    let r = sheet.rows.len() as u32;
    let mut row = vec![Cell::Text(title)];
    if xlsx {
        row.resize(ncols.max(1), Cell::Empty);
        if ncols > 1 {
            sheet.merges.push(Merge {
                row: r,
                col: 0,
                last_row: r,
                last_col: (ncols - 1) as u16,
            });
        }
        sheet.title_rows.push(r);
    } else if chance(rng, 0.5) {
        row.resize(ncols.max(1), Cell::Empty);
    }
    sheet.rows.push(row);
}

/// Appends the header: one row, or two rows with group captions (merged
/// in xlsx; ungrouped columns merged vertically).
pub(crate) fn push_header(
    sheet: &mut SheetPlan,
    cols: &[Col],
    groups: &[&str],
    two_row: bool,
    xlsx: bool,
) {
    let r = sheet.rows.len() as u32;
    if !two_row {
        sheet
            .rows
            .push(cols.iter().map(|c| Cell::Text(c.header.clone())).collect());
        sheet.header_rows.push(r);
        return;
    }
    let mut top = Vec::with_capacity(cols.len());
    let mut bottom = Vec::with_capacity(cols.len());
    let mut i = 0;
    while i < cols.len() {
        let g = cols[i].group;
        let mut j = i;
        while j + 1 < cols.len() && cols[j + 1].group == g && g != usize::MAX {
            j += 1;
        }
        match groups.get(g) {
            Some(caption) => {
                top.push(Cell::Text((*caption).to_string()));
                top.extend(std::iter::repeat_n(Cell::Empty, j - i));
                bottom.extend(cols[i..=j].iter().map(|c| Cell::Text(c.header.clone())));
                if xlsx && j > i {
                    sheet.merges.push(Merge {
                        row: r,
                        col: i as u16,
                        last_row: r,
                        last_col: j as u16,
                    });
                }
            }
            None => {
                top.push(Cell::Text(cols[i].header.clone()));
                bottom.push(Cell::Empty);
                if xlsx {
                    sheet.merges.push(Merge {
                        row: r,
                        col: i as u16,
                        last_row: r + 1,
                        last_col: i as u16,
                    });
                }
            }
        }
        i = j + 1;
    }
    sheet.rows.push(top);
    sheet.rows.push(bottom);
    sheet.header_rows.extend([r, r + 1]);
}

fn money_of(rec: &Record, f: Field) -> Option<i64> {
    match (&rec.detail, f) {
        (Detail::Stay { total, .. }, Field::TotalCost) => Some(*total),
        (Detail::Stay { reimbursed, .. }, Field::Reimbursed) => Some(*reimbursed),
        (Detail::Stay { oop, .. }, Field::OutOfPocket) => Some(*oop),
        (Detail::Disaster { loss, .. }, Field::LossAmount) => Some(*loss),
        (Detail::Special { support, .. }, Field::MonthlySupport) => Some(*support),
        (Detail::Unemployment { monthly, .. }, Field::BenefitMonthly) => Some(*monthly),
        (Detail::Roster { amount, .. }, Field::MonthlyAmount) => Some(*amount),
        _ => None,
    }
}

/// Appends the footer: a 合计 row (`=SUM()` formulas in xlsx) and the
/// signature row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_footer(
    sheet: &mut SheetPlan,
    cols: &[Col],
    feat: &Features,
    records: &[Record],
    rows_order: &[usize],
    first_data: u32,
    last_data: u32,
    xlsx: bool,
    rng: &mut StdRng,
) {
    if feat.total && !cols.is_empty() {
        let mut row = vec![Cell::Empty; cols.len()];
        row[0] = Cell::Text("合计".into());
        for (ci, col) in cols.iter().enumerate() {
            if col.field == Field::Name && ci > 0 {
                row[ci] = Cell::Text(format!("共{}人", rows_order.len()));
            }
            if !col.field.is_money() {
                continue;
            }
            let total: i64 = rows_order
                .iter()
                .filter_map(|&i| money_of(&records[i], col.field))
                .sum();
            row[ci] = if xlsx && last_data > first_data {
                // What Excel computes: the sum of the numeric cells only.
                let sum: f64 = sheet.rows[first_data as usize..last_data as usize]
                    .iter()
                    .filter_map(|r| match r.get(ci) {
                        Some(Cell::Num(v, _)) => Some(*v),
                        _ => None,
                    })
                    .sum();
                let col_name = rust_xlsxwriter::utility::column_number_to_name(ci as u16);
                Cell::Formula(
                    format!("SUM({col_name}{}:{col_name}{})", first_data + 1, last_data),
                    (sum * 100.0).round() / 100.0,
                )
            } else {
                Cell::Text(cents_plain(total))
            };
        }
        sheet.rows.push(row);
    }
    if feat.sign {
        let officer = |rng: &mut StdRng| {
            let male = chance(rng, 0.5);
            format!(
                "{}{}",
                names::surname(rng),
                names::given_name(rng, names::NameModel::Census, male, 1980)
            )
        };
        let (a, b) = (officer(rng), officer(rng));
        let date = format!("2026年11月{}日", rng.random_range(1..=5));
        if chance(rng, 0.5) {
            sheet.rows.push(vec![Cell::Text(format!(
                "制表人：{a}　　　审核人：{b}　　　制表日期：{date}"
            ))]);
        } else {
            let mut row = vec![Cell::Empty; cols.len().max(3)];
            let n = row.len();
            row[0] = Cell::Text(format!("制表人：{a}"));
            row[n / 2] = Cell::Text(format!("审核人：{b}"));
            row[n - 1] = Cell::Text(format!("制表日期：{date}"));
            sheet.rows.push(row);
        }
    }
}

/// A hidden 说明 sheet with filling-in notes.
pub(crate) fn notes_sheet(s: Source) -> SheetPlan {
    let lines = [
        "填报说明".to_string(),
        "1. 本表数据由业务系统导出，按县（市、区）汇总上报。".to_string(),
        "2. 身份证号请以文本格式填写，勿使用科学计数法。".to_string(),
        "3. 统计期间：2024年11月1日至2026年10月31日。".to_string(),
        format!(
            "4. 数据口径见《{}》。",
            spec(s).titles[0]
                .replace("{c}", "")
                .replace("{u}", "")
                .replace("{ym}", "")
        ),
    ];
    SheetPlan {
        name: "说明".into(),
        hidden: true,
        rows: lines.into_iter().map(|l| vec![Cell::Text(l)]).collect(),
        ..SheetPlan::default()
    }
}

/// A per-township 汇总 sheet (no person in it).
pub(crate) fn summary_sheet(ctx: &FileCtx<'_>, records: &[Record]) -> SheetPlan {
    let c = ctx.county;
    let mut counts = vec![(0usize, 0i64); c.townships.len()];
    for r in records {
        let t = ctx.households[r.hh].place.township;
        if let Some(x) = counts.get_mut(t) {
            x.0 += 1;
            x.1 += match &r.detail {
                Detail::Stay { oop, .. } => *oop,
                Detail::Disaster { loss, .. } => *loss,
                Detail::Special { support, .. } => *support,
                Detail::Unemployment { monthly, .. } => *monthly,
                Detail::Roster { amount, .. } => *amount,
                _ => 0,
            };
        }
    }
    let money = counts.iter().any(|x| x.1 != 0);
    let mut header = vec![Cell::Text("乡镇".into()), Cell::Text("人次".into())];
    if money {
        header.push(Cell::Text("金额（元）".into()));
    }
    let mut rows = vec![vec![Cell::Text(format!("{}分乡镇汇总", c.name))], header];
    for (t, (n, m)) in counts.iter().enumerate().filter(|(_, x)| x.0 > 0) {
        let mut row = vec![
            Cell::Text(c.townships[t].into()),
            Cell::Num(*n as f64, NumFmt::General),
        ];
        if money {
            row.push(Cell::Num(*m as f64 / 100.0, NumFmt::Money));
        }
        rows.push(row);
    }
    SheetPlan {
        name: "汇总".into(),
        rows,
        header_rows: vec![1],
        title_rows: vec![0],
        ..SheetPlan::default()
    }
}
