//! Chinese personal names: surname frequencies, era-dependent given names and
//! the look-alike tables used to inject name noise (homophones, traditional
//! forms).
//!
//! Surname weights follow the published national frequency ranking (per
//! 10,000 people, rounded), with rare and compound surnames (单 区 仇 解
//! 欧阳 司马 诸葛 …) kept at low weight so they still occur.
//!
//! Given names come from one of two models ([`NameModel`]). The default,
//! `census`, is calibrated to the Ministry of Public Security's name reports:
//! the commonest single-character given name, 伟, is borne by 3.24 million
//! people (0.23% of the population), the commonest two-character one, 秀英, by
//! 2.17 million (0.15%), the commonest full name, 张伟, by 294,282 (0.021%),
//! and 14% of full names had two characters in 2007 (4.6% of the newborns of
//! 2018). The model draws a single-character given name with an era's share,
//! else a whole classic name (建国, 秀英 …) with an era's share, else an era's
//! first and second characters, each from 36 with weights falling with rank;
//! it gives 伟 to about 1.5% of men born 1960–1984 and its commonest full
//! names (张华, 王华, 王伟) to about 0.04% of people, twice the national
//! figure, so the sample world has somewhat more namesakes than the country.
//! The `dense` model is the earlier one, kept as a namesake stress test: 45%
//! of people born before 1985 take one of twenty whole names, which gives 伟
//! to about 8% of men of those years and 李伟 or 张伟 to 0.28% of people,
//! thirteen times the published share.

use rand::RngExt;
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

/// Dense model: whole given names that are extremely common, by gender.
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

/// Dense model: first characters of two-character given names, by era (old,
/// middle, young, child).
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

/// How given names are drawn (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameModel {
    /// Calibrated to the published national name statistics.
    #[default]
    Census,
    /// The earlier, namesake-dense model: a stress test for linkage.
    Dense,
}

impl std::str::FromStr for NameModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "census" => Ok(Self::Census),
            "dense" => Ok(Self::Dense),
            other => Err(format!(
                "unknown name model {other:?}: expected \"census\" or \"dense\""
            )),
        }
    }
}

/// A random given name (1–2 characters) for the gender and birth year.
pub(crate) fn given_name(
    rng: &mut StdRng,
    model: NameModel,
    male: bool,
    birth_year: i32,
) -> String {
    match model {
        NameModel::Census => census_given_name(rng, male, birth_year),
        NameModel::Dense => dense_given_name(rng, male, birth_year),
    }
}

/// Census model: share of single-character given names by era.
const CENSUS_SINGLE: [f64; 4] = [0.12, 0.22, 0.18, 0.06];
/// Census model: share of whole classic given names by era.
const CENSUS_CLASSIC: [f64; 4] = [0.08, 0.04, 0.01, 0.0];
/// Census model: classic whole given names of men, with weights.
const CLASSIC_M: &[(&str, u32)] = &[
    ("建国", 10),
    ("建华", 8),
    ("建军", 8),
    ("国强", 6),
    ("志强", 6),
    ("建平", 5),
    ("国庆", 5),
    ("志刚", 5),
    ("卫东", 4),
    ("海波", 4),
    ("德胜", 3),
    ("福生", 3),
];
/// Census model: classic whole given names of women, with weights.
const CLASSIC_F: &[(&str, u32)] = &[
    ("秀英", 12),
    ("桂英", 6),
    ("秀兰", 5),
    ("玉兰", 5),
    ("秀珍", 4),
    ("桂兰", 4),
    ("玉珍", 3),
    ("凤英", 3),
    ("淑珍", 3),
    ("玉梅", 3),
    ("海燕", 4),
    ("丽娟", 3),
];

