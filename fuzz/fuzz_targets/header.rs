//! Header detection on any grid of cells: rows split at newlines, cells at tabs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeline::read::CellValue;
use lifeline::read::header::{detect_header, is_footer, normalize_header};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let rows: Vec<(u32, Vec<CellValue>)> = text
        .split('\n')
        .take(60)
        .enumerate()
        .map(|(i, line)| {
            let cells = line
                .split('\t')
                .take(64)
                .map(|cell| match cell.parse::<f64>() {
                    Ok(number) => CellValue::Float(number),
                    Err(_) if cell.is_empty() => CellValue::Empty,
                    Err(_) => CellValue::Text(cell.to_string()),
                })
                .collect();
            (i as u32 + 1, cells)
        })
        .collect();
    let known = |group: Option<&str>, label: &str| {
        let label = normalize_header(label);
        let known = ["姓名", "身份证号", "入院日期", "金额", "地址"];
        known
            .iter()
            .find(|k| label.contains(*k) || group.is_some_and(|g| g.contains(*k)))
            .map(|k| k.to_string())
    };
    let _ = detect_header(&rows, &known);
    for (_, cells) in &rows {
        let _ = is_footer(cells);
    }
});
