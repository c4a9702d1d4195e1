//! Loading a mapping file: any text gives mappings or errors naming the problems, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeline::mapping::MappingSet;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = MappingSet::from_sources(&[("mappings/fuzz.toml".to_string(), text)]);
});
