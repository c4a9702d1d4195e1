//! Estimating the Fellegi–Sunter model from the data itself, without labels:
//! - **u** (how often non-matching pairs reach a level): exact levels from the value frequencies
//!   (Σ p²), the other levels from random pairs;
//! - **m** (how often matching pairs reach a level) and the share of matches among candidates
//!   (λ) by expectation maximisation over the candidates' level patterns, u held fixed;
//! - **term frequencies** for comparisons that ask for them, so that agreeing on a common name
//!   (王伟) counts for less than agreeing on a rare one.

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::comparison::{NULL, gamma};
use super::dataset::Dataset;
use super::spec::{FieldKind, Level, LinkageSpec};

/// Smallest probability a level may have, so that no weight is infinite.
const FLOOR: f64 = 1e-7;
/// Smallest m a level keeps after training: a level that no training pair reached (a gender
/// typo, a changed phone) is rare among matches, not impossible, so disagreeing there costs at
/// most about ten bits instead of vetoing the pair.
const M_FLOOR: f64 = 1e-3;
/// Matches the prior m of EM counts as (see [`run_em`]): nothing beside the tens of thousands of
/// matches a county's data holds, most of what a few rows hold.
const PRIOR_PAIRS: f64 = 10.0;

/// The trained model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// Share of matches among candidate pairs (estimated by EM).
    pub lambda: f64,
    /// Prior log2-odds that two records drawn at random are the same entity: the matches EM
    /// expects among the candidates over all pairs that could be compared. The weights are Bayes
    /// factors against random pairs (u), so this is the prior they add to.
    #[serde(default)]
    pub prior: f64,
    /// `m[c][l]`: P(level l of comparison c | match); the last entry is the else level.
    pub m: Vec<Vec<f64>>,
    /// `u[c][l]`: P(level l | non-match).
    pub u: Vec<Vec<f64>>,
    /// EM iterations run.
    pub iterations: usize,
    /// Candidate pairs EM saw.
    pub pairs: u64,
    /// Random pairs drawn for u.
    pub random_pairs: u64,
}

/// Term frequencies of one comparison's values: how many distinct people carry each value (`a`
/// symbols) and, for names, each pinyin (`b` symbols).
///
/// A person seen many times (nine hospital stays) is counted once where a valid ID number tells the
/// mentions apart, so that their repeats do not make their name look common.
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    /// Count per `a` symbol.
    pub counts: Vec<u32>,
    /// Count per `b` symbol (names: pinyin); empty for other kinds.
    pub second: Vec<u32>,
    /// People counted.
    pub total: u64,
}

fn bump(counts: &mut Vec<u32>, sym: u32) {
    if counts.len() <= sym as usize {
        counts.resize(sym as usize + 1, 0);
    }
    counts[sym as usize] += 1;
}

impl TermFrequencies {
    /// Frequencies of `field`'s values in `data`.
    pub fn of(data: &Dataset, field: usize) -> TermFrequencies {
        let col = &data.columns[field];
        let with_pinyin = col.kind == FieldKind::Name;
        // per ID number, the first value counted with it; (value, ID number) pairs counted
        // besides (a person whose mentions spell a value two ways), so that most records are
        // checked by one array read instead of a set of a million pairs
        let mut first: Vec<u32> =
            vec![0; data.id_field.map_or(0, |f| data.columns[f].strings.len())];
        let mut others: foldhash::HashSet<u64> = foldhash::HashSet::default();
        let mut out = TermFrequencies::default();
        for i in 0..data.len {
            let a = col.a[i];
            if a == 0 {
                continue;
            }
            let id = data.valid_id(i);
            if id != 0 {
                let slot = &mut first[id as usize];
                if *slot == a {
                    continue;
                }
                if *slot == 0 {
                    *slot = a;
                } else if !others.insert(u64::from(a) << 32 | u64::from(id)) {
                    continue;
                }
            }
            bump(&mut out.counts, a);
            if with_pinyin && col.b[i] != 0 {
                bump(&mut out.second, col.b[i]);
            }
            out.total += 1;
        }
        out
    }

