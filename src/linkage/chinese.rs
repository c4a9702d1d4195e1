//! Chinese personal names for matching: traditional → simplified characters, surname-aware pinyin
//! and compound surnames.
//!
//! The `pinyin` crate gives a character's most common reading, which is wrong for many surnames
//! (曾 is zeng, not ceng; 单 shan, 区 ou, 仇 qiu, 解 xie). Surnames are read from
//! `data/surnames.tsv` (single and compound surnames with their surname reading), given names
//! through the crate. Traditional characters are folded with `data/t2s_chars.tsv` (OpenCC).

use std::collections::HashMap;
use std::sync::LazyLock;

use pinyin::ToPinyin;

/// The tables shipped with lifeline.
struct Tables {
    /// Traditional character → simplified character.
    simplified: HashMap<char, char>,
    /// Surname (simplified characters) → its reading as a surname, syllables without tones.
    surnames: HashMap<String, &'static str>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let simplified = parse_pairs(include_str!("../../data/t2s_chars.tsv"))
        .filter_map(|(from, to)| Some((single_char(from)?, single_char(to)?)))
        .collect::<HashMap<char, char>>();
    // Surnames are looked up as written first, then folded to simplified characters: folding
    // first would read 乾 (qian) as 干 (gan).
    let mut surnames = HashMap::new();
    for (surname, reading) in parse_pairs(include_str!("../../data/surnames.tsv")) {
        let reading = reading.split_whitespace().next().unwrap_or(reading);
        surnames.entry(surname.to_string()).or_insert(reading);
    }
    Tables {
        simplified,
        surnames,
    }
});

/// `left<TAB>right` lines; `#` starts a comment line.
fn parse_pairs(text: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (left, right) = line.split_once('\t')?;
            Some((left.trim(), right.trim()))
        })
}

fn single_char(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

/// A name prepared for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameForm {
    /// Simplified characters, lower-case for Latin letters, without spaces or dots.
    pub simplified: String,
    /// Pinyin syllables of the whole name without tones or separators (`zhangwei`), the surname read
    /// as a surname; other scripts kept as they are.
    pub pinyin: String,
    /// Number of characters of `simplified` that are the surname (0 when the name is not Chinese).
    pub surname_chars: u8,
    /// Byte length of the surname's reading at the start of `pinyin`.
    pub surname_pinyin_len: usize,
    /// `pinyin` with the sounds many speakers do not tell apart folded together: zh, ch, sh read
    /// as z, c, s and the finals ang, eng, ing as an, en, in (陈 chen / 程 cheng, 周 zhou / 邹 zou,
    /// 林 lin / 凌 ling). en/eng and in/ing are one sound in much of Jianghuai Mandarin,
    /// Anhui's own, zh/z in many southern dialects, and pinyin input methods offer all of them as
    /// "fuzzy pinyin" (模糊音).
    pub fuzzy: String,
}

/// Folds traditional characters to simplified ones (`張偉` → `张伟`).
pub fn simplify(name: &str) -> String {
    name.chars()
        .map(|c| *TABLES.simplified.get(&c).unwrap_or(&c))
        .collect()
}

/// The first `n` characters of `text`, as a byte length.
fn prefix(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(at, _)| at)
}

/// The surname reading of the first `n` characters of a name, looked up as written, then
/// simplified (folding first would read 乾 (qian) as 干 (gan)).
fn known_surname(written: &str, simplified: &str, n: usize) -> Option<&'static str> {
    TABLES
        .surnames
        .get(&written[..prefix(written, n)])
        .or_else(|| TABLES.surnames.get(&simplified[..prefix(simplified, n)]))
        .copied()
}

/// A name as written (without spaces or dots, Latin letters lower-case), its simplified form and
/// how many of its characters are the surname (0 when it is not written in Chinese; two for a
/// known compound surname before a given name).
fn written_forms(name: &str) -> (String, String, u8) {
    let written: String = name
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '.' | '•' | '・'))
        .flat_map(char::to_lowercase)
        .collect();
    let simplified: String = written
        .chars()
        .map(|c| *TABLES.simplified.get(&c).unwrap_or(&c))
        .collect();
    let chinese = simplified
        .chars()
        .next()
        .is_some_and(crate::normalize::names::is_cjk);
    let surname_chars = if !chinese {
        0
    } else if simplified.chars().count() >= 3 && known_surname(&written, &simplified, 2).is_some() {
        2
    } else {
        1
    };
    (written, simplified, surname_chars)
}

/// The surname of a name in simplified characters (欧阳 of 歐陽修), if it is written in Chinese:
/// what household building asks, without the readings [`name_form`] works out.
pub fn surname(name: &str) -> Option<String> {
    let (_, simplified, surname_chars) = written_forms(name);
    (surname_chars > 0)
        .then(|| simplified[..prefix(&simplified, surname_chars as usize)].to_string())
}

/// Prepares a normalized name (as stored by ingest) for comparison.
pub fn name_form(name: &str) -> NameForm {
    let (written, simplified, surname_chars) = written_forms(name);
    let mut pinyin = String::with_capacity(simplified.len() + 8);
    let mut fuzzy = String::with_capacity(simplified.len() + 8);
    let mut rest = simplified.as_str();
    if surname_chars > 0 {
        let (surname, given) = simplified.split_at(prefix(&simplified, surname_chars as usize));
        match known_surname(&written, &simplified, surname_chars as usize) {
            Some(reading) => {
                pinyin.push_str(reading);
                push_folded(&mut fuzzy, reading.chars(), surname_chars == 1);
            }
            None => {
                push_readings(&mut pinyin, surname, false);
                push_readings(&mut fuzzy, surname, true);
            }
        }
        rest = given;
    }
    let surname_pinyin_len = pinyin.len();
    push_readings(&mut pinyin, rest, false);
    push_readings(&mut fuzzy, rest, true);
    NameForm {
        simplified,
        pinyin,
        surname_chars,
        surname_pinyin_len,
        fuzzy,
    }
}

