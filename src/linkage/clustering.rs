//! Clustering links into persons, strongest links first, with guards against chaining: a merge is
//! refused when it would put two different valid ID numbers in one person, two values of a guarded
//! comparison that reach none of its levels (two birth dates that are neither equal nor a typo
//! apart; two names that are not one name), two people named by the same source row, a
//! cannot-link pair decided in review, or (one-to-one linking) two records of the same input. The
//! guarded comparisons are not checked when both sides hold the same valid ID number.

use std::collections::HashMap;

use super::comparison::level;
use super::dataset::{Column, Dataset};
use super::spec::Comparison;

/// Distinct values of a guarded comparison a cluster keeps to check merges against (a person has
/// one or two birth dates and villages; the bound keeps a huge block cheap).
const GUARDED_VALUES: usize = 8;

/// Decisions that override the scores.
#[derive(Debug, Default, Clone)]
pub struct Constraints {
    /// Pairs that must be in one person.
    pub must_link: Vec<(u32, u32)>,
    /// Pairs that must never be in one person.
    pub cannot_link: Vec<(u32, u32)>,
}

/// Why merges were refused.
#[derive(Debug, Default, Clone, Copy)]
pub struct Refusals {
    /// Two different valid ID numbers.
    pub different_ids: u64,
    /// Two values of a guarded comparison (birth dates) that reach none of its levels.
    pub guarded: u64,
    /// Two people named by one source row.
    pub same_row: u64,
    /// A cannot-link decision.
    pub cannot_link: u64,
    /// One-to-one linking: two records of one input.
    pub one_to_one: u64,
}

struct Clusters<'a> {
    parent: Vec<u32>,
    /// Records per cluster root.
    size: Vec<u32>,
    /// The members of a cluster as a ring: `next[i]` is the member after `i` (a record alone
    /// is its own next), so that merging two clusters is one swap.
    next: Vec<u32>,
    valid_id: Vec<u32>,
    /// Per guarded comparison, per cluster root: one member for each distinct value the cluster
    /// holds (at most [`GUARDED_VALUES`]).
    guards: Vec<Guard<'a>>,
    sources: Vec<u8>,
    data: &'a Dataset,
    group_members: &'a HashMap<u32, Vec<u32>>,
    cannot: &'a HashMap<u32, Vec<u32>>,
}

/// The members holding the distinct values of one guarded comparison, per cluster. A record
/// alone holds its own value, if any, without a list of its own: lists are made by merges only
/// (a million records, most never merged), and a root's list is found through `list`.
struct Guard<'a> {
    comparison: &'a Comparison,
    /// Per record, the index of its list in `lists` while it is the root of a merged cluster;
    /// [`NO_LIST`] otherwise.
    list: Vec<u32>,
    lists: Vec<Vec<u32>>,
}

const NO_LIST: u32 = u32::MAX;

impl Guard<'_> {
    /// The members holding the distinct values in the cluster of `root`.
    fn held<'k>(&'k self, column: &Column, size: &[u32], root: &'k u32) -> &'k [u32] {
        let r = *root as usize;
        if size[r] == 1 {
            if column.is_missing(r) {
                &[]
            } else {
                std::slice::from_ref(root)
            }
        } else {
            match self.list[r] {
                NO_LIST => &[],
                k => &self.lists[k as usize],
            }
        }
    }

    /// Takes the list of `root` (a record alone: its own value, if any), leaving none.
    fn take(&mut self, column: &Column, size: &[u32], root: u32) -> Vec<u32> {
        let r = root as usize;
        if size[r] == 1 {
            return (!column.is_missing(r))
                .then_some(root)
                .into_iter()
                .collect();
        }
        match std::mem::replace(&mut self.list[r], NO_LIST) {
            NO_LIST => Vec::new(),
            k => std::mem::take(&mut self.lists[k as usize]),
        }
    }

    /// Gives `root` the list `held`.
    fn keep(&mut self, root: u32, held: Vec<u32>) {
        self.list[root as usize] = self.lists.len() as u32;
        self.lists.push(held);
    }
}