    /// Share of people with value `sym` (at least one person's share).
    pub fn share(&self, sym: u32) -> f64 {
        let n = self.counts.get(sym as usize).copied().unwrap_or(0).max(1) as f64;
        n / (self.total.max(1) as f64)
    }

    /// Share of people whose name sounds like pinyin `sym`.
    pub fn share_second(&self, sym: u32) -> f64 {
        let n = self.second.get(sym as usize).copied().unwrap_or(0).max(1) as f64;
        n / (self.total.max(1) as f64)
    }

    /// Σ p² over values: the chance two random records agree exactly.
    pub fn agreement(&self) -> f64 {
        let t = self.total.max(1) as f64;
        self.counts.iter().map(|&c| (c as f64 / t).powi(2)).sum()
    }
}

/// u for every comparison and level, from random pairs and, for exact levels, value frequencies.
pub struct EstimatedU {
    /// `u[c][l]`.
    pub u: Vec<Vec<f64>>,
    /// Random pairs drawn.
    pub drawn: u64,
    /// The term frequencies computed on the way (comparisons whose first level is exact), for
    /// the scorer.
    pub frequencies: Vec<Option<TermFrequencies>>,
}

/// Estimates u for every comparison and level.
pub fn estimate_u(spec: &LinkageSpec, data: &Dataset, seed: u64) -> EstimatedU {
    let n = data.len;
    let mut counts: Vec<Vec<u64>> = spec
        .comparisons
        .iter()
        .map(|c| vec![0; c.levels.len() + 1])
        .collect();
    let mut totals = vec![0u64; spec.comparisons.len()];
    let mut rng = StdRng::seed_from_u64(seed);
    let link = data.is_link();
    let (left, right): (Vec<u32>, Vec<u32>) = if link {
        (
            (0..n as u32)
                .filter(|&i| data.source[i as usize] == 0)
                .collect(),
            (0..n as u32)
                .filter(|&i| data.source[i as usize] != 0)
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    // Pairs are drawn in runs of RUN: a run starts at a random pair (i, j) and goes on with
    // (i+1, j+1), (i+2, j+2)… Each pair is still uniformly random (a random first record, a
    // random offset to the second), but both records of a run are read in memory order: with
    // the second record of every pair drawn on its own, a cache miss per field and record took
    // most of u's time (0.2 s of a 0.6 s `link` of 112,000 records, now 0.1 s). Thousands of
    // independent runs make the sample; its estimates varied from seed to seed as much as the
    // single-pair draw's did.
    const RUN: usize = 64;
    let all_pairs = if link {
        left.len().saturating_mul(right.len())
    } else {
        n.saturating_mul(n.saturating_sub(1)) / 2
    };
    let samples = spec.u_sample_pairs.min(all_pairs);
    let mut sample: Vec<(u32, u32)> = Vec::with_capacity(samples);
    if all_pairs <= spec.u_sample_pairs {
        // few records: every pair is counted (runs would wrap round and repeat the same pairs)
        if link {
            sample.extend(
                left.iter()
                    .flat_map(|&i| right.iter().map(move |&j| (i, j))),
            );
        } else {
            let n = n as u32;
            sample.extend((0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))));
        }
    } else {
        // more pairs than drawn: both sides hold records
        while sample.len() < samples {
            let run = RUN.min(samples - sample.len());
            if link {
                let (a, b) = (
                    rng.random_range(0..left.len()),
                    rng.random_range(0..right.len()),
                );
                sample.extend(
                    (0..run).map(|k| (left[(a + k) % left.len()], right[(b + k) % right.len()])),
                );
            } else {
                let start = rng.random_range(0..n);
                // 1..n: never a record with itself
                let offset = rng.random_range(1..n);
                sample.extend(
                    (0..run).map(|k| (((start + k) % n) as u32, ((start + k + offset) % n) as u32)),
                );
            }
        }
    }
    let drawn = sample.len() as u64;
    // each thread counts the levels of its share of the pairs; nothing per pair is kept
    let chunk = sample.len().div_ceil(super::threads()).max(1);
    let counted: Vec<Vec<Vec<u64>>> = super::on_threads(sample.chunks(chunk).collect(), |pairs| {
        let mut counts = counts.clone();
        let mut g = vec![0u8; spec.comparisons.len()];
        for &(i, j) in pairs {
            gamma(&spec.comparisons, data, i as usize, j as usize, &mut g);
            for (c, &l) in g.iter().enumerate() {
                if l != NULL {
                    counts[c][l as usize] += 1;
                }
            }
        }
        counts
    });
    for part in counted {
        for (c, levels) in part.into_iter().enumerate() {
            for (l, k) in levels.into_iter().enumerate() {
                counts[c][l] += k;
                totals[c] += k;
            }
        }
    }
    let mut frequencies = vec![None; spec.comparisons.len()];
    let u = spec
        .comparisons
        .iter()
        .enumerate()
        .map(|(c, cmp)| {
            let total = totals[c].max(1) as f64;
            let mut u: Vec<f64> = counts[c]
                .iter()
                .map(|&k| (k as f64 / total).max(0.5 / total))
                .collect();
            let exact_first = cmp.levels.first() == Some(&Level::Exact)
                && !matches!(
                    data.columns[cmp.field].kind,
                    FieldKind::Place | FieldKind::Date
                );
            if exact_first {
                let tf = TermFrequencies::of(data, cmp.field);
                u[0] = tf.agreement().max(FLOOR);
                frequencies[c] = Some(tf);
            }
            let sum: f64 = u.iter().sum();
            u.iter_mut().for_each(|x| *x /= sum);
            u
        })
        .collect();
    EstimatedU {
        u,
        drawn,
        frequencies,
    }
}

