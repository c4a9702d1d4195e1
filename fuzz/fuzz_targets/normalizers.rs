//! Every normalizer on any text: none may panic, whatever a department's cell holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeline::normalize::addresses::{AddressHints, parse_address};
use lifeline::normalize::dates::{parse_date, parse_year_month};
use lifeline::normalize::gender::parse_gender;
use lifeline::normalize::id_number::{parse_id_number, parse_id_number_float};
use lifeline::normalize::money::parse_money;
use lifeline::normalize::names::normalize_name;
use lifeline::normalize::phones::normalize_phone;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_id_number(&text);
    let _ = parse_date(&text);
    let _ = parse_year_month(&text);
    let _ = parse_money(&text);
    let _ = normalize_phone(&text);
    let _ = normalize_name(&text);
    let _ = parse_gender(&text);
    let _ = parse_address(&text, &AddressHints::default());
    if data.len() >= 8 {
        let value = f64::from_le_bytes(data[..8].try_into().unwrap());
        let _ = parse_id_number_float(value);
    }
});
