//! Record linkage: which mentions are the same person, and which persons form a household.
//!
//! The engine is configured in a file ([`spec`], e.g. `linkage/persons.toml`) and runs in stages,
//! each its own module:
//! 1. [`dataset`] prepares every record's fields (names folded to simplified characters and
//!    surname-aware pinyin by [`chinese`], ID numbers classified as valid, damaged or cut short…);
//! 2. [`blocking`] picks the pairs to compare from the union of the configured rules;
//! 3. [`comparison`] gives each pair a level per field (exact, same pinyin, one digit off, …);
//! 4. [`training`] estimates the Fellegi–Sunter model from the data (u from random pairs and value
//!    frequencies, m by expectation maximisation) and [`scoring`] turns levels into weights;
//! 5. [`clustering`] joins strong links into persons, refusing merges that would join two valid ID
//!    numbers or two people of one source row.
//!
//! [`resolve`] runs the stages on a [`dataset::Dataset`]; [`registry`] applies them to the
//! registry's mentions with stable person and household IDs ([`households`]); [`csv_link`] runs
//! them on any CSV file (`lifeline link`).

pub mod blocking;
pub mod chinese;
pub mod clustering;
pub mod comparison;
pub mod csv_link;
pub mod dataset;
pub mod evaluate;
pub mod households;
pub mod registry;
pub mod scoring;
pub mod spec;
pub mod training;

use std::time::Instant;

use thiserror::Error;

use crate::registry::RegistryError;
use blocking::{Candidates, RuleStats};
use clustering::{Constraints, Refusals};
use dataset::Dataset;
use scoring::Scorer;
use spec::LinkageSpec;
use training::Model;

/// What can go wrong in linkage.
#[derive(Debug, Error)]
pub enum LinkageError {
    /// A configuration file has problems (all of them listed).
    #[error("invalid linkage configuration:\n  {}", .0.join("\n  "))]
    Config(Vec<String>),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A CSV input is malformed.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: String,
        /// What is wrong (with the line).
        message: String,
    },
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A request names something that does not exist or is not allowed.
    #[error("{0}")]
    Invalid(String),
}

/// How long each stage took, in seconds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timings {
    /// Blocking.
    pub blocking: f64,
    /// Comparing candidate pairs.
    pub comparing: f64,
    /// Estimating u and m.
    pub training: f64,
    /// Scoring and clustering.
    pub clustering: f64,
}

/// The outcome of [`resolve`].
#[derive(Debug)]
pub struct Resolution {
    /// Cluster number per record (the lowest record index in the cluster).
    pub clusters: Vec<u32>,
    /// The trained model.
    pub model: Model,
    /// The scorer built from it.
    pub scorer: Scorer,
    /// Candidate pairs (for blocking recall).
    pub candidates: Vec<(u32, u32)>,
    /// Per blocking rule.
    pub rules: Vec<RuleStats>,
    /// The key of every record under every rule (`keys[rule][record]`), as blocking made them:
    /// a registry stores them for later incremental runs.
    pub keys: Vec<Vec<u64>>,
    /// Pairs at or above the link threshold, with their weights, in pair order.
    pub links: Vec<(f32, u32, u32)>,
    /// Pairs in the review band whose records ended in different clusters.
    pub review: Vec<(f32, u32, u32)>,
    /// Merges refused by the guards.
    pub refusals: Refusals,
    /// Stage timings.
    pub timings: Timings,
}

/// Runs blocking, comparison, training, scoring and clustering on `data`.
///
/// u needs only the records, so it is estimated on a thread of its own while blocking and
/// comparison run (their single-threaded parts leave a core idle); the training time reported
/// is u's time plus EM's.
pub fn resolve(spec: &LinkageSpec, data: &Dataset, constraints: &Constraints) -> Resolution {
    let ((estimated, u_seconds), mut compared) = std::thread::scope(|s| {
        let u = s.spawn(|| {
            let t = Instant::now();
            let estimated = training::estimate_u(spec, data, 20141);
            (estimated, t.elapsed().as_secs_f64())
        });
        let compared = compare(spec, data, |_, _| true);
        tracing::debug!("candidates compared");
        let u = u.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        tracing::debug!(seconds = u.1, "u estimated");
        (u, compared)
    });
    let t = Instant::now();
    let candidates = compared.pairs.len() as u64;
    let mut model = training::estimate_m(spec, estimated.u, &compared.gammas, candidates);
    model.random_pairs = estimated.drawn;
    model.prior = training::global_prior(model.lambda, candidates, data);
    compared.timings.training = u_seconds + t.elapsed().as_secs_f64();
    tracing::debug!("m estimated");
    // the frequencies u was estimated with (the scorer keeps those of term-frequency comparisons)
    let scorer = Scorer::reusing(spec, &model, data, estimated.frequencies);
    finish(spec, data, constraints, model, scorer, compared)
}