/// All pairs that could be compared: across inputs when linking two, else every pair.
pub fn comparable_pairs(data: &Dataset) -> f64 {
    let n = data.len as f64;
    if data.is_link() {
        let left = data.source.iter().filter(|s| **s == 0).count() as f64;
        left * (n - left)
    } else {
        n * (n - 1.0) / 2.0
    }
}

/// The prior log2-odds of a random pair matching, from EM's share of matches among `candidates`.
pub fn global_prior(lambda: f64, candidates: u64, data: &Dataset) -> f64 {
    let expected = (lambda * candidates as f64).max(1.0);
    let all = comparable_pairs(data).max(expected + 1.0);
    (expected / (all - expected)).log2()
}

/// Estimates m and λ by expectation maximisation over the candidates' level patterns. With
/// `em_sessions` in the spec, each session runs on the candidates that agree on its held
/// comparisons and estimates m for the others (blocking on a name makes every same-name pair a
/// candidate, and one EM over all of them takes "same name" for "same person"); the m of a
/// comparison is averaged over the sessions that estimated it, and λ is then estimated over all
/// candidates with m and u held.
pub fn estimate_m(spec: &LinkageSpec, u: Vec<Vec<f64>>, gammas: &[u8], pairs: u64) -> Model {
    let width = spec.comparisons.len();
    let mut counted: foldhash::HashMap<&[u8], u64> = foldhash::HashMap::default();
    for g in gammas.chunks_exact(width) {
        *counted.entry(g).or_insert(0) += 1;
    }
    let patterns: Vec<(&[u8], f64)> = counted.into_iter().map(|(g, n)| (g, n as f64)).collect();
    // Start from "matches mostly reach the first level".
    let initial: Vec<Vec<f64>> = spec
        .comparisons
        .iter()
        .map(|c| {
            let k = c.levels.len() + 1;
            let mut v: Vec<f64> = (0..k).map(|l| 0.5f64.powi(l as i32 + 1)).collect();
            v[0] = 0.9;
            let s: f64 = v.iter().sum();
            v.iter_mut().for_each(|x| *x /= s);
            v
        })
        .collect();
    let mut m = initial.clone();
    let mut lambda = 0.3;
    let mut iterations = 0;
    if spec.em_sessions.is_empty() {
        iterations += run_em(
            spec,
            &u,
            &patterns,
            &mut m,
            &mut lambda,
            &[],
            Some(&initial),
        );
    } else {
        let mut sums: Vec<Vec<f64>> = initial.iter().map(|v| vec![0.0; v.len()]).collect();
        let mut sessions_of = vec![0usize; width];
        for fixed in &spec.em_sessions {
            let held: Vec<(&[u8], f64)> = patterns
                .iter()
                .filter(|(g, _)| fixed.iter().all(|&c| g[c] == 0))
                .copied()
                .collect();
            if held.is_empty() {
                continue;
            }
            let mut session_m = initial.clone();
            let mut session_lambda = 0.3;
            iterations += run_em(
                spec,
                &u,
                &held,
                &mut session_m,
                &mut session_lambda,
                fixed,
                Some(&initial),
            );
            for c in (0..width).filter(|c| !fixed.contains(c)) {
                sessions_of[c] += 1;
                for (sum, v) in sums[c].iter_mut().zip(&session_m[c]) {
                    *sum += v;
                }
            }
        }
        for c in 0..width {
            if sessions_of[c] > 0 {
                let total: f64 = sums[c].iter().sum();
                m[c] = sums[c].iter().map(|v| (v / total).max(FLOOR)).collect();
            }
        }
        iterations += run_em(spec, &u, &patterns, &mut m, &mut lambda, &[], None);
    }
    for levels in &mut m {
        levels.iter_mut().for_each(|v| *v = v.max(M_FLOOR));
        let total: f64 = levels.iter().sum();
        levels.iter_mut().for_each(|v| *v /= total);
    }
    Model {
        lambda,
        prior: 0.0,
        m,
        u,
        iterations,
        pairs,
        random_pairs: 0,
    }
}

