//! Linkage quality and speed on generated exports with known truth.
//!
//! For each size: `lifeline samples` writes the exports of N households with their truth; all but
//! the smallest files holding ~1% of the rows are ingested into a fresh SQLite registry; `match`
//! resolves them (full run: training + clustering + writing); the held-back files are ingested and
//! matched incrementally; then every mention's person and household are compared with the truth:
//! pairwise precision, recall and F1 over mentions of one person, and over persons of one household.
//!
//! Where recall goes: the pairs a person loses are counted by how many namesakes the person has
//! (people of the same name, gender and county with a mention), so that pairs a row's fields
//! cannot tell apart show as such.
//!
//! Run: `cargo bench --bench linkage` (release build; default 55,000 and 550,000 households, about
//! 100,000 and 1,000,000 mentions), or `-- --households 3000` for one size; `-- --seed 7` draws
//! other households (default 20141); `-- --names dense` draws given names from the namesake-dense
//! model (its commonest full names on seven times as many people as the census model: a stress
//! test).

/// The same allocator as the `lifeline` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lifeline::ingest::{IngestOptions, Ingestor, collect_files};
use lifeline::linkage::evaluate::{missed_pairs, pairwise};
use lifeline::linkage::households::HouseholdOptions;
use lifeline::linkage::registry::match_registry;
use lifeline::linkage::spec::LinkageSpec;
use lifeline::mapping::MappingSet;
use lifeline::registry::Registry;
use lifeline::samples::{NameModel, SampleOptions, generate};
use sqlx::Row;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Truth per (file, sheet, row, role): (person, household).
fn read_truth(dir: &Path) -> HashMap<(String, String, i64, String), (String, String)> {
    let mut reader =
        csv::Reader::from_path(dir.join("truth/mentions.csv")).expect("truth mentions");
    let mut out = HashMap::new();
    for row in reader.records() {
        let row = row.expect("truth row");
        out.insert(
            (
                row[0].to_string(),
                row[1].to_string(),
                row[2].parse().unwrap_or(0),
                row[3].to_string(),
            ),
            (row[4].to_string(), row[5].to_string()),
        );
    }
    out
}

/// Truth per person: (name, gender, county).
fn read_persons(dir: &Path) -> HashMap<String, (String, String, String)> {
    let mut reader = csv::Reader::from_path(dir.join("truth/persons.csv")).expect("truth persons");
    let header = reader.headers().expect("truth persons header").clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("truth/persons.csv has no column {name}"))
    };
    let (id, name, gender, county) = (
        column("person_id"),
        column("name"),
        column("gender"),
        column("county_code"),
    );
    reader
        .records()
        .map(|row| {
            let row = row.expect("truth person row");
            (
                row[id].to_string(),
                (
                    row[name].to_string(),
                    row[gender].to_string(),
                    row[county].to_string(),
                ),
            )
        })
        .collect()
}

/// Prints the true pairs lost, by how many people mentioned share the person's name, gender and
/// county (the person included).
fn print_missed_by_namesakes(
    person: &[u32],
    truth_person: &[u32],
    truth_ids: &HashMap<u32, String>,
    persons: &HashMap<String, (String, String, String)>,
) {
    let mentioned: std::collections::HashSet<u32> = truth_person.iter().copied().collect();
    let mut namesakes: HashMap<&(String, String, String), u64> = HashMap::new();
    for t in &mentioned {
        if let Some(facts) = persons.get(&truth_ids[t]) {
            *namesakes.entry(facts).or_default() += 1;
        }
    }
    const BANDS: [(&str, u64, u64); 4] = [
        ("none", 1, 1),
        ("1", 2, 2),
        ("2-3", 3, 4),
        ("4 or more", 5, u64::MAX),
    ];
    let mut lost = [0u64; BANDS.len()];
    let mut total = 0;
    for (t, missed) in missed_pairs(person, truth_person) {
        total += missed;
        let n = persons.get(&truth_ids[&t]).map_or(1, |f| namesakes[f]);
        if let Some(band) = BANDS.iter().position(|&(_, lo, hi)| (lo..=hi).contains(&n)) {
            lost[band] += missed;
        }
    }
    let bands: Vec<String> = BANDS
        .iter()
        .zip(lost)
        .map(|((label, _, _), n)| format!("{label} {n}"))
        .collect();
    println!(
        "true pairs lost: {total}; by the person's namesakes (same name, gender and county, mentioned): {}",
        bands.join(", ")
    );
}

