//! Tests of the sample generator: determinism, truth bookkeeping against the
//! files actually written, situations backed by rows, valid IDs, speed.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use calamine::{Reader, open_workbook_auto};

use super::names::{simplified, sounds_alike};
use super::noise::{id_as_float, legacy15};
use super::schema::{Source, words};
use super::specs::spec;
use super::{SampleOptions, generate};
use crate::normalize::id_number::check_digit;

type Table = Vec<Vec<String>>;

fn read_csv_table(path: &Path, encoding: &str) -> Table {
    let bytes = fs::read(path).unwrap();
    let text = match encoding {
        "gbk" => {
            let (t, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
            assert!(!had_errors, "{} is not valid GBK", path.display());
            t.into_owned()
        }
        "utf-8-bom" => {
            assert!(
                bytes.starts_with(b"\xEF\xBB\xBF"),
                "{} lacks a BOM",
                path.display()
            );
            String::from_utf8(bytes[3..].to_vec()).unwrap()
        }
        _ => String::from_utf8(bytes).unwrap(),
    };
    assert!(!text.starts_with('\u{feff}') || encoding == "utf-8-bom");
    text.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(line.as_bytes());
            r.records()
                .next()
                .map(|x| x.unwrap().iter().map(str::to_string).collect())
                .unwrap_or_default()
        })
        .collect()
}

