//! Linkage on the registry, on every backend: generated exports resolve into persons that agree
//! with the truth; person IDs survive new data and full re-runs; review decisions are honoured;
//! explanations show the levels; `link` scores a CSV against its labels.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lifeline::ingest::collect_files;
use lifeline::linkage::csv_link::{LinkRequest, link};
use lifeline::linkage::evaluate::pairwise;
use lifeline::linkage::households::HouseholdOptions;
use lifeline::linkage::registry::{explain_pair, match_registry, review_decide};
use lifeline::linkage::spec::LinkageSpec;
use lifeline::registry::Registry;
use lifeline::samples::{SampleOptions, generate};
use sqlx::Row;

fn spec() -> LinkageSpec {
    LinkageSpec::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/linkage/persons.toml"
    )))
    .unwrap()
}

type Key = (String, String, i64, String);

fn truth(dir: &Path) -> HashMap<Key, (String, String)> {
    let mut reader = csv::Reader::from_path(dir.join("truth/mentions.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                (r[0].into(), r[1].into(), r[2].parse().unwrap(), r[3].into()),
                (r[4].into(), r[5].into()),
            )
        })
        .collect()
}

/// (mention id, key, person, household) of every linked mention.
async fn links(registry: &Registry) -> Vec<(i64, Key, String, String)> {
    sqlx::query(
        "SELECT m.id, f.file_name, m.sheet, m.row_number, m.role, l.person_id, p.household_id FROM mentions m \
         JOIN files f ON f.id = m.file_id JOIN mention_links l ON l.mention_id = m.id \
         JOIN persons p ON p.person_id = l.person_id ORDER BY m.id",
    )
    .fetch_all(registry.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4)), r.get(5), r.get(6)))
    .collect()
}

fn scores(
    links: &[(i64, Key, String, String)],
    truth: &HashMap<Key, (String, String)>,
) -> (f64, f64, f64) {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut id = |s: String| {
        let n = ids.len() as u32;
        *ids.entry(s).or_insert(n)
    };
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for (_, key, person, _) in links {
        let t = &truth[key];
        got.push(id(format!("p{person}")));
        want.push(id(format!("t{}", t.0)));
    }
    let s = pairwise(&got, &want, None, &[]);
    (s.precision, s.recall, s.f1)
}

async fn ingest(registry: &Registry, dir: &Path, files: &[PathBuf]) {
    let receipts = common::ingest(registry, &dir.join("receipts"), files).await;
    assert!(
        receipts
            .iter()
            .all(|r| r.status != lifeline::ingest::FileStatus::Failed)
    );
}

#[tokio::test]
async fn persons_agree_with_the_truth_and_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exports");
    generate(
        &SampleOptions {
            households: 1500,
            seed: 7,
            ..Default::default()
        },
        &out,
    )
    .unwrap();
    let truth = truth(&out);
    let mut files = collect_files(std::slice::from_ref(&out)).unwrap();
    files.sort();
    let later: Vec<PathBuf> = files.split_off(files.len() - 3);
    let spec = spec();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        ingest(registry, dir.path(), &files).await;
        let first = match_registry(registry, &spec, false, HouseholdOptions::default())
            .await
            .unwrap();
        assert_eq!(first.mode, "full", "{}", test.label);
        let before = links(registry).await;
        let (p, r, f1) = scores(&before, &truth);
        assert!(
            p > 0.98 && r > 0.90,
            "{}: precision {p:.4} recall {r:.4} F1 {f1:.4}",
            test.label
        );
        // Every person belongs to exactly one household that exists.
        let orphans: i64 = sqlx::query(
            "SELECT COUNT(*) FROM persons p LEFT JOIN households h ON h.household_id = p.household_id WHERE h.household_id IS NULL",
        )
        .fetch_one(registry.pool())
        .await
        .unwrap()
        .get(0);
        assert_eq!(orphans, 0, "{}", test.label);

        // New files: matched incrementally; existing mentions keep their person unless a merge
        // retired it (and then the change is recorded).
        ingest(registry, dir.path(), &later).await;
        let second = match_registry(registry, &spec, false, HouseholdOptions::default())
            .await
            .unwrap();
        assert_eq!(second.mode, "incremental", "{}", test.label);
        assert!(
            second.mentions > 0 && second.compared_existing < before.len(),
            "{}: {second:?}",
            test.label
        );
        let after = links(registry).await;
        let merged: HashMap<String, String> =
            sqlx::query("SELECT other_id, subject_id FROM identity_changes WHERE kind = 'merge'")
                .fetch_all(registry.pool())
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
        let now: HashMap<i64, &String> = after.iter().map(|(id, _, p, _)| (*id, p)).collect();
        for (id, _, person, _) in &before {
            let expected = merged.get(person).unwrap_or(person);
            assert_eq!(
                now[id], expected,
                "{}: mention {id} changed person without a recorded merge",
                test.label
            );
        }
        assert_eq!(
            after.len(),
            before.len() + second.mentions,
            "{}",
            test.label
        );
        let (p, r, _) = scores(&after, &truth);
        assert!(
            p > 0.98 && r > 0.90,
            "{}: after the increment precision {p:.4} recall {r:.4}",
            test.label
        );

        // A full re-run with the same data keeps every person ID.
        let third = match_registry(registry, &spec, true, HouseholdOptions::default())
            .await
            .unwrap();
        assert_eq!(third.new_persons, 0, "{}: {third:?}", test.label);
        let rerun = links(registry).await;
        let again: HashMap<i64, &String> = rerun.iter().map(|(id, _, p, _)| (*id, p)).collect();
        let changed = after.iter().filter(|(id, _, p, _)| again[id] != p).count();
        assert_eq!(
            changed, 0,
            "{}: {changed} mentions changed person on a full re-run",
            test.label
        );
        test.cleanup().await;
    }
}