/// Census model: characters by era (old, middle, young, child), most common
/// first. `_FIRST` lists open two-character given names; `_SECOND` lists close
/// them and are also the single-character names.
const CENSUS_FIRST_M: [&str; 4] = [
    "国建德长永金福家学树宝正志友明文兴玉光成世万振立云洪春庆忠维绍开传善士守",
    "建志海文明晓伟俊小红国永军新卫爱东立学宏振庆春勇光向朝少继德金长宝家利玉",
    "晓文俊志海小家鹏宇子天明浩振嘉建思伟佳一永雨博国泽金少继世立凯冠中正育春",
    "子浩宇梓俊一博思皓奕铭家沐嘉佳雨天泽睿晨书景逸亦承文君锦瑞煜明正安宏星辰",
];
const CENSUS_SECOND_M: [&str; 4] = [
    "民山林生华福荣发贵才祥明春成安田义和堂全财富章清泉海仁德忠奎喜根顺银良启",
    "伟军明强平华兵刚峰东林波龙勇斌辉涛杰亮忠民生荣武飞彬宏国江松锋超云文新成",
    "磊杰鹏飞超龙涛斌帅亮宇鑫浩阳伟强军辉峰波勇明东林凯健洋文成华旭昊坤锋翔毅",
    "轩然宇睿辰泽航杰豪博诺铭阳晨涵哲川霖翔熙凡彬恒源瑞琛锐楠远骁森海文成宁钧",
];
const CENSUS_FIRST_F: [&str; 4] = [
    "秀桂玉凤兰淑春金翠素美月彩银秋爱菊英荷冬巧珍莲香小改招雪梅云传德佩瑞宝喜",
    "丽红晓小海雪春美玉金彩艳丹梅秀爱月桂凤文建亚立新冬素慧淑燕翠晶卫明俊志永",
    "晓雅婷佳丽文静欣雪思梦小紫慧海金春美玉彩艳丹秋月诗雨嘉倩晨亚燕淑琳冰璐晶",
    "梓欣子雨诗一语可思若佳依梦心紫雅嘉静馨安沐芷婉书艺晨文美乐悦甜星怡雪晓慧",
];
const CENSUS_SECOND_F: [&str; 4] = [
    "英兰珍花芳梅琴云霞莲华荣香芝凤菊娥秀贞枝娣仙叶萍玲容青芬清美姑连琼瑛银翠",
    "梅芳霞艳丽玲华萍燕红娟琴敏静英兰云平琳莉芬凤玉丹珍荣菊洁莲虹君辉蓉香秀娥",
    "婷丽娜静倩琳颖雪洁蕾丹慧敏佳艳燕霞芳玲娟媛莉晶璐萍琪月茹菲梅薇楠宁露悦欣",
    "涵怡桐萱琪诺彤妍菲然悦曦瑶欣琳雯婷璇淇蕊洁晨颖馨月宁雪卉佳茜琦娜璐希玥萌",
];

/// Every census pool with a label, for tests.
#[cfg(test)]
pub(crate) fn census_pools() -> Vec<(String, &'static str)> {
    let tables = [
        ("first, men", &CENSUS_FIRST_M),
        ("second, men", &CENSUS_SECOND_M),
        ("first, women", &CENSUS_FIRST_F),
        ("second, women", &CENSUS_SECOND_F),
    ];
    tables
        .iter()
        .flat_map(|(label, pools)| {
            pools
                .iter()
                .enumerate()
                .map(move |(era, p)| (format!("{label}, era {era}"), *p))
        })
        .collect()
}

/// A character of `pool` drawn with weight 1 / (rank + 8): the first is about
/// five times as likely as the last of 36.
fn ranked(rng: &mut StdRng, pool: &str) -> char {
    let weight = |rank: usize| 1.0 / (rank as f64 + 8.0);
    let total: f64 = (0..pool.chars().count()).map(weight).sum();
    let mut x = rng.random::<f64>() * total;
    for (rank, c) in pool.chars().enumerate() {
        let w = weight(rank);
        if x < w {
            return c;
        }
        x -= w;
    }
    pool.chars().last().unwrap_or('明')
}

/// Census model: a given name for the gender and birth year.
fn census_given_name(rng: &mut StdRng, male: bool, birth_year: i32) -> String {
    let e = era(birth_year);
    let (first, second, classic) = if male {
        (CENSUS_FIRST_M[e], CENSUS_SECOND_M[e], CLASSIC_M)
    } else {
        (CENSUS_FIRST_F[e], CENSUS_SECOND_F[e], CLASSIC_F)
    };
    if chance(rng, CENSUS_SINGLE[e]) {
        return ranked(rng, second).to_string();
    }
    if chance(rng, CENSUS_CLASSIC[e]) {
        return pick_w(rng, classic).to_string();
    }
    let a = ranked(rng, first);
    let mut b = ranked(rng, second);
    for _ in 0..4 {
        if b != a {
            break;
        }
        b = ranked(rng, second);
    }
    [a, b].iter().collect()
}

