//! The sql connector against the MariaDB and PostgreSQL servers on the machine: the test
//! creates a department table, pulls it, adds rows and pulls again — only the new rows come.
//! Skipped (with a note) when `LIFELINE_TEST_MYSQL` / `LIFELINE_TEST_POSTGRES` are not set.

mod common;

use std::path::Path;

use lifeline::connectors::{ConnectorSet, SyncContext, SyncReport, state};
use lifeline::mapping::MappingSet;
use lifeline::registry::{Registry, Table};
use lifeline::shutdown::Shutdown;
use sqlx::{Connection, Executor, Row};

const NAMES: [&str; 12] = [
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐亮", "孙丽",
];

fn person_name(n: u32) -> &'static str {
    NAMES[(n as usize) % NAMES.len()]
}

fn id_number(sequence: u32) -> String {
    let base = format!("34112519850403{:03}", sequence % 1000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = base
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = "10X98765432".chars().nth((sum % 11) as usize).unwrap();
    format!("{base}{check}")
}

fn insert_rows(table: &str, from: u32, to: u32) -> String {
    let values: Vec<String> = (from..=to)
        .map(|n| {
            format!(
                "({n}, '{}', '{}', '{}', '安徽省滁州市定远县炉桥镇金岗村', {}, '2024-04-0{}', {}.50, '2024-05-{:02} 10:00:00')",
                person_name(n),
                id_number(n),
                if n.is_multiple_of(2) { "C级" } else { "D级" },
                n + 1,
                n % 9 + 1,
                1000 + n,
                n
            )
        })
        .collect();
    format!(
        "INSERT INTO {table} (id, hzxm, sfzh, djjg, fwdz, rks, jdrq, jzmj, updated_at) VALUES {}",
        values.join(", ")
    )
}

async fn sync(registry: &Registry, dir: &Path, toml: String) -> SyncReport {
    let mappings = MappingSet::built_in().unwrap();
    let set = ConnectorSet::from_sources(
        &[("connectors/housing_db.toml".into(), toml)],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry,
        mappings: &mappings,
        receipts: dir.join("receipts"),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    set.connectors[0]
        .sync(&context)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Pulls, adds rows, pulls again: the behaviour both servers must show.
async fn pull_twice(dir: &Path, toml: String, add_rows: impl AsyncFnOnce(), label: &str) {
    let registry = Registry::open(&format!(
        "sqlite:{}",
        dir.join(format!("{label}.db")).display()
    ))
    .await
    .unwrap();
    let report = sync(&registry, dir, toml.clone()).await;
    assert_eq!(
        (report.rows_read, report.rows_stored),
        (3, 3),
        "{label}: {report:?}"
    );
    let mark = state::load(&registry, "housing_db")
        .await
        .unwrap()
        .unwrap()
        .watermark;
    assert_eq!(mark.as_deref(), Some("2024-05-03 10:00:00"), "{label}");
    // the date column became the event date, the integer the household size
    let row = sqlx::query(
        "SELECT event_date, attributes, sheet, row_number FROM records ORDER BY row_number LIMIT 1",
    )
    .fetch_one(registry.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>(0), "2024-04-02", "{label}");
    let attributes: serde_json::Value = serde_json::from_str(&row.get::<String, _>(1)).unwrap();
    assert_eq!(attributes["house_grade"], "D", "{label}: {attributes}");
    assert_eq!(attributes["household_size"], 2, "{label}: {attributes}");
    assert_eq!(row.get::<String, _>(2), "query");
    assert_eq!(row.get::<i64, _>(3), 1);

    add_rows().await;
    let report = sync(&registry, dir, toml.clone()).await;
    assert_eq!(
        report.rows_stored, 2,
        "{label}: only the new rows: {report:?}"
    );
    assert_eq!(registry.count(Table::Records).await.unwrap(), 5, "{label}");
    let mark = state::load(&registry, "housing_db")
        .await
        .unwrap()
        .unwrap()
        .watermark;
    assert_eq!(mark.as_deref(), Some("2024-05-05 10:00:00"), "{label}");

    let report = sync(&registry, dir, toml).await;
    assert_eq!(report.rows_stored, 0, "{label}");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 5, "{label}");
    let source: String = sqlx::query("SELECT source FROM pulls ORDER BY file_id LIMIT 1")
        .fetch_one(registry.pool())
        .await
        .unwrap()
        .get(0);
    assert!(source.contains("updated_at"), "{source}");
    registry.close().await;
}

#[tokio::test]
async fn mariadb_rows_are_pulled_from_the_watermark() {
    let Ok(url) = std::env::var("LIFELINE_TEST_MYSQL") else {
        eprintln!("LIFELINE_TEST_MYSQL not set: skipping the sql connector test on MariaDB");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let table = format!("houses_{}", std::process::id());
    let mut admin = sqlx::MySqlConnection::connect(&url).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {table} (id INT PRIMARY KEY, hzxm VARCHAR(50), sfzh VARCHAR(18), \
             djjg VARCHAR(10), fwdz VARCHAR(200), rks INT, jdrq DATE, jzmj DECIMAL(10,2), \
             updated_at DATETIME) DEFAULT CHARSET = utf8mb4"
        )))
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(insert_rows(&table, 1, 3)))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_HOUSING_MYSQL_URL", &url) };
    let toml = format!(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\ndatabase = \"mysql\"\n\
         url_env = \"LIFELINE_TEST_HOUSING_MYSQL_URL\"\n\
         query = \"SELECT hzxm AS `户主姓名`, sfzh AS `身份证号`, djjg AS `鉴定等级`, fwdz AS `房屋地址`, \
         rks AS `家庭人口`, jdrq AS `鉴定日期`, jzmj, updated_at FROM {table} WHERE updated_at > ? ORDER BY updated_at\"\n\
         watermark = {{ column = \"updated_at\", start = \"1970-01-01 00:00:00\" }}\n"
    );
    let insert = insert_rows(&table, 4, 5);
    let mut writer = sqlx::MySqlConnection::connect(&url).await.unwrap();
    pull_twice(
        dir.path(),
        toml,
        async || {
            writer.execute(sqlx::AssertSqlSafe(insert)).await.unwrap();
        },
        "mariadb",
    )
    .await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn postgres_rows_are_pulled_from_the_watermark() {
    let Ok(url) = std::env::var("LIFELINE_TEST_POSTGRES") else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: skipping the sql connector test on PostgreSQL");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let table = format!("houses_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {table} (id INT PRIMARY KEY, hzxm TEXT, sfzh TEXT, djjg TEXT, fwdz TEXT, \
             rks INT, jdrq DATE, jzmj NUMERIC(10,2), updated_at TIMESTAMP)"
        )))
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(insert_rows(&table, 1, 3)))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_HOUSING_PG_URL", &url) };
    let toml = format!(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\ndatabase = \"postgres\"\n\
         url_env = \"LIFELINE_TEST_HOUSING_PG_URL\"\n\
         query = '''SELECT hzxm AS \"户主姓名\", sfzh AS \"身份证号\", djjg AS \"鉴定等级\", fwdz AS \"房屋地址\", \
         rks AS \"家庭人口\", jdrq AS \"鉴定日期\", jzmj, updated_at FROM {table} WHERE updated_at > $1::timestamp ORDER BY updated_at'''\n\
         watermark = {{ column = \"updated_at\", start = \"1970-01-01 00:00:00\" }}\n"
    );
    let insert = insert_rows(&table, 4, 5);
    let mut writer = sqlx::PgConnection::connect(&url).await.unwrap();
    pull_twice(
        dir.path(),
        toml,
        async || {
            writer.execute(sqlx::AssertSqlSafe(insert)).await.unwrap();
        },
        "postgres",
    )
    .await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_query_that_writes_is_refused_by_the_read_only_session() {
    let Ok(url) = std::env::var("LIFELINE_TEST_POSTGRES") else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: skipping the read-only session test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let table = format!("victims_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {table} (a TEXT)"
        )))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_READONLY_PG_URL", &url) };
    let mappings = MappingSet::built_in().unwrap();
    let set = ConnectorSet::from_sources(
        &[(
            "connectors/sneaky.toml".into(),
            format!(
                "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\n\
                 database = \"postgres\"\nurl_env = \"LIFELINE_TEST_READONLY_PG_URL\"\n\
                 query = \"WITH gone AS (DELETE FROM {table} RETURNING a) SELECT a FROM gone\"\n"
            ),
        )],
        &mappings,
        Path::new("."),
    )
    .unwrap();
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry: &registry,
        mappings: &mappings,
        receipts: dir.path().join("receipts"),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    let error = set.connectors[0]
        .sync(&context)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("read-only"), "{error}");
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .await
        .unwrap();
}

