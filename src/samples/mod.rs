//! Realistic sample exports of every source, with exact ground truth
//! (`lifeline samples --households N --seed S --out DIR`).
//!
//! The generator builds a world of Anhui households (eight real counties),
//! lets two years of events happen to them (hospital stays, deaths,
//! disasters, dangerous-house assessments, school dropouts, family-planning
//! special families, unemployment, the 低保/特困 roster) and writes each
//! source system's exports the way they arrive in the field: xlsx and CSV
//! (UTF-8, UTF-8 with BOM, GBK), title rows, two-row merged headers, header
//! aliases varying between counties, noisy names, IDs, dates, phones and
//! money, footers, hidden sheets and duplicated rows. `OUT/truth/` says who
//! every data row is about and which situations truly hold.
//!
//! Households are generated county by county in chunks of at most 25,000
//! households; each chunk's exports are written before the next chunk is
//! generated, so memory is bounded by the chunk size plus the set of issued
//! ID numbers (a few dozen bytes per person). Output is deterministic
//! for a given `(households, seed)`: CSV files and xlsx workbooks are
//! byte-identical between runs.
//!
//! Module layout: `util` (seeded RNGs, dates), `geo` (counties, villages,
//! addresses), `names`, `population` (households, IDs, phones), `events`
//! (records, scenarios, situations), `simulate`, `health` and `school` (what
//! happens to a household), `schema` and `specs` (per-source columns and
//! header aliases), `noise` (cell-level noise), `render` (one data row),
//! `layout` and `sheets` (one export file), `writers` (CSV/xlsx) and `truth`.
//! Noise rates are documented in `noise` and `layout`, event rates in
//! `events`.
//!
//! xlsx workbooks are written in rust_xlsxwriter's standard mode (the crate's
//! `constant_memory` feature is not enabled); runs of more than 20,000
//! households write mostly CSV and keep any xlsx at 20,000 rows or fewer.

use std::fs;
use std::path::{Path, PathBuf};

mod events;
mod geo;
mod health;
mod layout;
mod names;
pub use names::NameModel;
mod noise;
mod population;
mod render;
mod schema;
mod school;
mod sheets;
mod simulate;
mod specs;
mod truth;
mod util;
mod writers;

#[cfg(test)]
mod tests;

use events::{Record, Scenario};
use geo::{COUNTIES, Village};
use layout::FileCtx;
use population::Registry;
use schema::Source;
use simulate::Ctx;
use writers::Container;

/// What to generate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleOptions {
    /// Number of households.
    pub households: usize,
    /// Seed of the random generator; the same seed gives the same files.
    pub seed: u64,
    /// How given names are drawn (`census` unless a namesake stress test is wanted).
    pub names: NameModel,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleSummary {
    /// Every export written, with its number of data rows.
    pub files: Vec<(PathBuf, usize)>,
    /// Number of persons in `truth/persons.csv`.
    pub persons: usize,
    /// Number of households in `truth/households.csv`.
    pub households: usize,
    /// Number of lines in `truth/mentions.csv`.
    pub mentions: usize,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The output directory could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    Dir {
        /// Directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A CSV file could not be written.
    #[error("cannot write CSV {}: {source}", path.display())]
    Csv {
        /// File.
        path: PathBuf,
        /// Cause.
        source: csv::Error,
    },
    /// A workbook could not be written.
    #[error("cannot write workbook {}: {source}", path.display())]
    Xlsx {
        /// File.
        path: PathBuf,
        /// Cause.
        source: rust_xlsxwriter::XlsxError,
    },
    /// Text that GBK cannot encode was about to be written.
    #[error("cannot encode {} as GBK", path.display())]
    Encoding {
        /// File.
        path: PathBuf,
    },
    /// The generator ran out of unique values (e.g. ID numbers).
    #[error("sample generator ran out of {what}")]
    Exhausted {
        /// What ran out.
        what: String,
    },
}

/// Largest number of households generated (and held) at once.
const CHUNK_HOUSEHOLDS: usize = 25_000;

/// One unit of generation: a county, or part of a big county.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    county: usize,
    part: Option<usize>,
    households: usize,
}