fn read_sheet(path: &Path, sheet: &str) -> Table {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    let (h, w) = range.end().map_or((0, 0), |(r, c)| (r + 1, c + 1));
    (0..h)
        .map(|r| {
            (0..w)
                .map(|c| {
                    range
                        .get_value((r, c))
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

fn clean_name(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(simplified)
        .collect()
}

/// The cell shows `truth` modulo the generator's name noise.
fn name_matches(cell: &str, truth: &str) -> bool {
    let (a, b) = (clean_name(cell), clean_name(truth));
    if a == b {
        return true;
    }
    if a.len() == b.len() {
        let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        return match diffs.as_slice() {
            [i] => sounds_alike(a[*i], b[*i]),
            [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
            _ => false,
        };
    }
    a.len() + 1 == b.len()
        && a.len() >= 2
        && (0..b.len()).any(|k| {
            let mut c = b.clone();
            c.remove(k);
            c == a
        })
}

/// The cell shows `id18` modulo the generator's ID noise.
fn id_matches(cell: &str, id18: &str) -> bool {
    let s: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '=' | '"'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFF10 + '0' as u32).unwrap_or(c),
            'x' | 'Ｘ' => 'X',
            _ => c,
        })
        .collect();
    if s.is_empty() {
        return false;
    }
    if s == id18 || s == legacy15(id18) {
        return true;
    }
    if let (Ok(v), Some(f)) = (s.parse::<f64>(), id_as_float(id18))
        && ((v - f).abs() < 1e4 || (v - legacy15(id18).parse::<f64>().unwrap_or(0.0)).abs() < 0.5)
    {
        return true;
    }
    s.len() == 18 && s.chars().zip(id18.chars()).filter(|(a, b)| a != b).count() <= 1
}

fn load(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

struct World {
    persons: HashMap<String, HashMap<String, String>>,
    households: Vec<HashMap<String, String>>,
    mentions: Vec<HashMap<String, String>>,
    files: HashMap<String, HashMap<String, String>>,
    tables: HashMap<(String, String), Table>,
}

fn world(dir: &Path) -> World {
    let t = dir.join("truth");
    let persons = load(&t.join("persons.csv"))
        .into_iter()
        .map(|p| (p["person_id"].clone(), p))
        .collect();
    let files: HashMap<String, HashMap<String, String>> = load(&t.join("files.csv"))
        .into_iter()
        .map(|f| (f["file"].clone(), f))
        .collect();
    let mut tables = HashMap::new();
    for (name, f) in &files {
        let path = dir.join(name);
        if f["format"] == "csv" {
            // CSV: one line per row (the generator writes no line breaks in cells).
            tables.insert(
                (name.clone(), String::new()),
                read_csv_table(&path, &f["encoding"]),
            );
        } else {
            for sheet in f["sheets"].split('|') {
                tables.insert((name.clone(), sheet.to_string()), read_sheet(&path, sheet));
            }
        }
    }
    World {
        persons,
        households: load(&t.join("households.csv")),
        mentions: load(&t.join("mentions.csv")),
        files,
        tables,
    }
}

impl World {
    fn row(&self, m: &HashMap<String, String>) -> &[String] {
        let table = &self.tables[&(m["file"].clone(), m["sheet"].clone())];
        let row: usize = m["row"].parse().unwrap();
        &table[row - 1]
    }
}

#[test]
fn same_seed_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let opts = SampleOptions {
        households: 150,
        seed: 7,
        ..Default::default()
    };
    let sa = generate(&opts, a.path()).unwrap();
    let sb = generate(&opts, b.path()).unwrap();
    assert_eq!(sa.files.len(), sb.files.len());
    assert_eq!(
        (sa.persons, sa.households, sa.mentions),
        (sb.persons, sb.households, sb.mentions)
    );
    let mut names: Vec<_> = fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.extend(fs::read_dir(a.path().join("truth")).unwrap().map(|e| {
        Path::new("truth")
            .join(e.unwrap().file_name())
            .into_os_string()
    }));
    for n in names {
        let pa = a.path().join(&n);
        if pa.is_dir() {
            continue;
        }
        assert_eq!(
            fs::read(&pa).unwrap(),
            fs::read(b.path().join(&n)).unwrap(),
            "{n:?} differs"
        );
    }
    let other = tempfile::tempdir().unwrap();
    generate(
        &SampleOptions {
            households: 150,
            seed: 8,
            ..Default::default()
        },
        other.path(),
    )
    .unwrap();
    let pa = fs::read(a.path().join("truth/persons.csv")).unwrap();
    assert_ne!(
        pa,
        fs::read(other.path().join("truth/persons.csv")).unwrap()
    );
}

#[test]
fn truth_rows_point_at_the_people() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(
        &SampleOptions {
            households: 240,
            seed: 20141,
            ..Default::default()
        },
        dir.path(),
    )
    .unwrap();
    let w = world(dir.path());
    assert_eq!(w.mentions.len(), summary.mentions);
    assert_eq!(w.persons.len(), summary.persons);
    let mut subject_rows: HashMap<String, HashSet<(String, String)>> = HashMap::new();
    for m in &w.mentions {
        let p = &w.persons[&m["person_id"]];
        assert_eq!(p["household_id"], m["household_id"]);
        let row = w.row(m);
        let by_name = row.iter().any(|c| name_matches(c, &p["name"]));
        let by_id = row.iter().any(|c| id_matches(c, &p["id_number"]));
        if m["role"] == "subject" {
            assert!(by_name, "{m:?}: {row:?} does not show {}", p["name"]);
            let new = subject_rows
                .entry(m["file"].clone())
                .or_default()
                .insert((m["sheet"].clone(), m["row"].clone()));
            assert!(new, "two subjects on one row: {m:?}");
        } else {
            assert!(["next_of_kin", "guardian", "only_child"].contains(&m["role"].as_str()));
            assert!(
                by_name || by_id,
                "{m:?}: {row:?} does not show {}",
                p["name"]
            );
        }
    }
    for (name, f) in &w.files {
        let rows = subject_rows.get(name).map_or(0, HashSet::len);
        assert_eq!(rows.to_string(), f["data_rows"], "data rows of {name}");
    }
    let listed: usize = summary.files.iter().map(|(_, n)| n).sum();
    assert_eq!(
        listed,
        subject_rows.values().map(HashSet::len).sum::<usize>()
    );
}

#[test]
fn situations_are_backed_by_rows() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        &SampleOptions {
            households: 400,
            seed: 99,
            ..Default::default()
        },
        dir.path(),
    )
    .unwrap();
    let w = world(dir.path());
    let mut by_household: HashMap<&str, Vec<&HashMap<String, String>>> = HashMap::new();
    for m in w.mentions.iter().filter(|m| m["role"] == "subject") {
        by_household
            .entry(m["household_id"].as_str())
            .or_default()
            .push(m);
    }
    let need: [(&str, &str, &[&str]); 7] = [
        ("major_medical", "health", &[]),
        ("working_age_death", "funeral", &[]),
        (
            "house_collapsed",
            "emergency",
            &[words::COLLAPSED, words::SEVERE].concat(),
        ),
        (
            "dangerous_house",
            "housing",
            &[words::GRADES[2], words::GRADES[3]].concat(),
        ),
        ("dropout", "education", words::DROPPED_OUT),
        ("special_family", "family_planning", &[]),
        ("unemployment", "hrss", &[]),
    ];
    let mut seen = HashSet::new();
    for h in &w.households {
        let rows = by_household
            .get(h["household_id"].as_str())
            .cloned()
            .unwrap_or_default();
        let of = |source: &str| {
            rows.iter()
                .filter(|m| w.files[&m["file"]]["source"] == source)
                .copied()
                .collect::<Vec<_>>()
        };
        for s in h["situations"].split(';').filter(|s| !s.is_empty()) {
            let (_, source, code_words) = need.iter().find(|(n, _, _)| *n == s).unwrap();
            let support = of(source);
            assert!(
                !support.is_empty(),
                "{} has {s} but no {source} row",
                h["household_id"]
            );
            if !code_words.is_empty() {
                let ok = support
                    .iter()
                    .any(|m| w.row(m).iter().any(|c| code_words.contains(&c.trim())));
                assert!(ok, "{} has {s} but no row says so", h["household_id"]);
            }
            seen.insert(s.to_string());
        }
        let covered = !of("civil_affairs_roster").is_empty();
        assert_eq!(
            covered.to_string(),
            h["covered"],
            "coverage of {}",
            h["household_id"]
        );
    }
    assert_eq!(seen.len(), 7, "all situations occur: {seen:?}");
}

