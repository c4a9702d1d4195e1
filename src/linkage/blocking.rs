//! Blocking: the union of the configured rules decides which pairs are compared. A pair is produced
//! by the first rule whose keys it shares in a block that was expanded, so no pair is compared
//! twice; blocks larger than `max_block` are not expanded and are reported, and their pairs are
//! left to later (finer) rules: a common name's county is too large a block, its village is not.
//! Two records holding different valid ID numbers are never compared: clustering never puts them
//! in one person (a typo in an ID number breaks its check digit), and among namesakes of a county
//! they are most of the pairs a name block brings.

use super::dataset::Dataset;
use super::on_workers;
use super::spec::{BlockingRule, FieldKind, Key, LinkageSpec, Part};

/// What one blocking rule produced.
#[derive(Debug, Clone, Default)]
pub struct RuleStats {
    /// The rule as written.
    pub label: String,
    /// New pairs this rule added (not produced by an earlier rule).
    pub pairs: u64,
    /// Blocks too large to expand.
    pub skipped_blocks: u64,
    /// Records in those blocks.
    pub skipped_records: u64,
    /// Pairs looked at (including those an earlier rule produced).
    pub examined: u64,
    /// Pairs looked at and not compared because both records hold valid, different ID numbers
    /// (including those an earlier rule met).
    pub different_ids: u64,
    /// The largest block expanded.
    pub largest_block: u64,
}

/// Candidate pairs, each once, `i < j`.
#[derive(Debug, Default)]
pub struct Candidates {
    /// The pairs.
    pub pairs: Vec<(u32, u32)>,
    /// Per rule.
    pub rules: Vec<RuleStats>,
}

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(MIX).rotate_left(29)
}

/// FNV-1a of a text: stable across runs and machines, unlike symbol numbers, so that keys stored
/// by one run find the mentions of the next.
fn text_hash(text: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in text.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h | 1
}

/// The [`text_hash`] of every symbol of a column's strings (0 for "missing"), computed once: a
/// name's pinyin is a key part of several rules, and most records repeat a value.
fn symbol_hashes(col: &super::dataset::Column) -> Vec<u64> {
    (0..col.strings.len())
        .map(|sym| match sym {
            0 => 0,
            sym => text_hash(col.text(sym as u32)),
        })
        .collect()
}

/// Whether a field's `a` is a symbol of its strings: a date's is the date itself, an age's or a
/// kinship's a birth year.
fn holds_symbols(kind: FieldKind) -> bool {
    !matches!(kind, FieldKind::Date | FieldKind::Age | FieldKind::Kinship)
}

fn part_value(data: &Dataset, hashes: &[Vec<u64>], key: &Key, i: usize) -> u64 {
    let col = &data.columns[key.field];
    let hashes = &hashes[key.field];
    let v = match key.part {
        Part::Value if !holds_symbols(col.kind) => col.a[i],
        Part::Value => return hashes[col.a[i] as usize],
        Part::Pinyin | Part::Prefix | Part::Township => return hashes[col.b[i] as usize],
        Part::Surname | Part::Village => return hashes[col.c[i] as usize],
        Part::Year => col.a[i] / 10_000,
        Part::First(n) => {
            if col.a[i] == 0 {
                return 0;
            }
            let text = col.text(col.a[i]);
            let end = text
                .char_indices()
                .nth(n as usize)
                .map_or(text.len(), |(k, _)| k);
            return text_hash(&text[..end]);
        }
    };
    v as u64
}

/// The blocking key of record `i` under `rule` (0 when a key part is missing), with the symbol
/// hashes of every field ([`symbol_hashes`]; empty for fields no key reads by symbol).
fn key(rule: &BlockingRule, data: &Dataset, hashes: &[Vec<u64>], i: usize) -> u64 {
    let mut h = 0x51_7cc1_b727_220a;
    for k in &rule.keys {
        let v = part_value(data, hashes, k, i);
        if v == 0 {
            return 0;
        }
        h = mix(h, v ^ ((k.field as u64) << 40));
    }
    h | 1
}

