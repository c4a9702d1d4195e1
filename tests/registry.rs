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
        for (format, name) in [
            (Format::Json, "r.json"),
            (Format::Xlsx, "r.xlsx"),
            (Format::Parquet, "r.parquet"),
        ] {
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
