//! The export layouts of the eight sources: columns with their header
//! aliases (copied from `mappings/*.toml`), inclusion probabilities, group
//! captions for two-row headers, titles, reporting units, file names and
//! sheet names seen in real drops.

use super::schema::{Source, SourceSpec};

// Column tables: one column per line, `Field prob group alias|alias|…`,
// aliases in the order of the mapping files (first = most common).

const HEALTH: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 姓名|患者姓名|病人姓名|参保人姓名|参保人|就诊人姓名|患者
IdNumber 0.97 0 身份证号|身份证号码|公民身份号码|证件号码|患者身份证号|参保人身份证号|身份证
Gender 0.8 0 性别|患者性别
BirthDate 0.4 0 出生日期|出生年月
Age 0.35 0 年龄
Phone 0.5 0 联系电话|电话|手机号|手机号码|联系方式
County 0.15 0 县(区)|县区|所属县区|县（市、区）
Township 0.35 0 乡镇|乡镇(街道)|所属乡镇|乡镇街道
Village 0.35 0 村(社区)|村居|所属村|村（居）|村社区
Address 0.7 0 家庭住址|住址|现住址|居住地址|户籍地址|地址
Hospital 0.95 1 医疗机构|就诊医院|医院名称|医疗机构名称|定点医疗机构
Date 1.0 1 入院日期|入院时间|住院日期|就诊日期
DischargeDate 0.85 1 出院日期|出院时间
Diagnosis 0.7 1 诊断|疾病诊断|出院诊断|主要诊断|病种|疾病名称
TotalCost 0.9 2 总费用|医疗总费用|住院总费用|费用总额|总金额
Reimbursed 0.85 2 报销金额|统筹支付|基金支付|医保报销|合规报销|补偿金额|统筹基金支付
OutOfPocket 1.0 2 个人自付|自付金额|个人负担|个人支付|自付费用|个人自付金额|自费金额|个人现金支付
",
    groups: &["患者信息", "住院信息", "费用情况（元）"],
    titles: &[
        "{c}{ym}住院费用结算明细表",
        "{c}城乡居民医保住院结算明细",
        "住院费用结算明细表",
    ],
    units: &[
        "{c}医疗保障局",
        "{c}医疗保险基金管理中心",
        "{c}卫生健康委员会",
    ],
    xlsx_names: &[
        "{c}2026年10月住院结算明细{k}",
        "{c}住院费用结算明细表(2024.11-2026.10){k}",
        "住院结算_{c}_202610{k}",
    ],
    csv_names: &[
        "住院结算_{c}_202610{k}",
        "health_{c}_202610{k}",
        "{c}住院结算明细导出{k}",
    ],
    sheets: &["住院明细", "Sheet1", "结算明细", "2026年10月"],
};

const FUNERAL: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 逝者姓名|死者姓名|亡者姓名|姓名|亡人姓名
IdNumber 0.95 0 逝者身份证号|死者身份证号|亡者身份证号|身份证号|身份证号码|公民身份号码
Gender 0.85 0 逝者性别|死者性别|性别
BirthDate 0.4 0 出生日期|逝者出生日期
Age 0.6 0 年龄|享年|死亡年龄
County 0.15 0 县(区)|县区|所属县区
Township 0.3 0 乡镇|乡镇(街道)|所属乡镇
Village 0.3 0 村(社区)|村居|所属村
Address 0.8 0 户籍地址|生前住址|家庭住址|住址|地址
Date 1.0 1 死亡日期|死亡时间|逝世日期|亡故日期
CremationDate 0.8 1 火化日期|火化时间
CauseOfDeath 0.5 1 死亡原因|死因
FuneralHome 0.5 1 殡仪馆|火化单位|殡仪服务机构
RelName 0.92 2 家属姓名|亲属姓名|经办人姓名|联系人|承办人姓名|丧属姓名
RelId 0.6 2 家属身份证号|亲属身份证号|经办人身份证号|承办人身份证号|丧属身份证号
RelPhone 0.8 2 家属电话|联系电话|亲属电话|经办人电话|家属联系电话
RelRelation 0.7 2 与逝者关系|与死者关系|关系|与亡者关系
",
    groups: &["逝者信息", "火化信息", "家属信息"],
    titles: &[
        "{c}火化登记信息表",
        "{c}死亡人员火化信息统计表",
        "{u}火化登记台账",
    ],
    units: &["{c}殡仪馆", "{c}民政局", "{city}殡仪馆"],
    xlsx_names: &["{c}殡仪馆火化登记2026.10{k}", "{c}死亡人员火化信息{k}"],
    csv_names: &["funeral_{c}_202610{k}", "{c}火化登记导出_202610{k}"],
    sheets: &["火化登记", "Sheet1", "死亡人员"],
};