/// A person who is not in the data twice stays whole; a rejected pair is split apart on the next
/// run and an accepted one joined; accepting two different valid ID numbers is refused.
#[tokio::test]
async fn review_decisions_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "姓名,身份证号,性别,出生日期,联系电话,家庭住址,房屋受损情况,受灾日期\n\
         张伟,,男,1980-03-04,13900001111,安徽省滁州市定远县炉桥镇金岗村,倒塌,2026-07-01\n\
         章伟,,男,1980-03-04,13900001111,安徽省滁州市定远县炉桥镇金岗村,严重损坏,2026-07-02\n\
         李娜,340104199001011239,女,1990-01-01,13700002222,安徽省滁州市定远县炉桥镇金岗村,一般损坏,2026-07-01\n\
         李娜,34112519900101124X,女,1990-01-01,13700002222,安徽省滁州市定远县炉桥镇金岗村,一般损坏,2026-07-01\n\
         王芳,341125198505051232,女,1985-05-05,13600003333,安徽省滁州市定远县炉桥镇金岗村,一般损坏,2026-07-01\n\
         王芳,341125198505051232,女,1985-05-05,13600003333,安徽省滁州市定远县炉桥镇金岗村,一般损坏,2026-07-03\n",
    );
    // the rest of the ledger: the model learns from the data how often strangers agree, and a
    // ledger of four rows, all of one village, teaches it that everyone shares a village
    let (surnames, given): (Vec<char>, Vec<char>) = (
        "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施孔曹严华金魏陶姜"
            .chars()
            .collect(),
        "明华国建军平秀英玉兰桂芳红霞丽敏静".chars().collect(),
    );
    let villages = [
        "炉桥镇金岗村",
        "永康镇大桥村",
        "池河镇太平村",
        "藕塘镇红旗村",
    ];
    for k in 0..30 {
        text.push_str(&format!(
            "{}{}{},,{},19{}-0{}-1{},13{k:09},安徽省滁州市定远县{},一般损坏,2026-07-0{}\n",
            surnames[k % surnames.len()],
            given[k % given.len()],
            given[(k * 7 + 3) % given.len()],
            if k % 2 == 1 { "男" } else { "女" },
            50 + k,
            1 + k % 9,
            k % 9,
            villages[k % villages.len()],
            1 + k % 5,
        ));
    }
    let csv = common::write_text(dir.path(), "受灾户明细.csv", &text, encoding_rs::UTF_8);
    let spec = spec();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        ingest(registry, dir.path(), std::slice::from_ref(&csv)).await;
        match_registry(registry, &spec, false, HouseholdOptions::default())
            .await
            .unwrap();
        let person_of = |links: &[(i64, Key, String, String)], row: i64| {
            links
                .iter()
                .find(|l| l.1.2 == row)
                .map(|l| l.2.clone())
                .unwrap()
        };
        let first = links(registry).await;
        assert_eq!(
            person_of(&first, 2),
            person_of(&first, 3),
            "{}: 张伟/章伟 with the same birth date and phone",
            test.label
        );
        assert_ne!(
            person_of(&first, 4),
            person_of(&first, 5),
            "{}: two valid IDs never join",
            test.label
        );
        let explanation = explain_pair(registry, &spec, first[0].0, first[1].0)
            .await
            .unwrap();
        let name = &explanation.explanation.rows[0];
        assert_eq!(
            (name.field.as_str(), name.level.as_str()),
            ("name", "same pinyin (weighted by how common the value is)")
        );
        // The 李娜 pair scores as a match but was refused by the ID guard; a reviewer who tries to
        // join them is refused too.
        let li_na = queue_pair(registry, first[2].0, first[3].0).await;
        let refused = review_decide(registry, &spec, li_na, true, "test", None).await;
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("two different valid ID numbers")
        );
        // Reject the 张伟/章伟 link: the next run splits them and records the split.
        let id = queue_pair(registry, first[0].0, first[1].0).await;
        review_decide(registry, &spec, id, false, "test", Some("different men"))
            .await
            .unwrap();
        let rerun = match_registry(registry, &spec, false, HouseholdOptions::default())
            .await
            .unwrap();
        assert_eq!(rerun.splits, 1, "{}: {rerun:?}", test.label);
        let second = links(registry).await;
        assert_ne!(
            person_of(&second, 2),
            person_of(&second, 3),
            "{}",
            test.label
        );
        assert_eq!(
            person_of(&second, 2),
            person_of(&first, 2),
            "{}: the first mention keeps the ID",
            test.label
        );
        // And again: decisions stay honoured by later runs.
        match_registry(registry, &spec, true, HouseholdOptions::default())
            .await
            .unwrap();
        let third = links(registry).await;
        assert_ne!(person_of(&third, 2), person_of(&third, 3), "{}", test.label);
        test.cleanup().await;
    }
}