impl Clusters<'_> {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn find_const(&self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
    }

    /// Why `a` and `b` (roots) may not merge, if they may not.
    fn conflict(&self, a: u32, b: u32, one_to_one: bool, refusals: &mut Refusals) -> bool {
        let (ia, ib) = (self.valid_id[a as usize], self.valid_id[b as usize]);
        if ia != 0 && ib != 0 && ia != ib {
            refusals.different_ids += 1;
            return true;
        }
        // one valid ID number on both sides outweighs a name or a date written differently
        let guards: &[Guard] = if ia != 0 && ia == ib {
            &[]
        } else {
            &self.guards
        };
        for guard in guards {
            let comparison = guard.comparison;
            let column = &self.data.columns[comparison.field];
            let held_b = guard.held(column, &self.size, &b);
            let vetoed = guard.held(column, &self.size, &a).iter().any(|&x| {
                held_b.iter().any(|&y| {
                    comparison
                        .guard
                        .contains(&level(comparison, column, x as usize, y as usize))
                })
            });
            if vetoed {
                refusals.guarded += 1;
                return true;
            }
        }
        if one_to_one && self.sources[a as usize] & self.sources[b as usize] != 0 {
            refusals.one_to_one += 1;
            return true;
        }
        if self.group_members.is_empty() && self.cannot.is_empty() {
            return false;
        }
        let (small, big) = if self.size[a as usize] <= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        let mut m = small;
        loop {
            let g = self.data.row_group[m as usize];
            if g != u32::MAX
                && let Some(others) = self.group_members.get(&g)
                && others.iter().any(|&o| o != m && self.find_const(o) == big)
            {
                refusals.same_row += 1;
                return true;
            }
            if let Some(partners) = self.cannot.get(&m)
                && partners.iter().any(|&o| self.find_const(o) == big)
            {
                refusals.cannot_link += 1;
                return true;
            }
            m = self.next[m as usize];
            if m == small {
                return false;
            }
        }
    }

    fn union(&mut self, a: u32, b: u32) {
        let (small, big) = if self.size[a as usize] <= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        for guard in &mut self.guards {
            let column = &self.data.columns[guard.comparison.field];
            // the lists move (a record alone gets one only if it holds a value)
            let mut kept = guard.take(column, &self.size, big);
            for x in guard.take(column, &self.size, small) {
                if kept.len() < GUARDED_VALUES
                    && !kept
                        .iter()
                        .any(|&y| column.same_value(x as usize, y as usize))
                {
                    kept.push(x);
                }
            }
            guard.keep(big, kept);
        }
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        self.next.swap(small as usize, big as usize);
        if self.valid_id[big as usize] == 0 {
            self.valid_id[big as usize] = self.valid_id[small as usize];
        }
        self.sources[big as usize] |= self.sources[small as usize];
    }
}

/// Clusters `data` from `links` (pairs at or above the link threshold, with their weights);
/// returns a cluster number per record (the lowest record index of the cluster) and the refusals.
///
/// Links are taken strongest first. Records that no chain of links (or must-links) joins never
/// meet in a merge or a refusal, so the linked groups are shared out among threads, each taking
/// its groups' links in the same order: the persons and refusals are those of one pass over all
/// links.
pub fn cluster(
    data: &Dataset,
    comparisons: &[Comparison],
    links: &[(f32, u32, u32)],
    constraints: &Constraints,
    one_to_one: bool,
) -> (Vec<u32>, Refusals) {
    let shares = super::threads().min(links.len() / 10_000 + 1);
    cluster_in_shares(data, comparisons, links, constraints, one_to_one, shares)
}

