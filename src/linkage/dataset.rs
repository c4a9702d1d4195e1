//! Records prepared for linkage: one column per field, each value interned as a `u32` symbol
//! (0 = missing) so that blocking, exact comparison and term frequencies work on integers, with the
//! strings kept once for the similarity levels.

use std::collections::HashMap;
use std::hash::BuildHasher;

use super::chinese::name_form;
use super::spec::{FieldKind, LinkageSpec};
use crate::normalize::dates::parse_date;
use crate::normalize::gender::{Gender, parse_gender};
use crate::normalize::id_number::{
    IdStatus, has_18_shape, is_clean_valid_18, parse_id_number, today,
};
use crate::normalize::kinship::kinship;
use crate::normalize::names::to_half_width;

/// Strings of one column, each stored once; symbol 0 is "missing".
///
/// The strings lie end to end in one text and the table holds only symbols with 32 bits of their
/// text's hash, so that interning a new string allocates nothing of its own (a million ID
/// numbers were two million boxed strings) and growing the table reads no text.
#[derive(Debug)]
pub struct Interner {
    /// `(symbol, hash)`, found by the hash of their text.
    table: hashbrown::HashTable<(u32, u32)>,
    hasher: foldhash::fast::FixedState,
    /// Every string, one after another.
    text: String,
    /// The end of each symbol's string in `text` (`ends[0] = 0`: the empty string).
    ends: Vec<u32>,
    /// The symbols below this are in `table`; those above were appended in bulk
    /// ([`Interner::append`]) and are put in the table when a string is next looked up.
    indexed: usize,
}

impl Default for Interner {
    fn default() -> Interner {
        Interner::new()
    }
}

/// The string of symbol `sym` (not 0) in an interner's `text` and `ends`.
fn stored<'t>(text: &'t str, ends: &[u32], sym: u32) -> &'t str {
    let sym = sym as usize;
    &text[ends[sym - 1] as usize..ends[sym] as usize]
}

/// The table's hash of a stored 32-bit hash, spread over 64 bits.
fn spread(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Interner {
    fn new() -> Interner {
        Interner {
            table: hashbrown::HashTable::new(),
            hasher: foldhash::fast::FixedState::default(),
            text: String::new(),
            ends: vec![0],
            indexed: 1,
        }
    }

    fn hash32(&self, s: &str) -> u32 {
        (self.hasher.hash_one(s) >> 32) as u32
    }

    /// The symbol of `s`, adding it if new; empty text is missing (0).
    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        self.index();
        let hash = self.hash32(s);
        let Interner {
            table, text, ends, ..
        } = self;
        let same = |&(sym, h): &(u32, u32)| h == hash && stored(text, ends, sym) == s;
        match table.entry(spread(hash), same, |&(_, h)| spread(h)) {
            hashbrown::hash_table::Entry::Occupied(found) => found.get().0,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let sym = ends.len() as u32;
                text.push_str(s);
                // a column's strings stay far below 4 GiB (u32 record numbers bound the rows)
                ends.push(u32::try_from(text.len()).expect("interned text under 4 GiB"));
                slot.insert((sym, hash));
                sym
            }
        }
    }

    /// Adds `s`, which is not empty and not held yet, without looking for it: strings that a
    /// column prepared in bulk knows to be distinct (sorted ID numbers) cost no table probe. They
    /// are put in the table when a string is next interned or looked up.
    fn append(&mut self, s: &str) -> u32 {
        debug_assert!(!s.is_empty(), "the empty string is symbol 0");
        let sym = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends
            .push(u32::try_from(self.text.len()).expect("interned text under 4 GiB"));
        sym
    }

    /// Puts the symbols appended in bulk in the table.
    fn index(&mut self) {
        while self.indexed < self.ends.len() {
            let sym = self.indexed as u32;
            let hash = self.hash32(stored(&self.text, &self.ends, sym));
            self.table
                .insert_unique(spread(hash), (sym, hash), |&(_, h)| spread(h));
            self.indexed += 1;
        }
    }

    /// The symbol of `s` if it is known.
    pub fn get(&mut self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return None;
        }
        self.index();
        let hash = self.hash32(s);
        self.table
            .find(spread(hash), |&(sym, h)| h == hash && self.text(sym) == s)
            .map(|&(sym, _)| sym)
    }

    /// The number of symbols, "missing" included.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The text of a symbol.
    pub fn text(&self, sym: u32) -> &str {
        match sym {
            0 => "",
            sym => stored(&self.text, &self.ends, sym),
        }
    }
}

/// What the texts of a column became (names, dates, ID numbers, phones and genders repeat: one
/// person is mentioned many times; a gender has two spellings in most files), so that each
/// distinct text is prepared once. A short text (most) is kept in its table entry beside what it
/// became: found by reading one entry, not the entry, then its string, then what it became
/// (a million names and dates are looked up, and those reads were most of preparing them).
#[derive(Debug, Default)]
struct PreparedTexts {
    short: hashbrown::HashTable<ShortText>,
    long: foldhash::HashMap<String, Prepared>,
    hasher: foldhash::fast::FixedState,
}

/// Bytes of text a [`ShortText`] entry holds: `2024年11月14日` takes 17.
const SHORT_TEXT: usize = 23;

#[derive(Debug)]
struct ShortText {
    len: u8,
    text: [u8; SHORT_TEXT],
    prepared: Prepared,
}

/// The `a`, `b`, `c` and `d` symbols a text became (see [`Column`]; `d` is a name's fuzzy
/// pinyin, 0 for the other kinds a text makes).
type Prepared = (u32, u32, u32, u32);

impl PreparedTexts {
    /// What `text` became, if it was seen.
    fn get(&self, text: &str) -> Option<Prepared> {
        let bytes = text.as_bytes();
        if bytes.len() > SHORT_TEXT {
            return self.long.get(text).copied();
        }
        self.short
            .find(self.hasher.hash_one(bytes), |e| {
                e.text[..e.len as usize] == *bytes
            })
            .map(|e| e.prepared)
    }