/// Like [`resolve`] with a given model and scorer, comparing only the candidate pairs `keep`
/// accepts (an incremental run compares new records with each other and with existing ones).
pub fn resolve_scored(
    spec: &LinkageSpec,
    data: &Dataset,
    constraints: &Constraints,
    model: Model,
    scorer: Scorer,
    keep: impl Fn(u32, u32) -> bool,
) -> Resolution {
    let compared = compare(spec, data, keep);
    finish(spec, data, constraints, model, scorer, compared)
}

/// Candidate pairs and their levels.
struct Compared {
    pairs: Vec<(u32, u32)>,
    gammas: Vec<u8>,
    rules: Vec<RuleStats>,
    keys: Vec<Vec<u64>>,
    timings: Timings,
}

/// Blocking, then the levels of every candidate pair `keep` accepts.
fn compare(spec: &LinkageSpec, data: &Dataset, keep: impl Fn(u32, u32) -> bool) -> Compared {
    let mut timings = Timings::default();
    let t = Instant::now();
    let keys = blocking::all_keys(spec, data);
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "blocking keys made");
    let Candidates { mut pairs, rules } = blocking::candidates(spec, data, &keys);
    pairs.retain(|(i, j)| keep(*i, *j));
    for r in &rules {
        tracing::info!(rule = %r.label, pairs = r.pairs, examined = r.examined, different_ids = r.different_ids, largest = r.largest_block, skipped_blocks = r.skipped_blocks, "blocking");
    }
    timings.blocking = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let gammas = training::gammas(spec, data, &pairs);
    timings.comparing = t.elapsed().as_secs_f64();
    Compared {
        pairs,
        gammas,
        rules,
        keys,
        timings,
    }
}

/// Scored pairs: weight and the two records.
type Links = Vec<(f32, u32, u32)>;

/// Threads to share a step's work among: one per core, at most eight.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8))
}

/// `f` of every item, each on a thread of its own, in the items' order (a panic on a thread is
/// resumed here).
pub(crate) fn on_threads<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let workers: Vec<_> = items
            .into_iter()
            .map(|item| s.spawn(move || f(item)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// `f` of every item on one thread per core, each thread taking the next item when done with
/// one; the results in the items' order (a panic on a thread is resumed here). For more items
/// than cores, whose work would otherwise share the cores by turns and each other's caches.
pub(crate) fn on_workers<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let workers = threads().min(items.len());
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let done: Vec<Vec<(usize, R)>> = on_threads((0..workers).collect(), |_| {
        let mut done = Vec::new();
        loop {
            let next = queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .next();
            let Some((k, item)) = next else { break };
            done.push((k, f(item)));
        }
        done
    });
    let mut done: Vec<(usize, R)> = done.into_iter().flatten().collect();
    done.sort_unstable_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Scoring and clustering of the compared pairs.
fn finish(
    spec: &LinkageSpec,
    data: &Dataset,
    constraints: &Constraints,
    model: Model,
    scorer: Scorer,
    compared: Compared,
) -> Resolution {
    let Compared {
        pairs,
        gammas,
        rules,
        keys,
        mut timings,
    } = compared;
    let t = Instant::now();
    let width = spec.comparisons.len().max(1);
    // scored in pieces taken by a thread per core, links and band kept in pair order
    let chunk = pairs.len().div_ceil(64).max(4096);
    let shares: Vec<_> = pairs
        .chunks(chunk)
        .zip(gammas.chunks(chunk * width))
        .collect();
    let scored: Vec<(Links, Links)> = on_workers(shares, |(pairs, gammas)| {
        let (mut links, mut band) = (Vec::new(), Vec::new());
        for (&(i, j), g) in pairs.iter().zip(gammas.chunks_exact(width)) {
            let w = scorer.score(spec, data, g, i as usize);
            if w >= spec.match_weight {
                links.push((w as f32, i, j));
            } else if w >= spec.review_weight {
                band.push((w as f32, i, j));
            }
        }
        (links, band)
    });
    drop(gammas);
    let (mut links, mut band) = (Vec::new(), Vec::new());
    for (l, b) in scored {
        links.extend(l);
        band.extend(b);
    }
    let (clusters, refusals) = clustering::cluster(
        data,
        &spec.comparisons,
        &links,
        constraints,
        spec.one_to_one,
    );
    band.retain(|(_, i, j)| clusters[*i as usize] != clusters[*j as usize]);
    timings.clustering = t.elapsed().as_secs_f64();
    Resolution {
        clusters,
        model,
        scorer,
        candidates: pairs,
        rules,
        keys,
        links,
        review: band,
        refusals,
        timings,
    }
}
