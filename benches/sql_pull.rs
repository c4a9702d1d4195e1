//! The sql connector streams: pulling a PostgreSQL table of 20,000 rows and then one of 400,000
//! rows through the housing mapping into a SQLite registry, peak memory should not grow with the
//! table. Prints rows, seconds, rows/s and the process's peak RSS after each pull.
//!
//! Run: `cargo bench --bench sql_pull` with PostgreSQL reachable at `LIFELINE_TEST_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/test`).

/// The same allocator as the `lifeline` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::time::Instant;

use lifeline::connectors::{ConnectorSet, SyncContext};
use lifeline::mapping::MappingSet;
use lifeline::registry::Registry;
use lifeline::shutdown::Shutdown;
use sqlx::{Connection, Executor};

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

async fn pull(url: &str, rows: u32, dir: &Path) {
    let table = format!("bench_houses_{}_{rows}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await.expect("postgres");
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {table} AS SELECT n AS id, \
             (ARRAY['张伟','王芳','李娜','刘洋','陈静','杨磊'])[1 + n % 6] AS hzxm, \
             '' AS sfzh, CASE WHEN n % 2 = 0 THEN 'C级' ELSE 'D级' END AS djjg, \
             '安徽省滁州市定远县炉桥镇金岗村' || (n % 40) || '号' AS fwdz, 1 + n % 5 AS rks, \
             DATE '2024-01-01' + (n % 300) AS jdrq, \
             TIMESTAMP '2024-01-01' + n * INTERVAL '1 second' AS updated_at \
             FROM generate_series(1, {rows}) AS n"
        )))
        .await
        .expect("create table");
    // SAFETY: set before any connector reads it, on this thread.
    unsafe { std::env::set_var("LIFELINE_BENCH_PG_URL", url) };
    let toml = format!(
        "kind = \"sql\"\ndepartment = \"housing\"\nmapping = \"housing\"\ndatabase = \"postgres\"\n\
         url_env = \"LIFELINE_BENCH_PG_URL\"\n\
         query = '''SELECT hzxm AS \"户主姓名\", sfzh AS \"身份证号\", djjg AS \"鉴定等级\", fwdz AS \"房屋地址\", \
         rks AS \"家庭人口\", jdrq AS \"鉴定日期\", updated_at FROM {table} WHERE updated_at > $1::timestamp ORDER BY updated_at'''\n\
         watermark = {{ column = \"updated_at\", start = \"1970-01-01 00:00:00\" }}\n"
    );
    let mappings = MappingSet::built_in().expect("mappings");
    let set = ConnectorSet::from_sources(
        &[(format!("connectors/bench_{rows}.toml"), toml)],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let registry = Registry::open(&format!(
        "sqlite:{}",
        dir.join(format!("r{rows}.db")).display()
    ))
    .await
    .expect("registry");
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry: &registry,
        mappings: &mappings,
        receipts: dir.join("receipts"),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    let t = Instant::now();
    let report = set.connectors[0]
        .sync(&context)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{rows:>8} rows in the table: {} read, {} stored in {secs:.1} s ({:.0} rows/s); peak RSS of the process so far {:.0} MiB",
        report.rows_read,
        report.rows_stored,
        report.rows_read as f64 / secs,
        peak_rss_mib()
    );
    registry.close().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .await
        .expect("drop");
}

fn main() {
    lifeline::disable_transparent_huge_pages();
    let url = std::env::var("LIFELINE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("peak RSS before any pull {:.0} MiB", peak_rss_mib());
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![20_000, 400_000]
    } else {
        sizes
    };
    for rows in sizes {
        runtime.block_on(pull(&url, rows, dir.path()));
    }
}
