//! Scoring a linkage against known truth: pairwise precision, recall and F1 over the pairs that
//! end up in one cluster, and blocking recall (true pairs that were compared at all).

use foldhash::HashMap;

use serde::Serialize;

/// Pairwise quality of a clustering.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PairwiseScores {
    /// Pairs predicted (in one cluster).
    pub predicted: u64,
    /// True pairs (same truth label).
    pub actual: u64,
    /// Predicted pairs that are true.
    pub true_positives: u64,
    /// True pairs that were compared (blocking recall numerator).
    pub blocked: u64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Blocking recall.
    pub blocking_recall: f64,
}

fn pairs_in(counts: &HashMap<(u32, u32), (u64, u64)>, link: bool) -> u64 {
    counts
        .values()
        .map(|&(l, r)| {
            if link {
                l * r
            } else {
                (l + r) * (l + r).saturating_sub(1) / 2
            }
        })
        .sum()
}

/// Scores `clusters` against `truth` (one label per record; `u32::MAX` = unknown, never a true pair).
/// With `source` given (linking two inputs), only pairs across inputs count.
pub fn pairwise(
    clusters: &[u32],
    truth: &[u32],
    source: Option<&[u8]>,
    candidates: &[(u32, u32)],
) -> PairwiseScores {
    let link = source.is_some();
    let side = |i: usize| source.is_some_and(|s| s[i] != 0);
    let mut by_cluster: HashMap<(u32, u32), (u64, u64)> = HashMap::default();
    let mut by_truth: HashMap<(u32, u32), (u64, u64)> = HashMap::default();
    let mut by_both: HashMap<(u32, u32), (u64, u64)> = HashMap::default();
    for i in 0..clusters.len() {
        let bump = |e: &mut (u64, u64)| if side(i) { e.1 += 1 } else { e.0 += 1 };
        bump(by_cluster.entry((clusters[i], 0)).or_default());
        if truth[i] != u32::MAX {
            bump(by_truth.entry((truth[i], 0)).or_default());
            bump(by_both.entry((clusters[i], truth[i])).or_default());
        }
    }
    let predicted = pairs_in(&by_cluster, link);
    let actual = pairs_in(&by_truth, link);
    let true_positives = pairs_in(&by_both, link);
    let blocked = candidates
        .iter()
        .filter(|(i, j)| truth[*i as usize] != u32::MAX && truth[*i as usize] == truth[*j as usize])
        .count() as u64;
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = ratio(true_positives, predicted);
    let recall = ratio(true_positives, actual);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    PairwiseScores {
        predicted,
        actual,
        true_positives,
        blocked,
        precision,
        recall,
        f1,
        blocking_recall: ratio(blocked, actual),
    }
}

/// The true pairs each truth label loses to the clustering (pairs of its records put in different
/// clusters), for labels that lose any: where recall goes. Records with the unknown label
/// (`u32::MAX`) are left out.
pub fn missed_pairs(clusters: &[u32], truth: &[u32]) -> HashMap<u32, u64> {
    let mut per_truth: HashMap<u32, u64> = HashMap::default();
    let mut per_part: HashMap<(u32, u32), u64> = HashMap::default();
    for (&c, &t) in clusters.iter().zip(truth) {
        if t != u32::MAX {
            *per_truth.entry(t).or_default() += 1;
            *per_part.entry((t, c)).or_default() += 1;
        }
    }
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let mut kept: HashMap<u32, u64> = HashMap::default();
    for ((t, _), n) in per_part {
        *kept.entry(t).or_default() += pairs(n);
    }
    per_truth
        .into_iter()
        .map(|(t, n)| (t, pairs(n) - kept[&t]))
        .filter(|&(_, missed)| missed > 0)
        .collect()
}

impl std::fmt::Display for PairwiseScores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "precision {:.5}  recall {:.5}  F1 {:.5}  ({} predicted pairs, {} true pairs, {} correct)\nblocking recall {:.5} ({} of {} true pairs compared)",
            self.precision,
            self.recall,
            self.f1,
            self.predicted,
            self.actual,
            self.true_positives,
            self.blocking_recall,
            self.blocked,
            self.actual
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_within_clusters() {
        // Truth: {0,1,2} {3}; prediction: {0,1} {2,3}.
        let s = pairwise(&[0, 0, 2, 2], &[7, 7, 7, 9], None, &[(0, 1), (2, 3)]);
        assert_eq!(
            (s.predicted, s.actual, s.true_positives, s.blocked),
            (2, 3, 1, 1)
        );
        assert!((s.precision - 0.5).abs() < 1e-9 && (s.recall - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn missed_pairs_are_counted_per_true_label() {
        // Truth: {0,1,2} split 2+1, {3,4,5,6} split 2+1+1, {7} alone, 8 unknown.
        let clusters = [0, 0, 1, 2, 2, 3, 4, 5, 5];
        let truth = [7, 7, 7, 9, 9, 9, 9, 4, u32::MAX];
        let mut missed: Vec<_> = missed_pairs(&clusters, &truth).into_iter().collect();
        missed.sort();
        // 3 pairs, 1 kept; 6 pairs, 1 kept.
        assert_eq!(missed, vec![(7, 2), (9, 5)]);
    }

    #[test]
    fn linking_counts_only_pairs_across_inputs() {
        let s = pairwise(&[0, 0, 0], &[1, 1, 1], Some(&[0, 0, 1]), &[]);
        assert_eq!((s.predicted, s.actual, s.true_positives), (2, 2, 2));
    }
}
