//! Fellegi–Sunter match weights: the prior log-odds plus, per comparison, log2(m/u) of the level
//! reached (0 when a value is missing); an exact agreement on a term-frequency comparison uses the
//! value's own frequency instead of the average u. [`Explanation`] shows the sum field by field.

use serde::Serialize;

use super::comparison::{NULL, gamma};
use super::dataset::Dataset;
use super::spec::{Level, LinkageSpec};
use super::training::{Model, TermFrequencies};

/// Turns level patterns into match weights.
#[derive(Debug)]
pub struct Scorer {
    /// Prior log2-odds that two random records match.
    pub prior: f64,
    /// `weights[c][l]` = log2(m/u).
    pub weights: Vec<Vec<f64>>,
    m_exact: Vec<f64>,
    m: Vec<Vec<f64>>,
    tf: Vec<Option<TermFrequencies>>,
    /// Per term-frequency comparison, the exact level's weight for each value (`a` symbol) and
    /// the pinyin level's for each sound (`b` symbol), computed once: scoring millions of pairs
    /// took a logarithm or two per pair.
    exact_by_value: Vec<Vec<f64>>,
    pinyin_by_sound: Vec<Vec<f64>>,
}

/// The weight of an else level on a comparison that must agree: no other evidence outweighs it.
pub const VETO: f64 = -1_000.0;

/// Probability of a match for a weight.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The level of comparison `c` that compares pinyin, if it has one.
fn pinyin_level(spec: &LinkageSpec, c: usize) -> Option<u8> {
    spec.comparisons[c]
        .levels
        .iter()
        .position(|l| *l == Level::Pinyin)
        .map(|l| l as u8)
}

/// Whether a comparison's exact level is weighted by term frequency.
fn uses_frequencies(c: &super::spec::Comparison) -> bool {
    c.term_frequency && c.levels.first() == Some(&Level::Exact)
}

impl Scorer {
    /// A scorer for `model`, with term frequencies taken from `data`.
    pub fn new(spec: &LinkageSpec, model: &Model, data: &Dataset) -> Scorer {
        Scorer::reusing(spec, model, data, vec![None; spec.comparisons.len()])
    }

    /// Like [`Scorer::new`], with the term frequencies of `data` already computed where
    /// `computed` holds them (u's estimation counts them).
    pub fn reusing(
        spec: &LinkageSpec,
        model: &Model,
        data: &Dataset,
        computed: Vec<Option<TermFrequencies>>,
    ) -> Scorer {
        let tf = spec
            .comparisons
            .iter()
            .zip(computed)
            .map(|(c, tf)| {
                uses_frequencies(c)
                    .then(|| tf.unwrap_or_else(|| TermFrequencies::of(data, c.field)))
            })
            .collect();
        Scorer::with_frequencies(spec, model, tf)
    }

    /// A scorer for `model` with term frequencies given (counts stored by an earlier full run).
    pub fn with_frequencies(
        spec: &LinkageSpec,
        model: &Model,
        tf: Vec<Option<TermFrequencies>>,
    ) -> Scorer {
        let weights = model
            .m
            .iter()
            .zip(&model.u)
            .map(|(m, u)| m.iter().zip(u).map(|(m, u)| (m / u).log2()).collect())
            .collect();
        let tf = tf
            .into_iter()
            .zip(&spec.comparisons)
            .map(|(t, c)| t.filter(|_| uses_frequencies(c)))
            .collect();
        let mut scorer = Scorer {
            prior: model.prior,
            weights,
            m_exact: model.m.iter().map(|m| m[0]).collect(),
            m: model.m.clone(),
            tf,
            exact_by_value: Vec::new(),
            pinyin_by_sound: Vec::new(),
        };
        let (exact, pinyin): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (0..spec.comparisons.len())
            .map(|c| match &scorer.tf[c] {
                None => (Vec::new(), Vec::new()),
                Some(tf) => (
                    (0..tf.counts.len())
                        .map(|sym| scorer.exact_weight(c, tf, sym as u32))
                        .collect(),
                    match pinyin_level(spec, c) {
                        Some(level) if !tf.second.is_empty() => (0..tf.second.len())
                            .map(|sym| scorer.pinyin_weight(c, level, tf, sym as u32))
                            .collect(),
                        _ => Vec::new(),
                    },
                ),
            })
            .unzip();
        scorer.exact_by_value = exact;
        scorer.pinyin_by_sound = pinyin;
        scorer
    }

    /// The exact level's weight for value `sym`: a rare value counts for more than the average,
    /// a common one for less; never more than 10 bits above the average.
    fn exact_weight(&self, c: usize, tf: &TermFrequencies, sym: u32) -> f64 {
        (self.m_exact[c] / tf.share(sym))
            .log2()
            .min(self.weights[c][0].max(0.0) + 10.0)
    }

