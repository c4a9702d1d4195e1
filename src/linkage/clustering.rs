//! Clustering links into persons, strongest links first, with guards against chaining: a merge is
//! refused when it would put two different valid ID numbers in one person, two people named by the
//! same source row, a cannot-link pair decided in review, or (one-to-one linking) two records of
//! the same input.

use std::collections::HashMap;

use super::dataset::Dataset;

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
    /// Two people named by one source row.
    pub same_row: u64,
    /// A cannot-link decision.
    pub cannot_link: u64,
    /// One-to-one linking: two records of one input.
    pub one_to_one: u64,
}

struct Clusters<'a> {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    valid_id: Vec<u32>,
    sources: Vec<u8>,
    data: &'a Dataset,
    group_members: HashMap<u32, Vec<u32>>,
    cannot: HashMap<u32, Vec<u32>>,
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
        if one_to_one && self.sources[a as usize] & self.sources[b as usize] != 0 {
            refusals.one_to_one += 1;
            return true;
        }
        let (small, big) = if self.members[a as usize].len() <= self.members[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        for &m in &self.members[small as usize] {
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
        }
        false
    }

    fn union(&mut self, a: u32, b: u32) {
        let (small, big) = if self.members[a as usize].len() <= self.members[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        let moved = std::mem::take(&mut self.members[small as usize]);
        self.members[big as usize].extend(moved);
        if self.valid_id[big as usize] == 0 {
            self.valid_id[big as usize] = self.valid_id[small as usize];
        }
        self.sources[big as usize] |= self.sources[small as usize];
    }
}

/// Clusters `data` from `links` (pairs at or above the link threshold, with their weights);
/// returns a cluster number per record (the lowest record index of the cluster) and the refusals.
pub fn cluster(
    data: &Dataset,
    links: &mut [(f32, u32, u32)],
    constraints: &Constraints,
    one_to_one: bool,
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
    let mut clusters = Clusters {
        parent: (0..n as u32).collect(),
        members: (0..n as u32).map(|i| vec![i]).collect(),
        valid_id: (0..n).map(|i| data.valid_id(i)).collect(),
        sources: data.source.iter().map(|s| 1u8 << s.min(&7)).collect(),
        data,
        group_members,
        cannot,
    };
    let mut refusals = Refusals::default();
    for &(a, b) in &constraints.must_link {
        let (ra, rb) = (clusters.find(a), clusters.find(b));
        if ra != rb {
            clusters.union(ra, rb);
        }
    }
    links.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    for &(_, a, b) in links.iter() {
        let (ra, rb) = (clusters.find(a), clusters.find(b));
        if ra == rb || clusters.conflict(ra, rb, one_to_one, &mut refusals) {
            continue;
        }
        clusters.union(ra, rb);
    }
    let mut label = vec![u32::MAX; n];
    for i in 0..n as u32 {
        let r = clusters.find(i) as usize;
        if label[r] == u32::MAX {
            label[r] = i;
        }
        label[i as usize] = label[r];
    }
    (label, refusals)
}