async fn run(households: usize, seed: u64, names: NameModel, spec: &LinkageSpec) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("exports");
    let t = Instant::now();
    let summary = generate(
        &SampleOptions {
            households,
            seed,
            names,
        },
        &out,
    )
    .expect("samples");
    println!(
        "\n== {households} households (seed {seed}, {names:?} names): {} persons, {} mentions in {} files (generated in {:.1} s)",
        summary.persons,
        summary.mentions,
        summary.files.len(),
        t.elapsed().as_secs_f64()
    );
    let files = collect_files(std::slice::from_ref(&out)).expect("files");
    // Hold back the smallest files holding about 1% of the rows for the incremental run.
    let mut sized: Vec<(PathBuf, usize)> = files
        .iter()
        .map(|f| {
            let rows = summary
                .files
                .iter()
                .find(|(p, _)| p.file_name() == f.file_name())
                .map_or(0, |(_, r)| *r);
            (f.clone(), rows)
        })
        .collect();
    sized.sort_by_key(|(_, r)| *r);
    let total_rows: usize = sized.iter().map(|(_, r)| r).sum();
    let mut held = Vec::new();
    let mut held_rows = 0;
    for (f, r) in &sized {
        if (held_rows + r) as f64 > 0.012 * total_rows as f64 {
            break;
        }
        held.push(f.clone());
        held_rows += r;
    }
    let first: Vec<PathBuf> = files
        .iter()
        .filter(|f| !held.contains(f))
        .cloned()
        .collect();
    let db = format!("sqlite:{}", dir.path().join("registry.db").display());
    let registry = Registry::open(&db).await.expect("registry");
    let mappings = MappingSet::built_in().expect("mappings");
    let ingestor = Ingestor::new(&registry, &mappings, IngestOptions::default());
    let t = Instant::now();
    ingestor.ingest_paths(&first).await.expect("ingest");
    println!(
        "ingested {} files in {:.1} s",
        first.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let full = match_registry(&registry, spec, false, HouseholdOptions::default())
        .await
        .expect("match");
    let full_secs = t.elapsed().as_secs_f64();
    println!(
        "full match: {} mentions in {:.2} s (reading {:.2}, linking {:.2}, writing {:.2}); {} pairs compared; {} persons, {} households; peak RSS so far {:.0} MiB",
        full.mentions,
        full_secs,
        full.seconds[0],
        full.seconds[1],
        full.seconds[2],
        full.pairs,
        full.persons,
        full.households,
        peak_rss_mib()
    );
    ingestor
        .ingest_paths(&held)
        .await
        .expect("ingest held back");
    let t = Instant::now();
    let inc = match_registry(&registry, spec, false, HouseholdOptions::default())
        .await
        .expect("incremental");
    println!(
        "incremental match: {} new mentions ({:.2}% of all; {} files) against {} existing mentions in {:.3} s; {} new persons",
        inc.mentions,
        100.0 * inc.mentions as f64 / (inc.mentions + full.mentions) as f64,
        held.len(),
        inc.compared_existing,
        t.elapsed().as_secs_f64(),
        inc.new_persons
    );
    // Compare with the truth.
    let truth = read_truth(&out);
    let rows = sqlx::query(
        "SELECT f.file_name, m.sheet, m.row_number, m.role, l.person_id, p.household_id FROM mentions m \
         JOIN files f ON f.id = m.file_id JOIN mention_links l ON l.mention_id = m.id \
         JOIN persons p ON p.person_id = l.person_id",
    )
    .fetch_all(registry.pool())
    .await
    .expect("links");
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: String| {
        let n = ids.len() as u32;
        *ids.entry(s).or_insert(n)
    };
    let (mut person, mut truth_person, mut household, mut truth_household) =
        (vec![], vec![], vec![], vec![]);
    let mut unknown = 0;
    for r in rows {
        let key: (String, String, i64, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let Some((tp, th)) = truth.get(&key) else {
            unknown += 1;
            continue;
        };
        person.push(intern(format!("p{}", r.get::<String, _>(4))));
        household.push(intern(format!("h{}", r.get::<String, _>(5))));
        truth_person.push(intern(format!("tp{tp}")));
        truth_household.push(intern(format!("th{th}")));
    }
    let p = pairwise(&person, &truth_person, None, &[]);
    let truth_ids: HashMap<u32, String> = ids
        .iter()
        .filter_map(|(k, &v)| k.strip_prefix("tp").map(|id| (v, id.to_string())))
        .collect();
    let h = pairwise(&household, &truth_household, None, &[]);
    println!(
        "persons:    precision {:.5} recall {:.5} F1 {:.5} over {} mentions ({} mentions not in the truth)",
        p.precision,
        p.recall,
        p.f1,
        person.len(),
        unknown
    );
    println!(
        "households: precision {:.5} recall {:.5} F1 {:.5} (pairs of mentions in one household)",
        h.precision, h.recall, h.f1
    );
    print_missed_by_namesakes(&person, &truth_person, &truth_ids, &read_persons(&out));
    println!("peak RSS of the whole run {:.0} MiB", peak_rss_mib());
    registry.close().await;
}

fn main() {
    lifeline::disable_transparent_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = args
        .windows(2)
        .filter(|w| w[0] == "--households")
        .filter_map(|w| w[1].parse().ok())
        .collect();
    let seed = args
        .windows(2)
        .find(|w| w[0] == "--seed")
        .map_or(20141, |w| w[1].parse().expect("--seed takes a number"));
    let names: NameModel = args
        .windows(2)
        .find(|w| w[0] == "--names")
        .map_or(Ok(NameModel::Census), |w| w[1].parse())
        .expect("--names takes census or dense");
    let sizes = if sizes.is_empty() {
        vec![55_000, 550_000]
    } else {
        sizes
    };
    let spec = LinkageSpec::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/linkage/persons.toml"
    )))
    .expect("linkage spec");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for n in sizes {
        runtime.block_on(run(n, seed, names, &spec));
    }
}
