//! The http connector against a real HTTP server on loopback, started by each test, which
//! misbehaves as department APIs do: 500s, 429 with Retry-After, timeouts, malformed JSON, a
//! page that repeats, an expired token.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lifeline::connectors::{
    Connector, ConnectorError, ConnectorSet, SyncContext, SyncReport, state,
};
use lifeline::mapping::MappingSet;
use lifeline::registry::{Registry, Table};
use lifeline::shutdown::Shutdown;
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request as the test server saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request line and headers as sent.
    head: String,
    query: HashMap<String, String>,
    authorization: Option<String>,
    at: Instant,
}

enum Reply {
    Json(u16, String),
    WithHeaders(u16, Vec<(&'static str, String)>, String),
    Hang(Duration),
    /// The answer, after a wait.
    Later(Duration, String),
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// Starts a server on 127.0.0.1 answering with `handler(request, index)`.
async fn server(handler: Handler) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let served = Arc::clone(&log);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&served);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let query = reqwest::Url::parse(&format!("http://x{target}"))
                    .map(|u| u.query_pairs().into_owned().collect())
                    .unwrap_or_default();
                let authorization = text
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("authorization: ")
                            .or(l.strip_prefix("Authorization: "))
                    })
                    .map(str::to_string);
                let seen = Seen {
                    head: text.clone(),
                    query,
                    authorization,
                    at: Instant::now(),
                };
                let index = {
                    let mut log = log.lock().unwrap();
                    log.push(seen.clone());
                    log.len() - 1
                };
                let (status, headers, body) = match handler(&seen, index) {
                    Reply::Json(status, body) => (status, Vec::new(), body),
                    Reply::WithHeaders(status, headers, body) => (status, headers, body),
                    Reply::Hang(duration) => {
                        tokio::time::sleep(duration).await;
                        (200, Vec::new(), "[]".to_string())
                    }
                    Reply::Later(duration, body) => {
                        tokio::time::sleep(duration).await;
                        (200, Vec::new(), body)
                    }
                };
                let mut response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (address, log)
}

/// A valid resident ID number (GB 11643 check digit) for a person of 定远县.
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

/// One house record as the housing API sends it.
fn house(n: u32, updated: &str) -> serde_json::Value {
    serde_json::json!({
        "hzxm": person_name(n),
        "sfzh": id_number(n),
        "djjg": if n.is_multiple_of(2) { "C级" } else { "D级" },
        "fwdz": "安徽省滁州市定远县炉桥镇金岗村",
        "updated_at": updated,
    })
}

fn page_body(records: &[serde_json::Value]) -> String {
    serde_json::json!({ "data": { "items": records } }).to_string()
}

const RENAME: &str = "rename = { hzxm = \"户主姓名\", sfzh = \"身份证号\", djjg = \"鉴定等级\", fwdz = \"房屋地址\" }";