#[test]
fn ids_are_valid_and_unique() {
    // The standard's own example, 11010519491231002X.
    assert_eq!(check_digit(b"11010519491231002"), b'X');
    let dir = tempfile::tempdir().unwrap();
    generate(
        &SampleOptions {
            households: 300,
            seed: 3,
            ..Default::default()
        },
        dir.path(),
    )
    .unwrap();
    let persons = load(&dir.path().join("truth/persons.csv"));
    let mut seen = HashSet::new();
    let mut other_province = 0;
    for p in &persons {
        let id = p["id_number"].as_bytes();
        assert_eq!(id.len(), 18);
        let first: &[u8; 17] = id[..17].try_into().unwrap();
        assert_eq!(check_digit(first), id[17], "{}", p["id_number"]);
        assert_eq!(&p["id_number"][6..14], p["birth_date"].replace('-', ""));
        let male = (id[16] - b'0') % 2 == 1;
        assert_eq!(if male { "M" } else { "F" }, p["gender"]);
        assert!(seen.insert(p["id_number"].clone()), "duplicate ID");
        other_province += usize::from(!p["id_number"].starts_with("34"));
    }
    let share = other_province as f64 / persons.len() as f64;
    assert!((0.03..0.2).contains(&share), "non-hukou share {share}");
}

#[test]
fn sample_features_are_present() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        &SampleOptions {
            households: 60,
            seed: 20141,
            ..Default::default()
        },
        dir.path(),
    )
    .unwrap();
    let w = world(dir.path());
    let sources: HashSet<&str> = w.files.values().map(|f| f["source"].as_str()).collect();
    assert_eq!(sources.len(), 8);
    let enc: HashSet<&str> = w.files.values().map(|f| f["encoding"].as_str()).collect();
    assert!(enc.contains("gbk") && enc.contains("utf-8-bom") && enc.contains(""));
    assert!(w.files.values().any(|f| !f["hidden_sheets"].is_empty()));
    let footers = w
        .tables
        .values()
        .flatten()
        .filter(|r| {
            r.first()
                .is_some_and(|c| c == "合计" || c.starts_with("制表人"))
        })
        .count();
    assert!(footers > 0);
}

#[test]
fn twenty_thousand_households_are_quick() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let s = generate(
        &SampleOptions {
            households: 20_000,
            seed: 1,
            ..Default::default()
        },
        dir.path(),
    )
    .unwrap();
    let limit = if cfg!(debug_assertions) { 120 } else { 15 };
    assert!(
        t.elapsed() < Duration::from_secs(limit),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(s.households, 20_000);
    assert!(s.files.iter().map(|(_, n)| n).sum::<usize>() > 20_000);
}