    /// The pinyin level's weight for sound `sym`: sounding alike means little for a common sound
    /// (li ping: 李平, 李萍, 黎平…).
    fn pinyin_weight(&self, c: usize, level: u8, tf: &TermFrequencies, sym: u32) -> f64 {
        (self.m_level(c, level) / tf.share_second(sym))
            .log2()
            .min(self.weights[c][level as usize])
    }

    /// Weight of comparison `c` at `level` for a pair whose left record is `i`.
    pub fn level_weight(
        &self,
        spec: &LinkageSpec,
        data: &Dataset,
        c: usize,
        level: u8,
        i: usize,
    ) -> f64 {
        if level == NULL {
            return 0.0;
        }
        let comparison = &spec.comparisons[c];
        if comparison.must_agree && level as usize == comparison.levels.len() {
            return VETO;
        }
        if let Some(tf) = &self.tf[c] {
            let col = &data.columns[comparison.field];
            if level == 0 {
                let sym = col.a[i];
                return match self.exact_by_value[c].get(sym as usize) {
                    Some(&w) => w,
                    None => self.exact_weight(c, tf, sym),
                };
            }
            if comparison.levels.get(level as usize) == Some(&Level::Pinyin)
                && !tf.second.is_empty()
            {
                let sym = col.b[i];
                return match self.pinyin_by_sound[c].get(sym as usize) {
                    Some(&w) => w,
                    None => self.pinyin_weight(c, level, tf, sym),
                };
            }
        }
        self.weights[c][level as usize]
    }

    fn m_level(&self, c: usize, level: u8) -> f64 {
        self.m[c][level as usize]
    }

    /// Total weight of a pair with level pattern `g`.
    pub fn score(&self, spec: &LinkageSpec, data: &Dataset, g: &[u8], i: usize) -> f64 {
        self.prior
            + g.iter()
                .enumerate()
                .map(|(c, &l)| self.level_weight(spec, data, c, l, i))
                .sum::<f64>()
    }

    /// Field-by-field explanation of the pair `i`, `j`.
    pub fn explain(&self, spec: &LinkageSpec, data: &Dataset, i: usize, j: usize) -> Explanation {
        let mut g = vec![0u8; spec.comparisons.len()];
        gamma(&spec.comparisons, data, i, j, &mut g);
        let rows: Vec<ExplainRow> = spec
            .comparisons
            .iter()
            .enumerate()
            .map(|(c, cmp)| {
                let col = &data.columns[cmp.field];
                let l = g[c];
                let level = if l == NULL && (col.is_missing(i) || col.is_missing(j)) {
                    "missing (neutral)".to_string()
                } else if l == NULL {
                    // both sides hold a value the field leaves to another comparison (two birth
                    // dates: the birth-date comparison's)
                    "not compared here (neutral)".to_string()
                } else if (l as usize) < cmp.levels.len() {
                    cmp.levels[l as usize].label()
                } else if cmp.must_agree {
                    "different (must agree: never the same)".to_string()
                } else {
                    "different".to_string()
                };
                let tf = self.tf[c].is_some()
                    && (l == 0 || cmp.levels.get(l as usize) == Some(&Level::Pinyin));
                ExplainRow {
                    field: spec.fields[cmp.field].name.clone(),
                    left: col.display(i),
                    right: col.display(j),
                    level: if tf {
                        format!("{level} (weighted by how common the value is)")
                    } else {
                        level
                    },
                    weight: self.level_weight(spec, data, c, l, i),
                }
            })
            .collect();
        let total = self.prior + rows.iter().map(|r| r.weight).sum::<f64>();
        Explanation {
            prior: self.prior,
            rows,
            total,
            probability: probability(total),
        }
    }
}

/// One comparison in an explanation.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainRow {
    /// Field.
    pub field: String,
    /// Left value.
    pub left: String,
    /// Right value.
    pub right: String,
    /// Level reached.
    pub level: String,
    /// Its weight (log2 Bayes factor).
    pub weight: f64,
}

/// Why a pair scores what it does.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Prior log2-odds that two random records match.
    pub prior: f64,
    /// Per comparison.
    pub rows: Vec<ExplainRow>,
    /// Sum.
    pub total: f64,
    /// Probability of a match.
    pub probability: f64,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<14} {:<24} {:<24} {:<34} {:>7}",
            "field", "left", "right", "level", "weight"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<14} {:<24} {:<24} {:<34} {:>+7.2}",
                r.field, r.left, r.right, r.level, r.weight
            )?;
        }
        writeln!(
            f,
            "{:<14} {:<24} {:<24} {:<34} {:>+7.2}",
            "prior", "", "", "prior: two random records match", self.prior
        )?;
        write!(
            f,
            "total weight {:+.2} → match probability {:.4}",
            self.total, self.probability
        )
    }
}