/// The key of every record under every rule (`keys[rule][record]`), the rules on threads of
/// their own.
pub fn all_keys(spec: &LinkageSpec, data: &Dataset) -> Vec<Vec<u64>> {
    let hashed = |f: usize| {
        spec.blocking.iter().flat_map(|r| &r.keys).any(|k| {
            k.field == f
                && !matches!(k.part, Part::Year | Part::First(_))
                && holds_symbols(data.columns[f].kind)
        })
    };
    let hashes: Vec<Vec<u64>> = (0..data.columns.len())
        .map(|f| {
            if hashed(f) {
                symbol_hashes(&data.columns[f])
            } else {
                Vec::new()
            }
        })
        .collect();
    on_workers(spec.blocking.iter().collect(), |rule| {
        (0..data.len).map(|i| key(rule, data, &hashes, i)).collect()
    })
}

/// Whether records `i` and `j` may be compared at all (different inputs when linking two; never two
/// people of one source row).
pub fn comparable(data: &Dataset, i: usize, j: usize) -> bool {
    if data.is_link() && data.source[i] == data.source[j] {
        return false;
    }
    let g = data.row_group[i];
    g == u32::MAX || g != data.row_group[j]
}

/// Candidate pairs of records.
type Pairs = Vec<(u32, u32)>;

/// The blocks of one rule: records sorted by key, and the keys of the blocks too large to expand.
struct Blocks {
    sorted: Vec<(u64, u32)>,
    too_large: foldhash::HashSet<u64>,
}

/// Whether a block of records `block` is too large to expand (when linking two inputs, its pairs
/// across them are counted).
fn too_large(spec: &LinkageSpec, data: &Dataset, block: &[(u64, u32)]) -> bool {
    if data.is_link() {
        let left = block
            .iter()
            .filter(|(_, i)| data.source[*i as usize] == 0)
            .count();
        left * (block.len() - left) > spec.max_block * spec.max_block / 2
    } else {
        block.len() > spec.max_block
    }
}

/// Candidate pairs among all records of `data`. Each rule's blocks are sorted, and then expanded,
/// on a thread of its own: a rule needs of the rules before it only their keys and their blocks
/// too large to expand, not their pairs.
pub fn candidates(spec: &LinkageSpec, data: &Dataset, keys: &[Vec<u64>]) -> Candidates {
    // each rule's sorted records are cut at block boundaries into pieces of about this many
    // records, each piece expanded on a thread: a common-name rule holds most of the pairs
    candidates_in_pieces(spec, data, keys, 250_000)
}

fn candidates_in_pieces(
    spec: &LinkageSpec,
    data: &Dataset,
    keys: &[Vec<u64>],
    piece: usize,
) -> Candidates {
    let rules: Vec<Blocks> = on_workers(keys.iter().collect(), |keys| {
        let sorted = sort_hashed(
            keys.iter()
                .enumerate()
                .filter(|(_, k)| **k != 0)
                .map(|(i, k)| (*k, i as u32))
                .collect(),
        );
        let too_large = sorted
            .chunk_by(|x, y| x.0 == y.0)
            .filter(|block| block.len() > 1 && too_large(spec, data, block))
            .map(|block| block[0].0)
            .collect();
        Blocks { sorted, too_large }
    });
    tracing::debug!("blocks sorted");
    let rules = &rules;
    let mut pieces: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (r, blocks) in rules.iter().enumerate() {
        let sorted = &blocks.sorted;
        let mut start = 0;
        while start < sorted.len() {
            let mut end = (start + piece.max(1)).min(sorted.len());
            while end < sorted.len() && sorted[end].0 == sorted[end - 1].0 {
                end += 1;
            }
            pieces.push((r, start..end));
            start = end;
        }
    }
    let expanded: Vec<(usize, Pairs, RuleStats)> = on_workers(pieces, |(r, range)| {
        let (pairs, stats) = expand(data, keys, rules, r, range);
        (r, pairs, stats)
    });
    let mut out = Candidates::default();
    out.pairs
        .reserve(expanded.iter().map(|(_, pairs, _)| pairs.len()).sum());
    out.rules = spec
        .blocking
        .iter()
        .map(|rule| RuleStats {
            label: rule.label.clone(),
            ..Default::default()
        })
        .collect();
    // pieces come in rule order, each rule's in record order
    for (r, pairs, piece) in expanded {
        out.pairs.extend(pairs);
        let stats = &mut out.rules[r];
        stats.pairs += piece.pairs;
        stats.skipped_blocks += piece.skipped_blocks;
        stats.skipped_records += piece.skipped_records;
        stats.examined += piece.examined;
        stats.different_ids += piece.different_ids;
        stats.largest_block = stats.largest_block.max(piece.largest_block);
    }
    out
}

