//! Comparing two prepared records field by field: each comparison returns the first of its
//! ordered levels that holds, the "else" level (`levels.len()`) when none does, or [`NULL`] when a
//! value is missing on either side (missing values are neutral).

use super::dataset::{Column, Dataset};
use super::spec::{Comparison, FieldKind, Level};

/// The level of a comparison when either value is missing.
pub const NULL: u8 = u8::MAX;

/// The level reached by `comparison` for records `i` and `j`.
pub fn level(comparison: &Comparison, column: &Column, i: usize, j: usize) -> u8 {
    if !column.comparable(i, j) {
        return NULL;
    }
    for (k, level) in comparison.levels.iter().enumerate() {
        if holds(*level, column, i, j) {
            return k as u8;
        }
    }
    comparison.levels.len() as u8
}

/// Fills `out` with the levels of every comparison for records `i` and `j`.
pub fn gamma(comparisons: &[Comparison], data: &Dataset, i: usize, j: usize, out: &mut [u8]) {
    for (slot, c) in out.iter_mut().zip(comparisons) {
        *slot = level(c, &data.columns[c.field], i, j);
    }
}

/// Whether the Jaro-Winkler similarity of `a` and `b` reaches `threshold`. Most pairs (every
/// random pair drawn to estimate u) are far apart: for ASCII text (pinyin, FEBRL's fields) an
/// upper bound from the letters the two share rules them out before strsim runs. Jaro counts
/// at most that many matching characters and at most every match as in order; Winkler's bonus
/// is at most the common prefix (up to four characters) times 0.1 of what is left.
pub(crate) fn jaro_winkler_at_least(a: &str, b: &str, threshold: f64) -> bool {
    // (counts fit a byte for text under 256 letters)
    if a.is_ascii() && b.is_ascii() && !a.is_empty() && !b.is_empty() && a.len() < 256 {
        let mut counts = [0u8; 128];
        for &c in a.as_bytes() {
            counts[c as usize] += 1;
        }
        let mut common = 0usize;
        for &c in b.as_bytes() {
            let slot = &mut counts[c as usize];
            if *slot > 0 {
                *slot -= 1;
                common += 1;
            }
        }
        let m = common as f64;
        let jaro = if common == 0 {
            0.0
        } else {
            (m / a.len() as f64 + m / b.len() as f64 + 1.0) / 3.0
        };
        let prefix = a
            .bytes()
            .zip(b.bytes())
            .take(4)
            .take_while(|(x, y)| x == y)
            .count();
        let bound = jaro + 0.1 * prefix as f64 * (1.0 - jaro);
        if bound + 1e-9 < threshold {
            return false;
        }
    }
    strsim::jaro_winkler(a, b) >= threshold
}

