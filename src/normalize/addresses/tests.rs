//! Tests of table loading, name variants, normalisation and address parsing.

use super::names::name_variants;
use super::resolve::CodeHint;
use super::text::{canonical_township, canonical_village};
use super::*;

mod cases;
use cases::CASES;

fn t() -> &'static RegionTable {
    RegionTable::embedded()
}

#[test]
fn table_is_complete() {
    let t = t();
    assert_eq!(t.skipped_lines(), 0);
    assert_eq!(t.codes(Level::Province).count(), 31);
    let counties = t.codes(Level::County).count();
    assert!(counties > 2800, "{counties}");
    assert!(t.codes(Level::City).count() > 300);
    assert_eq!(
        t.len(),
        t.codes(Level::Province).count() + t.codes(Level::City).count() + counties
    );
    for code in t.codes(Level::County) {
        let parent = t.parent(code).unwrap();
        assert!(matches!(
            t.level(parent),
            Some(Level::City | Level::Province)
        ));
        assert!(t.province_of(code).is_some());
    }
    for code in t.codes(Level::City) {
        assert_eq!(t.level(t.parent(code).unwrap()), Some(Level::Province));
    }
    for p in [
        "北京市",
        "天津市",
        "河北省",
        "山西省",
        "内蒙古自治区",
        "辽宁省",
        "吉林省",
        "黑龙江省",
        "上海市",
        "江苏省",
        "浙江省",
        "安徽省",
        "福建省",
        "江西省",
        "山东省",
        "河南省",
        "湖北省",
        "湖南省",
        "广东省",
        "广西壮族自治区",
        "海南省",
        "重庆市",
        "四川省",
        "贵州省",
        "云南省",
        "西藏自治区",
        "陕西省",
        "甘肃省",
        "青海省",
        "宁夏回族自治区",
        "新疆维吾尔自治区",
    ] {
        assert_eq!(t.resolve_hint(Level::Province, p).len(), 1, "{p}");
    }
}

#[test]
fn table_lookups() {
    let t = t();
    assert_eq!(t.name("341125"), Some("定远县"));
    assert_eq!(t.name("341100"), Some("滁州市"));
    assert_eq!(t.name("340000"), Some("安徽省"));
    assert_eq!(t.name("999999"), None);
    assert_eq!(t.full_name("341125").as_deref(), Some("安徽省滁州市定远县"));
    assert_eq!(t.full_name("110105").as_deref(), Some("北京市朝阳区"));
    assert_eq!(t.full_name("429004").as_deref(), Some("湖北省仙桃市"));
    assert!(t.is_county("341125"));
    assert!(!t.is_county("341100"));
    assert!(!t.is_county("441900"));
    assert!(!t.is_county("bogus"));
    assert_eq!(t.counties_named("定远"), vec!["341125"]);
    assert_eq!(t.counties_named("定远县"), vec!["341125"]);
    assert_eq!(t.counties_named(" 定远县　"), vec!["341125"]);
    assert_eq!(t.counties_named("朝阳区"), vec!["110105", "220104"]);
    assert_eq!(t.counties_named("鼓楼区").len(), 4);
    assert_eq!(t.counties_named("长阳"), vec!["420528"]);
    assert_eq!(t.counties_named("长阳县"), vec!["420528"]);
    assert!(t.counties_named("滁州").is_empty());
    assert_eq!(t.province_of("341125"), Some("340000"));
    assert_eq!(t.province_of("340000"), Some("340000"));
    assert_eq!(t.city_of("341125"), Some("341100"));
    assert_eq!(t.city_of("341100"), Some("341100"));
    assert_eq!(t.city_of("110105"), None);
    assert_eq!(t.city_of("340000"), None);
    assert_eq!(t.parent("110105"), Some("110000"));
    assert_eq!(t.parent("110000"), None);
    assert_eq!(t.level("150000"), Some(Level::Province));
}