/// [`cluster`], the linked groups shared out among `shares` threads.
fn cluster_in_shares(
    data: &Dataset,
    comparisons: &[Comparison],
    links: &[(f32, u32, u32)],
    constraints: &Constraints,
    one_to_one: bool,
    shares: usize,
) -> (Vec<u32>, Refusals) {
    let n = data.len;
    let mut group_members: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, &g) in data.row_group.iter().enumerate() {
        if g != u32::MAX {
            group_members.entry(g).or_default().push(i as u32);
        }
    }
    group_members.retain(|_, v| v.len() > 1);
    let mut cannot: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(a, b) in &constraints.cannot_link {
        cannot.entry(a).or_default().push(b);
        cannot.entry(b).or_default().push(a);
    }
    let group = linked_groups(n, links, &constraints.must_link);
    // what every thread's clusters start from
    let valid_id: Vec<u32> = (0..n).map(|i| data.valid_id(i)).collect();
    let sources: Vec<u8> = data.source.iter().map(|s| 1u8 << s.min(&7)).collect();
    let share = |record: u32| (group[record as usize] as usize).wrapping_mul(0x9E37_79B9) % shares;
    let done = super::on_threads((0..shares).collect(), |k| {
        let mut mine: Vec<(f32, u32, u32)> =
            links.iter().filter(|l| share(l.1) == k).copied().collect();
        mine.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let mut clusters = Clusters {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            next: (0..n as u32).collect(),
            valid_id: valid_id.clone(),
            guards: comparisons
                .iter()
                .filter(|c| !c.guard.is_empty())
                .map(|comparison| Guard {
                    comparison,
                    list: vec![NO_LIST; n],
                    lists: Vec::new(),
                })
                .collect(),
            sources: sources.clone(),
            data,
            group_members: &group_members,
            cannot: &cannot,
        };
        let mut refusals = Refusals::default();
        for &(a, b) in constraints.must_link.iter().filter(|m| share(m.0) == k) {
            let (ra, rb) = (clusters.find(a), clusters.find(b));
            if ra != rb {
                clusters.union(ra, rb);
            }
        }
        for &(_, a, b) in &mine {
            let (ra, rb) = (clusters.find(a), clusters.find(b));
            if ra == rb || clusters.conflict(ra, rb, one_to_one, &mut refusals) {
                continue;
            }
            clusters.union(ra, rb);
        }
        // the root of every record this share merged
        let roots: Vec<(u32, u32)> = (0..n as u32)
            .filter(|&i| clusters.parent[i as usize] != i)
            .map(|i| (i, clusters.find_const(i)))
            .collect();
        (roots, refusals)
    });
    let mut root: Vec<u32> = (0..n as u32).collect();
    let mut refusals = Refusals::default();
    for (roots, r) in done {
        for (i, to) in roots {
            root[i as usize] = to;
        }
        refusals.different_ids += r.different_ids;
        refusals.guarded += r.guarded;
        refusals.same_row += r.same_row;
        refusals.cannot_link += r.cannot_link;
        refusals.one_to_one += r.one_to_one;
    }
    let mut label = vec![u32::MAX; n];
    for i in 0..n {
        let r = root[i] as usize;
        if label[r] == u32::MAX {
            label[r] = i as u32;
        }
        label[i] = label[r];
    }
    (label, refusals)
}

