//! The registry's behaviour, run on every backend: SQLite always, PostgreSQL when
//! `LIFELINE_TEST_POSTGRES` is set (CI sets it to the server on the machine).

mod common;

use lifeline::export::{Format, TableQuery, export_table, records_query};
use lifeline::ingest::FileStatus;
use lifeline::registry::Table;
use sqlx::Row;

const HEALTH_CSV: &str = "定远县住院费用结算明细表\n\
序号,患者姓名,身份证号码,性别,入院日期,个人自付（元）,家庭住址\n\
1,张三,11010519491231002X,女,2026/3/1,\"60,000.00\",安徽省滁州市定远县炉桥镇金岗村三组\n\
2,李四,110105491231002,女,2026年4月2日,1200元,定远县炉桥镇\n\
3,王五,,男,2026-02-30,100,\n\
合计,,,,,\"61,300.00\",\n";

#[tokio::test]
async fn a_file_is_stored_with_lineage_and_read_back_in_exports() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_text(dir.path(), "住院.csv", HEALTH_CSV, encoding_rs::GBK);
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let receipts = common::ingest(
            registry,
            &dir.path().join("receipts"),
            std::slice::from_ref(&file),
        )
        .await;
        assert_eq!(receipts[0].status, FileStatus::Ingested, "{}", test.label);
        assert_eq!(
            (receipts[0].rows_accepted, receipts[0].rows_rejected),
            (2, 1),
            "{}",
            test.label
        );
        assert_eq!(receipts[0].rows_skipped_footer, 1);
        assert_eq!(
            registry.count(Table::Records).await.unwrap(),
            2,
            "{}",
            test.label
        );
        let out = dir.path().join(format!("records-{}.csv", test.label));
        export_table(registry, &records_query(), Format::Csv, Some(&out))
            .await
            .unwrap();
        let mut reader = csv::Reader::from_path(&out).unwrap();
        let headers = reader.headers().unwrap().clone();
        for column in [
            "file",
            "sheet",
            "row",
            "source",
            "mapping",
            "name",
            "id_number",
            "id_status",
            "birth_date",
            "gender",
            "phone",
            "address",
            "region_code",
            "event_kind",
            "event_date",
        ] {
            assert!(
                headers.iter().any(|h| h == column),
                "{}: missing column {column}",
                test.label
            );
        }
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let get = |row: &csv::StringRecord, column: &str| {
            row[headers.iter().position(|h| h == column).unwrap()].to_string()
        };
        assert_eq!(get(&rows[0], "file"), "住院.csv");
        assert_eq!(
            get(&rows[0], "row"),
            "3",
            "{}: CSV line numbers, header line 2",
            test.label
        );
        assert_eq!(get(&rows[0], "id_status"), "valid");
        assert_eq!(get(&rows[0], "region_code"), "341125");
        assert_eq!(get(&rows[0], "event_date"), "2026-03-01");
        assert_eq!(
            get(&rows[1], "id_number"),
            "11010519491231002X",
            "{}: 15 digits upgraded",
            test.label
        );
        assert_eq!(get(&rows[1], "id_status"), "upgraded_from_15");
        test.cleanup().await;
    }
}

#[tokio::test]
async fn the_same_content_twice_is_a_duplicate_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = common::write_text(dir.path(), "a.csv", HEALTH_CSV, encoding_rs::UTF_8);
    let second = common::write_text(
        dir.path(),
        "renamed copy.csv",
        HEALTH_CSV,
        encoding_rs::UTF_8,
    );
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let receipts = common::ingest(
            registry,
            &dir.path().join("receipts"),
            &[first.clone(), second.clone()],
        )
        .await;
        assert_eq!(receipts[0].status, FileStatus::Ingested);
        assert_eq!(receipts[1].status, FileStatus::Duplicate, "{}", test.label);
        assert!(
            receipts[1]
                .duplicate_of
                .as_deref()
                .unwrap_or("")
                .contains("a.csv")
        );
        assert_eq!(registry.count(Table::Files).await.unwrap(), 1);
        assert_eq!(registry.count(Table::Records).await.unwrap(), 2);
        test.cleanup().await;
    }
}

