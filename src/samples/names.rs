//! Chinese personal names: surname frequencies, era-dependent given names and
//! the look-alike tables used to inject name noise (homophones, traditional
//! forms).
//!
//! Surname weights follow the published national frequency ranking (per
//! 10,000 people, rounded), with rare and compound surnames (单 区 仇 解
//! 欧阳 司马 诸葛 …) kept at low weight so they still occur. Given names are
//! drawn so that the very common ones (伟, 芳, 秀英 …) dominate: the sample
//! population therefore contains many distinct people with the same name, as
//! the field does.

use rand::rngs::StdRng;

use super::util::{chance, pick, pick_w};

/// Surnames with frequency weights (per 10,000 people).
pub(crate) const SURNAMES: &[(&str, u32)] = &[
    ("李", 721),
    ("王", 715),
    ("张", 686),
    ("刘", 542),
    ("陈", 456),
    ("杨", 312),
    ("黄", 224),
    ("赵", 196),
    ("吴", 190),
    ("周", 179),
    ("徐", 138),
    ("孙", 131),
    ("马", 129),
    ("朱", 127),
    ("胡", 119),
    ("郭", 111),
    ("何", 104),
    ("高", 104),
    ("林", 97),
    ("罗", 84),
    ("郑", 81),
    ("梁", 80),
    ("谢", 69),
    ("宋", 66),
    ("唐", 63),
    ("许", 61),
    ("韩", 57),
    ("冯", 56),
    ("邓", 56),
    ("曹", 55),
    ("彭", 53),
    ("曾", 52),
    ("肖", 48),
    ("田", 47),
    ("董", 46),
    ("袁", 45),
    ("潘", 44),
    ("于", 43),
    ("蒋", 42),
    ("蔡", 41),
    ("余", 40),
    ("杜", 39),
    ("叶", 39),
    ("程", 38),
    ("苏", 36),
    ("魏", 36),
    ("吕", 35),
    ("丁", 34),
    ("任", 33),
    ("沈", 32),
    ("姚", 31),
    ("卢", 30),
    ("姜", 30),
    ("崔", 29),
    ("钟", 28),
    ("谭", 27),
    ("陆", 26),
    ("汪", 40),
    ("范", 25),
    ("金", 24),
    ("石", 23),
    ("廖", 22),
    ("贾", 22),
    ("夏", 21),
    ("韦", 20),
    ("付", 20),
    ("方", 22),
    ("白", 19),
    ("邹", 19),
    ("孟", 18),
    ("熊", 18),
    ("秦", 17),
    ("邱", 17),
    ("江", 17),
    ("尹", 16),
    ("薛", 16),
    ("闫", 16),
    ("段", 15),
    ("雷", 15),
    ("侯", 15),
    ("龙", 14),
    ("史", 14),
    ("陶", 14),
    ("黎", 13),
    ("贺", 13),
    ("顾", 13),
    ("毛", 12),
    ("郝", 12),
    ("龚", 12),
    ("邵", 11),
    ("万", 11),
    ("钱", 11),
    ("严", 10),
    ("武", 10),
    ("戴", 10),
    ("孔", 9),
    ("汤", 9),
    ("葛", 8),
    ("储", 6),
    ("单", 3),
    ("仇", 2),
    ("解", 2),
    ("区", 1),
    ("欧阳", 3),
    ("司马", 1),
    ("诸葛", 1),
    ("上官", 1),
    ("皇甫", 1),
];

/// Whole given names that are extremely common, by era and gender.
const COMMON_MALE: &[(&str, u32)] = &[
    ("伟", 40),
    ("强", 20),
    ("磊", 20),
    ("军", 22),
    ("洋", 14),
    ("勇", 18),
    ("杰", 16),
    ("涛", 14),
    ("明", 14),
    ("超", 14),
    ("平", 10),
    ("刚", 12),
    ("斌", 8),
    ("辉", 9),
    ("波", 8),
    ("峰", 8),
    ("亮", 7),
    ("鹏", 7),
    ("浩", 6),
    ("飞", 7),
];
const COMMON_FEMALE: &[(&str, u32)] = &[
    ("芳", 30),
    ("娜", 22),
    ("敏", 22),
    ("静", 24),
    ("丽", 22),
    ("艳", 18),
    ("娟", 14),
    ("霞", 12),
    ("燕", 10),
    ("玲", 10),
    ("红", 10),
    ("萍", 8),
    ("婷", 8),
    ("丹", 6),
    ("秀英", 26),
    ("桂英", 12),
    ("秀兰", 10),
    ("玉兰", 6),
    ("秀珍", 5),
    ("桂兰", 5),
];

