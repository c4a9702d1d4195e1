//! The inbox end to end: the watcher runs (filesystem events and rescans) on a temporary
//! folder while files are dropped into it — at once, slowly, twice, broken, in a department
//! sub-folder — and is killed in the middle of a file and started again.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lifeline::connectors::{ConnectorKind, ConnectorSet};
use lifeline::ingest::{FileStatus, Receipt};
use lifeline::mapping::MappingSet;
use lifeline::registry::{Registry, Table};
use lifeline::schedule::{JobRunner, Unavailable};
use lifeline::shutdown::Shutdown;
use tokio::sync::mpsc;

const HEADER: &str = "序号,患者姓名,身份证号码,性别,入院日期,个人自付（元）,家庭住址\n";

const NAMES: [&str; 12] = [
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐亮", "孙丽",
];

fn person_name(n: u32) -> &'static str {
    NAMES[(n as usize) % NAMES.len()]
}

fn health_rows(from: u32, to: u32) -> String {
    (from..=to)
        .map(|n| {
            format!(
                "{n},{},11010519491231002X,女,2026/3/1,{}.00,安徽省滁州市定远县炉桥镇金岗村\n",
                person_name(n),
                1000 + n
            )
        })
        .collect()
}

fn inbox_toml(inbox: &Path, settle: f64) -> String {
    format!(
        "kind = \"inbox\"\ndepartment = \"health\"\npath = '{}'\nsettle_seconds = {settle}\n\
         rescan_seconds = 0.5\nfolders = {{ \"卫健委\" = \"health\" }}\n",
        inbox.display()
    )
}

struct Watching {
    task: tokio::task::JoinHandle<()>,
    receipts: mpsc::UnboundedReceiver<Receipt>,
    trigger: lifeline::shutdown::ShutdownTrigger,
}

fn watch(registry: &Registry, dir: &Path, inbox: &Path, settle: f64) -> Watching {
    let mappings = MappingSet::built_in().unwrap();
    let connectors = ConnectorSet::from_sources(
        &[(
            "connectors/health_inbox.toml".into(),
            inbox_toml(inbox, settle),
        )],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (trigger, shutdown) = Shutdown::new();
    let runner = Arc::new(JobRunner::new(
        registry.clone(),
        mappings,
        connectors.clone(),
        dir.join("receipts"),
        Arc::new(Unavailable),
        shutdown,
    ));
    let (sender, receipts) = mpsc::unbounded_channel();
    let connector = connectors.connectors[0].clone();
    let task = tokio::spawn(async move {
        let ConnectorKind::Inbox(inbox) = &connector.kind else {
            panic!("an inbox");
        };
        let context = runner.sync_context();
        inbox
            .watch(&connector, &context, Some(sender))
            .await
            .unwrap();
    });
    Watching {
        task,
        receipts,
        trigger,
    }
}

async fn next_receipt(watching: &mut Watching) -> Receipt {
    tokio::time::timeout(Duration::from_secs(20), watching.receipts.recv())
        .await
        .expect("a file was taken within 20 s")
        .expect("the watcher is running")
}

fn archived(inbox: &Path) -> PathBuf {
    let day = chrono::Utc::now()
        .with_timezone(&lifeline::schedule::SHANGHAI)
        .format("%Y-%m-%d")
        .to_string();
    inbox.join("archive").join(day)
}

#[tokio::test]
async fn files_dropped_while_the_service_runs_are_taken_once_complete() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let mut watching = watch(registry, dir.path(), &inbox, 1.0);

        // a file dropped at once
        let first = format!(
            "{HEADER}{}1000,王五,,男,2026-02-30,100,\n",
            health_rows(1, 3)
        );
        std::fs::write(inbox.join("住院a.csv"), &first).unwrap();
        let receipt = next_receipt(&mut watching).await;
        assert_eq!(
            receipt.status,
            FileStatus::Ingested,
            "{}: {receipt:?}",
            test.label
        );
        assert_eq!((receipt.rows_accepted, receipt.rows_rejected), (3, 1));
        let day = archived(&inbox);
        assert!(day.join("住院a.csv").exists());
        assert!(day.join("住院a.csv.receipt.json").exists());
        assert!(day.join("住院a.csv.rejects.xlsx").exists());
        assert!(!inbox.join("住院a.csv").exists());

        // the same content again, under another name: recognised, not stored twice
        std::fs::write(inbox.join("住院a-重发.csv"), &first).unwrap();
        let receipt = next_receipt(&mut watching).await;
        assert_eq!(receipt.status, FileStatus::Duplicate, "{}", test.label);
        assert_eq!(registry.count(Table::Records).await.unwrap(), 3);
        assert!(day.join("住院a-重发.csv.duplicate.receipt.json").exists());

        // a file written slowly: taken once, whole, after the writing stopped
        let mut file = std::fs::File::create(inbox.join("住院b.csv")).unwrap();
        file.write_all(HEADER.as_bytes()).unwrap();
        for n in 0..8 {
            file.write_all(health_rows(100 + n * 10, 109 + n * 10).as_bytes())
                .unwrap();
            file.flush().unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert!(
                watching.receipts.try_recv().is_err(),
                "{}: the file was taken while still being written",
                test.label
            );
        }
        drop(file);
        let receipt = next_receipt(&mut watching).await;
        assert_eq!(receipt.status, FileStatus::Ingested);
        assert_eq!(receipt.rows_accepted, 80, "{}", test.label);

        // a broken file goes to failed/ with the reason beside it
        std::fs::write(inbox.join("坏文件.xlsx"), b"this is not a workbook at all").unwrap();
        let receipt = next_receipt(&mut watching).await;
        assert_eq!(receipt.status, FileStatus::Failed);
        assert!(inbox.join("failed").join("坏文件.xlsx").exists());
        let why =
            std::fs::read_to_string(inbox.join("failed").join("坏文件.xlsx.why.txt")).unwrap();
        assert!(why.contains("Why:"), "{why}");

        // a department sub-folder, and a temporary name that is never taken
        std::fs::create_dir_all(inbox.join("卫健委")).unwrap();
        std::fs::write(inbox.join("卫健委").join("上传中.csv.part"), "x").unwrap();
        std::fs::write(
            inbox.join("卫健委").join("住院c.csv"),
            format!("{HEADER}{}", health_rows(500, 501)),
        )
        .unwrap();
        let receipt = next_receipt(&mut watching).await;
        assert_eq!(receipt.status, FileStatus::Ingested);
        assert_eq!(receipt.mappings, vec!["health".to_string()]);
        assert!(day.join("卫健委").join("住院c.csv").exists());
        assert!(inbox.join("卫健委").join("上传中.csv.part").exists());
        assert_eq!(registry.count(Table::Records).await.unwrap(), 85);

        watching.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(10), watching.task)
            .await
            .expect("the watcher stops on shutdown")
            .unwrap();
        // next backend starts from an empty inbox
        std::fs::remove_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&inbox).unwrap();
        test.cleanup().await;
    }
}