    /// Keeps what `text` (not seen yet) became.
    fn insert(&mut self, text: &str, prepared: Prepared) {
        let bytes = text.as_bytes();
        if bytes.len() > SHORT_TEXT {
            self.long.insert(text.to_string(), prepared);
            return;
        }
        let mut entry = ShortText {
            len: bytes.len() as u8,
            text: [0; SHORT_TEXT],
            prepared,
        };
        entry.text[..bytes.len()].copy_from_slice(bytes);
        let PreparedTexts { short, hasher, .. } = self;
        short.insert_unique(hasher.hash_one(bytes), entry, |e| {
            hasher.hash_one(&e.text[..e.len as usize])
        });
    }

    /// The number of texts seen.
    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }
}

/// One prepared field.
///
/// | kind | `a` | `b` | `c` |
/// |---|---|---|---|
/// | name | simplified name | pinyin | surname pinyin (`d`: fuzzy pinyin, [`NameForm::fuzzy`](super::chinese::NameForm::fuzzy)) |
/// | id number | all 18 characters | first 15 digits | 1 if valid |
/// | date | `yyyymmdd` (not a symbol) | – | – |
/// | place | county | township | village (`d`: [`below_village`]) |
/// | age | first birth year allowed (not a symbol) | last | [`FROM_AGE`], [`FROM_BIRTH_DATE`] or [`FROM_AGE_AND_BIRTH_DATE`] |
/// | kinship | first birth year allowed (not a symbol) | last | [`FROM_RELATION`] or [`FROM_BIRTH_DATE`] |
/// | text, phone, gender | value | – | – |
#[derive(Debug)]
pub struct Column {
    /// Kind of the field.
    pub kind: FieldKind,
    /// Main representation.
    pub a: Vec<u32>,
    /// Second representation.
    pub b: Vec<u32>,
    /// Third representation.
    pub c: Vec<u32>,
    /// Fourth representation: for places, what the address gives below the village (the
    /// 村民组 `5组`, or a street number); for names, the fuzzy pinyin. Empty for other kinds.
    pub d: Vec<u32>,
    /// Strings of `a`, `b`, `c` and `d` symbols.
    pub strings: Interner,
    /// ID numbers, phones and digit text of `a` packed one character to four bits
    /// ([`pack_digits`]; 0 when the text does not pack), so that the one-edit level reads no
    /// string: empty for names, dates and places.
    pub packed: Vec<u128>,
    /// What each text became ([`Column::push`]).
    seen: PreparedTexts,
    /// The latest birth date a valid ID number can give.
    today: chrono::NaiveDate,
}

impl Column {
    fn new(kind: FieldKind) -> Column {
        Column {
            kind,
            a: Vec::new(),
            b: Vec::new(),
            c: Vec::new(),
            d: Vec::new(),
            strings: Interner::new(),
            packed: Vec::new(),
            seen: PreparedTexts::default(),
            today: today(),
        }
    }

    /// A column for `len` records: its vectors allocated once rather than grown (a million
    /// records' columns were copied over and over as they doubled).
    fn with_capacity(kind: FieldKind, len: usize) -> Column {
        let mut column = Column::new(kind);
        for v in [&mut column.a, &mut column.b, &mut column.c] {
            v.reserve_exact(len);
        }
        if matches!(kind, FieldKind::Place | FieldKind::Name) {
            column.d.reserve_exact(len);
        }
        if matches!(
            kind,
            FieldKind::IdNumber | FieldKind::Phone | FieldKind::Text
        ) {
            column.packed.reserve_exact(len);
        }
        column
    }

    /// Whether records `i` and `j` hold values that can be compared. Two records that both have
    /// birth dates are left to the birth-date comparison: an age field speaks only when one side
    /// states an age and has no birth date; a kinship field only when one side's years come from
    /// its relation.
    pub fn comparable(&self, i: usize, j: usize) -> bool {
        if self.is_missing(i) || self.is_missing(j) {
            return false;
        }
        match self.kind {
            FieldKind::Age => self.c[i] == FROM_AGE || self.c[j] == FROM_AGE,
            FieldKind::Kinship => self.c[i] == FROM_RELATION || self.c[j] == FROM_RELATION,
            _ => true,
        }
    }

    /// Asks the processor to bring record `i`'s entries into its cache ahead of a comparison
    /// (pairs of a million records read memory at random: waiting for it was most of comparing).
    pub fn prefetch(&self, i: usize) {
        for v in [&self.a, &self.b, &self.c, &self.d] {
            if let Some(x) = v.get(i) {
                prefetch(x);
            }
        }
        if let Some(x) = self.packed.get(i) {
            prefetch(x);
        }
    }

    /// Whether record `i` has no usable value.
    pub fn is_missing(&self, i: usize) -> bool {
        match self.kind {
            FieldKind::IdNumber => self.a[i] == 0 && self.b[i] == 0,
            _ => self.a[i] == 0,
        }
    }

    /// Text of symbol `sym`.
    pub fn text(&self, sym: u32) -> &str {
        self.strings.text(sym)
    }

    /// A readable form of record `i`'s value.
    pub fn display(&self, i: usize) -> String {
        match self.kind {
            _ if self.is_missing(i) => String::new(),
            FieldKind::Date => {
                let d = self.a[i];
                format!("{:04}-{:02}-{:02}", d / 10_000, d / 100 % 100, d % 100)
            }
            FieldKind::IdNumber if self.a[i] == 0 => format!("{}…", self.text(self.b[i])),
            FieldKind::Age | FieldKind::Kinship if self.a[i] == self.b[i] => {
                format!("born {}", self.a[i])
            }
            FieldKind::Age => format!("born {}–{} (from the age)", self.a[i], self.b[i]),
            FieldKind::Kinship => format!("born {}–{} (from the relation)", self.a[i], self.b[i]),
            FieldKind::Place => [self.a[i], self.b[i], self.c[i], self.d[i]]
                .iter()
                .filter(|s| **s != 0)
                .map(|s| self.text(*s))
                .collect::<Vec<_>>()
                .join(" "),
            _ => self.text(self.a[i]).to_string(),
        }
    }

