//! `lifeline backup` / `lifeline restore` of a SQLite registry, and upgrades of the schema from
//! every earlier migration.

mod common;

use std::path::Path;

use lifeline::registry::backup::{self, BackupError};
use lifeline::registry::{Registry, Table};
use sqlx::Row;

const HEALTH_CSV: &str = "序号,患者姓名,身份证号码,性别,入院日期,个人自付（元）,家庭住址\n\
1,张三,11010519491231002X,女,2026/3/1,\"60,000.00\",安徽省滁州市定远县炉桥镇金岗村三组\n\
2,李四,110105491231002,女,2026年4月2日,1200元,定远县炉桥镇\n";

const LATER_CSV: &str = "序号,患者姓名,身份证号码,性别,入院日期,个人自付（元）,家庭住址\n\
1,王五,34112519850403001X,男,2026/5/1,300,定远县炉桥镇\n";

fn url(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

async fn records(path: &Path) -> i64 {
    let registry = Registry::open(&url(path)).await.unwrap();
    let count = registry.count(Table::Records).await.unwrap();
    registry.close().await;
    count
}

#[tokio::test]
async fn a_backup_restores_the_registry_as_it_was_and_keeps_the_replaced_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lifeline.db");
    let audit = dir.path().join("lifeline.audit.db");
    let registry = Registry::open(&url(&db)).await.unwrap();
    let first = common::write_text(dir.path(), "住院.csv", HEALTH_CSV, encoding_rs::GBK);
    common::ingest(&registry, &dir.path().join("receipts"), &[first]).await;
    // an audit log of its own beside the registry
    {
        let log = Registry::open_admin(&format!("{}?mode=rwc", url(&audit)))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE audit_probe (entry TEXT)")
            .execute(&log)
            .await
            .unwrap();
        sqlx::query("INSERT INTO audit_probe VALUES ('read by red-cross')")
            .execute(&log)
            .await
            .unwrap();
        log.close().await;
    }
    let folder = dir.path().join("backups/2026-12-07");
    // taken while the registry is open, as under `serve`
    let manifest = backup::backup(&url(&db), &url(&audit), &folder)
        .await
        .unwrap();
    assert_eq!(manifest.files.len(), 2, "{manifest:?}");
    assert!(manifest.schema_version >= 5, "{manifest:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["lifeline.db", "lifeline.audit.db", "manifest.json"] {
            let mode = std::fs::metadata(folder.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
        }
    }
    let later = common::write_text(dir.path(), "住院2.csv", LATER_CSV, encoding_rs::GBK);
    common::ingest(&registry, &dir.path().join("receipts"), &[later]).await;
    assert_eq!(registry.count(Table::Records).await.unwrap(), 3);
    registry.close().await;

    // a second backup into the same folder is refused, nothing overwritten
    let refused = backup::backup(&url(&db), &url(&audit), &folder)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("already holds files"), "{refused}");

    let restored = backup::restore(&url(&db), &url(&audit), &folder)
        .await
        .unwrap();
    assert_eq!(records(&db).await, 2, "the registry is back as it was");
    let kept = restored
        .set_aside
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("lifeline.db.before-restore-")
        })
        .expect("the replaced registry is kept");
    assert_eq!(
        records(kept).await,
        3,
        "nothing of the replaced registry is lost"
    );
    let log = Registry::open_admin(&url(&audit)).await.unwrap();
    let entry: String = sqlx::query("SELECT entry FROM audit_probe")
        .fetch_one(&log)
        .await
        .unwrap()
        .get(0);
    assert_eq!(entry, "read by red-cross");
    log.close().await;
}

#[tokio::test]
async fn a_damaged_backup_is_refused_and_nothing_is_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lifeline.db");
    let registry = Registry::open(&url(&db)).await.unwrap();
    let first = common::write_text(dir.path(), "住院.csv", HEALTH_CSV, encoding_rs::GBK);
    common::ingest(&registry, &dir.path().join("receipts"), &[first]).await;
    let folder = dir.path().join("backup");
    backup::backup(&url(&db), "sqlite::memory:", &folder)
        .await
        .unwrap();
    let later = common::write_text(dir.path(), "住院2.csv", LATER_CSV, encoding_rs::GBK);
    common::ingest(&registry, &dir.path().join("receipts"), &[later]).await;
    registry.close().await;
    // one byte of the copy changed
    let copy = folder.join("lifeline.db");
    let mut bytes = std::fs::read(&copy).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&copy, bytes).unwrap();
    let error = backup::restore(&url(&db), "sqlite::memory:", &folder)
        .await
        .unwrap_err();
    assert!(matches!(error, BackupError::Refused { .. }), "{error}");
    assert!(
        error.to_string().contains("changed or cut short"),
        "{error}"
    );
    assert_eq!(records(&db).await, 3, "the registry is untouched");
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("before-restore")
        })
        .count();
    assert_eq!(aside, 0);
}

