//! Renders one record into the cells of one data row, applying the file's
//! style and the cell-level noise of [`super::noise`].

use rand::rngs::StdRng;

use super::events::{Damage, Detail, Record, Status};
use super::geo::County;
use super::noise::{
    Style, address_cell, bad_date, birth_cell, code_word, date_cell, gender_cell, id_cell,
    int_cell, money_cell, name_cell, phone_cell,
};
use super::population::Household;
use super::schema::{Field, Source, words};
use super::util::{age_on, chance, pick};
use super::writers::Cell;

/// A column of a planned export.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    /// Kind.
    pub field: Field,
    /// Header text as written.
    pub header: String,
    /// Group caption index (`usize::MAX` for ungrouped columns).
    pub group: usize,
}

/// Probability that the subject's ID is missing, by source.
fn subject_missing(s: Source) -> f64 {
    match s {
        Source::Health | Source::Education | Source::FamilyPlanning | Source::CivilRoster => 0.01,
        Source::Funeral | Source::Housing => 0.02,
        Source::Emergency => 0.06,
        Source::Hrss => 0.005,
    }
}

/// Probability that the related person's ID is missing, by source.
fn related_missing(s: Source) -> f64 {
    match s {
        Source::Funeral => 0.35,
        Source::Education => 0.15,
        _ => 0.08,
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// What [`row`] produced besides the cells.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RowInfo {
    /// The related person appears in the row (name or ID written).
    pub related_written: bool,
}

/// Per-row knobs of [`row`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RowOpts {
    /// Value of the `序号` column.
    pub seq: usize,
    /// The age column is headed `享年` (often the nominal age).
    pub nominal_age: bool,
    /// Write `2026-02-30` into a date column (rows supporting no situation
    /// only), so that every sample set has a reject.
    pub force_bad_date: bool,
}

/// Renders `rec` (of household `h` in county `c`) into cells for `cols`.
pub(crate) fn row(
    rng: &mut StdRng,
    rec: &Record,
    h: &Household,
    c: &County,
    cols: &[Col],
    st: &Style,
    opts: RowOpts,
) -> (Vec<Cell>, RowInfo) {
    let RowOpts {
        seq,
        nominal_age: age_header_nominal,
        force_bad_date,
    } = opts;
    let p = &h.members[rec.subject];
    let rel = rec
        .related
        .and_then(|(j, w)| h.members.get(j).map(|q| (q, w, j)));
    let protect = rec.critical;
    let mut info = RowInfo::default();
    let mut cells: Vec<Cell> = Vec::with_capacity(cols.len());
    let township = c.townships.get(h.place.township).copied().unwrap_or("");
    for col in cols {
        let cell = match col.field {
            Field::Seq => int_cell(seq as i64, st),
            Field::Remark => {
                if chance(rng, 0.05) {
                    text(pick(
                        rng,
                        &["已核实", "外出务工", "电话空号", "家属代办", "已入户走访"],
                    ))
                } else {
                    Cell::Empty
                }
            }
            Field::Name => text(name_cell(rng, p, st)),
            Field::IdNumber => id_cell(rng, p, st, subject_missing(rec.source), protect),
            Field::Gender => gender_cell(p.male, st),
            Field::BirthDate => birth_cell(rng, p.birth, st),
            Field::Age => {
                let mut age = age_on(p.birth, rec.date);
                if age_header_nominal && chance(rng, 0.3) {
                    age += 1; // 享年 is often the nominal (虚岁) age
                }
                if chance(rng, 0.1) {
                    text(format!("{age}岁"))
                } else {
                    int_cell(i64::from(age), st)
                }
            }
            Field::Phone => phone_cell(rng, h.contact_phone(rec.subject).as_deref(), st),
            Field::Address => text(address_cell(rng, h, c, st)),
            Field::County => text(if chance(rng, 0.2) {
                format!("{}{}", c.city, c.name)
            } else {
                c.name.to_string()
            }),
            Field::Township => text(if chance(rng, 0.1) {
                township.trim_end_matches(['镇', '乡']).to_string()
            } else {
                township.to_string()
            }),
            Field::Village => text(if chance(rng, 0.1) {
                h.place.village.trim_end_matches('村').to_string()
            } else {
                h.place.village.clone()
            }),
            Field::Date => date_cell(rng, rec.date, st),
            Field::RelName => match rel {
                Some((q, _, _)) => {
                    info.related_written = true;
                    text(name_cell(rng, q, st))
                }
                None => Cell::Empty,
            },
            Field::RelId => match rel {
                Some((q, _, _)) => {
                    let cell = id_cell(rng, q, st, related_missing(rec.source), false);
                    if !matches!(&cell, Cell::Empty)
                        && !matches!(&cell, Cell::Text(t) if t == "无" || t == "/")
                    {
                        info.related_written = true;
                    }
                    cell
                }
                None => Cell::Empty,
            },
            Field::RelPhone => match rel {
                Some((_, _, j)) => phone_cell(rng, h.contact_phone(j).as_deref(), st),
                None => Cell::Empty,
            },
            Field::RelRelation => rel.map_or(Cell::Empty, |(_, w, _)| text(w)),
            Field::RelGender => rel.map_or(Cell::Empty, |(q, _, _)| gender_cell(q.male, st)),
            Field::RelBirth => rel.map_or(Cell::Empty, |(q, _, _)| date_cell(rng, q.birth, st)),
            f => detail_cell(rng, f, rec, st, h.place.urban),
        };
        cells.push(cell);
    }
    if !protect && (force_bad_date || chance(rng, 0.004)) {
        let dates: Vec<usize> = (0..cols.len())
            .filter(|&i| cols[i].field.is_date())
            .collect();
        if !dates.is_empty() {
            let i = pick(rng, &dates);
            cells[i] = if force_bad_date {
                Cell::Text("2026-02-30".into())
            } else {
                bad_date(rng)
            };
        }
    }
    (cells, info)
}

