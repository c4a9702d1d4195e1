//! Kinship words: what the relation a related person's row states (与逝者关系 `妻子`,
//! 与学生关系 `父亲`, 监护人关系 `母子`) says about that person — a man or a woman, and how
//! much older or younger than the row's subject they can be. A next of kin written down only by
//! name is told from a namesake by it: the husband of a woman born in 1941 was not born in 2008.

use super::gender::Gender;
use super::names::{is_blank, to_half_width};

/// What a kinship word says about the related person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinship {
    /// The related person's gender, when the word names one (`父亲`, `女儿`; not `配偶`).
    pub gender: Option<Gender>,
    /// The related person's birth year minus the subject's, first and last allowed, when the
    /// word fixes a generation (a mother 16 to 50 years older: `(-50, -16)`).
    pub years: Option<(i32, i32)>,
}

/// Years a father is older than his child: from 16 to 60.
const FATHER: (i32, i32) = (-60, -16);
/// Years a mother is older than her child: from 16 to 50.
const MOTHER: (i32, i32) = (-50, -16);
/// A grandparent: 30 to 95 years older.
const GRANDPARENT: (i32, i32) = (-95, -30);
/// A child: 16 to 60 years younger (the parent's gender is not known).
const CHILD: (i32, i32) = (16, 60);
/// A grandchild: 30 to 95 years younger.
const GRANDCHILD: (i32, i32) = (30, 95);
/// A spouse or a sibling: within 30 years either way.
const SAME_GENERATION: (i32, i32) = (-30, 30);
/// A child's spouse: 10 to 65 years younger.
const CHILD_IN_LAW: (i32, i32) = (10, 65);
/// A spouse's parent: 10 to 65 years older.
const PARENT_IN_LAW: (i32, i32) = (-65, -10);

use Gender::{Female, Male};

const fn kin(gender: Option<Gender>, years: Option<(i32, i32)>) -> Kinship {
    Kinship { gender, years }
}

/// Kinship words: the word, the gender it names, its generation. Words naming a pair
/// (`父子`, `母女`, `祖孙`) are read as the related person's side, as guardians' forms write them
/// (the guardian first).
const WORDS: &[(&str, Kinship)] = &[
    ("父亲", kin(Some(Male), Some(FATHER))),
    ("父", kin(Some(Male), Some(FATHER))),
    ("爸爸", kin(Some(Male), Some(FATHER))),
    ("爸", kin(Some(Male), Some(FATHER))),
    ("父子", kin(Some(Male), Some(FATHER))),
    ("父女", kin(Some(Male), Some(FATHER))),
    ("母亲", kin(Some(Female), Some(MOTHER))),
    ("母", kin(Some(Female), Some(MOTHER))),
    ("妈妈", kin(Some(Female), Some(MOTHER))),
    ("妈", kin(Some(Female), Some(MOTHER))),
    ("母子", kin(Some(Female), Some(MOTHER))),
    ("母女", kin(Some(Female), Some(MOTHER))),
    ("父母", kin(None, Some(FATHER))),
    ("祖父", kin(Some(Male), Some(GRANDPARENT))),
    ("爷爷", kin(Some(Male), Some(GRANDPARENT))),
    ("外祖父", kin(Some(Male), Some(GRANDPARENT))),
    ("外公", kin(Some(Male), Some(GRANDPARENT))),
    ("姥爷", kin(Some(Male), Some(GRANDPARENT))),
    ("祖母", kin(Some(Female), Some(GRANDPARENT))),
    ("奶奶", kin(Some(Female), Some(GRANDPARENT))),
    ("外祖母", kin(Some(Female), Some(GRANDPARENT))),
    ("外婆", kin(Some(Female), Some(GRANDPARENT))),
    ("姥姥", kin(Some(Female), Some(GRANDPARENT))),
    ("祖孙", kin(None, Some(GRANDPARENT))),
    ("儿子", kin(Some(Male), Some(CHILD))),
    ("子", kin(Some(Male), Some(CHILD))),
    ("儿", kin(Some(Male), Some(CHILD))),
    ("女儿", kin(Some(Female), Some(CHILD))),
    ("女", kin(Some(Female), Some(CHILD))),
    ("子女", kin(None, Some(CHILD))),
    ("孙子", kin(Some(Male), Some(GRANDCHILD))),
    ("孙", kin(Some(Male), Some(GRANDCHILD))),
    ("外孙", kin(Some(Male), Some(GRANDCHILD))),
    ("孙女", kin(Some(Female), Some(GRANDCHILD))),
    ("外孙女", kin(Some(Female), Some(GRANDCHILD))),
    ("丈夫", kin(Some(Male), Some(SAME_GENERATION))),
    ("夫", kin(Some(Male), Some(SAME_GENERATION))),
    ("老公", kin(Some(Male), Some(SAME_GENERATION))),
    ("妻子", kin(Some(Female), Some(SAME_GENERATION))),
    ("妻", kin(Some(Female), Some(SAME_GENERATION))),
    ("老婆", kin(Some(Female), Some(SAME_GENERATION))),
    ("配偶", kin(None, Some(SAME_GENERATION))),
    ("爱人", kin(None, Some(SAME_GENERATION))),
    ("老伴", kin(None, Some(SAME_GENERATION))),
    ("哥哥", kin(Some(Male), Some(SAME_GENERATION))),
    ("哥", kin(Some(Male), Some(SAME_GENERATION))),
    ("兄", kin(Some(Male), Some(SAME_GENERATION))),
    ("弟弟", kin(Some(Male), Some(SAME_GENERATION))),
    ("弟", kin(Some(Male), Some(SAME_GENERATION))),
    ("兄弟", kin(Some(Male), Some(SAME_GENERATION))),
    ("姐姐", kin(Some(Female), Some(SAME_GENERATION))),
    ("姐", kin(Some(Female), Some(SAME_GENERATION))),
    ("妹妹", kin(Some(Female), Some(SAME_GENERATION))),
    ("妹", kin(Some(Female), Some(SAME_GENERATION))),
    ("姐妹", kin(Some(Female), Some(SAME_GENERATION))),
    ("儿媳", kin(Some(Female), Some(CHILD_IN_LAW))),
    ("媳妇", kin(Some(Female), Some(CHILD_IN_LAW))),
    ("女婿", kin(Some(Male), Some(CHILD_IN_LAW))),
    ("岳父", kin(Some(Male), Some(PARENT_IN_LAW))),
    ("公公", kin(Some(Male), Some(PARENT_IN_LAW))),
    ("岳母", kin(Some(Female), Some(PARENT_IN_LAW))),
    ("婆婆", kin(Some(Female), Some(PARENT_IN_LAW))),
    ("伯父", kin(Some(Male), None)),
    ("伯伯", kin(Some(Male), None)),
    ("叔叔", kin(Some(Male), None)),
    ("叔父", kin(Some(Male), None)),
    ("舅舅", kin(Some(Male), None)),
    ("舅父", kin(Some(Male), None)),
    ("姑父", kin(Some(Male), None)),
    ("姨父", kin(Some(Male), None)),
    ("侄子", kin(Some(Male), None)),
    ("外甥", kin(Some(Male), None)),
    ("伯母", kin(Some(Female), None)),
    ("婶婶", kin(Some(Female), None)),
    ("婶", kin(Some(Female), None)),
    ("舅妈", kin(Some(Female), None)),
    ("姑姑", kin(Some(Female), None)),
    ("姑妈", kin(Some(Female), None)),
    ("姨", kin(Some(Female), None)),
    ("阿姨", kin(Some(Female), None)),
    ("姨妈", kin(Some(Female), None)),
    ("侄女", kin(Some(Female), None)),
    ("外甥女", kin(Some(Female), None)),
];