/// Dense model: a given name (1–2 characters) for the gender and birth year.
fn dense_given_name(rng: &mut StdRng, male: bool, birth_year: i32) -> String {
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
    ('宇', &['雨']),
    ('浩', &['豪']),
    ('鹏', &['朋']),
    ('婷', &['亭']),
    ('欣', &['鑫']),
    ('晨', &['辰']),
    ('轩', &['萱']),
    ('涵', &['寒']),
    ('辉', &['晖']),
    ('志', &['智']),
    ('智', &['志']),
    ('建', &['健']),
    ('健', &['建']),
    ('俊', &['骏']),
    ('斌', &['彬']),
    ('彬', &['斌']),
    ('晓', &['小']),
    ('小', &['晓']),
    ('文', &['雯']),
    ('雯', &['文']),
    ('新', &['欣']),
    ('鑫', &['欣']),
    ('佳', &['家']),
    ('家', &['佳']),
    ('嘉', &['佳']),
    ('琪', &['琦', '淇']),
    ('怡', &['宜']),
    ('萱', &['轩']),
    ('菲', &['霏']),
    ('瑶', &['遥']),
    ('梓', &['子']),
    ('子', &['梓']),
    ('睿', &['锐']),
    ('凯', &['恺']),
    ('洋', &['阳']),
    ('阳', &['洋']),
    ('琳', &['林']),
    ('颖', &['莹']),
    ('倩', &['茜']),
    ('蕾', &['磊']),
    ('桂', &['贵']),
    ('贵', &['桂']),
    ('玉', &['钰']),
    ('淑', &['书']),
    ('书', &['淑']),
    ('凤', &['风']),
    ('金', &['锦']),
    ('锦', &['金']),
    ('荣', &['蓉']),
    ('蓉', &['荣']),
    ('莲', &['连']),
    ('香', &['湘']),
    ('美', &['梅']),
    ('德', &['得']),
    ('福', &['富']),
    ('富', &['福']),
    ('祥', &['翔']),
    ('翔', &['祥']),
    ('成', &['诚']),
    ('生', &['升']),
    ('清', &['青']),
    ('青', &['清']),
    ('东', &['冬']),
    ('冬', &['东']),
    ('龙', &['隆']),
    ('飞', &['非']),
    ('兵', &['冰']),
    ('冰', &['兵']),
    ('宏', &['红', '洪']),
    ('洪', &['红', '宏']),
    ('虹', &['红']),
    ('晶', &['静']),
    ('慧', &['惠']),
    ('雅', &['亚']),
    ('亚', &['雅']),
    ('思', &['斯']),
    ('雨', &['宇']),
    ('国', &['果']),
    ('永', &['勇']),
    ('春', &['纯']),
    ('秋', &['球']),
    ('娜', &['纳']),
    ('民', &['敏']),
    ('林', &['琳', '凌']),
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
    ('义', '義'),
    ('兴', '興'),
    ('财', '財'),
    ('顺', '順'),
    ('银', '銀'),
    ('爱', '愛'),
    ('梦', '夢'),
    ('乐', '樂'),
    ('书', '書'),
    ('艺', '藝'),
    ('帅', '帥'),
    ('阳', '陽'),
    ('宁', '寧'),
    ('瑶', '瑤'),
    ('莲', '蓮'),
    ('贞', '貞'),
    ('卫', '衛'),
    ('继', '繼'),
    ('传', '傳'),
    ('开', '開'),
    ('绍', '紹'),
    ('维', '維'),
    ('洁', '潔'),
    ('颖', '穎'),
    ('锋', '鋒'),
    ('锦', '錦'),
    ('亚', '亞'),
    ('钧', '鈞'),
    ('骁', '驍'),
    ('琼', '瓊'),
    ('连', '連'),
];

/// The homophone look-alikes of `c` (none when none is known).
pub(crate) fn homophones(c: char) -> &'static [char] {
    HOMOPHONES
        .iter()
        .find(|(k, _)| *k == c)
        .map_or(&[], |(_, alts)| alts)
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