/// Puts a pair in the review queue (as a caseworker's question would) and returns its id.
async fn queue_pair(registry: &Registry, a: i64, b: i64) -> i64 {
    sqlx::query(
        "INSERT INTO link_reviews (mention_a, mention_b, score, status, created_at) VALUES ($1, $2, 0, 'pending', 'test') \
         ON CONFLICT (mention_a, mention_b) DO UPDATE SET status = 'pending'",
    )
    .bind(a)
    .bind(b)
    .execute(registry.pool())
    .await
    .unwrap();
    sqlx::query("SELECT id FROM link_reviews WHERE mention_a = $1 AND mention_b = $2")
        .bind(a)
        .bind(b)
        .fetch_one(registry.pool())
        .await
        .unwrap()
        .get(0)
}

/// Names, birth dates and phones of a small CSV, linked on name and birth date.
fn link_spec() -> LinkageSpec {
    LinkageSpec::parse(&link_spec_text(), "test").unwrap()
}

fn link_spec_text() -> String {
    String::from(
        r#"
id_column = "id"
[model]
match_weight = 0.0
u_sample_pairs = 1000
[[field]]
name = "name"
kind = "name"
[[field]]
name = "born"
kind = "date"
[[field]]
name = "phone"
kind = "phone"
[[blocking]]
keys = ["name.surname"]
[[blocking]]
keys = ["born"]
[[comparison]]
field = "name"
levels = ["exact", "pinyin", "given_swapped", "char_dropped"]
must_agree = true
[[comparison]]
field = "born"
levels = ["exact", "day_month_swapped"]
[[comparison]]
field = "phone"
levels = ["exact"]
"#,
    )
}

#[test]
fn link_scores_a_csv_against_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    let data = "id,name,born,phone,truth\n\
                1,张伟,1980-03-04,13900001111,a\n\
                2,章伟,1980-03-04,,a\n\
                3,張偉,1980-03-04,13900001111,a\n\
                4,王小明,1975-06-07,13800002222,b\n\
                5,王明小,1975-06-07,13800002222,b\n\
                6,王明,1975-07-06,13800002222,b\n\
                7,李娜,1990-01-01,13700003333,c\n\
                8,刘洋,1990-01-01,13600004444,d\n";
    let input = dir.path().join("people.csv");
    std::fs::write(&input, data).unwrap();
    let spec = link_spec();
    let clusters = dir.path().join("clusters.csv");
    let report = link(
        &spec,
        &LinkRequest {
            inputs: vec![input],
            pairs_out: None,
            clusters_out: Some(clusters.clone()),
            truth: Some("truth".into()),
        },
    )
    .unwrap();
    let scores = report.scores.unwrap();
    assert_eq!(scores.actual, 6, "3 pairs of a, 3 of b");
    assert_eq!(scores.blocking_recall, 1.0);
    assert!(
        scores.precision == 1.0,
        "李娜 and 刘洋 share a birth date but not a name: {scores:?}"
    );
    let written = std::fs::read_to_string(clusters).unwrap();
    assert_eq!(written.lines().count(), 9);
}

