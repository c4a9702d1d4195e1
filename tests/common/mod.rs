//! Shared helpers for integration tests: registries on every backend, small files.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use lifeline::ingest::{IngestOptions, Ingestor, Receipt};
use lifeline::mapping::MappingSet;
use lifeline::registry::Registry;

/// A registry under test and what to do when done with it.
pub struct TestRegistry {
    pub registry: Registry,
    pub label: String,
    /// The URL it was opened with.
    pub url: String,
    drop_database: Option<(String, String)>,
}

impl TestRegistry {
    pub async fn cleanup(self) {
        self.registry.close().await;
        if let Some((admin_url, name)) = self.drop_database {
            let admin = Registry::open_admin(&admin_url).await;
            if let Ok(pool) = admin {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&pool)
                .await;
                pool.close().await;
            }
        }
    }
}

/// Every backend the suite runs on: SQLite always, PostgreSQL when `LIFELINE_TEST_POSTGRES`
/// holds a server URL (CI sets it). Each gets a fresh, empty database.
pub async fn registries(dir: &Path) -> Vec<TestRegistry> {
    let sqlite_url = format!("sqlite:{}", dir.join("registry.db").display());
    let mut out = vec![TestRegistry {
        registry: Registry::open(&sqlite_url)
            .await
            .expect("open sqlite registry"),
        label: "sqlite".into(),
        url: sqlite_url,
        drop_database: None,
    }];
    if let Ok(admin_url) = std::env::var("LIFELINE_TEST_POSTGRES") {
        // tests of one binary run on parallel threads and can read the same clock value: a
        // counter of the process keeps their databases apart
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!(
            "lifeline_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        let admin = Registry::open_admin(&admin_url)
            .await
            .expect("connect to postgres");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("postgres url ends with /DB");
        let url = format!("{base}/{name}");
        out.push(TestRegistry {
            registry: Registry::open(&url).await.expect("open postgres registry"),
            label: "postgres".into(),
            url: url.clone(),
            drop_database: Some((admin_url, name)),
        });
    } else {
        eprintln!("LIFELINE_TEST_POSTGRES not set: running the registry suite on SQLite only");
    }
    out
}

/// Ingests paths with the built-in mappings, receipts into `receipts`.
pub async fn ingest(registry: &Registry, receipts: &Path, paths: &[PathBuf]) -> Vec<Receipt> {
    let mappings = MappingSet::built_in().expect("built-in mappings");
    let options = IngestOptions {
        receipts_dir: Some(receipts.to_path_buf()),
        ..IngestOptions::default()
    };
    Ingestor::new(registry, &mappings, options)
        .ingest_paths(paths)
        .await
        .expect("registry works")
}

/// Writes `text` to `dir/name`, encoded as given.
pub fn write_text(
    dir: &Path,
    name: &str,
    text: &str,
    encoding: &'static encoding_rs::Encoding,
) -> PathBuf {
    let path = dir.join(name);
    let (bytes, _, _) = encoding.encode(text);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&bytes))
        .expect("write file");
    path
}

/// A minimal xlsx written by hand: one sheet whose `<sheetData>` content is given verbatim
/// (inline strings), so tests can build files that break in the middle.
pub fn write_raw_xlsx(path: &Path, sheet_data: &str) {
    use zip::write::SimpleFileOptions;
    let file = std::fs::File::create(path).expect("create xlsx");
    let mut zip = zip::ZipWriter::new(file);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, String); 5] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="明细" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
            ),
        ),
    ];
    for (name, content) in parts {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(content.as_bytes()).expect("zip write");
    }
    zip.finish().expect("finish zip");
}

/// One `<row>` of inline-string cells.
pub fn raw_row(row: u32, cells: &[&str]) -> String {
    let mut xml = format!(r#"<row r="{row}">"#);
    for (column, text) in cells.iter().enumerate() {
        let letter = (b'A' + column as u8) as char;
        xml.push_str(&format!(
            r#"<c r="{letter}{row}" t="inlineStr"><is><t>{text}</t></is></c>"#
        ));
    }
    xml.push_str("</row>");
    xml
}

/// A person of a hand-made household, for tests that need linkage before `lifeline match`
/// exists: mentions are linked to the person with the same ID number, else the same name.
pub struct TestPerson {
    pub person_id: &'static str,
    pub household_id: &'static str,
    pub role: &'static str,
    pub name: &'static str,
    pub id_number: String,
    pub birth_date: &'static str,
}

/// A hand-made household's place.
pub struct TestHousehold {
    pub household_id: &'static str,
    pub region_code: &'static str,
    pub township: &'static str,
    pub village: &'static str,
}

/// An 18-digit resident ID number with a valid check digit.
pub fn id_number(region: &str, birth: &str, sequence: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let first17 = format!("{region}{}{sequence:03}", birth.replace('-', ""));
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
    format!("{first17}{check}")
}

/// Fills `households`, `persons` and `mention_links` by hand (what `lifeline match` will do),
/// linking every mention to the person with its ID number, else its name.
pub async fn link_by_hand(
    registry: &Registry,
    households: &[TestHousehold],
    persons: &[TestPerson],
) {
    let pool = registry.pool();
    let now = "2026-11-01T00:00:00+08:00";
    for h in households {
        let members: Vec<&TestPerson> = persons
            .iter()
            .filter(|p| p.household_id == h.household_id)
            .collect();
        sqlx::query(
            "INSERT INTO households (household_id, head_person_id, address, region_code, \
             township, village, members, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(h.household_id)
        .bind(members.first().map(|p| p.person_id))
        .bind(format!("{}{}", h.township, h.village))
        .bind(h.region_code)
        .bind(h.township)
        .bind(h.village)
        .bind(members.len() as i64)
        .bind(now)
        .execute(pool)
        .await
        .expect("insert household");
    }
    for p in persons {
        sqlx::query(
            "INSERT INTO persons (person_id, household_id, household_role, name, id_number, \
             birth_date, mentions, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
        )
        .bind(p.person_id)
        .bind(p.household_id)
        .bind(p.role)
        .bind(p.name)
        .bind(p.id_number.as_str())
        .bind(p.birth_date)
        .bind(now)
        .execute(pool)
        .await
        .expect("insert person");
    }
    link_new_mentions(registry, persons).await;
}

/// Links the mentions not linked yet (after another ingest) to the persons given.
pub async fn link_new_mentions(registry: &Registry, persons: &[TestPerson]) {
    use sqlx::Row;
    let pool = registry.pool();
    let rows = sqlx::query(
        "SELECT m.id, m.id_number, m.name FROM mentions m \
         LEFT JOIN mention_links l ON l.mention_id = m.id WHERE l.mention_id IS NULL",
    )
    .fetch_all(pool)
    .await
    .expect("read mentions");
    for row in rows {
        let id: i64 = row.get(0);
        let id_number: Option<String> = row.get(1);
        let name: Option<String> = row.get(2);
        let person = persons
            .iter()
            .find(|p| id_number.as_deref() == Some(p.id_number.as_str()))
            .or_else(|| persons.iter().find(|p| name.as_deref() == Some(p.name)));
        if let Some(person) = person {
            sqlx::query(
                "INSERT INTO mention_links (mention_id, person_id, score, linked_at) \
                 VALUES ($1, $2, 1.0, '2026-11-01')",
            )
            .bind(id)
            .bind(person.person_id)
            .execute(pool)
            .await
            .expect("insert link");
        }
    }
}