fn holds(level: Level, col: &Column, i: usize, j: usize) -> bool {
    let (a1, a2) = (col.a[i], col.a[j]);
    match (level, col.kind) {
        (Level::Exact, FieldKind::Place) => col.same_value(i, j),
        (Level::Exact, _) => a1 == a2 && a1 != 0,
        (Level::Pinyin, _) => col.b[i] == col.b[j],
        (Level::FuzzyPinyin, _) => col.d[i] == col.d[j] && col.d[i] != 0,
        (Level::GivenSwapped, _) => given_swapped(col.text(a1), col.text(a2)),
        (Level::CharDropped, _) => one_char_dropped(col.text(a1), col.text(a2)),
        (Level::JaroWinkler(t), FieldKind::Name) => {
            jaro_winkler_at_least(col.text(col.b[i]), col.text(col.b[j]), t)
        }
        (Level::JaroWinkler(t), _) => {
            a1 != 0 && a2 != 0 && jaro_winkler_at_least(col.text(a1), col.text(a2), t)
        }
        (Level::Levenshtein(k), _) => {
            a1 != 0 && a2 != 0 && strsim::levenshtein(col.text(a1), col.text(a2)) as u32 <= k
        }
        (Level::OneEdit, _) => {
            if a1 == 0 || a2 == 0 {
                return false;
            }
            match (col.packed.get(i), col.packed.get(j)) {
                (Some(&x), Some(&y)) if x != 0 && y != 0 => one_edit_packed(x, y),
                _ => one_edit(col.text(a1).as_bytes(), col.text(a2).as_bytes()),
            }
        }
        (Level::IdPrefix, _) => {
            col.b[i] == col.b[j] && (a1 == 0 || a2 == 0 || col.c[i] == 0 || col.c[j] == 0)
        }
        (Level::OneFieldOff, _) => {
            let (x, y) = (split_date(a1), split_date(a2));
            (x.0 != y.0) as u8 + (x.1 != y.1) as u8 + (x.2 != y.2) as u8 == 1
        }
        (Level::DayMonthSwapped, _) => {
            let (x, y) = (split_date(a1), split_date(a2));
            x.0 == y.0 && x.1 == y.2 && x.2 == y.1 && x.1 != x.2
        }
        (Level::SameYear, _) => a1 / 10_000 == a2 / 10_000,
        // the same village of one county; a township missing on one side does not contradict it
        (Level::Village, _) => {
            let (t1, t2) = (col.b[i], col.b[j]);
            a1 == a2 && col.c[i] == col.c[j] && col.c[i] != 0 && (t1 == t2 || t1 == 0 || t2 == 0)
        }
        (Level::Township, _) => {
            let (v1, v2) = (col.c[i], col.c[j]);
            a1 == a2 && col.b[i] == col.b[j] && col.b[i] != 0 && (v1 == v2 || v1 == 0 || v2 == 0)
        }
        (Level::Group, _) => {
            holds(Level::Village, col, i, j) && col.d[i] == col.d[j] && col.d[i] != 0
        }
        (Level::OtherGroup, _) => {
            holds(Level::Village, col, i, j)
                && col.d[i] != col.d[j]
                && col.d[i] != 0
                && col.d[j] != 0
        }
        (Level::OtherVillage, _) => a1 == a2 && col.b[i] == col.b[j] && col.b[i] != 0,
        (Level::County, _) => {
            let (t1, t2) = (col.b[i], col.b[j]);
            a1 == a2 && (t1 == t2 || t1 == 0 || t2 == 0)
        }
        (Level::OtherTownship, _) => a1 == a2,
        (Level::Consistent, _) => a1.max(a2) <= col.b[i].min(col.b[j]),
    }
}

fn split_date(d: u32) -> (u32, u32, u32) {
    (d / 10_000, d / 100 % 100, d % 100)
}

/// Same length, differing by one substitution or one swap of adjacent characters.
pub fn one_edit(x: &[u8], y: &[u8]) -> bool {
    if x.len() != y.len() {
        return false;
    }
    // positions of the first differences (at most three are needed to decide)
    let mut diffs = [0usize; 3];
    let mut n = 0;
    for k in 0..x.len() {
        if x[k] != y[k] {
            if n == 3 {
                break;
            }
            diffs[n] = k;
            n += 1;
        }
    }
    match n {
        1 => true,
        2 => {
            let (p, q) = (diffs[0], diffs[1]);
            q == p + 1 && x[p] == y[q] && x[q] == y[p]
        }
        _ => false,
    }
}

/// [`one_edit`] on texts packed by [`pack_digits`](super::dataset::pack_digits): the
/// differing characters are the non-zero nibbles of `x ^ y`.
pub fn one_edit_packed(x: u128, y: u128) -> bool {
    const CHARS: u128 = (1 << 120) - 1;
    const NIBBLE_LOW_BITS: u128 = 0x0011_1111_1111_1111_1111_1111_1111_1111;
    if x >> 120 != y >> 120 {
        return false; // lengths differ
    }
    let d = (x ^ y) & CHARS;
    let differing = (d | d >> 1 | d >> 2 | d >> 3) & NIBBLE_LOW_BITS;
    match differing.count_ones() {
        1 => true,
        2 => {
            let p = differing.trailing_zeros() / 4;
            let q = (127 - differing.leading_zeros()) / 4;
            let nibble = |v: u128, k: u32| (v >> (4 * k)) & 0xF;
            q == p + 1 && nibble(x, p) == nibble(y, q) && nibble(x, q) == nibble(y, p)
        }
        _ => false,
    }
}

/// The characters of a short name on the stack (most names have two to four), or `None` when
/// it has more than `N`.
fn chars_of<const N: usize>(s: &str) -> Option<([char; N], usize)> {
    let mut out = ['\0'; N];
    let mut n = 0;
    for c in s.chars() {
        *out.get_mut(n)? = c;
        n += 1;
    }
    Some((out, n))
}