    /// Whether records `i` and `j` hold the same prepared value.
    pub fn same_value(&self, i: usize, j: usize) -> bool {
        self.a[i] == self.a[j] && self.b[i] == self.b[j] && self.c[i] == self.c[j]
    }

    /// Whether record `i` holds a valid ID number (id fields only).
    pub fn is_valid_id(&self, i: usize) -> bool {
        self.kind == FieldKind::IdNumber && self.c[i] == 1
    }

    /// What `text` becomes, prepared once per distinct text.
    fn prepared_once(&mut self, text: &str) -> Prepared {
        if text.is_empty() {
            let (a, b, c) = self.prepare(&[None]);
            return (a, b, c, 0);
        }
        if let Some(prepared) = self.seen.get(text) {
            return prepared;
        }
        let prepared = if self.kind == FieldKind::Name {
            self.prepare_name(text)
        } else {
            let (a, b, c) = self.prepare(&[Some(text)]);
            (a, b, c, 0)
        };
        self.seen.insert(text, prepared);
        prepared
    }

    /// An ID-number column of `len` records, the text of record `i` being `text_of(i)` (the
    /// column [`Column::push`] would read, trimmed): the same symbols, prefixes, validity and
    /// packed digits as pushing them one by one, found by sorting rather than by a table probe
    /// per record. Most of a million numbers are written clean and most are distinct: as sorted
    /// numbers their symbols, and their prefixes' (which sort with them), are given out in one
    /// pass. The other texts (lower-case `x`, 15-digit numbers, float cells, typos) are prepared
    /// as `push` prepares them and find their number and prefix among the sorted ones.
    fn id_numbers<'t>(len: usize, text_of: impl Fn(usize) -> &'t str) -> Column {
        let mut column = Column::with_capacity(FieldKind::IdNumber, len);
        column.a.resize(len, 0);
        column.b.resize(len, 0);
        column.c.resize(len, 0);
        column.packed.resize(len, 0);
        let mut clean: Vec<(u64, u32)> = Vec::with_capacity(len);
        let mut others: Vec<u32> = Vec::new();
        for i in 0..len {
            let text = text_of(i);
            // what a float cell left (`…000`) is only a prefix: `prepare_id`'s
            match id_key(text).filter(|_| !text.ends_with("000")) {
                Some(key) => clean.push((key, i as u32)),
                None if text.is_empty() => {}
                None => others.push(i as u32),
            }
        }
        clean.sort_unstable();
        // (key, symbol, prefix symbol) of each distinct number, (prefix, symbol) of each prefix:
        // in key order, which is the prefixes' order
        let mut numbers: Vec<(u64, u32, u32)> = Vec::new();
        let mut prefixes: Vec<(u64, u32)> = Vec::new();
        for run in clean.chunk_by(|x, y| x.0 == y.0) {
            let key = run[0].0;
            let digits = id_text(key);
            let text = std::str::from_utf8(&digits).expect("ASCII digits");
            let prefix = key / PREFIX_OF_KEY;
            if prefixes.last().is_none_or(|p| p.0 != prefix) {
                prefixes.push((prefix, column.strings.append(&text[..15])));
            }
            let b = prefixes[prefixes.len() - 1].1;
            let a = column.strings.append(text);
            let c = u32::from(is_clean_valid_18(text, column.today));
            let packed = pack_digits(text);
            numbers.push((key, a, b));
            for &(_, row) in run {
                let row = row as usize;
                (column.a[row], column.b[row], column.c[row]) = (a, b, c);
                column.packed[row] = packed;
            }
        }
        let mut added_numbers: HashMap<u64, u32> = HashMap::new();
        let mut added_prefixes: HashMap<u64, u32> = HashMap::new();
        for row in others {
            let row = row as usize;
            let text = text_of(row);
            let prepared = match column.seen.get(text) {
                Some(prepared) => prepared,
                None => {
                    let strings = &mut column.strings;
                    let mut prefix_symbol = |digits: &str| {
                        let prefix: u64 = digits.parse().expect("15 digits");
                        match prefixes.binary_search_by_key(&prefix, |p| p.0) {
                            Ok(k) => prefixes[k].1,
                            Err(_) => *added_prefixes
                                .entry(prefix)
                                .or_insert_with(|| strings.append(digits)),
                        }
                    };
                    let (id, valid) = match prepare_id(text) {
                        PreparedId::Valid(id) => (id, 1),
                        PreparedId::Damaged(id) => (id, 0),
                        PreparedId::Prefix(digits) => (digits, 0),
                        PreparedId::Missing => (String::new(), 0),
                    };
                    let prepared = match id_key(&id) {
                        // a number: found among the clean ones, or added
                        Some(key) => match numbers.binary_search_by_key(&key, |n| n.0) {
                            Ok(k) => (numbers[k].1, numbers[k].2, valid, 0),
                            Err(_) => {
                                let b = prefix_symbol(&id[..15]);
                                let a = *added_numbers
                                    .entry(key)
                                    .or_insert_with(|| column.strings.append(&id));
                                (a, b, valid, 0)
                            }
                        },
                        // the 15 digits a float cell kept
                        None if !id.is_empty() => (0, prefix_symbol(&id), 0, 0),
                        None => (0, 0, 0, 0),
                    };
                    column.seen.insert(text, prepared);
                    prepared
                }
            };
            (column.a[row], column.b[row], column.c[row], _) = prepared;
            column.packed[row] = pack_digits(column.strings.text(prepared.0));
        }
        column
    }

    fn push(&mut self, values: &[Option<&str>]) {
        let (a, b, c, d) = match self.kind {
            // one text makes the value: prepared once per distinct text
            FieldKind::Name
            | FieldKind::Date
            | FieldKind::IdNumber
            | FieldKind::Gender
            | FieldKind::Phone => {
                // an ID number is read from the first of its columns that holds one (the
                // validated number, else the raw text); the others from their first column
                let text = if self.kind == FieldKind::IdNumber {
                    values
                        .iter()
                        .flatten()
                        .map(|s| s.trim())
                        .find(|s| !s.is_empty())
                        .unwrap_or("")
                } else {
                    values.first().copied().flatten().map_or("", str::trim)
                };
                self.prepared_once(text)
            }
            _ => {
                let (a, b, c) = self.prepare(values);
                (a, b, c, 0)
            }
        };
        if self.kind == FieldKind::Place {
            let below = match (a, values.get(3).copied().flatten()) {
                (0, _) | (_, None) => 0,
                (_, Some(address)) => below_village(address).map_or(0, |k| self.strings.intern(&k)),
            };
            self.d.push(below);
        }
        if self.kind == FieldKind::Name {
            self.d.push(d);
        }
        if matches!(
            self.kind,
            FieldKind::IdNumber | FieldKind::Phone | FieldKind::Text
        ) {
            self.packed.push(pack_digits(self.strings.text(a)));
        }
        self.a.push(a);
        self.b.push(b);
        self.c.push(c);
    }

    /// The symbols a name becomes: simplified form, pinyin, surname pinyin and fuzzy pinyin.
    fn prepare_name(&mut self, text: &str) -> Prepared {
        if text.is_empty() {
            return (0, 0, 0, 0);
        }
        let form = name_form(text);
        let surname = &form.pinyin[..form.surname_pinyin_len];
        (
            self.strings.intern(&form.simplified),
            self.strings.intern(&form.pinyin),
            self.strings.intern(surname),
            self.strings.intern(&form.fuzzy),
        )
    }

    /// The symbols (or date) `values` become; names, dates, ID numbers, genders and phones come
    /// as the one text [`Column::push`] chose.
    fn prepare(&mut self, values: &[Option<&str>]) -> (u32, u32, u32) {
        let first = values
            .first()
            .copied()
            .flatten()
            .map(str::trim)
            .unwrap_or("");
        match self.kind {
            // (names come through `prepare_name`, which gives their fuzzy pinyin too)
            FieldKind::Name => {
                let (a, b, c, _) = self.prepare_name(first);
                (a, b, c)
            }
            FieldKind::Text => (self.strings.intern(&first.to_lowercase()), 0, 0),
            FieldKind::Phone => {
                let digits: String = first
                    .chars()
                    .map(to_half_width)
                    .filter(char::is_ascii_digit)
                    .collect();
                let digits = match digits.strip_prefix("86") {
                    Some(rest) if digits.len() == 13 => rest.to_string(),
                    _ => digits,
                };
                (
                    if digits.len() >= 7 {
                        self.strings.intern(&digits)
                    } else {
                        0
                    },
                    0,
                    0,
                )
            }
            FieldKind::Gender => match parse_gender(first) {
                Ok(Some(Gender::Male)) => (self.strings.intern("M"), 0, 0),
                Ok(Some(Gender::Female)) => (self.strings.intern("F"), 0, 0),
                _ => (0, 0, 0),
            },
            FieldKind::Date => (prepare_date(first), 0, 0),
            FieldKind::Age | FieldKind::Kinship => {
                let get = |k: usize| values.get(k).copied().flatten().unwrap_or("");
                let years = if self.kind == FieldKind::Age {
                    birth_years
                } else {
                    kin_birth_years
                };
                years(first, get(1), get(2))
            }
            // `push` hands over the one column the number is read from
            FieldKind::IdNumber => match prepare_id(first) {
                PreparedId::Valid(id) => {
                    (self.strings.intern(&id), self.strings.intern(&id[..15]), 1)
                }
                PreparedId::Damaged(id) => {
                    (self.strings.intern(&id), self.strings.intern(&id[..15]), 0)
                }
                PreparedId::Prefix(prefix) => (0, self.strings.intern(&prefix), 0),
                PreparedId::Missing => (0, 0, 0),
            },
            FieldKind::Place => {
                let get = |k: usize| {
                    values
                        .get(k)
                        .copied()
                        .flatten()
                        .map(str::trim)
                        .unwrap_or("")
                };
                let county = self.strings.intern(get(0));
                if county == 0 {
                    (0, 0, 0)
                } else {
                    let township = self.strings.intern(place_stem(get(1), TOWNSHIP_SUFFIXES));
                    let village = self.strings.intern(place_stem(get(2), VILLAGE_SUFFIXES));
                    (county, township, village)
                }
            }
        }
    }
}