/// First characters of two-character given names, by era (old, middle, young, child).
const FIRST_M: [&[&str]; 4] = [
    &[
        "国", "建", "德", "长", "永", "金", "福", "家", "学", "树", "宝", "正", "志", "友",
    ],
    &[
        "建", "志", "海", "文", "明", "晓", "伟", "俊", "小", "红", "国", "永", "军", "新",
    ],
    &[
        "晓", "文", "俊", "志", "海", "小", "家", "鹏", "宇", "子", "天", "明", "浩", "振",
    ],
    &[
        "子", "浩", "宇", "梓", "俊", "一", "博", "思", "皓", "奕", "子", "铭", "家", "沐",
    ],
];
const SECOND_M: [&[&str]; 4] = [
    &[
        "华", "民", "山", "林", "生", "福", "荣", "发", "贵", "才", "祥", "明", "春", "成",
    ],
    &[
        "军", "伟", "华", "明", "强", "平", "兵", "刚", "峰", "东", "林", "波", "龙", "勇",
    ],
    &[
        "磊", "杰", "鹏", "飞", "超", "龙", "涛", "斌", "帅", "亮", "宇", "鑫", "浩", "阳",
    ],
    &[
        "轩", "然", "宇", "睿", "辰", "泽", "航", "杰", "豪", "博", "诺", "铭", "阳", "晨",
    ],
];
const FIRST_F: [&[&str]; 4] = [
    &[
        "秀", "桂", "玉", "凤", "兰", "淑", "春", "金", "翠", "素", "美", "月", "彩", "素",
    ],
    &[
        "丽", "红", "晓", "小", "海", "雪", "春", "美", "玉", "金", "彩", "艳", "丹", "梅",
    ],
    &[
        "晓", "雅", "婷", "佳", "丽", "文", "静", "欣", "雪", "思", "梦", "小", "紫", "慧",
    ],
    &[
        "梓", "欣", "子", "雨", "诗", "一", "语", "可", "思", "若", "佳", "依", "梦", "心",
    ],
];
const SECOND_F: [&[&str]; 4] = [
    &[
        "英", "兰", "珍", "花", "芳", "梅", "华", "琴", "云", "霞", "莲", "荣", "香", "芝",
    ],
    &[
        "华", "梅", "芳", "霞", "艳", "丽", "玲", "萍", "燕", "红", "娟", "琴", "敏", "静",
    ],
    &[
        "婷", "丽", "娜", "静", "倩", "琳", "颖", "雪", "洁", "蕾", "丹", "慧", "敏", "佳",
    ],
    &[
        "涵", "怡", "桐", "萱", "琪", "诺", "彤", "妍", "菲", "然", "悦", "曦", "瑶", "欣",
    ],
];

/// Era bucket of a birth year: 0 before 1960, 1 before 1985, 2 before 2008, 3 after.
fn era(birth_year: i32) -> usize {
    match birth_year {
        ..1960 => 0,
        1960..1985 => 1,
        1985..2008 => 2,
        _ => 3,
    }
}

/// A random surname drawn with realistic frequencies.
pub(crate) fn surname(rng: &mut StdRng) -> &'static str {
    pick_w(rng, SURNAMES)
}

/// A random given name (1–2 characters) for the gender and birth year.
pub(crate) fn given_name(rng: &mut StdRng, male: bool, birth_year: i32) -> String {
    let e = era(birth_year);
    // Share of very common whole names and of single-character names by era.
    let common = [0.45, 0.45, 0.35, 0.12][e];
    if chance(rng, common) {
        let table = if male { COMMON_MALE } else { COMMON_FEMALE };
        let name = pick_w(rng, table);
        // Old-fashioned two-char women's names are rare among the young.
        if e < 2 || name.chars().count() == 1 {
            return (*name).to_string();
        }
    }
    let single = [0.15, 0.30, 0.25, 0.10][e];
    let (first, second) = if male {
        (FIRST_M[e], SECOND_M[e])
    } else {
        (FIRST_F[e], SECOND_F[e])
    };
    if chance(rng, single) {
        return (pick(rng, second)).to_string();
    }
    let mut s = (pick(rng, first)).to_string();
    let mut b = pick(rng, second);
    if s == b {
        b = second[0];
    }
    s.push_str(b);
    s
}

