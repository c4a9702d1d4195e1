//! Name spellings registered for each table row: the official name, the bare
//! short form (`定远`, `广西`) and colloquial suffixed forms (`长阳县`, `恩施州`).

use super::table::Level;

/// Ethnic-group names used in 自治区/州/县/旗 names (plus `各` of `各族`),
/// stripped to derive the colloquial short form (`长阳土家族自治县` → `长阳`).
const ETHNIC_GROUPS: &[&str] = &[
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "各",
];

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Removes trailing ethnic-group names (`满族蒙古族`, `维吾尔`…) while at least
/// two characters of place name remain.
fn strip_ethnic(mut s: &str) -> &str {
    loop {
        let mut next = None;
        if let Some(t) = s.strip_suffix('族') {
            next = ETHNIC_GROUPS
                .iter()
                .filter(|g| t.ends_with(**g) && char_len(&t[..t.len() - g.len()]) >= 2)
                .max_by_key(|g| g.len())
                .map(|g| &t[..t.len() - g.len()]);
        } else {
            // Without 族 only multi-character names (新疆维吾尔, 伊犁哈萨克).
            next = next.or_else(|| {
                ETHNIC_GROUPS
                    .iter()
                    .filter(|g| {
                        char_len(g) >= 2
                            && s.ends_with(**g)
                            && char_len(&s[..s.len() - g.len()]) >= 2
                    })
                    .max_by_key(|g| g.len())
                    .map(|g| &s[..s.len() - g.len()])
            });
        }
        match next {
            Some(n) => s = n,
            None => break,
        }
    }
    // 东乡族自治县 → 东乡, 鄂温克族自治旗 → 鄂温克.
    match s.strip_suffix('族') {
        Some(t) if char_len(t) >= 2 => t,
        _ => s,
    }
}

/// Name spellings for one row: `(spelling, bare)`; the canonical name first.
pub(super) fn name_variants(name: &str, level: Level) -> Vec<(String, bool)> {
    let mut out = vec![(name.to_string(), false)];
    let suffixes: &[&str] = match level {
        Level::Province => &["自治区", "省", "市"],
        Level::City => &["自治州", "地区", "盟", "市"],
        Level::County => &[
            "自治县",
            "自治旗",
            "新区",
            "林区",
            "特区",
            "县",
            "区",
            "市",
            "旗",
        ],
    };
    let Some((base, suffix)) = suffixes
        .iter()
        .find_map(|suf| name.strip_suffix(*suf).map(|b| (b, *suf)))
    else {
        return out;
    };
    let ethnic = suffix.starts_with("自治") || (suffix == "区" && base.ends_with('族'));
    let short = if ethnic { strip_ethnic(base) } else { base };
    if char_len(short) >= 2 {
        out.push((short.to_string(), true));
        if short != base {
            // Colloquial suffixed forms: 长阳县, 莫力达瓦旗, 管城区, 恩施州.
            let colloquial = match suffix {
                "自治县" => Some("县"),
                "自治旗" => Some("旗"),
                "区" => Some("区"),
                "自治州" => Some("州"),
                _ => None,
            };
            if let Some(c) = colloquial {
                out.push((format!("{short}{c}"), false));
            }
        }
    }
    if name == "内蒙古自治区" {
        out.push(("内蒙".to_string(), true));
    }
    out
}