fn connector(address: SocketAddr, extra: &str) -> Connector {
    let mappings = MappingSet::built_in().unwrap();
    let text = format!(
        "kind = \"http\"\ndepartment = \"housing\"\nmapping = \"housing\"\n\
         url = \"http://{address}/houses\"\nrecords = \"data.items\"\n{RENAME}\n\
         backoff_seconds = 0.05\n{extra}\n"
    );
    let mut set = ConnectorSet::from_sources(
        &[("connectors/housing_api.toml".into(), text)],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    set.connectors.remove(0)
}

async fn sync(
    registry: &Registry,
    receipts: &Path,
    connector: &Connector,
) -> Result<SyncReport, ConnectorError> {
    let mappings = MappingSet::built_in().unwrap();
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry,
        mappings: &mappings,
        receipts: receipts.to_path_buf(),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    connector.sync(&context).await
}

async fn watermark(registry: &Registry) -> Option<String> {
    state::load(registry, "housing_api")
        .await
        .unwrap()
        .and_then(|s| s.watermark)
}

#[tokio::test]
async fn pages_are_followed_and_a_second_pull_brings_only_new_records() {
    let dir = tempfile::tempdir().unwrap();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let records: Arc<Mutex<Vec<serde_json::Value>>> = Arc::new(Mutex::new(
            (1..=5)
                .map(|n| house(n, &format!("2024-05-0{n}T10:00:00")))
                .collect(),
        ));
        let served = Arc::clone(&records);
        let (address, log) = server(Arc::new(move |seen, _| {
            let since = seen.query.get("updated_since").cloned().unwrap_or_default();
            let page: usize = seen
                .query
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let size: usize = seen
                .query
                .get("page_size")
                .and_then(|p| p.parse().ok())
                .unwrap_or(100);
            let fresh: Vec<serde_json::Value> = served
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r["updated_at"].as_str().unwrap_or("") > since.as_str())
                .cloned()
                .collect();
            let chunk: Vec<serde_json::Value> = fresh
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect();
            Reply::Json(200, page_body(&chunk))
        }))
        .await;
        let connector = connector(
            address,
            "pagination = { style = \"page\", size = 2 }\n\
             watermark = { param = \"updated_since\", field = \"updated_at\", start = \"2024-01-01\" }",
        );
        let report = sync(registry, &dir.path().join("receipts"), &connector)
            .await
            .unwrap();
        assert_eq!(
            (report.rows_read, report.rows_stored),
            (5, 5),
            "{}: {:#?}",
            test.label,
            report.receipts
        );
        assert_eq!(registry.count(Table::Records).await.unwrap(), 5);
        // pages of 2: 2 + 2 + 1, the short page ends the pull
        assert_eq!(log.lock().unwrap().len(), 3);
        assert_eq!(log.lock().unwrap()[0].query["updated_since"], "2024-01-01");
        assert_eq!(
            watermark(registry).await.as_deref(),
            Some("2024-05-05T10:00:00")
        );
        // lineage: the pull stands in for the file, rows are positions in the pull
        let row = sqlx::query(
            "SELECT f.file_name, r.sheet, r.row_number, p.connector, p.watermark_after \
             FROM records r JOIN files f ON f.id = r.file_id JOIN pulls p ON p.file_id = f.id \
             ORDER BY r.row_number DESC LIMIT 1",
        )
        .fetch_one(registry.pool())
        .await
        .unwrap();
        let file: String = row.get(0);
        assert!(file.starts_with("http:housing_api:batch-"), "{file}");
        assert_eq!(row.get::<String, _>(1), "page-3");
        assert_eq!(row.get::<i64, _>(2), 5);
        assert_eq!(row.get::<String, _>(3), "housing_api");
        assert_eq!(row.get::<String, _>(4), "2024-05-05T10:00:00");

        // a new record arrives; the next pull asks from the watermark and brings only it
        records
            .lock()
            .unwrap()
            .push(house(6, "2024-06-01T08:00:00"));
        let report = sync(registry, &dir.path().join("receipts"), &connector)
            .await
            .unwrap();
        assert_eq!(report.rows_stored, 1, "{}", test.label);
        assert_eq!(registry.count(Table::Records).await.unwrap(), 6);
        assert_eq!(
            log.lock().unwrap()[3].query["updated_since"],
            "2024-05-05T10:00:00"
        );
        // nothing new: nothing stored, the watermark stays
        let report = sync(registry, &dir.path().join("receipts"), &connector)
            .await
            .unwrap();
        assert_eq!(report.rows_stored, 0);
        assert!(
            report.notes.iter().any(|n| n == "no new rows"),
            "{:?}",
            report.notes
        );
        assert_eq!(
            watermark(registry).await.as_deref(),
            Some("2024-06-01T08:00:00")
        );
        test.cleanup().await;
    }
}

#[tokio::test]
async fn server_errors_429_and_timeouts_are_retried_honouring_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let (address, log) = server(Arc::new(|_, index| match index {
        0 => Reply::Json(500, "{\"error\":\"internal\"}".into()),
        1 => Reply::WithHeaders(429, vec![("retry-after", "1".into())], "{}".into()),
        2 => Reply::Hang(Duration::from_secs(3)),
        3 => Reply::Json(503, "".into()),
        _ => Reply::Json(
            200,
            page_body(&[house(1, "2024-05-01"), house(2, "2024-05-02")]),
        ),
    }))
    .await;
    let connector = connector(address, "timeout_seconds = 0.5\nmax_retries = 5");
    let report = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap();
    assert_eq!(report.rows_stored, 2);
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 5);
    // Retry-After: 1 was honoured, not the 50 ms backoff
    assert!(
        log[2].at - log[1].at >= Duration::from_millis(950),
        "{:?}",
        log[2].at - log[1].at
    );
}