/// EM iterations over `patterns` (level patterns with their counts) until nothing moves:
/// comparisons in `fixed` are left out of the likelihood and of the update; m moves only with a
/// `prior` (else only λ does), each comparison's m estimated as if [`PRIOR_PAIRS`] matches
/// distributed as `prior` had been seen besides the data (MAP-EM: on a few hundred rows a level
/// no match happened to reach would otherwise be learnt as impossible for one person).
/// Returns the iterations run.
fn run_em(
    spec: &LinkageSpec,
    u: &[Vec<f64>],
    patterns: &[(&[u8], f64)],
    m: &mut [Vec<f64>],
    lambda: &mut f64,
    fixed: &[usize],
    prior: Option<&[Vec<f64>]>,
) -> usize {
    let width = spec.comparisons.len();
    let mut iterations = 0;
    for _ in 0..spec.em_iterations {
        iterations += 1;
        let mut m_num: Vec<Vec<f64>> = m.iter().map(|v| vec![0.0; v.len()]).collect();
        let mut m_den = vec![0.0; width];
        let (mut matched, mut all) = (0.0, 0.0);
        for (g, n) in patterns {
            let vetoed = g
                .iter()
                .zip(&spec.comparisons)
                .any(|(&l, c)| c.must_agree && l as usize == c.levels.len());
            let (mut pm, mut pu) = (if vetoed { 0.0 } else { *lambda }, 1.0 - *lambda);
            for (c, &l) in g.iter().enumerate() {
                if l != NULL && !fixed.contains(&c) {
                    pm *= m[c][l as usize];
                    pu *= u[c][l as usize];
                }
            }
            let p = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            matched += p * n;
            all += n;
            for (c, &l) in g.iter().enumerate() {
                if l != NULL {
                    m_num[c][l as usize] += p * n;
                    m_den[c] += p * n;
                }
            }
        }
        let new_lambda = (matched / all.max(1.0)).clamp(FLOOR, 1.0 - FLOOR);
        let mut change = (new_lambda - *lambda).abs();
        *lambda = new_lambda;
        if let Some(prior) = prior {
            for c in (0..width).filter(|c| !fixed.contains(c)) {
                for l in 0..m[c].len() {
                    let seen = m_num[c][l] + PRIOR_PAIRS * prior[c][l];
                    let v = (seen / (m_den[c] + PRIOR_PAIRS)).max(FLOOR);
                    change = change.max((v - m[c][l]).abs());
                    m[c][l] = v;
                }
            }
        }
        if change < 1e-6 {
            break;
        }
    }
    iterations
}