/// Same surname character, the given-name characters in another order (王小明 / 王明小).
fn given_swapped(x: &str, y: &str) -> bool {
    // cheap checks first: most pairs (all random pairs drawn for u) differ in length or surname
    if x.len() != y.len() || x.chars().next() != y.chars().next() || x == y {
        return false;
    }
    let (Some((mut cx, nx)), Some((mut cy, ny))) = (chars_of::<16>(x), chars_of::<16>(y)) else {
        // a name of more than 16 characters
        return given_swapped_plain(x, y);
    };
    if nx != ny || nx < 3 {
        return false;
    }
    cx[1..nx].sort_unstable();
    cy[1..ny].sort_unstable();
    cx[1..nx] == cy[1..ny]
}

/// [`given_swapped`] on characters collected into vectors: for names too long for the stack,
/// and what the stack version is tested against.
fn given_swapped_plain(x: &str, y: &str) -> bool {
    let (x, y): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
    if x.len() != y.len() || x.len() < 3 || x[0] != y[0] || x == y {
        return false;
    }
    let (mut gx, mut gy) = (x[1..].to_vec(), y[1..].to_vec());
    gx.sort_unstable();
    gy.sort_unstable();
    gx == gy
}

/// One name is the other with one character added (王小明 / 王明).
fn one_char_dropped(x: &str, y: &str) -> bool {
    // byte lengths differ by one character's width (1–4 bytes) or the names cannot qualify
    let gap = x.len().abs_diff(y.len());
    if !(1..=4).contains(&gap) {
        return false;
    }
    let (nx, ny) = (x.chars().count(), y.chars().count());
    let (long, short, n_short) = if nx > ny { (x, y, ny) } else { (y, x, nx) };
    if nx.abs_diff(ny) != 1 || n_short < 2 {
        return false;
    }
    // walk the longer name, letting one of its characters be the one added
    let mut rest = short.chars().peekable();
    let mut skipped = false;
    for c in long.chars() {
        if rest.peek() == Some(&c) {
            rest.next();
        } else if skipped {
            return false;
        } else {
            skipped = true;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::spec::LinkageSpec;

    fn spec() -> LinkageSpec {
        LinkageSpec::parse(
            r#"
[[field]]
name = "name"
kind = "name"
[[field]]
name = "id"
kind = "id_number"
[[field]]
name = "born"
kind = "date"
[[field]]
name = "place"
kind = "place"
columns = ["county", "township", "village"]
[[blocking]]
keys = ["id"]
[[comparison]]
field = "name"
levels = ["exact", "pinyin", "fuzzy_pinyin", "given_swapped", "char_dropped", "jaro_winkler>=0.9"]
[[comparison]]
field = "id"
levels = ["exact", "one_edit", "id_prefix"]
[[comparison]]
field = "born"
levels = ["exact", "day_month_swapped", "one_field_off"]
[[comparison]]
field = "place"
levels = ["village", "township", "other_village", "county", "other_township"]
"#,
            "test",
        )
        .expect("valid spec")
    }

    /// Levels reached by two records given as (name, id, born, county, township, village).
    fn levels(x: [&str; 6], y: [&str; 6]) -> Vec<u8> {
        let spec = spec();
        let mut data = Dataset::new(&spec);
        for r in [x, y] {
            let opt = |s: &'static str| if s.is_empty() { None } else { Some(s) };
            let _ = opt;
            let v = |s: &str| {
                if s.is_empty() {
                    None
                } else {
                    Some(s.to_string())
                }
            };
            let owned: Vec<Option<String>> = r.iter().map(|s| v(s)).collect();
            let values: Vec<Vec<Option<&str>>> = vec![
                vec![owned[0].as_deref()],
                vec![owned[1].as_deref()],
                vec![owned[2].as_deref()],
                vec![
                    owned[3].as_deref(),
                    owned[4].as_deref(),
                    owned[5].as_deref(),
                ],
            ];
            data.push(&values, 0, u32::MAX);
        }
        let mut out = vec![0; spec.comparisons.len()];
        gamma(&spec.comparisons, &data, 0, 1, &mut out);
        out
    }

    const ID: &str = "11010519491231002X";

    #[test]
    fn names_reach_the_expected_level() {
        let base = ["张伟", ID, "1949-12-31", "110105", "东风镇", "前进村"];
        let with = |name: &'static str| [name, ID, "1949-12-31", "110105", "东风镇", "前进村"];
        assert_eq!(levels(base, with("张伟"))[0], 0, "exact");
        assert_eq!(
            levels(base, with("張偉"))[0],
            0,
            "traditional is the same name"
        );
        assert_eq!(levels(base, with("章伟"))[0], 1, "homophone");
        assert_eq!(
            levels(with("陈洋"), with("程洋"))[0],
            2,
            "chen and cheng: one sound where en and eng are not told apart"
        );
        assert_eq!(
            levels(with("周建军"), with("邹建君"))[0],
            2,
            "zhou and zou, jun and jun"
        );
        assert_eq!(
            levels(with("王小明"), with("王明小"))[0],
            3,
            "given name swapped"
        );
        assert_eq!(
            levels(with("王小明"), with("王明"))[0],
            4,
            "dropped character"
        );
        assert_eq!(
            levels(with("欧阳小明"), with("欧阳晓明"))[0],
            1,
            "homophone in a compound surname"
        );
        assert_eq!(levels(base, with("李娜"))[0], 6, "else");
        assert_eq!(
            levels(with("王伟"), with("黄伟"))[0],
            6,
            "wang and huang stay apart"
        );
        assert_eq!(levels(base, with(""))[0], NULL, "missing is neutral");
    }

    #[test]
    fn id_numbers_reach_the_expected_level() {
        let with = |id: &'static str| ["张伟", id, "1949-12-31", "110105", "", ""];
        assert_eq!(levels(with(ID), with("11010519491231002x"))[1], 0);
        assert_eq!(
            levels(with(ID), with("110105194912310021"))[1],
            1,
            "one wrong digit"
        );
        assert_eq!(
            levels(with(ID), with("110105194912310987"))[1],
            2,
            "prefix only"
        );
        assert_eq!(
            levels(with(ID), with("1.10105194912310E+17"))[1],
            2,
            "precision lost"
        );
        assert_eq!(levels(with(ID), with("340104199001011234"))[1], 3, "else");
        assert_eq!(levels(with(ID), with("/"))[1], NULL);
    }

    /// The level of the first comparison of `spec` (on its first field) between two records
    /// given by that field's column values (empty = missing; other fields missing).
    fn first_level(spec: &str, x: &[&str], y: &[&str]) -> u8 {
        let spec = LinkageSpec::parse(spec, "test").expect("valid spec");
        let mut data = Dataset::new(&spec);
        for r in [x, y] {
            let mut values = vec![vec![None]; spec.fields.len()];
            values[0] = r
                .iter()
                .map(|s| Some(*s).filter(|s| !s.is_empty()))
                .collect();
            data.push(&values, 0, u32::MAX);
        }
        level(&spec.comparisons[0], &data.columns[0], 0, 1)
    }

    /// The level of an age comparison between records given as (age, event date, birth date).
    fn age_level(x: [&str; 3], y: [&str; 3]) -> u8 {
        let spec = r#"
[[field]]
name = "age"
kind = "age"
columns = ["age", "event_date", "birth_date"]
[[field]]
name = "name"
kind = "name"
[[blocking]]
keys = ["name"]
[[comparison]]
field = "age"
levels = ["consistent"]
"#;
        first_level(spec, &x, &y)
    }

    #[test]
    fn the_group_below_the_village_tells_households_of_one_village_apart() {
        let spec = r#"
[[field]]
name = "place"
kind = "place"
columns = ["county", "township", "village", "address"]
[[blocking]]
keys = ["place"]
[[comparison]]
field = "place"
levels = ["group", "other_group", "village", "township"]
"#;
        let level_of = |x: [&str; 4], y: [&str; 4]| first_level(spec, &x, &y);
        let kongzhuang = |address| ["341122", "新安镇", "孔庄村", address];
        assert_eq!(
            level_of(
                kongzhuang("新安镇孔庄村二组"),
                kongzhuang("孔庄村第二村民组")
            ),
            0
        );
        assert_eq!(
            level_of(kongzhuang("新安镇孔庄村二组"), kongzhuang("孔庄村五组78号")),
            1
        );
        assert_eq!(
            level_of(kongzhuang("新安镇孔庄村二组"), kongzhuang("新安镇孔庄村")),
            2,
            "no group on one side"
        );
        assert_eq!(
            level_of(kongzhuang("二组"), ["341122", "新安镇", "", "二组"]),
            3,
            "a group without the village is no group"
        );
    }

    #[test]
    fn ages_agree_when_they_allow_a_common_birth_year() {
        // 63 on 2025-03-01: born 1961–1963; 64 on 2026-01-10: 1961–1963
        assert_eq!(
            age_level(["63", "2025-03-01", ""], ["64", "2026-01-10", ""]),
            0
        );
        assert_eq!(
            age_level(["63", "2025-03-01", ""], ["", "", "1962-07-01"]),
            0
        );
        assert_eq!(
            age_level(["63", "2025-03-01", ""], ["", "", "1960-07-01"]),
            1
        );
        assert_eq!(
            age_level(["63", "2025-03-01", ""], ["40", "2025-06-01", ""]),
            1,
            "23 years apart"
        );
        assert_eq!(
            age_level(["", "", "1962-07-01"], ["", "", "1980-01-01"]),
            NULL,
            "two birth dates are the birth-date comparison's"
        );
        assert_eq!(age_level(["63", "2025-03-01", ""], ["", "", ""]), NULL);
    }

    /// The plain forms of the name checks, as they read in words: what the stack-only versions
    /// must agree with (for the swapped given name, [`given_swapped_plain`]).
    fn one_char_dropped_reference(x: &str, y: &str) -> bool {
        let (x, y): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
        let (long, short) = if x.len() > y.len() { (x, y) } else { (y, x) };
        long.len() == short.len() + 1
            && short.len() >= 2
            && (0..long.len()).any(|k| {
                let mut without = long.clone();
                without.remove(k);
                without == short
            })
    }

    fn one_edit_reference(x: &[u8], y: &[u8]) -> bool {
        if x.len() != y.len() || x == y {
            return false;
        }
        let diffs: Vec<usize> = (0..x.len()).filter(|&k| x[k] != y[k]).collect();
        match diffs[..] {
            [_] => true,
            [p, q] => q == p + 1 && x[p] == y[q] && x[q] == y[p],
            _ => false,
        }
    }

    #[test]
    fn name_variants_are_recognised() {
        assert!(given_swapped("王小明", "王明小"));
        assert!(!given_swapped("王小明", "李明小"));
        assert!(!given_swapped("王明", "王明"));
        assert!(one_char_dropped("王小明", "王明"));
        assert!(one_char_dropped("王明", "王明小"));
        assert!(!one_char_dropped("王小明", "李明"));
        assert!(
            !one_char_dropped("王明", "王"),
            "a one-character name is not enough"
        );
        // longer than the 16 characters kept on the stack
        assert!(given_swapped(
            "阿卜杜热合曼买买提吐尔逊艾力库尔班江",
            "阿杜卜热合曼买买提吐尔逊艾力库尔班江"
        ));
    }

    proptest::proptest! {
        /// The stack-only name and number checks agree with their plain forms, on names drawn
        /// from a few characters so that near names are common.
        #[test]
        fn name_checks_agree_with_their_plain_forms(
            x in "[王李明小华芳a]{0,20}",
            y in "[王李明小华芳a]{0,20}",
        ) {
            proptest::prop_assert_eq!(given_swapped(&x, &y), given_swapped_plain(&x, &y));
            proptest::prop_assert_eq!(one_char_dropped(&x, &y), one_char_dropped_reference(&x, &y));
            proptest::prop_assert_eq!(
                one_edit(x.as_bytes(), y.as_bytes()),
                one_edit_reference(x.as_bytes(), y.as_bytes())
            );
        }

        /// The packed one-edit check agrees with the one on text, on ID-number-like strings
        /// that often differ by one or two characters.
        #[test]
        fn packed_one_edit_agrees_with_text(
            x in "[0-9X]{1,30}",
            edits in proptest::collection::vec((0usize..30, "[0-9X]", proptest::bool::ANY), 0..3),
        ) {
            let mut y: Vec<u8> = x.clone().into_bytes();
            for (at, c, swap) in edits {
                let at = at % y.len();
                if swap && at + 1 < y.len() {
                    y.swap(at, at + 1);
                } else {
                    y[at] = c.as_bytes()[0];
                }
            }
            let y = String::from_utf8(y).expect("ascii");
            let (px, py) = (crate::linkage::dataset::pack_digits(&x), crate::linkage::dataset::pack_digits(&y));
            proptest::prop_assert!(px != 0 && py != 0);
            proptest::prop_assert_eq!(one_edit_packed(px, py), one_edit(x.as_bytes(), y.as_bytes()));
        }

        /// The letter-count bound never rules out a pair strsim would accept.
        #[test]
        fn jaro_winkler_bound_never_rejects_a_close_pair(
            a in "[a-z ]{0,12}",
            b in "[a-z ]{0,12}",
            t in 0.5f64..1.0,
        ) {
            let exact = strsim::jaro_winkler(&a, &b) >= t;
            proptest::prop_assert_eq!(jaro_winkler_at_least(&a, &b, t), exact);
        }

        /// The same for near spellings: one letter replaced, dropped, or two swapped.
        #[test]
        fn jaro_winkler_bound_keeps_every_near_spelling(
            a in "[a-z]{1,12}",
            at in 0usize..12,
            letter in proptest::char::range('a', 'z'),
            edit in 0u8..3,
            t in 0.7f64..1.0,
        ) {
            let mut chars: Vec<char> = a.chars().collect();
            let k = at % chars.len();
            match edit {
                0 => chars[k] = letter,
                1 => {
                    chars.remove(k);
                }
                _ => {
                    let next = (k + 1) % chars.len();
                    chars.swap(k, next);
                }
            }
            let b: String = chars.into_iter().collect();
            let exact = strsim::jaro_winkler(&a, &b) >= t;
            proptest::prop_assert_eq!(jaro_winkler_at_least(&a, &b, t), exact);
        }
    }

    #[test]
    fn jaro_winkler_bound_keeps_near_spellings() {
        assert!(jaro_winkler_at_least("zhangwei", "zhangwie", 0.94));
        assert!(!jaro_winkler_at_least("zhangwei", "liuxiuying", 0.94));
        assert!(
            jaro_winkler_at_least("张伟", "张伟", 0.94),
            "non-ASCII goes to strsim"
        );
    }

    #[test]
    fn dates_and_places_reach_the_expected_level() {
        let with =
            |d: &'static str, t: &'static str, v: &'static str| ["张伟", "", d, "110105", t, v];
        let l = levels(
            with("1990-03-04", "东风镇", "前进村"),
            with("1990-04-03", "东风镇", "红旗村"),
        );
        assert_eq!(
            (l[2], l[3]),
            (1, 2),
            "day/month swapped; same township, another village"
        );
        let l = levels(
            with("1990-03-04", "东风镇", "前进村"),
            with("1991-03-04", "东风镇", "前进村"),
        );
        assert_eq!((l[2], l[3]), (2, 0), "one field off; same village");
        let l = levels(with("1990-03-04", "", ""), with("1970-01-01", "东风镇", ""));
        assert_eq!(
            (l[2], l[3]),
            (3, 3),
            "else; same county, township unknown on one side"
        );
        let l = levels(
            with("1990-03-04", "东风镇", ""),
            with("1990-03-04", "东风镇", "前进村"),
        );
        assert_eq!(l[3], 1, "same township, village unknown on one side");
        let l = levels(
            with("1990-03-04", "中疃镇", "团结村"),
            with("1990-03-04", "中疃", "团结"),
        );
        assert_eq!(l[3], 0, "suffixes written or left out: same village");
        let l = levels(
            with("1990-03-04", "", "团结村"),
            with("1990-03-04", "中疃镇", "团结村"),
        );
        assert_eq!(
            l[3], 0,
            "township missing on one side: still the same village"
        );
        let l = levels(
            with("1990-03-04", "城关镇", "团结村"),
            with("1990-03-04", "中疃镇", "团结村"),
        );
        assert_eq!(l[3], 4, "a village of the same name in another township");
        let l = levels(
            with("1990-03-04", "镇", "村"),
            with("1990-03-04", "镇", "村"),
        );
        assert_eq!(l[3], 0, "a name that is all suffix is kept whole");
    }

    #[test]
    fn one_edit_is_a_substitution_or_adjacent_swap() {
        assert!(one_edit(b"12345", b"12845"));
        assert!(one_edit(b"12345", b"12435"));
        assert!(!one_edit(b"12345", b"12345"));
        assert!(!one_edit(b"12345", b"52341"));
        assert!(!one_edit(b"12345", b"1234"));
    }
}