#[tokio::test]
async fn a_file_that_breaks_halfway_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // 6,000 good rows (three batches reach the registry) and then broken XML
    let mut sheet = common::raw_row(1, &["姓名", "身份证号", "入院日期", "个人自付"]);
    for row in 2..6_002 {
        sheet.push_str(&common::raw_row(row, &["张三", "", "2026-03-01", "100"]));
    }
    sheet.push_str("<row r=\"6002\"><c r=\"A6002\" t=\"inlineStr\"><is><t>broken");
    let broken = dir.path().join("broken.xlsx");
    common::write_raw_xlsx(&broken, &sheet);
    let good = common::write_text(dir.path(), "good.csv", HEALTH_CSV, encoding_rs::UTF_8);
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let receipts = common::ingest(
            registry,
            &dir.path().join("receipts"),
            &[broken.clone(), good.clone()],
        )
        .await;
        assert_eq!(receipts[0].file, "broken.xlsx");
        assert_eq!(receipts[0].status, FileStatus::Failed, "{}", test.label);
        assert!(
            receipts[0]
                .error
                .as_deref()
                .unwrap_or("")
                .contains("damaged"),
            "{:?}",
            receipts[0].error
        );
        assert_eq!(
            receipts[1].status,
            FileStatus::Ingested,
            "{}: the next file goes on",
            test.label
        );
        assert_eq!(
            registry.count(Table::Files).await.unwrap(),
            1,
            "{}",
            test.label
        );
        assert_eq!(
            registry.count(Table::Records).await.unwrap(),
            2,
            "{}: no row of the broken file",
            test.label
        );
        assert_eq!(
            registry.count(Table::Mentions).await.unwrap(),
            2,
            "{}",
            test.label
        );
        test.cleanup().await;
    }
}

#[tokio::test]
async fn rejects_keep_the_officers_column_name_value_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_text(dir.path(), "h.csv", HEALTH_CSV, encoding_rs::UTF_8);
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        common::ingest(
            registry,
            &dir.path().join("receipts"),
            std::slice::from_ref(&file),
        )
        .await;
        let rows = sqlx::query(
            "SELECT sheet, row_number, column_name, value, reason, severity FROM rejects ORDER BY id",
        )
        .fetch_all(registry.pool())
        .await
        .unwrap();
        let row_reject = rows
            .iter()
            .find(|r| r.get::<String, _>(5) == "row")
            .expect("a rejected row");
        assert_eq!(row_reject.get::<i64, _>(1), 5, "{}", test.label);
        assert_eq!(row_reject.get::<String, _>(2), "入院日期");
        assert_eq!(row_reject.get::<String, _>(3), "2026-02-30");
        assert!(
            row_reject.get::<String, _>(4).contains("event.date"),
            "{}",
            row_reject.get::<String, _>(4)
        );
        test.cleanup().await;
    }
}

#[tokio::test]
async fn exports_write_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_text(dir.path(), "h.csv", HEALTH_CSV, encoding_rs::UTF_8);
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        common::ingest(
            registry,
            &dir.path().join("receipts"),
            std::slice::from_ref(&file),
        )
        .await;
        let query: TableQuery = records_query();
        let mut formats = vec![(Format::Json, "r.json"), (Format::Xlsx, "r.xlsx")];
        if cfg!(feature = "parquet") {
            formats.push((Format::Parquet, "r.parquet"));
        } else {
            let out = dir.path().join(format!("{}-r.parquet", test.label));
            let refused = export_table(registry, &query, Format::Parquet, Some(&out)).await;
            assert!(
                matches!(refused, Err(lifeline::export::ExportError::NoParquet)),
                "{refused:?}"
            );
            assert!(!out.exists(), "nothing written");
        }
        for (format, name) in formats {
            let out = dir.path().join(format!("{}-{name}", test.label));
            let count = export_table(registry, &query, format, Some(&out))
                .await
                .unwrap();
            assert_eq!(count, 2);
            assert!(std::fs::metadata(&out).unwrap().len() > 0);
        }
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("{}-r.json", test.label))).unwrap(),
        )
        .unwrap();
        assert_eq!(json[0]["attributes"]["out_of_pocket"], 60000.0);
        assert_eq!(json[0]["row"], 3);
        test.cleanup().await;
    }
}