/// Regression: a symbolic link in the inbox to a file outside it was ingested when a
/// filesystem event named it (and skipped when a rescan found it).
#[tokio::test]
async fn links_in_the_inbox_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let outside = dir.path().join("另一个县.csv");
    std::fs::write(&outside, format!("{HEADER}{}", health_rows(1, 5))).unwrap();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let mut watching = watch(registry, dir.path(), &inbox, 0.3);
        // the link is made once the watcher runs, so that an event names it
        tokio::time::sleep(Duration::from_millis(700)).await;
        std::os::unix::fs::symlink(&outside, inbox.join("链接.csv")).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        std::fs::write(
            inbox.join("住院.csv"),
            format!("{HEADER}{}", health_rows(100, 101)),
        )
        .unwrap();
        let receipt = next_receipt(&mut watching).await;
        assert_eq!(receipt.file, "住院.csv", "{}: {receipt:?}", test.label);
        assert_eq!(receipt.rows_accepted, 2);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            watching.receipts.try_recv().is_err(),
            "{}: the link was taken",
            test.label
        );
        assert_eq!(registry.count(Table::Records).await.unwrap(), 2);
        assert!(inbox.join("链接.csv").is_symlink(), "the link stays");
        assert!(outside.exists(), "the file it names is not moved");
        watching.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(10), watching.task)
            .await
            .expect("the watcher stops on shutdown")
            .unwrap();
        std::fs::remove_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&inbox).unwrap();
        test.cleanup().await;
    }
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_file_neither_loses_nor_duplicates_it() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let rows = 20_000;
    std::fs::write(
        inbox.join("大文件.csv"),
        format!("{HEADER}{}", health_rows(1, rows)),
    )
    .unwrap();

    // the service is killed while it reads the file
    let watching = watch(&registry, dir.path(), &inbox, 0.1);
    for _ in 0..2000 {
        if registry.count(Table::Files).await.unwrap() > 0 || probe_batches(&registry).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    watching.task.abort();
    let _ = watching.task.await;
    let stored = registry.count(Table::Records).await.unwrap();
    // either the kill came before the commit (nothing stored, file still in the inbox) or just
    // after it (everything stored): never a part
    assert!(stored == 0 || stored == rows as i64, "{stored} rows stored");

    // started again: the file is taken (or recognised as stored) and archived, exactly once
    let mut watching = watch(&registry, dir.path(), &inbox, 0.1);
    let receipt = next_receipt(&mut watching).await;
    assert!(
        matches!(receipt.status, FileStatus::Ingested | FileStatus::Duplicate),
        "{receipt:?}"
    );
    assert_eq!(registry.count(Table::Records).await.unwrap(), rows as i64);
    assert!(archived(&inbox).join("大文件.csv").exists());
    assert!(!inbox.join("大文件.csv").exists());
    watching.trigger.trigger();
    let _ = watching.task.await;

    // killed after the commit but before the move: recognised as stored, not stored again
    let file = inbox.join("已入库.csv");
    std::fs::write(&file, format!("{HEADER}{}", health_rows(30_001, 30_010))).unwrap();
    let receipts = common::ingest(&registry, &dir.path().join("receipts"), &[file]).await;
    assert_eq!(receipts[0].status, FileStatus::Ingested);
    let mut watching = watch(&registry, dir.path(), &inbox, 0.1);
    let receipt = next_receipt(&mut watching).await;
    assert_eq!(receipt.status, FileStatus::Duplicate);
    assert_eq!(
        registry.count(Table::Records).await.unwrap(),
        rows as i64 + 10
    );
    assert!(archived(&inbox).join("已入库.csv").exists());
    watching.trigger.trigger();
    let _ = watching.task.await;
}