/// A file of a few megabytes is read from disk in two halves and parsed in parts on several
/// threads: the records, their `FILE:LINE` names and the persons found are those of the same file
/// parsed in one part (a quoted cell, which may hold a line end, keeps a file in one part).
#[test]
fn link_reads_a_large_file_in_parts_as_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let spec =
        LinkageSpec::parse(&link_spec_text().replace("id_column = \"id\"", ""), "test").unwrap();
    let surnames: Vec<char> = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许".chars().collect();
    let given: Vec<char> = "明华国建军平秀英玉兰桂芳红霞丽敏静伟强磊洋勇艳杰娟涛超刚燕辉"
        .chars()
        .collect();
    // a wide column linkage does not read, as exports have, so that 30,000 rows make megabytes
    let note = "住院治疗，自付费用较高，家庭收入来源单一，建议乡镇民政办入户核实".repeat(2);
    let mut rows = String::from("name,born,phone,note,truth\n");
    for k in 0..30_000usize {
        // every person twice, the second time without a phone
        let person = k / 2;
        let name: String = [
            surnames[person % 20],
            given[person / 20 % 30],
            given[person / 600 % 30],
        ]
        .iter()
        .collect();
        let phone = if k % 2 == 0 {
            format!("139{person:08}")
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "{name},{}-{:02}-{:02},{phone},{note},p{person}\n",
            1940 + person % 60,
            1 + person / 60 % 12,
            1 + person / 720 % 28,
        ));
    }
    assert!(rows.len() > 2 << 20, "large enough to be cut");
    let quoted = rows.replacen("赵明明,", "\"赵明明\",", 1);
    let mut outputs = Vec::new();
    for (name, text) in [("plain.csv", &rows), ("quoted.csv", &quoted)] {
        let input = dir.path().join(name);
        std::fs::write(&input, text).unwrap();
        let clusters = dir.path().join(format!("{name}.clusters"));
        let report = link(
            &spec,
            &LinkRequest {
                inputs: vec![input],
                pairs_out: None,
                clusters_out: Some(clusters.clone()),
                truth: Some("truth".into()),
            },
        )
        .unwrap();
        assert_eq!(report.records, vec![30_000]);
        let scores = report.scores.unwrap();
        assert_eq!(scores.actual, 15_000);
        assert_eq!(scores.precision, 1.0, "{scores:?}");
        let written = std::fs::read_to_string(clusters).unwrap();
        outputs.push(written.replace(name, "FILE"));
    }
    assert_eq!(outputs[0], outputs[1]);
    let lines: Vec<&str> = outputs[0].lines().collect();
    assert_eq!(lines[1], "FILE:2,FILE:2");
    assert_eq!(lines[30_000], "FILE:30001,FILE:30000");
}

/// The same people written as UTF-8, UTF-8 with a byte-order mark and GBK (as county offices
/// save CSV from Excel) link the same way; bytes that are no text are refused by name.
#[test]
fn link_reads_utf8_bom_and_gbk_alike() {
    let dir = tempfile::tempdir().unwrap();
    let data = "id,name,born,phone\n1,张伟,1980-03-04,\n2,張偉,1980-03-04,\n3,李娜,1990-01-01,\n";
    let spec = link_spec();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(data);
    assert!(!unmappable);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("utf8.csv", data.as_bytes().to_vec()),
        (
            "bom.csv",
            [b"\xEF\xBB\xBF".as_slice(), data.as_bytes()].concat(),
        ),
        ("gbk.csv", gbk.into_owned()),
    ];
    let mut written = Vec::new();
    for (name, bytes) in variants {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let clusters = dir.path().join(format!("{name}.clusters"));
        link(
            &spec,
            &LinkRequest {
                inputs: vec![input],
                pairs_out: None,
                clusters_out: Some(clusters.clone()),
                truth: None,
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        written.push(std::fs::read_to_string(clusters).unwrap());
    }
    assert_eq!(written[0], "id,cluster\n1,1\n2,1\n3,3\n");
    assert_eq!(written[1], written[0]);
    assert_eq!(written[2], written[0]);

    let binary = dir.path().join("binary.csv");
    std::fs::write(&binary, [0x80u8, 0xFF, 0xFE, 0x00, 0x81, 0x20]).unwrap();
    let error = link(
        &spec,
        &LinkRequest {
            inputs: vec![binary],
            pairs_out: None,
            clusters_out: None,
            truth: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("binary.csv") && error.contains("GB18030"),
        "{error}"
    );
}