/// Every header written is an alias of the mapping files, and every code
/// word is listed in their `values` (checked where the mappings are present:
/// `mappings/` next to the crate manifest).
#[test]
fn headers_and_words_come_from_the_mappings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    if !dir.is_dir() {
        eprintln!("no {} — skipped", dir.display());
        return;
    }
    for s in Source::ALL {
        let toml = fs::read_to_string(dir.join(format!("{}.toml", s.key()))).unwrap();
        let sp = spec(s);
        assert_eq!(
            sp.columns().len(),
            sp.cols.lines().count(),
            "{} column table",
            s.key()
        );
        for col in sp.columns() {
            for a in &col.aliases {
                assert!(
                    toml.contains(&format!("\"{a}\"")),
                    "{} lacks alias {a}",
                    s.key()
                );
            }
        }
    }
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
    let lists: [(&str, &[&[&str]]); 4] = [
        (
            "emergency.toml",
            &[
                words::COLLAPSED,
                words::SEVERE,
                words::MODERATE,
                words::NO_DAMAGE,
            ],
        ),
        ("housing.toml", &words::GRADES),
        (
            "education.toml",
            &[
                words::ENROLLED,
                words::DROPPED_OUT,
                words::SUSPENDED,
                words::TRANSFERRED,
            ],
        ),
        (
            "family_planning.toml",
            &[words::CHILD_DIED, words::CHILD_DISABLED],
        ),
    ];
    for (file, groups) in lists {
        let toml = read(file);
        for w in groups.iter().flat_map(|g| g.iter()) {
            assert!(toml.contains(&format!("\"{w}\"")), "{file} lacks {w}");
        }
    }
    let roster = read("civil_affairs_roster.toml");
    for w in words::DIBAO.iter().chain(words::TEKUN) {
        assert!(roster.contains(&format!("\"{w}\"")), "roster lacks {w}");
    }
}

/// The committed sample set (`samples/` next to the crate manifest): every
/// truth mention points at a row showing that person, including in the
/// converted `.xls` file.
#[test]
fn committed_samples_are_consistent() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    if !dir.join("truth/mentions.csv").is_file() {
        eprintln!("no {} — skipped", dir.display());
        return;
    }
    let w = world(&dir);
    assert!(
        w.files.values().any(|f| f["format"] == "xls"),
        "an .xls file is committed"
    );
    for m in &w.mentions {
        assert!(dir.join(&m["file"]).is_file(), "{} is missing", m["file"]);
        let p = &w.persons[&m["person_id"]];
        let row = w.row(m);
        let shown = row
            .iter()
            .any(|c| name_matches(c, &p["name"]) || id_matches(c, &p["id_number"]));
        assert!(shown, "{m:?}: {row:?} does not show {}", p["name"]);
    }
}

#[test]
fn census_name_pools_hold_distinct_characters() {
    use super::names::census_pools;
    for (label, pool) in census_pools() {
        let chars: Vec<char> = pool.chars().collect();
        let distinct: HashSet<char> = chars.iter().copied().collect();
        assert_eq!(chars.len(), 36, "{label} has {} characters", chars.len());
        assert_eq!(distinct.len(), 36, "{label} repeats a character");
    }
}

/// The census model against the published figures it is calibrated to (伟 borne by 0.23% of
/// people, 秀英 by 0.15%, mostly of the generations that used them), and the dense model's
/// excess of namesakes that makes it a stress test.
#[test]
fn given_names_follow_their_model() {
    use super::names::{NameModel, given_name};
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let share = |rng: &mut rand::rngs::StdRng, model, male, year, name: &str| {
        let n = 100_000;
        let hits = (0..n)
            .filter(|_| given_name(rng, model, male, year) == name)
            .count();
        hits as f64 / f64::from(n)
    };
    let wei_1975 = share(&mut rng, NameModel::Census, true, 1975, "伟");
    assert!(
        (0.008..0.025).contains(&wei_1975),
        "伟 among men born 1975: {wei_1975}"
    );
    let xiuying_1950 = share(&mut rng, NameModel::Census, false, 1950, "秀英");
    assert!(
        (0.005..0.03).contains(&xiuying_1950),
        "秀英 among women born 1950: {xiuying_1950}"
    );
    let wei_2015 = share(&mut rng, NameModel::Census, true, 2015, "伟");
    assert!(wei_2015 < 0.001, "伟 among boys born 2015: {wei_2015}");
    let dense_wei_1975 = share(&mut rng, NameModel::Dense, true, 1975, "伟");
    assert!(
        dense_wei_1975 > 0.06,
        "dense 伟 among men born 1975: {dense_wei_1975}"
    );
    let singles = (0..100_000)
        .filter(|_| {
            given_name(&mut rng, NameModel::Census, true, 1975)
                .chars()
                .count()
                == 1
        })
        .count();
    assert!(
        (18_000..26_000).contains(&singles),
        "{singles} single-character names of 100,000 men born 1975"
    );
}