fn plan_chunks(n: usize) -> Vec<Chunk> {
    if n == 0 {
        return Vec::new();
    }
    let used = n.div_ceil(15).clamp(1, COUNTIES.len());
    let weights: Vec<u64> = COUNTIES[..used]
        .iter()
        .map(|c| u64::from(c.weight))
        .collect();
    let total: u64 = weights.iter().sum();
    // Largest remainder, at least one household per county.
    let mut alloc: Vec<usize> = weights
        .iter()
        .map(|w| ((n as u64 * w) / total) as usize)
        .collect();
    let rest = n - alloc.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..used).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((n as u64 * weights[i]) % total));
    for &i in order.iter().cycle().take(rest) {
        alloc[i] += 1;
    }
    for i in 0..used {
        if alloc[i] == 0 {
            if let Some(j) = (0..used).max_by_key(|&j| alloc[j]) {
                alloc[j] -= 1;
            }
            alloc[i] = 1;
        }
    }
    let mut chunks = Vec::new();
    for (county, &count) in alloc.iter().enumerate() {
        let parts = count.div_ceil(CHUNK_HOUSEHOLDS).max(1);
        for p in 0..parts {
            let size = count / parts + usize::from(p < count % parts);
            chunks.push(Chunk {
                county,
                part: (parts > 1).then_some(p + 1),
                households: size,
            });
        }
    }
    chunks
}

/// Generates `opts.households` households and writes their exports to `out`
/// and the ground truth to `out/truth/`. Existing files of the same names are
/// overwritten; other files in `out` are left alone.
pub fn generate(opts: &SampleOptions, out: &Path) -> Result<SampleSummary, SampleError> {
    fs::create_dir_all(out).map_err(|e| SampleError::Dir {
        path: out.to_path_buf(),
        source: e,
    })?;
    let mut truth = truth::Truth::create(&out.join("truth"))?;
    // the truth sits beside the exports; `lifeline ingest OUT` must not read it as one
    let marker = out.join("truth").join(crate::ingest::IGNORE_MARKER);
    fs::write(
        &marker,
        "ground truth of generated samples: not a department export\n",
    )
    .map_err(|e| SampleError::Dir {
        path: marker.clone(),
        source: e,
    })?;
    let n = opts.households;
    let boost = (2000.0 / n.max(1) as f64).sqrt().clamp(1.0, 5.0);
    let force_scenarios = n < 1000;
    let large = n > 20_000;
    let mut reg = Registry::default();
    let mut summary = SampleSummary::default();
    let mut file_counter = 0usize;
    let mut village_cache: Vec<Option<Vec<Vec<Village>>>> = vec![None; COUNTIES.len()];
    for (ci, chunk) in plan_chunks(n).into_iter().enumerate() {
        let c = &COUNTIES[chunk.county];
        let villages = village_cache[chunk.county].get_or_insert_with(|| {
            (0..c.townships.len())
                .map(|t| geo::villages(c, t))
                .collect()
        });
        let part = chunk.part.unwrap_or(0) as u64;
        let mut rng = util::rng_for(opts.seed, 1, u64::from(c.code), part);
        let disasters = events::disasters(&mut rng, c);
        let ctx = Ctx {
            county: c,
            disasters: &disasters,
            boost,
        };
        let mut households = Vec::with_capacity(chunk.households);
        let mut records: Vec<Record> = Vec::new();
        for k in 0..chunk.households {
            let scen = if force_scenarios {
                Scenario::ALL.get(k).copied()
            } else {
                None
            };
            let want = scen.map(Scenario::want).unwrap_or_default();
            let mut h = population::household(
                &mut rng,
                &mut reg,
                opts.names,
                chunk.county,
                c,
                villages,
                want,
            )?;
            let (bits, covered) = simulate::simulate(&mut rng, &mut h, k, scen, &ctx, &mut records);
            truth.household(&h, c, bits, covered)?;
            summary.persons += h.members.len();
            summary.households += 1;
            households.push(h);
        }
        for s in Source::ALL {
            let recs: Vec<Record> = records.iter().filter(|r| r.source == s).cloned().collect();
            if recs.is_empty() {
                continue;
            }
            let mut frng = util::rng_for(opts.seed, 2, ci as u64, s.index() as u64);
            let fctx = FileCtx {
                source: s,
                county: c,
                part: chunk.part,
                households: &households,
                large,
                forced: (file_counter < 8).then_some(file_counter),
            };
            let export = layout::plan(&mut frng, &fctx, &recs);
            let path = out.join(&export.name);
            match export.container {
                Container::Xlsx => writers::write_xlsx(&path, &export.sheets)?,
                Container::Csv { enc, crlf } => {
                    if let Some(sheet) = export.sheets.first() {
                        writers::write_csv(&path, sheet, enc, crlf)?;
                    }
                }
            }
            truth.export(&export, s.key())?;
            summary.mentions += export.mentions.len();
            summary.files.push((path, export.data_rows));
            file_counter += 1;
        }
    }
    truth.finish()?;
    Ok(summary)
}