/// Every row of `table` as text, in insertion order, without the columns that differ between
/// two registries (ids, times).
async fn table_rows(
    registry: &lifeline::registry::Registry,
    table: &str,
    columns: &str,
) -> Vec<String> {
    let sql = format!("SELECT {columns} FROM {table} ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(registry.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let text: Option<String> = row.try_get(i).ok().flatten();
                    let int: Option<i64> = row.try_get(i).ok().flatten();
                    match (text, int) {
                        (Some(text), _) => format!("{text:?}"),
                        (None, Some(int)) => int.to_string(),
                        (None, None) => "NULL".into(),
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[tokio::test]
async fn sqlites_own_statements_store_what_the_portable_driver_stores() {
    // the shipped samples: every source, xlsx, xls and GBK CSV, rejects, related persons
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let dir = tempfile::tempdir().unwrap();
    let native = lifeline::registry::Registry::open(&format!(
        "sqlite:{}",
        dir.path().join("native.db").display()
    ))
    .await
    .unwrap();
    let portable = lifeline::registry::Registry::open(&format!(
        "sqlite:{}",
        dir.path().join("portable.db").display()
    ))
    .await
    .unwrap()
    .with_portable_writes();
    let receipts = dir.path().join("receipts");
    let stored_native = common::ingest(&native, &receipts, std::slice::from_ref(&samples)).await;
    let stored_portable =
        common::ingest(&portable, &receipts, std::slice::from_ref(&samples)).await;
    assert!(stored_native.len() >= 20);
    for (a, b) in stored_native.iter().zip(&stored_portable) {
        assert_eq!(a.status, FileStatus::Ingested, "{}: {:?}", a.file, a.error);
        assert_eq!(
            (a.rows_accepted, a.rows_rejected),
            (b.rows_accepted, b.rows_rejected),
            "{}",
            a.file
        );
    }
    let tables = [
        (
            "records",
            "file_id, sheet, row_number, department, mapping, event_kind, event_date, attributes",
        ),
        (
            "mentions",
            "file_id, sheet, row_number, role, name, name_raw, id_number, id_raw, id_status, gender, birth_date, age, phone, address, province, city, county, township, village, region_code, relation",
        ),
        (
            "rejects",
            "file_id, sheet, row_number, column_name, value, reason, severity",
        ),
    ];
    for (table, columns) in tables {
        let a = table_rows(&native, table, columns).await;
        let b = table_rows(&portable, table, columns).await;
        assert!(a.len() >= 20, "{table}: {} rows", a.len());
        assert_eq!(a.len(), b.len(), "{table}");
        for (row_a, row_b) in a.iter().zip(&b) {
            assert_eq!(row_a, row_b, "{table}");
        }
    }
    native.close().await;
    portable.close().await;
}

#[tokio::test]
async fn a_row_sqlite_refuses_rolls_the_whole_file_back() {
    use lifeline::record::{Record, Severity};
    use lifeline::registry::{FileCounts, FileMeta, FileSummary, FileWriter, Registry};
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let batch_id = registry.start_batch("test").await.unwrap();
    let meta = FileMeta {
        batch_id,
        file_name: "twice.xlsx".into(),
        path: "/tmp/twice.xlsx".into(),
        sha256: "ab".repeat(32),
        size_bytes: 1,
    };
    let record = |row| Record {
        sheet: "Sheet1".into(),
        row,
        mapping: "health".into(),
        department: "health".into(),
        event_kind: "hospital_stay".into(),
        event_date: None,
        attributes: Default::default(),
        persons: Vec::new(),
    };
    // 100 good rows (one 64-row statement, then one by one), then row 7 a second time
    let mut records: Vec<Record> = (2..102).map(record).collect();
    records.push(record(7));
    let issue = lifeline::record::Issue {
        sheet: "Sheet1".into(),
        row: 3,
        column: "电话".into(),
        value: "12345".into(),
        reason: "not a phone number".into(),
        severity: Severity::Value,
    };
    let mut writer = FileWriter::begin(&registry, &meta).await.unwrap();
    writer
        .add(&records[..50], std::slice::from_ref(&issue))
        .await
        .unwrap();
    let error = writer
        .add(&records[50..], &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("records") && error.contains("UNIQUE"),
        "{error}"
    );
    writer.rollback().await.unwrap();
    assert_eq!(registry.count(Table::Files).await.unwrap(), 0);
    assert_eq!(registry.count(Table::Records).await.unwrap(), 0);
    // the registry still takes the file once it is right
    let mut writer = FileWriter::begin(&registry, &meta).await.unwrap();
    writer.add(&records[..100], &[issue]).await.unwrap();
    writer
        .commit(&FileSummary {
            mappings: "health",
            format: "xlsx",
            encoding: "",
            counts: FileCounts::default(),
            receipt_json: "{}",
        })
        .await
        .unwrap();
    assert_eq!(registry.count(Table::Records).await.unwrap(), 100);
    registry.close().await;
}

#[tokio::test]
async fn a_files_rows_reach_the_database_file_after_its_commit() {
    // the writer's checkpoint runs after each commit, on its own task: once it is done the
    // database file itself (not only the write-ahead log) holds the file's rows
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let registry = lifeline::registry::Registry::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let mut sheet = common::raw_row(1, &["姓名", "身份证号", "入院日期", "个人自付", "家庭住址"]);
    for row in 2..20_002 {
        sheet.push_str(&common::raw_row(
            row,
            &[
                "张三",
                "",
                "2026-03-01",
                "100",
                "安徽省滁州市定远县炉桥镇金岗村三组",
            ],
        ));
    }
    let file = dir.path().join("stays.xlsx");
    common::write_raw_xlsx(&file, &sheet);
    let receipts = common::ingest(&registry, &dir.path().join("receipts"), &[file]).await;
    assert_eq!(
        receipts[0].status,
        FileStatus::Ingested,
        "{:?}",
        receipts[0].error
    );
    registry.wait_for_checkpoint().await;
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(
        after > before + 1_000_000,
        "database file {before} → {after} bytes"
    );
    assert_eq!(registry.count(Table::Records).await.unwrap(), 20_000);
    registry.close().await;
}

#[tokio::test]
async fn a_csv_export_never_hands_a_spreadsheet_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "序号,患者姓名,身份证号码,性别,入院日期,个人自付（元）,家庭住址\n\
1,张三,11010519491231002X,女,2026/3/1,-200,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"点击\"\")\"\n\
2,李四,110105491231002,女,2026年4月2日,1200元,@SUM(1+1)\n";
    let file = common::write_text(dir.path(), "住院.csv", csv, encoding_rs::UTF_8);
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let receipts = common::ingest(
            registry,
            &dir.path().join("receipts"),
            std::slice::from_ref(&file),
        )
        .await;
        assert_eq!(receipts[0].rows_accepted, 2, "{}", test.label);
        let out = dir.path().join(format!("records-{}.csv", test.label));
        export_table(registry, &records_query(), Format::Csv, Some(&out))
            .await
            .unwrap();
        let mut reader = csv::Reader::from_path(&out).unwrap();
        let cells: Vec<String> = reader
            .records()
            .flat_map(|row| row.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
            .collect();
        for cell in &cells {
            let dangerous = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(
                !dangerous,
                "{}: a cell a spreadsheet would run: {cell}",
                test.label
            );
        }
        assert!(
            cells.iter().any(|c| c.starts_with("'=HYPERLINK(")),
            "{}: the formula is kept as text: {cells:?}",
            test.label
        );
        assert!(
            cells.iter().any(|c| c == "'@SUM(1+1)"),
            "{}: {cells:?}",
            test.label
        );
    }
}
