//! Per-source layout knowledge: the columns an export may have, their header
//! aliases (copied from `mappings/*.toml` — every header written is an alias
//! listed there, except the unmapped `序号` and `备注` columns), the group
//! captions used in two-row headers, the officers' words for code values,
//! and file-name and title patterns seen in real drops.

/// The eight source systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// 住院结算 (health / medical insurance).
    Health,
    /// 火化登记 (funeral services).
    Funeral,
    /// 受灾人员台账 (emergency management).
    Emergency,
    /// 农村危房鉴定 (housing).
    Housing,
    /// 学籍 / 控辍保学 (education).
    Education,
    /// 计划生育特殊家庭 (family planning).
    FamilyPlanning,
    /// 失业登记 (human resources and social security).
    Hrss,
    /// 低保 / 特困 roster (civil affairs).
    CivilRoster,
}

impl Source {
    /// All sources, in file-writing order.
    pub(crate) const ALL: [Source; 8] = [
        Source::Health,
        Source::Funeral,
        Source::Emergency,
        Source::Housing,
        Source::Education,
        Source::FamilyPlanning,
        Source::Hrss,
        Source::CivilRoster,
    ];

    /// The mapping name (`mappings/<name>.toml`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Source::Health => "health",
            Source::Funeral => "funeral",
            Source::Emergency => "emergency",
            Source::Housing => "housing",
            Source::Education => "education",
            Source::FamilyPlanning => "family_planning",
            Source::Hrss => "hrss",
            Source::CivilRoster => "civil_affairs_roster",
        }
    }

    /// Index in [`Source::ALL`].
    pub(crate) fn index(self) -> usize {
        Source::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// The related role written in this source, if any.
    pub(crate) fn role(self) -> Option<&'static str> {
        match self {
            Source::Funeral => Some("next_of_kin"),
            Source::Education => Some("guardian"),
            Source::FamilyPlanning => Some("only_child"),
            _ => None,
        }
    }
}

/// A column kind of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Field {
    Seq,
    Remark,
    Name,
    IdNumber,
    Gender,
    BirthDate,
    Age,
    Phone,
    Address,
    County,
    Township,
    Village,
    Date,
    DischargeDate,
    Hospital,
    Diagnosis,
    TotalCost,
    Reimbursed,
    OutOfPocket,
    CremationDate,
    CauseOfDeath,
    FuneralHome,
    DisasterType,
    HouseDamage,
    LossAmount,
    HouseholdSize,
    HouseGrade,
    Structure,
    School,
    Grade,
    EnrolmentStatus,
    SpecialType,
    MonthlySupport,
    BenefitMonthly,
    BenefitMonths,
    FormerEmployer,
    AssistanceType,
    MonthlyAmount,
    RelName,
    RelId,
    RelPhone,
    RelRelation,
    RelGender,
    RelBirth,
}

impl Field {
    /// The field named `name` in the column tables of `specs`.
    pub(crate) fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "Seq" => Field::Seq,
            "Remark" => Field::Remark,
            "Name" => Field::Name,
            "IdNumber" => Field::IdNumber,
            "Gender" => Field::Gender,
            "BirthDate" => Field::BirthDate,
            "Age" => Field::Age,
            "Phone" => Field::Phone,
            "Address" => Field::Address,
            "County" => Field::County,
            "Township" => Field::Township,
            "Village" => Field::Village,
            "Date" => Field::Date,
            "DischargeDate" => Field::DischargeDate,
            "Hospital" => Field::Hospital,
            "Diagnosis" => Field::Diagnosis,
            "TotalCost" => Field::TotalCost,
            "Reimbursed" => Field::Reimbursed,
            "OutOfPocket" => Field::OutOfPocket,
            "CremationDate" => Field::CremationDate,
            "CauseOfDeath" => Field::CauseOfDeath,
            "FuneralHome" => Field::FuneralHome,
            "DisasterType" => Field::DisasterType,
            "HouseDamage" => Field::HouseDamage,
            "LossAmount" => Field::LossAmount,
            "HouseholdSize" => Field::HouseholdSize,
            "HouseGrade" => Field::HouseGrade,
            "Structure" => Field::Structure,
            "School" => Field::School,
            "Grade" => Field::Grade,
            "EnrolmentStatus" => Field::EnrolmentStatus,
            "SpecialType" => Field::SpecialType,
            "MonthlySupport" => Field::MonthlySupport,
            "BenefitMonthly" => Field::BenefitMonthly,
            "BenefitMonths" => Field::BenefitMonths,
            "FormerEmployer" => Field::FormerEmployer,
            "AssistanceType" => Field::AssistanceType,
            "MonthlyAmount" => Field::MonthlyAmount,
            "RelName" => Field::RelName,
            "RelId" => Field::RelId,
            "RelPhone" => Field::RelPhone,
            "RelRelation" => Field::RelRelation,
            "RelGender" => Field::RelGender,
            "RelBirth" => Field::RelBirth,
            _ => return None,
        })
    }

    /// Money columns (summed in 合计 rows, may carry a `（元）` suffix).
    pub(crate) fn is_money(self) -> bool {
        matches!(
            self,
            Field::TotalCost
                | Field::Reimbursed
                | Field::OutOfPocket
                | Field::LossAmount
                | Field::MonthlySupport
                | Field::BenefitMonthly
                | Field::MonthlyAmount
        )
    }

    /// Date columns.
    pub(crate) fn is_date(self) -> bool {
        matches!(
            self,
            Field::Date
                | Field::DischargeDate
                | Field::CremationDate
                | Field::BirthDate
                | Field::RelBirth
        )
    }
}