fn detail_cell(rng: &mut StdRng, f: Field, rec: &Record, st: &Style, urban: bool) -> Cell {
    let protect = rec.critical;
    let unlisted = |rng: &mut StdRng| !protect && chance(rng, 0.003);
    match (&rec.detail, f) {
        (Detail::Stay { discharge, .. }, Field::DischargeDate) => date_cell(rng, *discharge, st),
        (Detail::Stay { hospital, .. }, Field::Hospital) => text(hospital.clone()),
        (Detail::Stay { diagnosis, .. }, Field::Diagnosis) => text(*diagnosis),
        (Detail::Stay { total, .. }, Field::TotalCost) => money_cell(rng, *total, st, !protect),
        (Detail::Stay { reimbursed, .. }, Field::Reimbursed) => {
            money_cell(rng, *reimbursed, st, !protect)
        }
        (Detail::Stay { oop, .. }, Field::OutOfPocket) => money_cell(rng, *oop, st, false),
        (Detail::Death { cremation, .. }, Field::CremationDate) => date_cell(rng, *cremation, st),
        (Detail::Death { cause, .. }, Field::CauseOfDeath) => text(*cause),
        (Detail::Death { home, .. }, Field::FuneralHome) => text(home.clone()),
        (Detail::Disaster { kind, .. }, Field::DisasterType) => text(*kind),
        (Detail::Disaster { damage, .. }, Field::HouseDamage) => {
            if unlisted(rng) {
                return text(pick(rng, words::UNLISTED));
            }
            let w = match damage {
                Damage::Collapsed => words::COLLAPSED,
                Damage::Severe => words::SEVERE,
                Damage::Moderate => words::MODERATE,
                Damage::None => words::NO_DAMAGE,
            };
            text(code_word(rng, w, st))
        }
        (Detail::Disaster { loss, .. }, Field::LossAmount) => money_cell(rng, *loss, st, true),
        (
            Detail::Disaster { size, .. }
            | Detail::House { size, .. }
            | Detail::Roster { size, .. },
            Field::HouseholdSize,
        ) => int_cell(*size as i64, st),
        (Detail::House { grade, .. }, Field::HouseGrade) => {
            if unlisted(rng) {
                return text("待鉴定");
            }
            text(code_word(rng, words::GRADES[(*grade).min(3)], st))
        }
        (Detail::House { structure, .. }, Field::Structure) => text(*structure),
        (Detail::Student { school, .. }, Field::School) => text(school.clone()),
        (Detail::Student { grade, .. }, Field::Grade) => text(grade.clone()),
        (Detail::Student { status, .. }, Field::EnrolmentStatus) => {
            let w = match status {
                Status::Enrolled => words::ENROLLED,
                Status::DroppedOut => words::DROPPED_OUT,
                Status::Suspended => words::SUSPENDED,
                Status::Transferred => words::TRANSFERRED,
            };
            text(code_word(rng, w, st))
        }
        (Detail::Special { died, .. }, Field::SpecialType) => text(code_word(
            rng,
            if *died {
                words::CHILD_DIED
            } else {
                words::CHILD_DISABLED
            },
            st,
        )),
        (Detail::Special { support, .. }, Field::MonthlySupport) => {
            money_cell(rng, *support, st, false)
        }
        (Detail::Unemployment { monthly, .. }, Field::BenefitMonthly) => {
            money_cell(rng, *monthly, st, false)
        }
        (Detail::Unemployment { months, .. }, Field::BenefitMonths) => {
            if chance(rng, 0.15) {
                text(format!("{months}个月"))
            } else {
                int_cell(i64::from(*months), st)
            }
        }
        (Detail::Unemployment { employer, .. }, Field::FormerEmployer) => text(employer.clone()),
        (Detail::Roster { tekun, .. }, Field::AssistanceType) => {
            // 城市低保 for urban communities, 农村低保 for villages.
            let w: &[&str] = match (*tekun, urban) {
                (true, _) => words::TEKUN,
                (false, true) => &words::DIBAO[..2],
                (false, false) => &[words::DIBAO[0], words::DIBAO[2], words::DIBAO[3]],
            };
            text(code_word(rng, w, st))
        }
        (Detail::Roster { amount, .. }, Field::MonthlyAmount) => {
            money_cell(rng, *amount, st, false)
        }
        // A field that does not belong to this record's source.
        _ => Cell::Empty,
    }
}