const EMERGENCY: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 姓名|户主姓名|受灾人姓名|受灾户主|户主
IdNumber 0.9 0 身份证号|身份证号码|公民身份号码|户主身份证号|证件号码
Gender 0.5 0 性别
Age 0.3 0 年龄
Phone 0.7 0 联系电话|电话|手机号|联系方式
County 0.2 0 县(区)|县区|所属县区
Township 0.6 0 乡镇|乡镇(街道)|所属乡镇
Village 0.6 0 村(社区)|村居|所属村
Address 0.75 0 家庭住址|住址|受灾地点|详细地址|地址
HouseholdSize 0.6 0 家庭人口|家庭人口数|受灾人口|人口数
Date 0.9 1 受灾日期|灾害发生日期|发生时间|受灾时间|灾害日期
DisasterType 0.8 1 灾害类型|灾种|灾害种类
HouseDamage 1.0 1 房屋受损情况|房屋损坏程度|倒损情况|房屋倒损|受损程度|房屋受损程度
LossAmount 0.8 1 直接经济损失|经济损失|损失金额|财产损失
",
    groups: &["受灾户信息", "受灾情况"],
    titles: &[
        "{c}自然灾害受灾人员台账",
        "{c}灾情统计表（受灾户明细）",
        "{u}受灾群众基本情况登记表",
    ],
    units: &["{c}应急管理局", "{c}减灾委员会办公室"],
    xlsx_names: &[
        "{c}自然灾害受灾人员台账{k}",
        "{c}应急管理局灾情统计（2026年10月）{k}",
    ],
    csv_names: &["emergency_{c}_202610{k}", "{c}受灾户明细{k}"],
    sheets: &["受灾户", "Sheet1", "灾情明细"],
};

const HOUSING: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 户主姓名|房主姓名|姓名|产权人|户主
IdNumber 0.95 0 户主身份证号|身份证号|身份证号码|公民身份号码|证件号码
Gender 0.4 0 性别
Phone 0.6 0 联系电话|电话|联系方式
County 0.2 0 县(区)|县区|所属县区
Township 0.6 0 乡镇|乡镇(街道)|所属乡镇
Village 0.6 0 村(社区)|村居|所属村|行政村
Address 0.8 0 房屋地址|房屋坐落|家庭住址|住址|地址
HouseholdSize 0.6 0 家庭人口|家庭人口数|人口数
Date 0.85 1 鉴定日期|鉴定时间|评定日期
Structure 0.7 1 结构类型|房屋结构
HouseGrade 1.0 1 鉴定等级|危险等级|房屋等级|危房等级|鉴定结果|安全等级
",
    groups: &["户主信息", "房屋鉴定情况"],
    titles: &[
        "{c}农村危房鉴定台账",
        "{c}农村低收入群体等重点对象住房安全鉴定结果汇总表",
        "农村房屋安全性鉴定台账",
    ],
    units: &["{c}住房和城乡建设局", "{c}农村危房改造工作领导小组办公室"],
    xlsx_names: &["{c}农村危房鉴定台账{k}", "{c}住建局危房鉴定结果汇总{k}"],
    csv_names: &["housing_{c}_202610{k}", "{c}危房鉴定台账{k}"],
    sheets: &["鉴定台账", "Sheet1", "危房明细"],
};