/// Reads a kinship word. Blanks are ignored, full-width forms folded, and the ordinals and kinds
/// written before a word read through (`长子`, `次女`, `大女儿`, `养父`, `继母`, `其妻`).
/// Anything else (`其他亲属`, `监护人`, `本人`, an empty cell) gives `None`.
pub fn kinship(relation: &str) -> Option<Kinship> {
    let cleaned: String = relation
        .chars()
        .map(to_half_width)
        .filter(|&c| !is_blank(c))
        .collect();
    let mut word = cleaned.as_str();
    for prefix in [
        "其", "长", "次", "大", "二", "三", "四", "小", "幼", "独生", "独", "养", "继", "亲",
    ] {
        if let Some(rest) = word.strip_prefix(prefix)
            && !rest.is_empty()
        {
            word = rest;
        }
    }
    WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|&(_, kinship)| kinship)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinship_words_name_a_gender() {
        let cases: &[(&str, Option<Gender>)] = &[
            ("妻子", Some(Female)),
            ("丈夫", Some(Male)),
            ("父亲", Some(Male)),
            ("母亲", Some(Female)),
            ("儿子", Some(Male)),
            ("长子", Some(Male)),
            ("次女", Some(Female)),
            ("大女儿", Some(Female)),
            ("养父", Some(Male)),
            ("继母", Some(Female)),
            ("其妻", Some(Female)),
            (" 儿媳 ", Some(Female)),
            ("女婿", Some(Male)),
            ("孙女", Some(Female)),
            ("外孙", Some(Male)),
            ("父子", Some(Male)),
            ("母女", Some(Female)),
            ("配偶", None),
            ("祖孙", None),
            ("子女", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                kinship(raw).map(|k| k.gender),
                Some(*want),
                "{raw:?} is a kinship word"
            );
        }
    }

    #[test]
    fn kinship_words_place_a_generation() {
        assert_eq!(kinship("父亲").and_then(|k| k.years), Some(FATHER));
        assert_eq!(kinship("祖孙").and_then(|k| k.years), Some(GRANDPARENT));
        assert_eq!(kinship("次子").and_then(|k| k.years), Some(CHILD));
        assert_eq!(kinship("妻子").and_then(|k| k.years), Some(SAME_GENERATION));
        assert_eq!(kinship("女婿").and_then(|k| k.years), Some(CHILD_IN_LAW));
        assert_eq!(kinship("叔叔").and_then(|k| k.years), None);
    }

    #[test]
    fn other_words_are_not_kinship() {
        for raw in ["其他亲属", "监护人", "本人", "亲属", "朋友", "", "   "] {
            assert_eq!(kinship(raw), None, "{raw:?}");
        }
    }
}