/// One possible column: its kind, header aliases, inclusion probability and
/// group (index into [`SourceSpec::groups`]).
#[derive(Debug)]
pub(crate) struct ColSpec {
    /// Column kind.
    pub field: Field,
    /// Header texts seen in the field (first = most common).
    pub aliases: Vec<&'static str>,
    /// Probability that an export has this column.
    pub prob: f64,
    /// Group caption index for two-row headers.
    pub group: usize,
}

/// What an export of one source looks like.
#[derive(Debug)]
pub(crate) struct SourceSpec {
    /// Group captions for two-row headers.
    pub groups: &'static [&'static str],
    /// Columns in their usual order, one per line:
    /// `Field prob group alias|alias|…`.
    pub cols: &'static str,
    /// Titles (`{c}` = county, `{u}` = reporting unit).
    pub titles: &'static [&'static str],
    /// Reporting units (`{c}` = county, `{city}` = city).
    pub units: &'static [&'static str],
    /// File stems for xlsx (`{c}` county, `{k}` part suffix).
    pub xlsx_names: &'static [&'static str],
    /// File stems for CSV.
    pub csv_names: &'static [&'static str],
    /// Sheet names.
    pub sheets: &'static [&'static str],
}

impl SourceSpec {
    /// The column table parsed (lines that do not parse are skipped; a
    /// test checks that none do).
    pub(crate) fn columns(&self) -> Vec<ColSpec> {
        self.cols
            .lines()
            .filter_map(|line| {
                let mut it = line.split(' ');
                let field = Field::parse(it.next()?)?;
                let prob = it.next()?.parse().ok()?;
                let group = it.next()?.parse().ok()?;
                let aliases = it.next()?.split('|').collect();
                Some(ColSpec {
                    field,
                    aliases,
                    prob,
                    group,
                })
            })
            .collect()
    }
}

/// Headers of the unmapped extra columns.
pub(crate) const SEQ_HEADERS: &[&str] = &["序号", "编号"];
/// Headers of the unmapped remark column.
pub(crate) const REMARK_HEADERS: &[&str] = &["备注", "备 注"];

/// Officers' words for code values, as listed in the mappings' `values`.
pub(crate) mod words {
    /// `house_damage`: collapsed.
    pub const COLLAPSED: &[&str] = &["倒塌", "全部倒塌", "房屋倒塌", "倒房"];
    /// `house_damage`: severe.
    pub const SEVERE: &[&str] = &["严重损坏", "严重受损", "严重"];
    /// `house_damage`: moderate.
    pub const MODERATE: &[&str] = &["一般损坏", "一般受损", "一般"];
    /// `house_damage`: none.
    pub const NO_DAMAGE: &[&str] = &["无", "未受损", "无损坏"];
    /// `house_grade` A–D.
    pub const GRADES: [&[&str]; 4] = [
        &["A", "A级"],
        &["B", "B级"],
        &["C", "C级", "C级危房", "局部危房"],
        &["D", "D级", "D级危房", "整栋危房"],
    ];
    /// `enrolment_status`: enrolled.
    pub const ENROLLED: &[&str] = &["在读", "在校", "正常", "就读"];
    /// `enrolment_status`: dropped out.
    pub const DROPPED_OUT: &[&str] = &["辍学", "失学", "退学", "辍学在家", "流失"];
    /// `enrolment_status`: suspended.
    pub const SUSPENDED: &[&str] = &["休学"];
    /// `enrolment_status`: transferred.
    pub const TRANSFERRED: &[&str] = &["转学", "转出"];
    /// `special_type`: only child died.
    pub const CHILD_DIED: &[&str] = &["独生子女死亡", "死亡", "子女死亡", "失独"];
    /// `special_type`: only child disabled.
    pub const CHILD_DISABLED: &[&str] =
        &["独生子女伤残", "伤残", "残疾", "子女伤残", "独生子女残疾"];
    /// `assistance_type`: 低保 (urban / rural words chosen by the caller).
    pub const DIBAO: &[&str] = &["低保", "城市低保", "农村低保", "最低生活保障"];
    /// `assistance_type`: 特困.
    pub const TEKUN: &[&str] = &["特困", "特困供养", "五保", "特困人员"];
    /// Words outside the lists (kept as typed by lifeline; only on rows that
    /// support no situation).
    pub const UNLISTED: &[&str] = &["待核实", "其他", "见备注"];
}