#[tokio::test]
async fn retries_give_up_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let (address, log) = server(Arc::new(|_, _| Reply::Json(502, "bad gateway".into()))).await;
    let connector = connector(address, "max_retries = 2");
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("gave up after 3 tries"), "{error}");
    assert_eq!(log.lock().unwrap().len(), 3);
    assert_eq!(registry.count(Table::Files).await.unwrap(), 0);
}

#[tokio::test]
async fn malformed_json_fails_the_pull_and_keeps_the_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let broken = Arc::new(Mutex::new(true));
    let fixed = Arc::clone(&broken);
    let (address, _) = server(Arc::new(move |seen, _| {
        let page: usize = seen
            .query
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        match page {
            1 => Reply::Json(
                200,
                page_body(&[house(1, "2024-05-01"), house(2, "2024-05-02")]),
            ),
            2 if *fixed.lock().unwrap() => {
                Reply::Json(200, "{\"data\": {\"items\": [{\"hzxm\": ".into())
            }
            2 => Reply::Json(200, page_body(&[house(3, "2024-05-03")])),
            _ => Reply::Json(200, page_body(&[])),
        }
    }))
    .await;
    let connector = connector(
        address,
        "max_retries = 1\npagination = { style = \"page\", size = 2 }\n\
         watermark = { param = \"updated_since\", field = \"updated_at\" }",
    );
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("not valid JSON"), "{error}");
    // page 1 was read, but nothing of the pull is stored and the watermark has not moved
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
    assert_eq!(watermark(&registry).await, None);
    *broken.lock().unwrap() = false;
    let report = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap();
    assert_eq!(report.rows_stored, 3);
    assert_eq!(watermark(&registry).await.as_deref(), Some("2024-05-03"));
}

#[tokio::test]
async fn a_page_that_repeats_fails_the_pull() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    // the server ignores the page number: every page is the first one
    let (address, log) = server(Arc::new(|_, _| {
        Reply::Json(
            200,
            page_body(&[house(1, "2024-05-01"), house(2, "2024-05-02")]),
        )
    }))
    .await;
    let connector = connector(address, "pagination = { style = \"page\", size = 2 }");
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("page 2 repeats an earlier page"), "{error}");
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
}

#[tokio::test]
async fn an_expired_token_stops_the_pull_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_HOUSING_TOKEN", "token-1") };
    let (address, log) = server(Arc::new(|seen, _| {
        let cursor = seen.query.get("cursor").cloned();
        match (seen.authorization.as_deref(), cursor.as_deref()) {
            (Some("Bearer token-1"), None) => Reply::Json(
                200,
                serde_json::json!({ "data": { "items": [house(1, "2024-05-01")] }, "next": "c2" })
                    .to_string(),
            ),
            // the token expires between the first page and the second
            _ => Reply::WithHeaders(
                401,
                vec![("www-authenticate", "Bearer error=\"invalid_token\"".into())],
                "{\"error\":\"token expired\"}".into(),
            ),
        }
    }))
    .await;
    let connector = connector(
        address,
        "auth = { bearer_env = \"LIFELINE_TEST_HOUSING_TOKEN\" }\n\
         pagination = { style = \"cursor\", cursor_field = \"next\" }",
    );
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("LIFELINE_TEST_HOUSING_TOKEN may have expired"),
        "{error}"
    );
    // a refused token is not retried
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
    assert_eq!(registry.count(Table::Files).await.unwrap(), 0);
}

#[tokio::test]
async fn link_pages_and_fields_that_appear_or_vanish_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let second_pull = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&second_pull);
    let (address, _) = server(Arc::new(move |seen, _| {
        let later = *flag.lock().unwrap();
        let mut record = house(if later { 7 } else { 1 }, "2024-05-01");
        if later {
            let object = record.as_object_mut().unwrap();
            object.remove("fwdz");
            object.insert("jzmj".into(), serde_json::json!(86.5));
        }
        match seen.query.get("p").map(String::as_str) {
            None => Reply::WithHeaders(
                200,
                vec![("link", "</houses?p=2>; rel=\"next\"".into())],
                page_body(&[record]),
            ),
            _ => Reply::Json(
                200,
                page_body(&[house(if later { 8 } else { 2 }, "2024-05-02")]),
            ),
        }
    }))
    .await;
    let connector = connector(address, "pagination = { style = \"link\" }");
    let report = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap();
    assert_eq!(report.rows_stored, 2);
    *second_pull.lock().unwrap() = true;
    let report = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap();
    assert_eq!(report.rows_stored, 2);
    assert!(
        report.notes.contains(&"fields appeared: jzmj".to_string()),
        "{:?}",
        report.notes
    );
    assert!(
        !report.notes.iter().any(|n| n.contains("vanished")),
        "fwdz is still on page 2: {:?}",
        report.notes
    );
}