async fn probe_batches(registry: &Registry) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM batches")
        .fetch_one(registry.pool())
        .await
        .map(|r| r.get::<i64, _>(0))
        .unwrap_or(0)
}

/// Regression: a registry that could not take the write (SQLite busy past its 30 s timeout,
/// disk full, a dropped PostgreSQL connection) sent good files to `failed/` telling the officer
/// to fix them. The file now stays in the inbox and is taken once the registry can write.
#[tokio::test]
async fn a_busy_registry_keeps_the_file_for_later_instead_of_failing_it() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let path = dir.path().join("r.db");
    let registry = Registry::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    // another process holds the write lock longer than the registry waits for it
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    // the batch is opened, then the lock is taken before the file's own transaction
    let batch = registry.start_batch("test").await.unwrap();
    sqlx::raw_sql("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    let file = dir.path().join("住院-待入库.csv");
    std::fs::write(&file, format!("{HEADER}{}", health_rows(1, 4))).unwrap();
    let mappings = MappingSet::built_in().unwrap();
    let outcome = lifeline::ingest::Ingestor::new(
        &registry,
        &mappings,
        lifeline::ingest::IngestOptions::default(),
    )
    .ingest_file(batch, &file)
    .await;
    match outcome {
        Err(error) => assert!(error.is_transient(), "{error}"),
        Ok(receipt) => panic!("a busy registry made the file fail: {}", receipt.summary()),
    }
    // and the watcher, started while the registry is busy, waits for it instead of stopping
    let mut watching = watch(&registry, dir.path(), &inbox, 0.3);
    std::fs::write(
        inbox.join("住院.csv"),
        format!("{HEADER}{}", health_rows(1, 4)),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(33)).await;
    assert!(
        watching.receipts.try_recv().is_err(),
        "no receipt while the registry is busy"
    );
    assert!(
        inbox.join("住院.csv").exists(),
        "the file stays in the inbox"
    );
    assert!(
        !inbox.join("failed").join("住院.csv").exists(),
        "a good file is not failed for the registry's trouble"
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    holder.close().await.unwrap();
    let receipt = tokio::time::timeout(Duration::from_secs(60), watching.receipts.recv())
        .await
        .expect("taken once the registry can write")
        .unwrap();
    assert_eq!(receipt.status, FileStatus::Ingested, "{receipt:?}");
    assert_eq!(receipt.rows_accepted, 4);
    assert_eq!(registry.count(Table::Records).await.unwrap(), 4);
    assert!(archived(&inbox).join("住院.csv").exists());
    watching.trigger.trigger();
    tokio::time::timeout(Duration::from_secs(40), watching.task)
        .await
        .expect("the watcher stops on shutdown")
        .unwrap();
}

/// Regression: a file still being copied (written in two bursts 10 s apart with a settle time
/// of 3 s) was ingested as complete: 100 of 200 rows stored, the rest lost. A file written to
/// and not yet closed is now waited for, and what is stored is what was hashed.
#[tokio::test]
async fn a_copy_that_pauses_longer_than_the_settle_time_is_taken_whole() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let mut watching = watch(&registry, dir.path(), &inbox, 3.0);
    // the service is watching before the copy starts (a writer that began before lifeline
    // started is only seen through the settle time)
    tokio::time::sleep(Duration::from_secs(1)).await;
    let path = inbox.join("慢慢复制.csv");
    let mut copying = std::fs::File::create(&path).unwrap();
    copying
        .write_all(format!("{HEADER}{}", health_rows(1, 100)).as_bytes())
        .unwrap();
    copying.flush().unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    copying.write_all(health_rows(101, 200).as_bytes()).unwrap();
    drop(copying);

    let receipt = next_receipt(&mut watching).await;
    assert_eq!(receipt.status, FileStatus::Ingested, "{receipt:?}");
    assert_eq!(receipt.rows_accepted, 200, "{receipt:?}");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 200);
    let (sha256, _) = lifeline::ingest::hash_file(&archived(&inbox).join("慢慢复制.csv")).unwrap();
    assert_eq!(
        receipt.sha256, sha256,
        "the stored hash describes the archived file"
    );
    watching.trigger.trigger();
    let _ = watching.task.await;
}