#[test]
fn short_name_variants() {
    let v = |n, l| {
        name_variants(n, l)
            .into_iter()
            .map(|(s, b)| format!("{s}{}", if b { "*" } else { "" }))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(v("广西壮族自治区", Level::Province), "广西壮族自治区,广西*");
    assert_eq!(
        v("新疆维吾尔自治区", Level::Province),
        "新疆维吾尔自治区,新疆*"
    );
    assert_eq!(
        v("内蒙古自治区", Level::Province),
        "内蒙古自治区,内蒙古*,内蒙*"
    );
    assert_eq!(v("西藏自治区", Level::Province), "西藏自治区,西藏*");
    assert_eq!(v("北京市", Level::Province), "北京市,北京*");
    assert_eq!(
        v("黔东南苗族侗族自治州", Level::City),
        "黔东南苗族侗族自治州,黔东南*,黔东南州"
    );
    assert_eq!(
        v("伊犁哈萨克自治州", Level::City),
        "伊犁哈萨克自治州,伊犁*,伊犁州"
    );
    assert_eq!(v("锡林郭勒盟", Level::City), "锡林郭勒盟,锡林郭勒*");
    assert_eq!(
        v("东乡族自治县", Level::County),
        "东乡族自治县,东乡*,东乡县"
    );
    assert_eq!(v("鄂伦春自治旗", Level::County), "鄂伦春自治旗,鄂伦春*");
    assert_eq!(
        v("双江拉祜族佤族布朗族傣族自治县", Level::County),
        "双江拉祜族佤族布朗族傣族自治县,双江*,双江县"
    );
    assert_eq!(
        v("龙胜各族自治县", Level::County),
        "龙胜各族自治县,龙胜*,龙胜县"
    );
    assert_eq!(v("管城回族区", Level::County), "管城回族区,管城*,管城区");
    assert_eq!(v("浦东新区", Level::County), "浦东新区,浦东*");
    assert_eq!(v("萧县", Level::County), "萧县");
    assert_eq!(v("矿区", Level::County), "矿区");
}

#[test]
fn loader_skips_bad_lines() {
    let tsv = "code\tname\tlevel\tparent_code\n\
               340000\t安徽省\tprovince\t\n\
               341100\t滁州市\tcity\t340000\n\
               341125\t定远县\tcounty\t341100\n\
               341126\t凤阳县\tcounty\t349900\n\
               34112\t短码\tcounty\t341100\n\
               341127\t坏级别\ttown\t341100\n\
               341128\t列数不对\tcounty\n\
               341125\t重复\tcounty\t341100\n\
               341200\t阜阳市\tcity\t341100\n\
               \n\
               341181\t天长市\tcounty\t341100\r\n";
    let t = RegionTable::from_tsv(tsv);
    assert_eq!(t.len(), 4);
    assert_eq!(t.skipped_lines(), 6);
    assert_eq!(t.full_name("341181").as_deref(), Some("安徽省滁州市天长市"));
    let a = t.parse_address("定远县炉桥镇", &AddressHints::default());
    assert_eq!(a.region_code.as_deref(), Some("341125"));
    let empty = RegionTable::from_tsv("");
    assert!(empty.is_empty());
    assert_eq!(
        empty
            .parse_address("安徽省定远县", &AddressHints::default())
            .region_code,
        None
    );
}

#[test]
fn normalization() {
    assert_eq!(
        normalize_text(" 安徽省　滁州市\t定远县 "),
        "安徽省滁州市定远县"
    );
    assert_eq!(normalize_text("１２号（Ａ座）"), "12号(A座)");
    assert_eq!(normalize_text("a\u{200B}b\u{FEFF}"), "ab");
    assert_eq!(CodeHint::parse("34").map(|c| c.significant), Some(2));
    assert_eq!(CodeHint::parse("341100").map(|c| c.significant), Some(4));
    assert_eq!(
        CodeHint::parse("34112519900101123X").map(|c| c.significant),
        Some(6)
    );
    assert!(CodeHint::parse("3").is_none());
    assert!(CodeHint::parse("abc").is_none());
    assert_eq!(canonical_village("金岗村村委会"), "金岗村");
    assert_eq!(canonical_village("金岗村委会"), "金岗村");
    assert_eq!(canonical_village("东于社区居委会"), "东于社区");
    assert_eq!(canonical_township("漓东街道办事处"), "漓东街道");
}

fn field(a: &Address, name: &str) -> String {
    let v = match name {
        "province" => &a.province,
        "city" => &a.city,
        "county" => &a.county,
        "township" => &a.township,
        "village" => &a.village,
        "detail" => &a.detail,
        "code" => &a.region_code,
        "ambiguous" => return a.ambiguous.to_string(),
        other => panic!("unknown field {other}"),
    };
    v.clone().unwrap_or_default()
}

#[test]
fn table_driven_cases() {
    assert!(CASES.len() >= 40, "{}", CASES.len());
    let mut failures = Vec::new();
    for c in CASES {
        let mut hints = AddressHints::default();
        for (k, v) in c.hints {
            match *k {
                "province" => hints.province = Some(v),
                "city" => hints.city = Some(v),
                "county" => hints.county = Some(v),
                "township" => hints.township = Some(v),
                "village" => hints.village = Some(v),
                "region_code" => hints.region_code = Some(v),
                other => panic!("unknown hint {other}"),
            }
        }
        let a = parse_address(c.raw, &hints);
        assert_eq!(a.raw, c.raw);
        let mut expect: Vec<(&str, &str)> = c.expect.to_vec();
        if !expect.iter().any(|(k, _)| *k == "code") {
            expect.push(("code", ""));
        }
        if !expect.iter().any(|(k, _)| *k == "ambiguous") {
            expect.push(("ambiguous", "false"));
        }
        for (k, want) in expect {
            let got = field(&a, k);
            if got != want {
                failures.push(format!(
                    "{:?} hints={:?}: {k} = {got:?}, want {want:?}\n    {a:?}",
                    c.raw, c.hints
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn resolved_codes_agree_with_table() {
    // Every county's own full name parses back to its code, except where
    // the name itself is ambiguous within its province/city (not possible
    // once the full chain is given).
    let t = t();
    let mut bad = Vec::new();
    for code in t.codes(Level::County) {
        let full = t.full_name(code).unwrap();
        let a = t.parse_address(&full, &AddressHints::default());
        if a.region_code.as_deref() != Some(code) {
            bad.push(format!("{code} {full}: {a:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn every_unique_county_name_resolves_alone() {
    let t = t();
    let mut bad = Vec::new();
    for code in t.codes(Level::County) {
        let name = t.name(code).unwrap();
        if t.counties_named(name).len() != 1 {
            continue;
        }
        let a = t.parse_address(&format!("{name}人民路1号"), &AddressHints::default());
        if a.region_code.as_deref() != Some(code) {
            bad.push(format!("{code} {name}: {a:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn never_panics_on_noise() {
    // Deterministic pseudo-random strings over an alphabet rich in unit
    // suffixes, separators, digits and multi-byte characters.
    let alphabet: Vec<char> = "省市县区旗镇乡村街道社居委会组号路安徽滁州定远北京朝阳鼓楼城关\
                               内蒙古自治州盟苏木嘎查 　，、()（）-#0123456789aZ😀\u{3000}"
        .chars()
        .collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let hints = AddressHints {
        county: Some("鼓楼"),
        region_code: Some("3201"),
        ..AddressHints::default()
    };
    for i in 0..20_000 {
        let len = (next() % 24) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let h = if i % 3 == 0 {
            &hints
        } else {
            &AddressHints::default()
        };
        let a = parse_address(&text, h);
        assert_eq!(a.raw, text);
        if let Some(code) = &a.region_code {
            assert!(
                RegionTable::embedded().name(code).is_some(),
                "{text}: {a:?}"
            );
        }
    }
}

#[test]
fn address_serializes() {
    fn assert_serialize<T: serde::Serialize>(_: &T) {}
    assert_serialize(&parse_address("定远县", &AddressHints::default()));
}