/// A hint to the processor to fetch the cache line holding `value`: results are the same with or
/// without it.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and cannot fault; `value` is a live
    // reference, and SSE (which the instruction needs) is part of every x86-64 processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// An 18-character ID number (17 digits and a digit or `X`) as one integer: the 17 digits times
/// 11 plus the check character (`X` = 10), so that numbers sort by their digits, and by their
/// first 15 digits ([`PREFIX_OF_KEY`]).
fn id_key(text: &str) -> Option<u64> {
    if !has_18_shape(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let digits = bytes[..17]
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    let check = match bytes[17] {
        b'X' => 10,
        d => u64::from(d - b'0'),
    };
    Some(digits * 11 + check)
}

/// The first 15 digits of the number of an [`id_key`]: the key divided by this.
const PREFIX_OF_KEY: u64 = 11 * 100;

/// The text of an [`id_key`].
fn id_text(key: u64) -> [u8; 18] {
    let mut out = [0u8; 18];
    out[17] = match key % 11 {
        10 => b'X',
        d => b'0' + d as u8,
    };
    let mut digits = key / 11;
    for k in (0..17).rev() {
        out[k] = b'0' + (digits % 10) as u8;
        digits /= 10;
    }
    out
}

/// Text of at most 30 characters, each a digit or `X`, packed four bits a character (digit + 1,
/// `X` = 11) with its length in the top byte; 0 for empty text or text that does not pack.
pub fn pack_digits(text: &str) -> u128 {
    if text.is_empty() || text.len() > 30 {
        return 0;
    }
    let mut packed = (text.len() as u128) << 120;
    for (k, b) in text.bytes().enumerate() {
        let code = match b {
            b'0'..=b'9' => b - b'0' + 1,
            b'X' => 11,
            _ => return 0,
        };
        packed |= (code as u128) << (4 * k);
    }
    packed
}

/// Suffixes a township is written with or without (`中疃镇` / `中疃`).
const TOWNSHIP_SUFFIXES: &[&str] = &["街道办事处", "街道办", "街道", "镇", "乡"];
/// Suffixes a village is written with or without (`团结村` / `团结`, `东于社区` / `东于`).
const VILLAGE_SUFFIXES: &[&str] = &["村民委员会", "居民委员会", "村委会", "居委会", "社区", "村"];

/// A township or village name without its administrative suffix, so that the forms people write
/// compare equal; a name that would be left with fewer than two characters is kept whole.
pub(crate) fn place_stem<'t>(name: &'t str, suffixes: &[&str]) -> &'t str {
    for suffix in suffixes {
        if let Some(stem) = name.strip_suffix(suffix)
            && stem.chars().count() >= 2
        {
            return stem;
        }
    }
    name
}