#[tokio::test]
async fn a_shutdown_during_a_pull_rolls_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let (address, log) = server(Arc::new(|seen, _| {
        match seen.query.get("page").map(String::as_str) {
            Some("1") => Reply::Json(
                200,
                page_body(&[house(1, "2024-05-01"), house(2, "2024-05-02")]),
            ),
            // the second page takes long to come
            _ => Reply::Hang(Duration::from_secs(30)),
        }
    }))
    .await;
    let connector = connector(
        address,
        "pagination = { style = \"page\", size = 2 }\n\
         watermark = { param = \"updated_since\", field = \"updated_at\" }",
    );
    let mappings = MappingSet::built_in().unwrap();
    let gate = tokio::sync::Mutex::new(());
    let (trigger, shutdown) = Shutdown::new();
    let context = SyncContext {
        registry: &registry,
        mappings: &mappings,
        receipts: dir.path().join("receipts"),
        shutdown,
        write_gate: &gate,
    };
    let pull = connector.sync(&context);
    let stop = async {
        while log.lock().unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        trigger.trigger();
    };
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(pull, stop) })
            .await
            .expect("the pull stops at once");
    assert!(
        matches!(result, Err(ConnectorError::Interrupted)),
        "{result:?}"
    );
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
    assert_eq!(watermark(&registry).await, None);
}

/// Offset pagination is followed to the last, short page, and requests keep to the configured
/// rate: at most 4 a second means at least 250 ms between two requests.
#[tokio::test]
async fn offset_pages_are_followed_at_the_configured_rate() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let records: Vec<serde_json::Value> = (1..=7).map(|n| house(n, "2024-05-01")).collect();
    let (address, log) = server(Arc::new(move |seen, _| {
        let offset: usize = seen
            .query
            .get("offset")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let limit: usize = seen
            .query
            .get("limit")
            .and_then(|p| p.parse().ok())
            .unwrap_or(100);
        let chunk: Vec<serde_json::Value> =
            records.iter().skip(offset).take(limit).cloned().collect();
        Reply::Json(200, page_body(&chunk))
    }))
    .await;
    let connector = connector(
        address,
        "pagination = { style = \"offset\", size = 2 }\nrequests_per_second = 4",
    );
    sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap();
    assert_eq!(registry.count(Table::Records).await.unwrap(), 7);
    let seen = log.lock().unwrap();
    let offsets: Vec<String> = seen
        .iter()
        .map(|s| s.query.get("offset").cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        offsets,
        ["0", "2", "4", "6"],
        "the short page ends the pull"
    );
    for pair in seen.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= std::time::Duration::from_millis(240),
            "requests {gap:?} apart at 4 a second"
        );
    }
}

/// The API's slowness is the connector's problem alone: while a page is on its way the
/// registry's write lock is free for the inbox and the other connectors.
#[tokio::test]
async fn the_registry_is_not_locked_while_an_api_is_slow() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let (address, log) = server(Arc::new(|seen, _| {
        match seen.query.get("page").map(String::as_str) {
            Some("1") => Reply::Json(
                200,
                page_body(&[house(1, "2024-05-01"), house(2, "2024-05-02")]),
            ),
            _ => Reply::Later(Duration::from_secs(2), page_body(&[house(3, "2024-05-03")])),
        }
    }))
    .await;
    let connector = connector(address, "pagination = { style = \"page\", size = 2 }");
    let mappings = MappingSet::built_in().unwrap();
    let gate = tokio::sync::Mutex::new(());
    let context = SyncContext {
        registry: &registry,
        mappings: &mappings,
        receipts: dir.path().join("receipts"),
        shutdown: Shutdown::never(),
        write_gate: &gate,
    };
    let pull = connector.sync(&context);
    let probe = async {
        while log.lock().unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // page 2 is still on its way
        gate.try_lock().is_ok()
    };
    let (report, free) = tokio::join!(pull, probe);
    let report = report.unwrap();
    assert!(free, "the write lock was held during the transfer");
    assert_eq!(report.rows_stored, 3, "{report:?}");
    assert_eq!(registry.count(Table::Records).await.unwrap(), 3);
}