const EDUCATION: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 学生姓名|姓名|学生
IdNumber 0.97 0 学生身份证号|身份证号|身份证号码|公民身份号码|学籍号(身份证号)
Gender 0.9 0 性别|学生性别
BirthDate 0.6 0 出生日期|学生出生日期
Age 0.3 0 年龄
County 0.1 0 县(区)|县区|所属县区
Township 0.4 0 乡镇|乡镇(街道)|所属乡镇
Village 0.4 0 村(社区)|村居|所属村
Address 0.6 0 家庭住址|住址|现住址|户籍地址|地址
School 0.95 1 学校|学校名称|就读学校|所在学校
Grade 0.9 1 年级|年级班级|班级
EnrolmentStatus 1.0 1 在校状态|学籍状态|就学状态|在读状态|状态|就读情况
Date 0.8 1 变动日期|辍学日期|状态变更日期|登记日期|统计日期
RelName 0.95 2 监护人姓名|家长姓名|监护人|父亲/监护人姓名
RelId 0.6 2 监护人身份证号|家长身份证号|监护人身份证号码
RelPhone 0.85 2 监护人电话|家长电话|联系电话|监护人联系电话|家长联系电话
RelRelation 0.7 2 与学生关系|监护人关系|关系
",
    groups: &["学生信息", "学籍信息", "监护人信息"],
    titles: &[
        "{c}义务教育阶段控辍保学台账",
        "{c}2026年秋季学期学生学籍信息表",
        "{u}学生花名册",
    ],
    units: &["{c}教育体育局", "{c}教育局"],
    xlsx_names: &["{c}控辍保学台账2026秋季{k}", "{c}学生学籍信息2026年10月{k}"],
    csv_names: &["edu_{c}_学籍_202610{k}", "education_{c}_202610{k}"],
    sheets: &["学生名册", "Sheet1", "控辍保学台账"],
};

const FAMILY_PLANNING: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 姓名|户主姓名|申请人姓名|父(母)亲姓名|扶助对象姓名|父母姓名|扶助对象
IdNumber 0.97 0 身份证号|身份证号码|公民身份号码|申请人身份证号|扶助对象身份证号|证件号码
Gender 0.8 0 性别
BirthDate 0.4 0 出生日期|出生年月
Age 0.4 0 年龄
Phone 0.6 0 联系电话|电话|手机号|联系方式
Township 0.5 0 乡镇|乡镇(街道)|所属乡镇
Village 0.5 0 村(社区)|村居|所属村
Address 0.7 0 家庭住址|住址|现住址|户籍地址|地址
RelName 0.95 1 子女姓名|独生子女姓名|孩子姓名
RelId 0.6 1 子女身份证号|独生子女身份证号|子女身份证号码
RelGender 0.5 1 子女性别
RelBirth 0.5 1 子女出生日期|独生子女出生日期
SpecialType 1.0 2 特扶类别|特殊家庭类型|扶助类别|家庭类型|类别|独生子女状况
Date 0.7 2 认定日期|登记日期|确认时间|审批日期|发放起始年月
MonthlySupport 0.7 2 扶助金额|月扶助金|扶助标准|每月扶助金额
",
    groups: &["扶助对象信息", "独生子女信息", "扶助情况"],
    titles: &[
        "{c}计划生育特殊家庭扶助对象名册",
        "{c}计划生育特别扶助对象花名册（2026年）",
        "计划生育特殊家庭信息表",
    ],
    units: &["{c}卫生健康委员会", "{c}计划生育协会"],
    xlsx_names: &["{c}计划生育特殊家庭名册2026{k}", "{c}特扶对象花名册{k}"],
    csv_names: &["fp_special_{c}_202610{k}", "{c}特殊家庭名册导出{k}"],
    sheets: &["特扶名册", "Sheet1", "花名册"],
};