/// An age field's value taken from an age, on a record without a birth date.
pub const FROM_AGE: u32 = 1;
/// An age field's value taken from a birth date (no age given).
pub const FROM_BIRTH_DATE: u32 = 2;
/// An age field's value taken from an age, on a record that also has a birth date: compared
/// only with records that have no birth date (two birth dates are the birth-date comparison's,
/// and counting an age that agrees with them again would count the same evidence twice).
pub const FROM_AGE_AND_BIRTH_DATE: u32 = 4;

/// The birth years an age on an event date allows, as `(first, last, FROM_AGE)`
/// (`FROM_AGE_AND_BIRTH_DATE` when the record has a birth date too); without an age (or its
/// date), the year of `birth_date` as `(year, year, FROM_BIRTH_DATE)`; `(0, 0, 0)` when neither
/// is known. Someone aged `n` in full years on a day of year `y` was born in `y - n - 1` or
/// `y - n`; a nominal age (虚岁, often what 享年 gives) is one or two more, so `y - n + 1` is
/// allowed too.
fn birth_years(age: &str, event_date: &str, birth_date: &str) -> (u32, u32, u32) {
    let age = age.trim().trim_end_matches(['岁', '周']).trim();
    let event_year = prepare_date(event_date.trim()) / 10_000;
    let born = prepare_date(birth_date.trim()) / 10_000;
    match age.parse::<u32>() {
        Ok(n) if n <= 130 && event_year > n + 1 => (
            event_year - n - 1,
            event_year - n + 1,
            if born == 0 {
                FROM_AGE
            } else {
                FROM_AGE_AND_BIRTH_DATE
            },
        ),
        _ => match born {
            0 => (0, 0, 0),
            year => (year, year, FROM_BIRTH_DATE),
        },
    }
}

/// A kinship field's value taken from the relation to the row's subject.
pub const FROM_RELATION: u32 = 3;

/// The birth years a related person's relation to the row's subject allows, from the subject's
/// birth date, as `(first, last, FROM_RELATION)` (a father of a child born in 2012: 1952–1996);
/// for a record that states its own birth date, its year as `(year, year, FROM_BIRTH_DATE)`;
/// `(0, 0, 0)` otherwise.
fn kin_birth_years(relation: &str, subject_birth_date: &str, birth_date: &str) -> (u32, u32, u32) {
    if let year @ 1.. = prepare_date(birth_date.trim()) / 10_000 {
        return (year, year, FROM_BIRTH_DATE);
    }
    let subject = (prepare_date(subject_birth_date.trim()) / 10_000) as i32;
    if subject == 0 {
        // most records: a subject without a birth date, or not a related person at all
        return (0, 0, 0);
    }
    match kinship(relation).and_then(|k| k.years) {
        Some((first, last)) if subject + first > 0 => (
            (subject + first) as u32,
            (subject + last) as u32,
            FROM_RELATION,
        ),
        _ => (0, 0, 0),
    }
}

/// What an address gives below the village, as a key: the 村民组 (`五组`, `5组`, `第五村民组`,
/// `五队`: `5组`), else a street number (`建设路18号`: `设路18号`, the number with the two
/// characters before it). Households of one village live in different groups; one person's
/// addresses name the same group however they are written.
pub fn below_village(address: &str) -> Option<String> {
    let address = address.trim();
    if let Some(k) = address.rfind(['组', '队']) {
        let mut before = &address[..k];
        for unit in ["村民小", "村民", "生产", "小"] {
            if let Some(rest) = before.strip_suffix(unit) {
                before = rest;
                break;
            }
        }
        if let Some((n, _)) = numeral_at_end(before).filter(|(n, _)| (1..=99).contains(n)) {
            return Some(format!("{n}组"));
        }
    }
    let k = address.rfind('号')?;
    let (n, start) = numeral_at_end(&address[..k])?;
    // the two characters before the number
    let street = address[..start]
        .char_indices()
        .rev()
        .nth(1)
        .map(|(s, _)| s)?;
    (n > 0).then(|| format!("{}{n}号", &address[street..start]))
}