#[tokio::test]
async fn a_postgres_registry_is_sent_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let error = backup::backup(
        "postgres://postgres@127.0.0.1:5432/test",
        "postgres://postgres@127.0.0.1:5432/test",
        &dir.path().join("b"),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("pg_dump"), "{error}");
}

/// The schema as SQLite holds it: every table, index and trigger with its SQL.
async fn sqlite_schema(path: &Path) -> Vec<(String, String, String)> {
    let pool = Registry::open_admin(&url(path)).await.unwrap();
    let rows = sqlx::query(
        "SELECT type, name, COALESCE(sql, '') FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// A registry left at each earlier migration, holding a file's rows, is brought up to date by
/// opening it: its rows are kept, its schema ends the same as a new registry's, and ingest
/// works on it.
#[tokio::test]
async fn a_registry_at_every_earlier_schema_is_brought_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = sqlx::migrate::Migrator::new(Path::new("migrations/sqlite"))
        .await
        .unwrap();
    let all = migrator.migrations.to_vec();
    assert!(all.len() >= 5);
    let fresh = dir.path().join("fresh.db");
    Registry::open(&url(&fresh)).await.unwrap().close().await;
    let expected = sqlite_schema(&fresh).await;
    for upto in 1..all.len() {
        let path = dir.path().join(format!("at-{upto}.db"));
        let pool = Registry::open_admin(&format!("{}?mode=rwc", url(&path)))
            .await
            .unwrap();
        let mut partial = sqlx::migrate::Migrator::new(Path::new("migrations/sqlite"))
            .await
            .unwrap();
        partial.migrations = std::borrow::Cow::Owned(all[..upto].to_vec());
        partial.run(&pool).await.unwrap();
        // a delivery stored under the old schema (migration 1 has the ingest tables)
        sqlx::query(
            "INSERT INTO batches (started_at, origin) VALUES ('2026-01-05T00:00:00Z', 'old')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let registry = Registry::open(&url(&path))
            .await
            .unwrap_or_else(|e| panic!("from migration {upto}: {e}"));
        let origin: String = sqlx::query("SELECT origin FROM batches ORDER BY id LIMIT 1")
            .fetch_one(registry.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(origin, "old", "from migration {upto}");
        let file = common::write_text(
            dir.path(),
            &format!("住院-{upto}.csv"),
            HEALTH_CSV,
            encoding_rs::GBK,
        );
        let receipts = common::ingest(&registry, &dir.path().join("receipts"), &[file]).await;
        assert_eq!(receipts[0].rows_accepted, 2, "from migration {upto}");
        registry.close().await;
        assert_eq!(
            sqlite_schema(&path).await,
            expected,
            "from migration {upto}: the schema differs from a new registry's"
        );
    }
}

/// The same on PostgreSQL (CI sets `LIFELINE_TEST_POSTGRES`).
#[tokio::test]
async fn a_postgres_registry_at_every_earlier_schema_is_brought_up_to_date() {
    let Ok(admin_url) = std::env::var("LIFELINE_TEST_POSTGRES") else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: skipping the PostgreSQL upgrade test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let migrator = sqlx::migrate::Migrator::new(Path::new("migrations/postgres"))
        .await
        .unwrap();
    let all = migrator.migrations.to_vec();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let admin = Registry::open_admin(&admin_url).await.unwrap();
    for upto in 1..all.len() {
        let name = format!("lifeline_upgrade_{}_{upto}", std::process::id());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&admin)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let url = format!("{base}/{name}");
        let pool = Registry::open_admin(&url).await.unwrap();
        let mut partial = sqlx::migrate::Migrator::new(Path::new("migrations/postgres"))
            .await
            .unwrap();
        partial.migrations = std::borrow::Cow::Owned(all[..upto].to_vec());
        partial.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO batches (started_at, origin) VALUES ('2026-01-05T00:00:00Z', 'old')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let registry = Registry::open(&url)
            .await
            .unwrap_or_else(|e| panic!("from migration {upto}: {e}"));
        let file = common::write_text(
            dir.path(),
            &format!("住院-{upto}.csv"),
            HEALTH_CSV,
            encoding_rs::GBK,
        );
        let receipts = common::ingest(&registry, &dir.path().join("receipts"), &[file]).await;
        assert_eq!(receipts[0].rows_accepted, 2, "from migration {upto}");
        let batches: i64 = sqlx::query("SELECT COUNT(*) FROM batches")
            .fetch_one(registry.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(batches, 2, "from migration {upto}: the old batch is kept");
        registry.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .unwrap();
    }
    admin.close().await;
}