/// The group of every record: records joined by a chain of links or must-links share one (a
/// record's group is a record of it).
fn linked_groups(n: usize, links: &[(f32, u32, u32)], must_link: &[(u32, u32)]) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let p = parent[parent[x as usize] as usize];
            parent[x as usize] = p;
            x = p;
        }
        x
    }
    let pairs = links.iter().map(|&(_, a, b)| (a, b));
    for (a, b) in pairs.chain(must_link.iter().copied()) {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    for i in 0..n as u32 {
        let r = find(&mut parent, i);
        parent[i as usize] = r;
    }
    parent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::spec::LinkageSpec;

    fn spec(guards: &str) -> LinkageSpec {
        LinkageSpec::parse(
            &format!(
                r#"
[[field]]
name = "name"
kind = "name"
[[field]]
name = "born"
kind = "date"
[[field]]
name = "place"
kind = "place"
columns = ["county", "township", "village"]
[[blocking]]
keys = ["name"]
[[comparison]]
field = "name"
levels = ["exact"]
[[comparison]]
field = "born"
levels = ["exact", "day_month_swapped", "one_field_off"]
{}
[[comparison]]
field = "place"
levels = ["village", "township", "other_village", "county", "other_township"]
{}
"#,
                if guards.contains("born") {
                    "guard = true"
                } else {
                    ""
                },
                if guards.contains("place") {
                    r#"guard = ["other_village", "other_township"]"#
                } else {
                    ""
                },
            ),
            "test",
        )
        .expect("valid spec")
    }

    /// Records (name, born, township, village), all in one county.
    fn data(spec: &LinkageSpec, records: &[[&'static str; 4]]) -> Dataset {
        let mut data = Dataset::new(spec);
        for r in records {
            let v = |s: &'static str| if s.is_empty() { None } else { Some(s) };
            let values = vec![
                vec![v(r[0])],
                vec![v(r[1])],
                vec![Some("341125"), v(r[2]), v(r[3])],
            ];
            data.push(&values, 0, u32::MAX);
        }
        data
    }

    fn clusters(
        guards: &str,
        records: &[[&'static str; 4]],
        links: &[(u32, u32)],
    ) -> (Vec<u32>, u64) {
        let spec = spec(guards);
        linked_in_order(&spec, &data(&spec, records), links)
    }

    /// Clusters of `data` linked in the order of `links` (the first the strongest), and the
    /// merges the guards refused.
    fn linked_in_order(
        spec: &LinkageSpec,
        data: &Dataset,
        links: &[(u32, u32)],
    ) -> (Vec<u32>, u64) {
        let links: Vec<(f32, u32, u32)> = links
            .iter()
            .enumerate()
            .map(|(k, &(a, b))| (10.0 - k as f32, a, b))
            .collect();
        let (labels, refusals) = cluster(
            data,
            &spec.comparisons,
            &links,
            &Constraints::default(),
            false,
        );
        (labels, refusals.guarded)
    }

    /// Clusters of records (name, ID number) linked in the order given, names guarded.
    fn named_clusters(records: &[[&'static str; 2]], links: &[(u32, u32)]) -> (Vec<u32>, u64) {
        let spec = LinkageSpec::parse(
            r#"
[[field]]
name = "name"
kind = "name"
[[field]]
name = "id"
kind = "id_number"
[[blocking]]
keys = ["name"]
[[comparison]]
field = "name"
levels = ["exact", "char_dropped"]
must_agree = true
guard = true
[[comparison]]
field = "id"
levels = ["exact"]
"#,
            "test",
        )
        .expect("valid spec");
        let mut data = Dataset::new(&spec);
        for r in records {
            let v = |s: &'static str| if s.is_empty() { None } else { Some(s) };
            data.push(&[vec![v(r[0])], vec![v(r[1])]], 0, u32::MAX);
        }
        linked_in_order(&spec, &data, links)
    }

    #[test]
    fn a_mention_without_a_name_does_not_join_two_names() {
        // a guardian known by ID number and phone, whose phone is on two children's stays
        let records = [["周沐航", ""], ["", "11010519491231002X"], ["周子睿", ""]];
        assert_eq!(
            named_clusters(&records, &[(0, 1), (1, 2)]),
            (vec![0, 0, 2], 1)
        );
    }

    #[test]
    fn one_valid_id_number_joins_names_written_differently() {
        // 张丽 and 张华 are each 张丽华 with a character dropped, not one another
        let records = [
            ["张丽华", "11010519491231002X"],
            ["张丽", "11010519491231002X"],
            ["张华", "11010519491231002X"],
            ["张华", ""],
        ];
        assert_eq!(
            named_clusters(&records, &[(0, 1), (2, 3), (0, 2)]),
            (vec![0, 0, 0, 0], 0)
        );
        // but a record without the number does not join a person whose names it contradicts
        assert_eq!(
            named_clusters(&records, &[(0, 1), (0, 2), (2, 3)]),
            (vec![0, 0, 0, 3], 1)
        );
        // without the number, the last link would put 张丽 and 张华 in one person
        let records = [
            ["张丽华", "11010519491231002X"],
            ["张丽", "11010519491231002X"],
            ["张华", ""],
        ];
        assert_eq!(
            named_clusters(&records, &[(0, 1), (0, 2)]),
            (vec![0, 0, 2], 1)
        );
    }

    #[test]
    fn a_chain_through_a_record_without_birth_date_does_not_join_two_birth_dates() {
        let records = [
            ["王伟", "1970-03-01", "", ""],
            ["王伟", "", "", ""],
            ["王伟", "1985-11-20", "", ""],
        ];
        let links = [(0, 1), (1, 2)];
        // unguarded, the record without a birth date chains the two
        assert_eq!(clusters("", &records, &links), (vec![0, 0, 0], 0));
        // guarded, the second link is refused
        assert_eq!(clusters("born", &records, &links), (vec![0, 0, 2], 1));
    }

    #[test]
    fn a_birth_date_typo_is_not_a_different_birth_date() {
        for typo in ["1970-03-11", "1970-01-03", "1971-03-01"] {
            let records = [
                ["王伟", "1970-03-01", "", ""],
                ["王伟", "", "", ""],
                ["王伟", typo, "", ""],
            ];
            assert_eq!(
                clusters("born", &records, &[(0, 1), (1, 2)]),
                (vec![0, 0, 0], 0),
                "{typo}"
            );
        }
    }

    #[test]
    fn every_village_a_cluster_holds_is_checked_not_only_its_first() {
        // the township-only record joins both villages' records unless each village is kept
        let records = [
            ["潘燕", "", "马店孜镇", ""],
            ["潘燕", "", "马店孜镇", "程岗村"],
            ["潘燕", "", "马店孜镇", "光明村"],
        ];
        let links = [(0, 1), (0, 2)];
        assert_eq!(clusters("", &records, &links), (vec![0, 0, 0], 0));
        assert_eq!(clusters("place", &records, &links), (vec![0, 0, 2], 1));
        // another township of the county is vetoed too; the same village is not
        let records = [
            ["潘燕", "", "马店孜镇", "程岗村"],
            ["潘燕", "", "马店孜", "程岗"],
            ["潘燕", "", "江集镇", "江圩村"],
        ];
        assert_eq!(
            clusters("place", &records, &[(0, 1), (1, 2)]),
            (vec![0, 0, 2], 1)
        );
    }

    #[test]
    fn groups_clustered_on_several_threads_are_clustered_as_on_one() {
        let spec = spec("born place");
        // namesakes with birth dates, typos and villages that guards keep apart, chained by
        // links of many weights; some records named by one source row, decisions from review
        let names = ["王伟", "李娜", "张丽"];
        let born = ["1970-03-01", "1970-03-11", "1985-11-20", ""];
        let villages = ["程岗村", "光明村", ""];
        let mut data = Dataset::new(&spec);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let mut next = |m: usize| rand::RngExt::random_range(&mut rng, 0..m);
        for k in 0..600u32 {
            let v = |s: &'static str| (!s.is_empty()).then_some(s);
            let values = vec![
                vec![Some(names[next(3)])],
                vec![v(born[next(4)])],
                vec![Some("341125"), Some("马店孜镇"), v(villages[next(3)])],
            ];
            data.push(&values, 0, if k % 50 == 0 { k / 100 } else { u32::MAX });
        }
        let links: Vec<(f32, u32, u32)> = (0..900)
            .map(|_| {
                let (a, b) = (next(600) as u32, next(600) as u32);
                ((next(40) as f32) / 4.0, a.min(b), a.max(b))
            })
            .filter(|l| l.1 != l.2)
            .collect();
        let constraints = Constraints {
            must_link: vec![(1, 2), (300, 301)],
            // two linked pairs: a merge joining either is refused by the decision, if no guard
            // refuses it first
            cannot_link: vec![(links[0].1, links[0].2), (links[1].1, links[1].2)],
        };
        let run = |shares| {
            let (labels, r) = cluster_in_shares(
                &data,
                &spec.comparisons,
                &links,
                &constraints,
                false,
                shares,
            );
            (
                labels,
                (r.different_ids, r.guarded, r.same_row, r.cannot_link),
            )
        };
        let one = run(1);
        assert!(
            one.1.1 > 0 && one.1.3 > 0,
            "guards and decisions were met: {:?}",
            one.1
        );
        let persons = one
            .0
            .iter()
            .enumerate()
            .filter(|(i, l)| *i as u32 == **l)
            .count();
        assert!(persons > 1 && persons < 600, "{persons} persons");
        for shares in [2, 3, 5] {
            assert_eq!(run(shares), one, "{shares} shares");
        }
    }

    #[test]
    fn a_guard_names_levels_of_its_comparison() {
        let problem = LinkageSpec::parse(
            r#"
[[field]]
name = "born"
kind = "date"
[[blocking]]
keys = ["born"]
[[comparison]]
field = "born"
levels = ["exact"]
guard = ["one_field_off"]
"#,
            "test",
        )
        .expect_err("a guard level the comparison does not have");
        assert!(
            problem
                .to_string()
                .contains("`one_field_off` is not one of its levels")
        );
    }
}