/// The number (Arabic, full-width or Chinese digits) that ends `text`, and the byte offset where
/// it starts.
fn numeral_at_end(text: &str) -> Option<(u32, usize)> {
    let is_numeral =
        |c: char| to_half_width(c).is_ascii_digit() || "零〇一二两三四五六七八九十".contains(c);
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_numeral(*c))
        .last()
        .map(|(k, _)| k)?;
    // at most six characters make a numeral: read into the stack, not a vector per address
    let mut chars = ['\0'; 6];
    let mut len = 0;
    for c in text[start..].chars() {
        *chars.get_mut(len)? = to_half_width(c);
        len += 1;
    }
    Some((parse_numeral(&chars[..len])?, start))
}

/// `18`, `十八`, `二十`, `五`: a number of at most two Chinese digits, or Arabic digits.
fn parse_numeral(chars: &[char]) -> Option<u32> {
    if chars.is_empty() || chars.len() > 6 {
        return None;
    }
    if chars.iter().all(char::is_ascii_digit) {
        return chars
            .iter()
            .try_fold(0u32, |n, c| Some(n * 10 + c.to_digit(10)?));
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|d| d as u32)
            .or(match c {
                '〇' => Some(0),
                '两' => Some(2),
                _ => None,
            })
    };
    match chars {
        ['十'] => Some(10),
        [d] => digit(*d),
        ['十', d] => Some(10 + digit(*d)?),
        [t, '十'] => Some(10 * digit(*t)?),
        [t, '十', d] => Some(10 * digit(*t)? + digit(*d)?),
        _ => None,
    }
}

fn prepare_date(text: &str) -> u32 {
    if text.is_empty() {
        return 0;
    }
    match parse_date(text) {
        Ok(d) => {
            use chrono::Datelike;
            (d.year().max(0) as u32) * 10_000 + d.month() * 100 + d.day()
        }
        Err(_) => 0,
    }
}

/// What survives of an ID number.
#[derive(Debug, PartialEq, Eq)]
pub enum PreparedId {
    /// A valid number (18 characters).
    Valid(String),
    /// 18 characters that fail the checks (a wrong digit): still comparable.
    Damaged(String),
    /// Only the first 15 digits are known (the number went through a float cell).
    Prefix(String),
    /// Nothing usable.
    Missing,
}

/// Classifies ID-number text, valid or not, into what linkage can use.
pub fn prepare_id(text: &str) -> PreparedId {
    if text.is_empty() {
        return PreparedId::Missing;
    }
    let parsed = parse_id_number(text);
    if let Some(id) = parsed.normalized.filter(|_| parsed.status.is_usable()) {
        return PreparedId::Valid(id);
    }
    let cleaned: String = text
        .chars()
        .map(to_half_width)
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '+')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if parsed.status == IdStatus::PrecisionLost || cleaned.contains('E') {
        // `3.41125198504039E+17` or `341125198504039000`: 15 significant digits survive.
        let mantissa = cleaned.split('E').next().unwrap_or("");
        let mut digits: String = mantissa
            .chars()
            .filter(char::is_ascii_digit)
            .take(15)
            .collect();
        if digits.len() >= 12 && (cleaned.contains('E') || cleaned.len() == 18) {
            while digits.len() < 15 {
                digits.push('0');
            }
            return PreparedId::Prefix(digits);
        }
        return PreparedId::Missing;
    }
    if has_18_shape(&cleaned) {
        PreparedId::Damaged(cleaned)
    } else {
        PreparedId::Missing
    }
}

/// Records prepared for linkage.
#[derive(Debug)]
pub struct Dataset {
    /// Number of records.
    pub len: usize,
    /// One column per field of the spec.
    pub columns: Vec<Column>,
    /// Input each record came from (0, or 1 for the second input when linking two).
    pub source: Vec<u8>,
    /// Records named by one source row share a group (they are different people); `u32::MAX` none.
    pub row_group: Vec<u32>,
    /// Index of the first ID-number field: two different valid numbers never link.
    pub id_field: Option<usize>,
    /// Some record comes from a second input.
    link: bool,
}

impl Dataset {
    /// An empty dataset for `spec`.
    pub fn new(spec: &LinkageSpec) -> Dataset {
        Dataset {
            len: 0,
            columns: spec.fields.iter().map(|f| Column::new(f.kind)).collect(),
            source: Vec::new(),
            row_group: Vec::new(),
            id_field: spec
                .fields
                .iter()
                .position(|f| f.kind == FieldKind::IdNumber),
            link: false,
        }
    }