/// A `Link` header naming another server is not followed: the token would go with it.
#[tokio::test]
async fn a_link_to_another_server_is_not_followed_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_LINK_TOKEN", "token-link") };
    let (elsewhere, elsewhere_log) =
        server(Arc::new(|_, _| Reply::Json(200, page_body(&[])))).await;
    let (address, _) = server(Arc::new(move |_, _| {
        Reply::WithHeaders(
            200,
            vec![(
                "link",
                format!("<http://{elsewhere}/houses?page=2>; rel=\"next\""),
            )],
            page_body(&[house(1, "2024-05-01")]),
        )
    }))
    .await;
    let connector = connector(
        address,
        "auth = { bearer_env = \"LIFELINE_TEST_LINK_TOKEN\" }\npagination = { style = \"link\" }",
    );
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("another server"), "{error}");
    assert!(elsewhere_log.lock().unwrap().is_empty());
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
}

/// A redirect to another server is refused: reqwest drops `Authorization` there but would
/// carry a custom key header.
#[tokio::test]
async fn a_redirect_to_another_server_does_not_carry_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_REDIRECT_KEY", "key-redirect-secret") };
    let (elsewhere, elsewhere_log) = server(Arc::new(|_, _| {
        Reply::Json(200, page_body(&[house(1, "2024-05-01")]))
    }))
    .await;
    let (address, log) = server(Arc::new(move |seen, _| {
        if seen.head.starts_with("GET /moved") {
            Reply::WithHeaders(
                302,
                vec![("location", format!("http://{elsewhere}/houses"))],
                String::new(),
            )
        } else {
            Reply::WithHeaders(302, vec![("location", "/moved".into())], String::new())
        }
    }))
    .await;
    let connector = connector(
        address,
        "auth = { api_key_env = \"LIFELINE_TEST_REDIRECT_KEY\", header = \"X-Dept-Key\" }",
    );
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("redirects to another server"), "{error}");
    assert!(!error.contains("key-redirect-secret"), "{error}");
    // the same-origin redirect was followed, with the key
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].head.contains("key-redirect-secret"));
    assert!(elsewhere_log.lock().unwrap().is_empty());
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
}

/// A key sent as a query parameter never shows in an error (reqwest's error text carries the
/// URL), nor does a parameter named like a password.
#[tokio::test]
async fn errors_never_show_a_key_in_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    // SAFETY: the variable is used by this test only
    unsafe { std::env::set_var("LIFELINE_TEST_QUERY_KEY", "key-in-query-secret") };
    // a port nobody listens on
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let connector = connector(
        closed,
        "auth = { api_key_env = \"LIFELINE_TEST_QUERY_KEY\", query_param = \"appkey\" }\n\
         query = { password = \"pw-in-query-secret\" }\nmax_retries = 0",
    );
    let error = sync(&registry, &dir.path().join("receipts"), &connector)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot connect"), "{error}");
    assert!(!error.contains("key-in-query-secret"), "{error}");
    assert!(!error.contains("pw-in-query-secret"), "{error}");
    assert!(error.contains("appkey=***"), "{error}");
}

/// Plain http:// to another machine is refused unless the connector says so.
#[test]
fn plain_http_to_another_machine_needs_an_explicit_opt_out() {
    let mappings = MappingSet::built_in().unwrap();
    let text = |extra: &str| {
        format!(
            "kind = \"http\"\ndepartment = \"housing\"\nmapping = \"housing\"\n\
             url = \"http://10.20.30.40/houses\"\n{extra}\n"
        )
    };
    let refused = ConnectorSet::from_sources(
        &[("connectors/housing_api.toml".into(), text(""))],
        &mappings,
        Path::new("."),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(refused.contains("insecure_http"), "{refused}");
    ConnectorSet::from_sources(
        &[(
            "connectors/housing_api.toml".into(),
            text("insecure_http = true"),
        )],
        &mappings,
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}