const HRSS: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 姓名|失业人员姓名|人员姓名
IdNumber 0.98 0 身份证号|身份证号码|公民身份号码|社会保障号码|社保号|证件号码
Gender 0.8 0 性别
BirthDate 0.4 0 出生日期|出生年月
Age 0.4 0 年龄
Phone 0.8 0 联系电话|电话|手机号|联系方式
Township 0.3 0 乡镇|乡镇(街道)|所属乡镇|街道
Village 0.2 0 村(社区)|村居|社区
Address 0.7 0 家庭住址|住址|居住地址|户籍地址|地址
Date 1.0 1 失业登记日期|登记日期|失业日期|登记时间
FormerEmployer 0.6 1 原工作单位|原单位|原就业单位
BenefitMonthly 0.7 1 失业保险金|月领取金额|发放标准|失业金月标准|领取金额
BenefitMonths 0.6 1 领取月数|享受月数|领取期限
",
    groups: &["人员信息", "失业登记信息"],
    titles: &[
        "{c}失业登记人员名单",
        "{c}失业保险金申领发放明细表",
        "{u}登记失业人员花名册",
    ],
    units: &["{c}人力资源和社会保障局", "{c}公共就业服务中心"],
    xlsx_names: &[
        "{c}失业保险金发放明细2026年10月{k}",
        "{c}失业登记人员名单202610{k}",
    ],
    csv_names: &["hrss_unemp_{c}_202610{k}", "{c}失业登记人员名单202610{k}"],
    sheets: &["失业登记", "Sheet1", "发放明细"],
};

const CIVIL_ROSTER: SourceSpec = SourceSpec {
    cols: "\
Name 1.0 0 户主姓名|姓名|保障对象姓名|申请人姓名|户主
IdNumber 0.97 0 户主身份证号|身份证号|身份证号码|公民身份号码|证件号码
Gender 0.7 0 性别
BirthDate 0.3 0 出生日期
Phone 0.6 0 联系电话|电话|联系方式
County 0.3 0 县(区)|县区|所属县区
Township 0.8 0 乡镇|乡镇(街道)|所属乡镇
Village 0.8 0 村(社区)|村居|所属村
Address 0.7 0 家庭住址|住址|居住地址|地址
AssistanceType 1.0 1 救助类别|保障类别|保障类型|对象类别|类别
HouseholdSize 0.8 1 保障人口|家庭人口|保障人数|家庭人口数
MonthlyAmount 0.8 1 月保障金额|保障金额|月救助金|月发放金额
Date 0.7 1 保障起始日期|纳入时间|审批日期|起始年月|享受起始时间
",
    groups: &["户主信息", "保障情况"],
    titles: &[
        "{c}城乡低保、特困供养对象花名册",
        "{c}2026年10月低保特困对象名册",
        "{u}社会救助对象花名册",
    ],
    units: &["{c}民政局", "{c}社会救助服务中心"],
    xlsx_names: &[
        "{c}低保特困对象名册2026年10月{k}",
        "{c}社会救助对象花名册{k}",
    ],
    csv_names: &["civil_roster_{c}_202610{k}", "{c}低保特困名册导出{k}"],
    sheets: &["花名册", "Sheet1", "保障对象"],
};

/// The layout knowledge of a source.
pub(crate) fn spec(s: Source) -> &'static SourceSpec {
    match s {
        Source::Health => &HEALTH,
        Source::Funeral => &FUNERAL,
        Source::Emergency => &EMERGENCY,
        Source::Housing => &HOUSING,
        Source::Education => &EDUCATION,
        Source::FamilyPlanning => &FAMILY_PLANNING,
        Source::Hrss => &HRSS,
        Source::CivilRoster => &CIVIL_ROSTER,
    }
}
