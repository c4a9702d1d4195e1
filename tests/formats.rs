//! Formats beyond xlsx and CSV: OpenDocument spreadsheets (LibreOffice, WPS "save as .ods").

mod common;

use lifeline::export::{Format, export_table, records_query};
use lifeline::ingest::FileStatus;

#[tokio::test]
async fn ods_exports_are_read_with_their_cell_types() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/libreoffice_export.ods");
    let tests = common::registries(dir.path()).await;
    for test in tests {
        let receipts = common::ingest(
            &test.registry,
            &dir.path().join("receipts"),
            std::slice::from_ref(&fixture),
        )
        .await;
        let receipt = &receipts[0];
        assert_eq!(
            receipt.status,
            FileStatus::Ingested,
            "{}",
            receipt.summary()
        );
        assert_eq!(receipt.format, "ods");
        assert_eq!(receipt.sheets[0].header_rows, vec![2]);
        assert_eq!((receipt.rows_accepted, receipt.rows_skipped_footer), (2, 1));
        let out = dir.path().join(format!("{}.json", test.label));
        export_table(&test.registry, &records_query(), Format::Json, Some(&out))
            .await
            .unwrap();
        let rows: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(rows[0]["sheet"], "住院结算");
        assert_eq!(rows[0]["row"], 3);
        assert_eq!(rows[0]["event_date"], "2026-03-01", "a date cell");
        assert_eq!(
            rows[0]["attributes"]["out_of_pocket"], 60000.5,
            "a float cell"
        );
        assert_eq!(rows[1]["event_date"], "2026-04-02", "a date typed as text");
        assert_eq!(rows[1]["id_status"], "upgraded_from_15");
        test.cleanup().await;
    }
}