    /// A dataset of `len` records from one input, where `value(i, f)` gives the column values of
    /// field `f` for record `i`. The columns are prepared by a thread per core, each taking the
    /// next column when done with one, the longest first: preparing a million ID numbers and
    /// names (simplified forms, pinyin) is the longest part of reading a registry.
    pub fn from_fn<'a, F>(spec: &LinkageSpec, len: usize, row_group: Vec<u32>, value: F) -> Dataset
    where
        F: Fn(usize, usize, &mut Vec<Option<&'a str>>) + Sync,
    {
        let value = &value;
        // the longest first (a million ID numbers, then names and phones)
        let cost = |kind: FieldKind| match kind {
            FieldKind::IdNumber => 0,
            FieldKind::Name => 1,
            FieldKind::Phone => 2,
            _ => 3,
        };
        let mut fields: Vec<(usize, &super::spec::Field)> =
            spec.fields.iter().enumerate().collect();
        fields.sort_by_key(|(_, field)| cost(field.kind));
        let mut columns: Vec<(usize, Column)> = super::on_workers(fields, |(f, field)| {
            let started = std::time::Instant::now();
            let mut column = if field.kind == FieldKind::IdNumber {
                // the text `push` reads: the first of the field's columns holding one
                let cells = std::cell::RefCell::new(Vec::new());
                let text = |i: usize| {
                    let mut values = cells.borrow_mut();
                    values.clear();
                    value(i, f, &mut values);
                    values
                        .iter()
                        .copied()
                        .flatten()
                        .map(str::trim)
                        .find(|s| !s.is_empty())
                        .unwrap_or("")
                };
                Column::id_numbers(len, text)
            } else {
                let mut column = Column::with_capacity(field.kind, len);
                let mut values = Vec::new();
                for i in 0..len {
                    values.clear();
                    value(i, f, &mut values);
                    column.push(&values);
                }
                column
            };
            tracing::debug!(field = %field.name, seconds = started.elapsed().as_secs_f64(), distinct = column.seen.len(), "column prepared");
            // every record is in: what each text became is not asked again
            column.seen = PreparedTexts::default();
            (f, column)
        });
        columns.sort_by_key(|(f, _)| *f);
        let columns: Vec<Column> = columns.into_iter().map(|(_, column)| column).collect();
        Dataset {
            len,
            columns,
            source: vec![0; len],
            row_group,
            ..Dataset::new(spec)
        }
    }

    /// The same records, from the inputs `source` names (0, or 1 for a second input).
    pub fn with_sources(mut self, source: Vec<u8>) -> Dataset {
        assert_eq!(source.len(), self.len, "one source per record");
        self.link = source.iter().any(|s| *s != 0);
        self.source = source;
        self
    }

    /// Adds one record: `values[f]` holds the column values of field `f`.
    pub fn push(&mut self, values: &[Vec<Option<&str>>], source: u8, row_group: u32) {
        for (column, v) in self.columns.iter_mut().zip(values) {
            column.push(v);
        }
        self.source.push(source);
        self.link |= source != 0;
        self.row_group.push(row_group);
        self.len += 1;
    }

    /// The valid ID symbol of record `i` (0 when it has none).
    pub fn valid_id(&self, i: usize) -> u32 {
        match self.id_field {
            Some(f) if self.columns[f].is_valid_id(i) => self.columns[f].a[i],
            _ => 0,
        }
    }

    /// Whether two inputs are linked (records only pair across inputs).
    pub fn is_link(&self) -> bool {
        self.link
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_ids_stay_comparable() {
        assert_eq!(
            prepare_id("11010519491231002X"),
            PreparedId::Valid("11010519491231002X".into())
        );
        assert_eq!(
            prepare_id("11010519491231002x"),
            PreparedId::Valid("11010519491231002X".into())
        );
        assert_eq!(
            prepare_id("110105194912310021"),
            PreparedId::Damaged("110105194912310021".into())
        );
        assert_eq!(
            prepare_id("3.41125198504039E+17"),
            PreparedId::Prefix("341125198504039".into())
        );
        assert_eq!(
            prepare_id("3.4112519850403E+17"),
            PreparedId::Prefix("341125198504030".into())
        );
        assert_eq!(
            prepare_id("341125198504039000"),
            PreparedId::Prefix("341125198504039".into())
        );
        assert_eq!(prepare_id("无"), PreparedId::Missing);
        assert_eq!(prepare_id("12345"), PreparedId::Missing);
    }

    #[test]
    fn interned_strings_keep_their_symbols_as_the_table_grows() {
        let mut strings = Interner::new();
        let texts: Vec<String> = (0..50_000).map(|k| format!("张{k}")).collect();
        let symbols: Vec<u32> = texts.iter().map(|t| strings.intern(t)).collect();
        assert_eq!(symbols[0], 1, "0 is missing");
        for (t, &sym) in texts.iter().zip(&symbols) {
            assert_eq!(strings.text(sym), t);
            assert_eq!(strings.intern(t), sym, "interned once");
            assert_eq!(strings.get(t), Some(sym));
        }
        assert_eq!(strings.intern(""), 0);
        assert_eq!(strings.get(""), None);
        assert_eq!(strings.get("李四"), None);
        assert_eq!(strings.text(0), "");
    }

    /// The same number written another way first (`…x`) is still valid and keeps its prefix when
    /// it comes again in clean form.
    #[test]
    fn an_id_number_is_prepared_alike_however_it_came_first() {
        let mut column = Column::new(FieldKind::IdNumber);
        for text in [
            "11010519491231002x",
            "11010519491231002X",
            "110105194912310021",
            "110105194912310021",
            " 110105194912310021 ",
            "341125198504039000",
        ] {
            column.push(&[Some(text)]);
        }
        let triple = |i: usize| (column.a[i], column.b[i], column.c[i]);
        assert_eq!(triple(0), triple(1));
        assert_eq!(column.text(column.a[1]), "11010519491231002X");
        assert_eq!(column.text(column.b[1]), "110105194912310");
        assert!(column.is_valid_id(1));
        assert_eq!(triple(2), triple(3));
        assert_eq!(triple(2), triple(4), "trimmed");
        assert!(!column.is_valid_id(2), "a wrong check digit");
        assert_eq!(column.b[2], column.b[1], "one prefix");
        assert_eq!(column.a[5], 0, "a float cell's number is only a prefix");
        assert_eq!(column.text(column.b[5]), "341125198504039");
    }

    #[test]
    fn id_numbers_prepared_in_bulk_are_prepared_as_one_by_one() {
        let texts = [
            "11010519491231002x",
            "340104199001011234",
            "11010519491231002X",
            "",
            "110105194912310021",
            "341125198504039000",
            "3.41125198504039E+17",
            "34112519850403900",
            "110105491231002",
            "110105194912310021",
            "34010419900101123",
            "３４０１０４１９９００１０１１２３４",
            "340104199001011234",
            "not a number",
            "341125198504039",
            "11010519491231002X",
        ];
        let mut one_by_one = Column::new(FieldKind::IdNumber);
        for text in texts {
            one_by_one.push(&[Some(text)]);
        }
        let bulk = Column::id_numbers(texts.len(), |i| texts[i]);
        // the same texts, validity and packed digits (symbols may be numbered otherwise), and
        // records that share a symbol in one share it in the other
        let seen = |c: &Column, i: usize| {
            (
                c.text(c.a[i]).to_string(),
                c.text(c.b[i]).to_string(),
                c.c[i],
                c.packed[i],
            )
        };
        for i in 0..texts.len() {
            assert_eq!(seen(&bulk, i), seen(&one_by_one, i), "{:?}", texts[i]);
            for j in 0..texts.len() {
                for (x, y) in [(&bulk.a, &one_by_one.a), (&bulk.b, &one_by_one.b)] {
                    assert_eq!(x[i] == x[j], y[i] == y[j], "{:?} {:?}", texts[i], texts[j]);
                }
            }
        }
        assert_eq!(bulk.text(bulk.a[0]), "11010519491231002X");
        assert!(bulk.is_valid_id(0));
        assert_eq!(bulk.text(bulk.b[6]), "341125198504039");
        // strings added in bulk are found when looked up later
        let mut strings = bulk.strings;
        assert_eq!(strings.get("110105194912310"), Some(bulk.b[0]));
        assert_eq!(strings.intern("340104199001011234"), bulk.a[1]);
    }

    #[test]
    fn the_group_or_street_number_below_the_village_is_read_from_the_address() {
        for (address, key) in [
            ("安徽省滁州市来安县新安镇孔庄村五组", Some("5组")),
            ("新安镇孔庄村5组", Some("5组")),
            ("新安镇孔庄村５组", Some("5组")),
            ("凤阳县府城镇东郢村第八村民组", Some("8组")),
            ("来安县新安镇孔庄村二队", Some("2组")),
            ("孔庄村十二组", Some("12组")),
            ("孔庄村二十三村民小组", Some("23组")),
            ("滁州市来安县新安镇孔庄村五组78号", Some("5组")),
            ("七组", Some("7组")),
            ("东城社区建设路18号", Some("设路18号")),
            ("建设路18号", Some("设路18号")),
            ("定远县炉桥镇金岗村", None),
            ("3栋201室", None),
            ("红星大队", None),
            ("", None),
        ] {
            assert_eq!(below_village(address).as_deref(), key, "{address}");
        }
    }

    #[test]
    fn an_age_allows_the_birth_years_of_a_full_or_nominal_age() {
        // 63 full years on 2025-03-01: born 1961-03-02 … 1962-03-01; a nominal 63 (虚岁): 1963
        assert_eq!(birth_years("63", "2025-03-01", ""), (1961, 1963, FROM_AGE));
        assert_eq!(birth_years("63岁", "2025/3/1", ""), (1961, 1963, FROM_AGE));
        assert_eq!(
            birth_years(" 63 ", "20250301", "1950-01-01"),
            (1961, 1963, FROM_AGE_AND_BIRTH_DATE),
            "the age stated on the row is what is compared, with records without a birth date"
        );
        assert_eq!(
            birth_years("", "2025-03-01", "1962-05-04"),
            (1962, 1962, FROM_BIRTH_DATE)
        );
        assert_eq!(
            birth_years("63", "", "1962-05-04"),
            (1962, 1962, FROM_BIRTH_DATE),
            "an age without the date it was on is no age"
        );
        assert_eq!(birth_years("", "", ""), (0, 0, 0));
        assert_eq!(birth_years("六十三", "2025-03-01", ""), (0, 0, 0));
        assert_eq!(birth_years("200", "2025-03-01", ""), (0, 0, 0));
    }

    #[test]
    fn a_relation_allows_the_birth_years_of_its_generation() {
        // the mother of a student born in 2012: 1962–1996
        assert_eq!(
            kin_birth_years("母亲", "2012-09-01", ""),
            (1962, 1996, FROM_RELATION)
        );
        // the husband of a woman born in 1941: 1911–1971
        assert_eq!(
            kin_birth_years("丈夫", "1941-05-13", ""),
            (1911, 1971, FROM_RELATION)
        );
        assert_eq!(
            kin_birth_years("父亲", "2012-09-01", "1985-02-03"),
            (1985, 1985, FROM_BIRTH_DATE),
            "a record's own birth date is what is compared"
        );
        assert_eq!(
            kin_birth_years("父亲", "", ""),
            (0, 0, 0),
            "no subject birth date"
        );
        assert_eq!(kin_birth_years("其他亲属", "2012-09-01", ""), (0, 0, 0));
        assert_eq!(kin_birth_years("", "", ""), (0, 0, 0));
    }

    #[test]
    fn a_relation_range_is_compared_with_a_birth_year() {
        let spec = LinkageSpec::parse(
            r#"
[[field]]
name = "name"
kind = "name"

[[field]]
name = "kinship"
kind = "kinship"
columns = ["relation", "subject_birth_date", "birth_date"]

[[blocking]]
keys = ["name"]

[[comparison]]
field = "kinship"
levels = ["consistent"]
"#,
            "test",
        )
        .expect("spec");
        let mut data = Dataset::new(&spec);
        // a guardian 父亲 of a student born in 2010, a man born in 1980, one born in 2008, and
        // one born in 1975
        for kinship in [
            [Some("父亲"), Some("2010-03-04"), None],
            [None, None, Some("1980-01-01")],
            [None, None, Some("2008-01-01")],
            [None, None, Some("1975-01-01")],
        ] {
            data.push(&[vec![Some("王伟")], kinship.to_vec()], 0, u32::MAX);
        }
        let level = |i: usize, j: usize| {
            let mut g = [0u8];
            crate::linkage::comparison::gamma(&spec.comparisons, &data, i, j, &mut g);
            g[0]
        };
        assert_eq!(level(0, 1), 0, "consistent with a father born in 1980");
        assert_eq!(level(0, 2), 1, "not with one born in 2008");
        assert_eq!(
            level(1, 3),
            crate::linkage::comparison::NULL,
            "two birth dates are the birth-date comparison's"
        );
    }
}