/// `keyed` in the order `sort_unstable` gives, for keys spread evenly over `u64` (hashes): each
/// placed by its key's top bits in one counting pass, then each bucket (a few records) sorted.
/// A million keys sorted as a whole took a pass per level of a quicksort.
fn sort_hashed(mut keyed: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    let n = keyed.len();
    if n < 1 << 12 {
        keyed.sort_unstable();
        return keyed;
    }
    // about eight records a bucket
    let bits = (usize::BITS - (n / 8).leading_zeros()).min(24);
    let bucket = |key: u64| (key >> (64 - bits)) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    for &(key, _) in &keyed {
        starts[bucket(key) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![(0u64, 0u32); n];
    for &x in &keyed {
        let b = bucket(x.0);
        out[next[b]] = x;
        next[b] += 1;
    }
    for b in 0..1 << bits {
        out[starts[b]..starts[b + 1]].sort_unstable();
    }
    out
}

/// The pairs rule `r` adds in `piece` of its sorted records (whole blocks): those of its blocks
/// not too large to expand that no earlier rule produced, of records that may be compared and do
/// not hold different valid ID numbers; the statistics without the rule's label.
fn expand(
    data: &Dataset,
    keys: &[Vec<u64>],
    rules: &[Blocks],
    r: usize,
    piece: std::ops::Range<usize>,
) -> (Pairs, RuleStats) {
    let link = data.is_link();
    let ids = data.id_field.map(|f| &data.columns[f]);
    let different_ids = |i: usize, j: usize| {
        ids.is_some_and(|c| c.is_valid_id(i) && c.is_valid_id(j) && c.a[i] != c.a[j])
    };
    let mut stats = RuleStats::default();
    let mut pairs = Vec::new();
    for block in rules[r].sorted[piece].chunk_by(|x, y| x.0 == y.0) {
        if block.len() < 2 {
            continue;
        }
        if link {
            let left = block
                .iter()
                .filter(|(_, i)| data.source[*i as usize] == 0)
                .count();
            if left == 0 || left == block.len() {
                continue;
            }
        }
        if rules[r].too_large.contains(&block[0].0) {
            stats.skipped_blocks += 1;
            stats.skipped_records += block.len() as u64;
            continue;
        }
        stats.examined += (block.len() * (block.len() - 1) / 2) as u64;
        stats.largest_block = stats.largest_block.max(block.len() as u64);
        for p in 0..block.len() {
            for q in p + 1..block.len() {
                let (x, y) = (block[p].1 as usize, block[q].1 as usize);
                let (i, j) = if x < y { (x, y) } else { (y, x) };
                if !comparable(data, i, j) {
                    continue;
                }
                if different_ids(i, j) {
                    stats.different_ids += 1;
                    continue;
                }
                let produced_before = (0..r).any(|e| {
                    keys[e][i] != 0
                        && keys[e][i] == keys[e][j]
                        && !rules[e].too_large.contains(&keys[e][i])
                });
                if produced_before {
                    continue;
                }
                pairs.push((i as u32, j as u32));
                stats.pairs += 1;
            }
        }
    }
    (pairs, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_keys_are_sorted_as_a_whole_sort_would() {
        for n in [0, 1, 100, 5_000, 70_000] {
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(99);
            let keyed: Vec<(u64, u32)> = (0..n)
                .map(|i| {
                    // repeated keys, as blocks of records sharing one
                    let block = rand::RngExt::random_range(&mut rng, 0..=n as u64 / 3);
                    (mix(block, 7) | 1, i)
                })
                .collect();
            let mut expected = keyed.clone();
            expected.sort_unstable();
            assert_eq!(sort_hashed(keyed), expected, "{n} keys");
        }
    }

    #[test]
    fn pairs_of_a_block_too_large_are_left_to_a_later_rule() {
        let spec = LinkageSpec::parse(
            r#"
[model]
max_block = 3
[[field]]
name = "name"
kind = "name"
[[field]]
name = "place"
kind = "place"
columns = ["county", "township", "village"]
[[blocking]]
keys = ["name.pinyin", "place"]
[[blocking]]
keys = ["name.pinyin", "place.village"]
[[comparison]]
field = "name"
levels = ["exact"]
"#,
            "test",
        )
        .expect("valid spec");
        let mut data = Dataset::new(&spec);
        // four 李伟 of one county (too many for max_block), two of them of one village
        for village in ["九龙村", "九龙村", "姚庄村", "吴圩村"] {
            data.push(
                &[
                    vec![Some("李伟")],
                    vec![Some("341122"), Some("半塔镇"), Some(village)],
                ],
                0,
                u32::MAX,
            );
        }
        let keys = all_keys(&spec, &data);
        let found = candidates(&spec, &data, &keys);
        assert_eq!(found.rules[0].skipped_blocks, 1);
        assert_eq!(
            found.pairs,
            vec![(0, 1)],
            "the village rule compares the pair"
        );
        assert_eq!(found.rules[1].pairs, 1);
    }

    #[test]
    fn records_with_different_valid_id_numbers_are_not_compared() {
        let spec = LinkageSpec::parse(
            r#"
[[field]]
name = "name"
kind = "name"
[[field]]
name = "id"
kind = "id_number"
[[blocking]]
keys = ["name.pinyin"]
[[comparison]]
field = "name"
levels = ["exact"]
[[comparison]]
field = "id"
levels = ["exact", "one_edit"]
"#,
            "test",
        )
        .expect("valid spec");
        let mut data = Dataset::new(&spec);
        // two valid numbers, the first again, a mistyped one (wrong check digit), none
        for id in [
            Some("11010519491231002X"),
            Some("341125198505051232"),
            Some("11010519491231002X"),
            Some("110105194912310021"),
            None,
        ] {
            data.push(&[vec![Some("李娜")], vec![id]], 0, u32::MAX);
        }
        let keys = all_keys(&spec, &data);
        let found = candidates(&spec, &data, &keys);
        let has = |i, j| found.pairs.contains(&(i, j));
        assert!(!has(0, 1) && !has(1, 2), "{:?}", found.pairs);
        assert!(has(0, 2) && has(0, 3) && has(1, 3) && has(0, 4) && has(3, 4));
        assert_eq!(found.pairs.len(), 8);
        assert_eq!(found.rules[0].different_ids, 2);
    }

    /// A rule's blocks expanded in pieces (a piece per block here) give the pairs and figures of
    /// one piece.
    #[test]
    fn pieces_expand_as_one() {
        let spec = LinkageSpec::parse(
            r#"
[[field]]
name = "name"
kind = "name"
[[field]]
name = "born"
kind = "date"
[[blocking]]
keys = ["born"]
[[blocking]]
keys = ["name.surname"]
[[comparison]]
field = "name"
levels = ["exact"]
"#,
            "test",
        )
        .expect("valid spec");
        let mut data = Dataset::new(&spec);
        for k in 0..60 {
            let name = ["李娜", "李明", "王芳", "张伟", "章伟"][k % 5];
            let born = format!("19{}-01-0{}", 50 + k % 7, 1 + k % 3);
            data.push(&[vec![Some(name)], vec![Some(&born)]], 0, u32::MAX);
        }
        let keys = all_keys(&spec, &data);
        let whole = candidates_in_pieces(&spec, &data, &keys, usize::MAX);
        let cut = candidates_in_pieces(&spec, &data, &keys, 1);
        assert_eq!(whole.pairs, cut.pairs);
        for (a, b) in whole.rules.iter().zip(&cut.rules) {
            assert_eq!(
                (a.pairs, a.examined, a.largest_block),
                (b.pairs, b.examined, b.largest_block)
            );
        }
        assert!(whole.rules[1].pairs > 0, "the surname rule adds pairs");
    }
}
