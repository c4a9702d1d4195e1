//! Crafted workbooks found by the `workbook` fuzz target (fuzz/). Each runs in a test binary of
//! its own: calamine allocates hundreds of megabytes on some of them before it gives up, which
//! would disturb the memory measurements of other tests in the same process.

mod common;

use lifeline::ingest::FileStatus;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A compound document on which calamine asserts (`to_u32` on a sector table of odd length):
/// the panic ends as a damaged-file error for that file (it read "internal error while
/// reading") and the next file is read.
#[tokio::test]
async fn a_workbook_the_reader_panics_on_fails_alone_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in ["a_crafted.xlsx", "b_crafted.xls"] {
        let path = dir.path().join(name);
        std::fs::copy(fixture("calamine_panic.xlsx"), &path).unwrap();
        files.push(path);
    }
    files.push(common::write_text(
        dir.path(),
        "z_good.csv",
        "姓名,身份证号,入院日期,个人自付\n张三,11010519491231002X,2026-01-02,100.50\n",
        encoding_rs::UTF_8,
    ));
    let registry = lifeline::registry::Registry::open(&format!(
        "sqlite:{}",
        dir.path().join("r.db").display()
    ))
    .await
    .unwrap();
    let receipts = common::ingest(&registry, &dir.path().join("receipts"), &files).await;
    for receipt in &receipts[..2] {
        assert_eq!(receipt.status, FileStatus::Failed, "{}", receipt.summary());
        let error = receipt.error.clone().unwrap_or_default();
        assert!(
            error.contains("damaged") && error.contains("save it again"),
            "the officer is told the file is damaged: {error}"
        );
    }
    assert_eq!(receipts[2].status, FileStatus::Ingested);
    assert_eq!(receipts[2].rows_accepted, 1);
}

/// A 5 KB compound document whose sector chain loops: calamine follows it up to the stream
/// length the file declares, past 4 GiB. Its chains are checked against the file's size
/// first, so it fails alone, at once, as damaged (before the check, only the child reader's
/// memory budget stopped it), and the next file is taken.
#[test]
fn a_workbook_whose_sector_chain_loops_fails_alone_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let crafted = dir.path().join("a_crafted.xls");
    std::fs::copy(fixture("calamine_cyclic_chain.xls"), &crafted).unwrap();
    let good = common::write_text(
        dir.path(),
        "z_good.csv",
        "姓名,身份证号,入院日期,个人自付\n张三,11010519491231002X,2026-01-02,100.50\n",
        encoding_rs::UTF_8,
    );
    let started = std::time::Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lifeline"))
        .current_dir(dir.path())
        .env_remove("LIFELINE_DB")
        .env("LIFELINE_READER_MEMORY_MB", "1024")
        .arg("--db")
        .arg(format!("sqlite:{}", dir.path().join("r.db").display()))
        .arg("ingest")
        .arg("--receipts")
        .arg(dir.path().join("receipts"))
        .arg(&crafted)
        .arg(&good)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .contains("a_crafted.xls: FAILED: workbook is damaged or truncated (its compound-document structure is damaged"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("z_good.csv: ingested"), "{stdout}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