fn sql_connector(toml: String) -> ConnectorSet {
    let mappings = MappingSet::built_in().unwrap();
    ConnectorSet::from_sources(
        &[("connectors/housing_db.toml".into(), toml)],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A database that accepts the connection and then says nothing fails its pull after the
/// connector's timeout, and the registry's write lock stays free all the while.
#[tokio::test]
async fn a_database_that_never_answers_fails_its_pull_and_never_holds_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    // SAFETY: the variable is used by this test only
    unsafe {
        std::env::set_var(
            "LIFELINE_TEST_SILENT_DB_URL",
            format!("mysql://root@{address}/test"),
        )
    };
    let set = sql_connector(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\ndatabase = \"mysql\"\n\
         url_env = \"LIFELINE_TEST_SILENT_DB_URL\"\nquery = \"SELECT 1\"\ntimeout_seconds = 1\n"
            .into(),
    );
    let mappings = MappingSet::built_in().unwrap();
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry: &registry,
        mappings: &mappings,
        receipts: dir.path().join("receipts"),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    let started = std::time::Instant::now();
    let probe = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        gate.try_lock().is_ok()
    };
    let (result, free) = tokio::join!(set.connectors[0].sync(&context), probe);
    let error = result.unwrap_err().to_string();
    assert!(error.contains("no answer within 1 s"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(free, "the write lock was held while connecting");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
    silent.abort();
}

/// A query that stalls midway is given up after the timeout, on a real server.
#[tokio::test]
async fn a_query_that_stalls_is_given_up_after_the_timeout() {
    let Ok(url) = std::env::var("LIFELINE_TEST_POSTGRES") else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: skipping the stalled query test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_STALL_PG_URL", &url) };
    let set = sql_connector(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\n\
         database = \"postgres\"\nurl_env = \"LIFELINE_TEST_STALL_PG_URL\"\n\
         query = '''SELECT '张伟' AS \"户主姓名\", 'D级' AS \"鉴定等级\", pg_sleep(20)::text AS waited'''\n\
         timeout_seconds = 1\n"
            .into(),
    );
    let mappings = MappingSet::built_in().unwrap();
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry: &registry,
        mappings: &mappings,
        receipts: dir.path().join("receipts"),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    let started = std::time::Instant::now();
    let error = set.connectors[0]
        .sync(&context)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("sent no row for 1 s"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
}

/// A `TIMESTAMPTZ` watermark is bound with its zone: a session in another time zone (the
/// department's server set to Asia/Shanghai) neither re-reads nor skips rows.
#[tokio::test]
async fn a_zoned_timestamp_watermark_keeps_its_zone() {
    let Ok(url) = std::env::var("LIFELINE_TEST_POSTGRES") else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: skipping the TIMESTAMPTZ watermark test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let table = format!("zoned_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {table} (hzxm TEXT, sfzh TEXT, djjg TEXT, updated_at TIMESTAMPTZ)"
        )))
        .await
        .unwrap();
    let insert = |from: u32, to: u32| {
        let values: Vec<String> = (from..=to)
            .map(|n| {
                format!(
                    "('{}', '{}', 'D级', '2024-05-{n:02} 10:00:00+00')",
                    person_name(n),
                    id_number(n)
                )
            })
            .collect();
        format!("INSERT INTO {table} VALUES {}", values.join(", "))
    };
    admin
        .execute(sqlx::AssertSqlSafe(insert(1, 3)))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    // SAFETY: the variable is used by this test only
    unsafe {
        std::env::set_var(
            "LIFELINE_TEST_ZONED_PG_URL",
            format!("{url}{separator}options=-c%20TimeZone%3DAsia%2FShanghai"),
        )
    };
    let toml = format!(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\ndatabase = \"postgres\"\n\
         url_env = \"LIFELINE_TEST_ZONED_PG_URL\"\n\
         query = '''SELECT hzxm AS \"户主姓名\", sfzh AS \"身份证号\", djjg AS \"鉴定等级\", updated_at FROM {table} \
         WHERE updated_at > $1::timestamptz ORDER BY updated_at'''\n\
         watermark = {{ column = \"updated_at\", start = \"1970-01-01 00:00:00+00\" }}\n"
    );
    let first = sync(&registry, dir.path(), toml.clone()).await;
    assert_eq!(first.rows_stored, 3, "{first:?}");
    let mark = state::load(&registry, "housing_db")
        .await
        .unwrap()
        .unwrap()
        .watermark;
    assert_eq!(mark.as_deref(), Some("2024-05-03 10:00:00+00:00"));
    let again = sync(&registry, dir.path(), toml.clone()).await;
    assert_eq!(again.rows_stored, 0, "nothing is read twice: {again:?}");
    admin
        .execute(sqlx::AssertSqlSafe(insert(4, 5)))
        .await
        .unwrap();
    let later = sync(&registry, dir.path(), toml).await;
    assert_eq!(later.rows_stored, 2, "{later:?}");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 5);
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .await
        .unwrap();
}