/// Homophone / near-homophone look-alikes (typed through pinyin IMEs).
const HOMOPHONES: &[(char, &[char])] = &[
    ('张', &['章']),
    ('章', &['张']),
    ('王', &['汪']),
    ('汪', &['王']),
    ('陈', &['程']),
    ('程', &['陈']),
    ('徐', &['许']),
    ('许', &['徐']),
    ('杨', &['阳']),
    ('吴', &['伍']),
    ('周', &['邹']),
    ('林', &['凌']),
    ('肖', &['萧']),
    ('李', &['黎']),
    ('刘', &['柳']),
    ('伟', &['玮', '炜']),
    ('丽', &['莉', '俐']),
    ('静', &['婧', '靖']),
    ('敏', &['民']),
    ('军', &['君']),
    ('杰', &['洁']),
    ('娟', &['鹃']),
    ('芳', &['方']),
    ('红', &['洪', '宏']),
    ('明', &['铭']),
    ('磊', &['蕾']),
    ('涛', &['韬']),
    ('华', &['桦']),
    ('英', &['瑛']),
    ('兰', &['岚']),
    ('玲', &['琳', '苓']),
    ('平', &['萍']),
    ('霞', &['侠']),
    ('峰', &['锋']),
    ('刚', &['钢']),
    ('勇', &['永']),
    ('超', &['潮']),
    ('燕', &['艳']),
    ('艳', &['燕']),
    ('秀', &['绣']),
    ('珍', &['贞']),
    ('梅', &['玫']),
    ('琴', &['芹']),
    ('云', &['芸']),
    ('海', &['海']),
    ('宇', &['雨']),
    ('浩', &['豪']),
    ('鹏', &['朋']),
    ('婷', &['亭']),
    ('欣', &['鑫']),
    ('晨', &['辰']),
    ('轩', &['萱']),
    ('涵', &['寒']),
    ('辉', &['晖']),
];

/// Simplified → traditional forms (as typed by a traditional-script IME or
/// exported from an old system).
const TRADITIONAL: &[(char, char)] = &[
    ('张', '張'),
    ('刘', '劉'),
    ('陈', '陳'),
    ('杨', '楊'),
    ('黄', '黃'),
    ('赵', '趙'),
    ('吴', '吳'),
    ('孙', '孫'),
    ('马', '馬'),
    ('罗', '羅'),
    ('郑', '鄭'),
    ('谢', '謝'),
    ('许', '許'),
    ('韩', '韓'),
    ('冯', '馮'),
    ('邓', '鄧'),
    ('萧', '蕭'),
    ('蒋', '蔣'),
    ('叶', '葉'),
    ('苏', '蘇'),
    ('吕', '呂'),
    ('卢', '盧'),
    ('钟', '鍾'),
    ('谭', '譚'),
    ('陆', '陸'),
    ('贾', '賈'),
    ('韦', '韋'),
    ('邹', '鄒'),
    ('龙', '龍'),
    ('贺', '賀'),
    ('顾', '顧'),
    ('龚', '龔'),
    ('万', '萬'),
    ('钱', '錢'),
    ('严', '嚴'),
    ('汤', '湯'),
    ('伟', '偉'),
    ('华', '華'),
    ('军', '軍'),
    ('丽', '麗'),
    ('红', '紅'),
    ('兰', '蘭'),
    ('凤', '鳳'),
    ('强', '強'),
    ('涛', '濤'),
    ('杰', '傑'),
    ('飞', '飛'),
    ('国', '國'),
    ('东', '東'),
    ('云', '雲'),
    ('宝', '寶'),
    ('贵', '貴'),
    ('鹏', '鵬'),
    ('辉', '輝'),
    ('静', '靜'),
    ('艳', '艷'),
    ('刚', '剛'),
    ('荣', '榮'),
    ('庆', '慶'),
    ('长', '長'),
    ('发', '發'),
    ('树', '樹'),
    ('学', '學'),
    ('晓', '曉'),
    ('轩', '軒'),
    ('涵', '涵'),
    ('欧', '歐'),
    ('马', '馬'),
    ('诸', '諸'),
    ('葛', '葛'),
    ('诗', '詩'),
    ('语', '語'),
    ('铭', '銘'),
    ('泽', '澤'),
    ('浩', '浩'),
    ('宇', '宇'),
    ('凯', '凱'),
    ('娟', '娟'),
];

/// A homophone look-alike of `c`, if one is known.
pub(crate) fn homophone(rng: &mut StdRng, c: char) -> Option<char> {
    HOMOPHONES
        .iter()
        .find(|(k, _)| *k == c)
        .map(|(_, alts)| pick(rng, alts))
        .filter(|a| *a != c)
}

/// The traditional form of `c`, or `c` itself.
pub(crate) fn traditional(c: char) -> char {
    TRADITIONAL
        .iter()
        .find(|(k, _)| *k == c)
        .map_or(c, |(_, t)| *t)
}

/// The simplified form of a traditional character produced by [`traditional`].
#[cfg(test)]
pub(crate) fn simplified(c: char) -> char {
    TRADITIONAL
        .iter()
        .find(|(_, t)| *t == c)
        .map_or(c, |(k, _)| *k)
}

/// Whether `a` is `b` or one of `b`'s homophone look-alikes (either way round).
#[cfg(test)]
pub(crate) fn sounds_alike(a: char, b: char) -> bool {
    a == b
        || HOMOPHONES
            .iter()
            .any(|(k, alts)| (*k == a && alts.contains(&b)) || (*k == b && alts.contains(&a)))
}