/// Regression: a file that made the process abort while it was read stayed in the inbox and
/// made `serve` abort again on every restart, and the files beside it were never taken. A file
/// lifeline stopped in twice is now put aside in `failed/` with its reason.
#[tokio::test]
async fn a_file_lifeline_stopped_in_twice_is_put_aside_and_the_next_one_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let rows = 40_000;
    std::fs::write(
        inbox.join("每次都停.csv"),
        format!("{HEADER}{}", health_rows(1, rows)),
    )
    .unwrap();
    for attempt in 1..=2 {
        // killed while it reads the file (the batch is opened once the file is copied)
        let before = probe_batches(&registry).await;
        let watching = watch(&registry, dir.path(), &inbox, 0.1);
        for _ in 0..4000 {
            if probe_batches(&registry).await > before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        watching.task.abort();
        let _ = watching.task.await;
        assert_eq!(
            registry.count(Table::Records).await.unwrap(),
            0,
            "attempt {attempt} was stopped before its commit"
        );
        assert!(inbox.join("每次都停.csv").exists());
    }
    std::fs::write(
        inbox.join("下一个.csv"),
        format!("{HEADER}{}", health_rows(50_001, 50_010)),
    )
    .unwrap();
    let mut watching = watch(&registry, dir.path(), &inbox, 0.1);
    let mut receipts = [
        next_receipt(&mut watching).await,
        next_receipt(&mut watching).await,
    ];
    receipts.sort_by(|a, b| a.file.cmp(&b.file));
    let (next, stopped) = (&receipts[0], &receipts[1]);
    assert_eq!(next.file, "下一个.csv");
    assert_eq!(next.status, FileStatus::Ingested);
    assert_eq!(stopped.status, FileStatus::Failed);
    let why = stopped.error.as_deref().unwrap_or_default();
    assert!(why.contains("stopped 2 times"), "{why}");
    let failed = inbox.join("failed");
    assert!(failed.join("每次都停.csv").exists());
    let told = std::fs::read_to_string(failed.join("每次都停.csv.why.txt")).unwrap();
    assert!(told.contains("stopped 2 times"), "{told}");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 10);
    watching.trigger.trigger();
    let _ = watching.task.await;
}

/// Regression: `lifeline sync` and the nightly inbox step took files with no settle time at
/// all, so a copy that had paused a moment before was stored half.
#[tokio::test]
async fn a_sync_leaves_a_file_modified_within_the_settle_time() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let mappings = MappingSet::built_in().unwrap();
    let connectors = ConnectorSet::from_sources(
        &[(
            "connectors/health_inbox.toml".into(),
            inbox_toml(&inbox, 2.0),
        )],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (_trigger, shutdown) = Shutdown::new();
    let runner = JobRunner::new(
        registry.clone(),
        mappings,
        connectors.clone(),
        dir.path().join("receipts"),
        Arc::new(Unavailable),
        shutdown,
    );
    std::fs::write(
        inbox.join("刚写完.csv"),
        format!("{HEADER}{}", health_rows(1, 5)),
    )
    .unwrap();
    let context = runner.sync_context();
    let report = connectors.connectors[0].sync(&context).await.unwrap();
    assert!(report.receipts.is_empty(), "{:?}", report.receipts);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("left until it has been unchanged")),
        "{:?}",
        report.notes
    );
    assert!(inbox.join("刚写完.csv").exists());

    tokio::time::sleep(Duration::from_millis(2200)).await;
    let report = connectors.connectors[0].sync(&context).await.unwrap();
    assert_eq!(report.receipts.len(), 1, "{:?}", report.notes);
    assert_eq!(report.receipts[0].status, FileStatus::Ingested);
    assert_eq!(registry.count(Table::Records).await.unwrap(), 5);
}