/// The levels of every candidate pair, `comparisons.len()` bytes per pair, a thread per core.
pub fn gammas(spec: &LinkageSpec, data: &Dataset, pairs: &[(u32, u32)]) -> Vec<u8> {
    let width = spec.comparisons.len();
    let mut out = vec![0u8; pairs.len() * width];
    if width == 0 {
        return out;
    }
    // in pieces taken by a thread per core as each is done: pairs blocked on a name cost more
    // than pairs blocked on an ID number, and half of the pairs for each core left one core idle
    // while the other compared names
    let chunk = pairs.len().div_ceil(64).max(4096);
    let shares: Vec<_> = pairs
        .chunks(chunk)
        .zip(out.chunks_mut(chunk * width))
        .collect();
    // the records of the pair this many ahead are fetched while the current one is compared
    const AHEAD: usize = 24;
    super::on_workers(shares, |(ps, os)| {
        for (k, (&(i, j), g)) in ps.iter().zip(os.chunks_exact_mut(width)).enumerate() {
            if let Some(&(x, y)) = ps.get(k + AHEAD) {
                for c in &spec.comparisons {
                    data.columns[c.field].prefetch(x as usize);
                    data.columns[c.field].prefetch(y as usize);
                }
            }
            gamma(&spec.comparisons, data, i as usize, j as usize, g);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sessions: &str) -> LinkageSpec {
        LinkageSpec::parse(&spec_text_with(sessions), "test").expect("valid spec")
    }

    /// Candidates blocked on the name: 1,000 people seen twice (same name, ID and birth date) and
    /// 9,000 pairs of namesakes (same name, different ID and birth date).
    fn candidates() -> Vec<u8> {
        let mut gammas = Vec::new();
        for _ in 0..1_000 {
            gammas.extend([0, 0, 0]);
        }
        for _ in 0..9_000 {
            gammas.extend([0, 1, 1]);
        }
        gammas
    }

    fn u() -> Vec<Vec<f64>> {
        vec![
            vec![3e-4, 1.0 - 3e-4],
            vec![1e-6, 1.0 - 1e-6],
            vec![1e-4, 1.0 - 1e-4],
        ]
    }

    #[test]
    fn sessions_learn_that_one_person_keeps_id_and_birth_date() {
        let spec = spec(r#"[["id"], ["name", "born"]]"#);
        let model = estimate_m(&spec, u(), &candidates(), 10_000);
        // m from the pairs that share an ID: the birth date agrees; from the pairs that share
        // name and birth date: the ID agrees. Disagreeing there now counts strongly against.
        assert!(model.m[2][0] > 0.99, "{:?}", model.m[2]);
        assert!(model.m[1][0] > 0.99, "{:?}", model.m[1]);
        // (the prior's ten pairs, a fifth of them with different birth dates, keep it above
        // log2(2.2 / 1010))
        let born_differs = (model.m[2][1] / model.u[2][1]).log2();
        assert!(born_differs < -8.5, "{born_differs}");
        // and λ, estimated with m held, finds the 1,000 matches among 10,000 candidates
        assert!((model.lambda - 0.1).abs() < 0.01, "{}", model.lambda);
    }

    #[test]
    fn one_em_over_namesakes_takes_the_name_for_the_person() {
        // what the sessions are for: one EM over these candidates, where the rare name outweighs
        // everything else, learns that one person's birth dates often differ
        let spec = spec("[]");
        let model = estimate_m(&spec, u(), &candidates(), 10_000);
        assert!(model.m[2][1] > 0.5, "{:?}", model.m[2]);
        assert!(model.lambda > 0.5, "{}", model.lambda);
    }

    #[test]
    fn sessions_name_compared_fields() {
        let Err(super::super::LinkageError::Config(problems)) = LinkageSpec::parse(
            &spec_text_with(r#"[["phone"], ["name", "id", "born"]]"#),
            "x",
        ) else {
            panic!("expected problems")
        };
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("`phone` is not a compared field"));
        assert!(problems[1].contains("not every compared field"));
    }

    fn spec_text_with(sessions: &str) -> String {
        format!(
            r#"
[model]
em_sessions = {sessions}
[[field]]
name = "name"
kind = "name"
[[field]]
name = "id"
kind = "id_number"
[[field]]
name = "born"
kind = "date"
[[blocking]]
keys = ["name.pinyin"]
[[comparison]]
field = "name"
levels = ["exact"]
[[comparison]]
field = "id"
levels = ["exact"]
[[comparison]]
field = "born"
levels = ["exact"]
"#
        )
    }
}