/// A row committed late with an earlier timestamp than the watermark (its transaction began
/// before the last pull) is pulled by the next pull, which reads the overlap window again and
/// stores each row of it once.
async fn late_rows_are_caught(url: &str, mysql: bool, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let table = format!("late_{label}_{}", std::process::id());
    let create = format!(
        "CREATE TABLE {table} (hzxm VARCHAR(50), sfzh VARCHAR(18), djjg VARCHAR(10), \
         updated_at TIMESTAMP NULL)"
    );
    let insert = |n: u32, at: &str| {
        format!(
            "INSERT INTO {table} VALUES ('{}', '{}', 'D级', '{at}')",
            person_name(n),
            id_number(n)
        )
    };
    let variable = format!("LIFELINE_TEST_LATE_{}_URL", label.to_uppercase());
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var(&variable, url) };
    let (quote, placeholder, database) = if mysql {
        ('`', "?", "mysql")
    } else {
        ('"', "$1::timestamp", "postgres")
    };
    let toml = format!(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\ndatabase = \"{database}\"\n\
         url_env = \"{variable}\"\n\
         query = '''SELECT hzxm AS {quote}户主姓名{quote}, sfzh AS {quote}身份证号{quote}, \
         djjg AS {quote}鉴定等级{quote}, updated_at FROM {table} WHERE updated_at > {placeholder} \
         ORDER BY updated_at'''\n\
         watermark = {{ column = \"updated_at\", start = \"1970-01-01 00:00:00\", overlap_seconds = 600 }}\n"
    );
    let statements = [
        create,
        insert(1, "2024-05-03 10:00:00"),
        insert(2, "2024-05-03 10:05:00"),
        insert(3, "2024-05-03 10:10:00"),
    ];
    let run = async |sql: &str| {
        if mysql {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            c.execute(sqlx::AssertSqlSafe(sql.to_string()))
                .await
                .unwrap();
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            c.execute(sqlx::AssertSqlSafe(sql.to_string()))
                .await
                .unwrap();
        }
    };
    for sql in &statements {
        run(sql).await;
    }
    let first = sync(&registry, dir.path(), toml.clone()).await;
    assert_eq!(first.rows_stored, 3, "{label}: {first:?}");
    // committed after the pull, stamped before its watermark (10:10)
    run(&insert(4, "2024-05-03 10:02:00")).await;
    let second = sync(&registry, dir.path(), toml.clone()).await;
    assert_eq!(
        second.rows_stored, 1,
        "{label}: the late row, and only it: {second:?}"
    );
    assert!(
        second.notes.iter().any(|n| n.contains("skipped")),
        "{label}: {:?}",
        second.notes
    );
    let third = sync(&registry, dir.path(), toml).await;
    assert_eq!(third.rows_stored, 0, "{label}: {third:?}");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 4, "{label}");
    let mark = state::load(&registry, "housing_db")
        .await
        .unwrap()
        .unwrap()
        .watermark;
    assert_eq!(mark.as_deref(), Some("2024-05-03 10:10:00"), "{label}");
    run(&format!("DROP TABLE {table}")).await;
}

#[tokio::test]
async fn a_row_committed_late_is_pulled_once_on_mariadb() {
    let Ok(url) = std::env::var("LIFELINE_TEST_MYSQL") else {
        eprintln!("LIFELINE_TEST_MYSQL not set: skipping the late-row test on MariaDB");
        return;
    };
    late_rows_are_caught(&url, true, "mariadb").await;
}

#[tokio::test]
async fn a_row_committed_late_is_pulled_once_on_postgres() {
    let Ok(url) = std::env::var("LIFELINE_TEST_POSTGRES") else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: skipping the late-row test on PostgreSQL");
        return;
    };
    late_rows_are_caught(&url, false, "postgres").await;
}