/// Appends the readings of `text`'s characters (other characters as they are), each syllable
/// folded as in [`NameForm::fuzzy`] when `fold` is set.
fn push_readings(out: &mut String, text: &str, fold: bool) {
    for c in text.chars() {
        match c.to_pinyin() {
            Some(p) => {
                let syllable = p.plain().chars().map(|c| match c {
                    'ü' => 'v',
                    'ê' => 'e',
                    c => c,
                });
                if fold {
                    push_folded(out, syllable, true);
                } else {
                    out.extend(syllable);
                }
            }
            None => out.push(c),
        }
    }
}

/// Appends `reading` with zh, ch, sh folded to z, c, s (only ever initials in pinyin, so
/// anywhere in the text) and, when it is one syllable, a final ang, eng or ing to an, en, in (in
/// joined syllables such as 上官 shangguan an n before a g may be the next syllable's).
fn push_folded(out: &mut String, reading: impl Iterator<Item = char>, one_syllable: bool) {
    let start = out.len();
    let mut previous = '\0';
    for c in reading {
        if !(c == 'h' && matches!(previous, 'z' | 'c' | 's')) {
            out.push(c);
        }
        previous = c;
    }
    if one_syllable
        && ["ang", "eng", "ing"]
            .iter()
            .any(|f| out[start..].ends_with(f))
    {
        out.pop();
    }
}

/// The surname reading of `surname` from the table, if it is a known surname.
pub fn surname_reading(surname: &str) -> Option<&'static str> {
    TABLES
        .surnames
        .get(surname)
        .or_else(|| TABLES.surnames.get(&simplify(surname)))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_are_read_as_surnames() {
        for (name, pinyin) in [
            ("曾国藩", "zengguofan"),
            ("单田芳", "shantianfang"),
            ("区小明", "ouxiaoming"),
            ("仇英", "qiuying"),
            ("解缙", "xiejin"),
            ("欧阳修", "ouyangxiu"),
            ("诸葛亮", "zhugeliang"),
            ("司马光", "simaguang"),
        ] {
            assert_eq!(name_form(name).pinyin, pinyin, "{name}");
        }
        assert_eq!(name_form("欧阳修").surname_chars, 2);
        assert_eq!(
            name_form("欧阳").surname_chars,
            1,
            "a two-character name is surname + given name"
        );
        assert_eq!(name_form("王伟").surname_chars, 1);
        assert_eq!(
            name_form("乾隆").pinyin,
            "qianlong",
            "surname looked up before folding"
        );
        assert_eq!(name_form("吕布").pinyin, "lvbu");
        assert_eq!(name_form("女娲").pinyin, "nvwa");
    }

    #[test]
    fn surnames_are_found_without_readings() {
        for name in ["歐陽修", "王伟", "欧阳", "曾国藩", "John Smith", ""] {
            let form = name_form(name);
            let expected = (form.surname_chars > 0).then(|| {
                form.simplified
                    .chars()
                    .take(form.surname_chars as usize)
                    .collect()
            });
            assert_eq!(surname(name), expected, "{name}");
        }
        assert_eq!(surname("歐陽修").as_deref(), Some("欧阳"));
    }

    #[test]
    fn traditional_and_simplified_fold_together() {
        assert_eq!(name_form("張偉"), name_form("张伟"));
        assert_eq!(name_form("歐陽修").simplified, "欧阳修");
        assert_eq!(name_form("歐陽修").pinyin, "ouyangxiu");
    }

    #[test]
    fn homophones_share_pinyin() {
        assert_eq!(name_form("张伟").pinyin, name_form("章伟").pinyin);
        assert_eq!(name_form("王玮").pinyin, name_form("汪伟").pinyin);
        assert_ne!(name_form("张伟").simplified, name_form("章伟").simplified);
    }

    #[test]
    fn fuzzy_pinyin_folds_the_sounds_speakers_merge() {
        for (a, b) in [
            ("陈洋", "程洋"),
            ("周建国", "邹建国"),
            ("林芳", "凌芳"),
            ("沈明", "森明"),
            ("张伟", "赞伟"),
        ] {
            assert_eq!(name_form(a).fuzzy, name_form(b).fuzzy, "{a} / {b}");
            assert_ne!(name_form(a).pinyin, name_form(b).pinyin, "{a} / {b}");
        }
        assert_eq!(name_form("陈明亮").fuzzy, "cenminlian");
        assert_eq!(
            name_form("曾国藩").fuzzy,
            "zenguofan",
            "surname reading folded"
        );
        assert_eq!(
            name_form("上官婉儿").fuzzy,
            "sangguanwaner",
            "a compound surname's ng may start its next syllable"
        );
        // other sounds stay apart, and names not written in Chinese are not folded
        assert_ne!(name_form("王伟").fuzzy, name_form("黄伟").fuzzy);
        assert_ne!(name_form("李明").fuzzy, name_form("倪明").fuzzy);
        assert_eq!(name_form("Zhang Cheng").fuzzy, "zhangcheng");
    }

    #[test]
    fn other_scripts_are_kept() {
        let form = name_form("买买提·艾力");
        assert_eq!(form.simplified, "买买提艾力");
        assert_eq!(name_form("John Smith").pinyin, "johnsmith");
        assert_eq!(name_form("John Smith").surname_chars, 0);
    }
}
