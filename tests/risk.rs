//! Risk flags on hand-made exports of every source, run on every backend: which households the
//! default rules flag (and which minor situations they leave alone), the evidence leading back
//! to file and row, re-runs that never duplicate, reopening, cases, exports and the weekly report.

mod common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use common::{TestHousehold, TestPerson, id_number};
use lifeline::export::{Format, export_table, flags_query, households_query, persons_query};
use lifeline::registry::Registry;
use lifeline::risk::cases::{self, CaseFilter, Status};
use lifeline::risk::report::{Week, write_weekly_report};
use lifeline::risk::{RiskError, RuleSet, flag_households};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

const DINGYUAN: &str = "341125";

fn person(
    person_id: &'static str,
    household_id: &'static str,
    role: &'static str,
    name: &'static str,
    birth_date: &'static str,
    sequence: u32,
) -> TestPerson {
    TestPerson {
        person_id,
        household_id,
        role,
        name,
        id_number: id_number(DINGYUAN, birth_date, sequence),
        birth_date,
    }
}

fn world() -> (Vec<TestHousehold>, Vec<TestPerson>) {
    let place = |household_id, township, village| TestHousehold {
        household_id,
        region_code: DINGYUAN,
        township,
        village,
    };
    let households = vec![
        place("H01", "炉桥镇", "金岗村"),
        place("H02", "炉桥镇", "金岗村"),
        place("H03", "永康镇", "民主村"),
        place("H04", "永康镇", "民主村"),
        place("H05", "炉桥镇", "高塘村"),
        place("H06", "炉桥镇", "高塘村"),
        place("H07", "拂晓乡", "丰收村"),
        place("H08", "拂晓乡", "丰收村"),
        place("H09", "永康镇", "民主村"),
        place("H10", "永康镇", "民主村"),
        place("H11", "炉桥镇", "金岗村"),
        place("H12", "拂晓乡", "丰收村"),
    ];
    let persons = vec![
        person("P01", "H01", "head", "赵大伟", "1980-05-01", 11),
        person("P02", "H02", "head", "钱二", "1975-03-03", 13),
        person("P03", "H03", "head", "孙三", "1981-02-02", 15),
        person("P04", "H03", "spouse", "李四妹", "1983-04-04", 22),
        person("P05", "H04", "head", "周老五", "1950-01-01", 17),
        person("P06", "H04", "son", "吴六", "1975-06-06", 19),
        person("P07", "H05", "head", "郑七", "1985-07-07", 31),
        person("P08", "H05", "son", "王小八", "2012-08-08", 33),
        person("P09", "H06", "head", "冯九", "1980-09-09", 35),
        person("P10", "H06", "son", "陈十", "2009-02-01", 37),
        person("P11", "H07", "head", "褚十一", "1960-11-11", 39),
        person("P12", "H08", "head", "卫十二", "1962-12-12", 51),
        person("P13", "H09", "head", "蒋十三", "1970-01-13", 53),
        person("P14", "H10", "head", "沈十四", "1971-01-14", 55),
        person("P15", "H11", "head", "韩十五", "1958-01-15", 57),
        person("P16", "H11", "son", "韩小六", "1985-01-16", 59),
        person("P17", "H12", "head", "杨十七", "1990-01-17", 71),
    ];
    (households, persons)
}

fn id(persons: &[TestPerson], person_id: &str) -> String {
    persons
        .iter()
        .find(|p| p.person_id == person_id)
        .map(|p| p.id_number.clone())
        .unwrap()
}

/// The exports of every source, as the departments would send them.
fn write_exports(dir: &Path, persons: &[TestPerson]) -> Vec<PathBuf> {
    let i = |p| id(persons, p);
    let files = [
        (
            "health.csv",
            format!(
                "姓名,身份证号,入院日期,医疗机构,个人自付\n\
                 赵大伟,{p1},2026-03-01,定远县人民医院,30000\n\
                 赵大伟,{p1},2026-06-01,定远县人民医院,25000\n\
                 钱二,{p2},2026-02-01,定远县人民医院,30000\n\
                 钱二,{p2},2026-05-01,定远县人民医院,15000\n\
                 钱二,{p2},2026-05-01,定远县人民医院,15000\n\
                 钱二,{p2},2025-06-01,定远县人民医院,20000\n",
                p1 = i("P01"),
                p2 = i("P02")
            ),
        ),
        (
            "funeral.csv",
            format!(
                "逝者姓名,逝者身份证号,死亡日期,家属姓名,与逝者关系\n\
                 孙三,{},2026-05-10,李四妹,配偶\n\
                 周老五,{},2026-04-01,吴六,儿子\n",
                i("P03"),
                i("P05")
            ),
        ),
        (
            "education.csv",
            format!(
                "学生姓名,学生身份证号,学籍状态,变动日期,监护人姓名\n\
                 王小八,{},辍学,2026-04-01,郑七\n\
                 陈十,{},辍学,2026-06-01,冯九\n",
                i("P08"),
                i("P10")
            ),
        ),
        (
            "hrss.csv",
            format!(
                "姓名,身份证号,失业登记日期,原工作单位\n\
                 郑七,{},2026-02-01,定远县盐化厂\n\
                 杨十七,{},2026-09-01,定远县纺织厂\n",
                i("P07"),
                i("P17")
            ),
        ),
        (
            "housing.csv",
            format!(
                "户主姓名,身份证号,鉴定等级,鉴定日期\n\
                 褚十一,{},D级,2026-01-15\n\
                 卫十二,{},B级,2026-01-16\n",
                i("P11"),
                i("P12")
            ),
        ),
        (
            "emergency.csv",
            format!(
                "姓名,身份证号,房屋受损情况,受灾日期,灾害类型\n\
                 蒋十三,{},倒塌,2026-07-20,洪涝\n\
                 沈十四,{},一般损坏,2026-07-20,洪涝\n",
                i("P13"),
                i("P14")
            ),
        ),
        (
            "family_planning.csv",
            format!(
                "姓名,身份证号,特扶类别,认定日期,子女姓名\n\
                 韩十五,{},独生子女死亡,2024-12-01,韩小六\n",
                i("P15")
            ),
        ),
        (
            "roster.csv",
            format!(
                "户主姓名,身份证号,救助类别,保障起始日期\n\
                 李四妹,{},农村低保,2025-01-01\n\
                 杨十七,{},低保边缘,2025-01-01\n",
                i("P04"),
                i("P17")
            ),
        ),
    ];
    files
        .iter()
        .map(|(name, text)| common::write_text(dir, name, text, encoding_rs::UTF_8))
        .collect()
}

async fn flags_by_household(
    registry: &Registry,
) -> Vec<(String, String, i64, bool, String, String)> {
    let list = cases::list_cases(registry, &CaseFilter::default(), day("2026-11-01"))
        .await
        .unwrap();
    let mut out: Vec<_> = list
        .into_iter()
        .map(|c| {
            (
                c.household_id,
                c.level,
                c.score,
                c.covered,
                c.status,
                c.responsible_unit,
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn default_rules_flag_the_missions_situations_and_leave_minor_events_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (households, persons) = world();
    let files = write_exports(dir.path(), &persons);
    let rules = RuleSet::built_in().unwrap();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let label = &test.label;
        let receipts = common::ingest(registry, &dir.path().join("receipts"), &files).await;
        for receipt in &receipts {
            assert_eq!(receipt.rows_rejected, 0, "{label}: {}", receipt.summary());
        }
        common::link_by_hand(registry, &households, &persons).await;
        let summary = flag_households(registry, day("2026-11-01"), &rules)
            .await
            .unwrap();
        assert_eq!(summary.households, 12, "{label}");
        let flags = flags_by_household(registry).await;
        let found: Vec<(&str, &str, i64, bool)> = flags
            .iter()
            .map(|f| (f.0.as_str(), f.1.as_str(), f.2, f.3))
            .collect();
        assert_eq!(
            found,
            [
                ("H01", "high", 60, false),   // 55,000 out of pocket in 12 months
                ("H03", "high", 60, true),    // death at 45; the widow is on 低保
                ("H05", "high", 80, false),   // dropout at 13 + unemployment + both at once
                ("H07", "medium", 40, false), // grade D house
                ("H09", "high", 60, false),   // house collapsed
                ("H11", "medium", 40, false), // only child died
                ("H12", "low", 15, false),    // unemployment alone; 低保边缘 is not coverage
            ],
            "{label}: H02 (45,000 once the duplicate row counts once and the 2025 stay is out \
             of the window), H04 (death at 76), H06 (dropout at 17), H08 (grade B) and H10 \
             (moderate damage) must not be flagged"
        );
        assert!(flags.iter().all(|f| f.4 == "new"), "{label}");
        let unit = |h: &str| flags.iter().find(|f| f.0 == h).unwrap().5.clone();
        assert_eq!(unit("H01"), "定远县炉桥镇");
        assert_eq!(unit("H07"), "定远县拂晓乡");
        assert_eq!(
            (
                summary.opened,
                summary.at_risk,
                summary.uncovered,
                summary.by_level
            ),
            (7, 7, 6, [4, 2, 1]),
            "{label}"
        );

        // reasons a caseworker reads, evidence leading back to file and row
        let list = cases::list_cases(registry, &CaseFilter::default(), day("2026-11-01"))
            .await
            .unwrap();
        assert!(!list[0].covered, "{label}: uncovered households come first");
        assert!(list.last().unwrap().covered || list.last().unwrap().level == "low");
        let h01 = list.iter().find(|c| c.household_id == "H01").unwrap();
        assert_eq!(
            h01.reasons, "赵大伟住院自付合计 55,000 元（12个月内2次住院，≥50,000）",
            "{label}"
        );
        let detail = cases::show_case(registry, h01.flag_id, day("2026-11-01"))
            .await
            .unwrap();
        let lineage: Vec<(&str, i64, &str)> = detail
            .evidence
            .iter()
            .map(|e| (e.file.as_str(), e.row, e.rule.as_str()))
            .collect();
        assert_eq!(
            lineage,
            [
                ("health.csv", 2, "major_medical"),
                ("health.csv", 3, "major_medical")
            ],
            "{label}"
        );
        assert_eq!(detail.person_ids, "P01");
        assert_eq!(detail.rule_set_version, rules.version);
        assert_eq!(detail.history[0].action, "opened");
        let h05 = list.iter().find(|c| c.household_id == "H05").unwrap();
        assert_eq!(
            h05.reasons,
            "王小八（13岁）2026-04-01辍学；郑七于2026-02-01登记失业；同一家庭2项困难叠加：适龄儿童辍学、登记失业",
            "{label}"
        );
        let h03 = cases::show_case(
            registry,
            list.iter()
                .find(|c| c.household_id == "H03")
                .unwrap()
                .flag_id,
            day("2026-11-01"),
        )
        .await
        .unwrap();
        assert_eq!(
            h03.summary.reasons,
            "孙三于2026-05-10去世，时年45岁（18–60岁劳动年龄）"
        );
        assert_eq!(h03.evidence.len(), 1);
        assert_eq!(
            (h03.evidence[0].file.as_str(), h03.evidence[0].row),
            ("funeral.csv", 2)
        );

        // a second run changes nothing
        let again = flag_households(registry, day("2026-11-01"), &rules)
            .await
            .unwrap();
        assert_eq!(
            (
                again.opened,
                again.updated,
                again.reopened,
                again.evidence_added
            ),
            (0, 0, 0, 0),
            "{label}"
        );
        assert_eq!(flags_by_household(registry).await, flags, "{label}");
        test.cleanup().await;
    }
}

#[tokio::test]
async fn reruns_add_evidence_change_levels_and_reopen_only_on_evidence_after_closing() {
    let dir = tempfile::tempdir().unwrap();
    let (households, persons) = world();
    let files = write_exports(dir.path(), &persons);
    let rules = RuleSet::built_in().unwrap();
    let i = |p| id(&persons, p);
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let label = &test.label;
        common::ingest(registry, &dir.path().join("receipts"), &files).await;
        common::link_by_hand(registry, &households, &persons).await;
        flag_households(registry, day("2026-11-01"), &rules)
            .await
            .unwrap();
        let flag_of = |list: &[cases::CaseSummary], h: &str| {
            list.iter().find(|c| c.household_id == h).unwrap().clone()
        };
        let list = cases::list_cases(registry, &CaseFilter::default(), day("2026-11-01"))
            .await
            .unwrap();
        let h07 = flag_of(&list, "H07");
        let h12 = flag_of(&list, "H12");
        assert_eq!(
            (h12.level.as_str(), h12.due_date.as_str()),
            ("low", "2026-11-16")
        );

        // the grade D household is visited, helped and the case closed
        for status in [Status::Verifying, Status::Assisting, Status::Closed] {
            cases::transition_case(
                registry,
                h07.flag_id,
                status,
                Some("入户核实"),
                "王主任",
                day("2026-11-03"),
            )
            .await
            .unwrap();
        }
        assert!(matches!(
            cases::transition_case(
                registry,
                h07.flag_id,
                Status::New,
                None,
                "x",
                day("2026-11-03")
            )
            .await,
            Err(RiskError::Transition { .. })
        ));
        // dismissing needs a reason
        let h09 = flag_of(&list, "H09");
        assert!(matches!(
            cases::transition_case(
                registry,
                h09.flag_id,
                Status::Dismissed,
                None,
                "x",
                day("2026-11-03")
            )
            .await,
            Err(RiskError::Invalid(_))
        ));
        // referral keeps where the case came from
        cases::refer_case(
            registry,
            h09.flag_id,
            "定远县应急管理局",
            Some("倒房重建"),
            "王主任",
            day("2026-11-03"),
        )
        .await
        .unwrap();
        cases::assign_case(registry, h09.flag_id, "李干事", "王主任", day("2026-11-03"))
            .await
            .unwrap();
        let h09_detail = cases::show_case(registry, h09.flag_id, day("2026-11-03"))
            .await
            .unwrap();
        assert_eq!(h09_detail.summary.responsible_unit, "定远县应急管理局");
        assert_eq!(h09_detail.summary.assignee.as_deref(), Some("李干事"));
        let referral = h09_detail
            .history
            .iter()
            .find(|h| h.action == "referred")
            .unwrap();
        assert_eq!(
            (referral.from_unit.as_deref(), referral.to_unit.as_deref()),
            (Some("定远县永康镇"), Some("定远县应急管理局")),
            "{label}"
        );

        // a re-run with nothing new leaves the closed case closed
        let summary = flag_households(registry, day("2026-11-10"), &rules)
            .await
            .unwrap();
        assert_eq!((summary.opened, summary.reopened), (0, 0), "{label}");

        // new exports: a third stay for 钱二 (now 65,000), a collapsed house for 杨十七 (low →
        // high), an old assessment of 褚十一's house (before the closing) and a new one after it
        let more = [
            (
                "health_11.csv",
                format!(
                    "姓名,身份证号,入院日期,医疗机构,个人自付\n钱二,{},2026-10-20,定远县人民医院,20000\n",
                    i("P02")
                ),
            ),
            (
                "emergency_11.csv",
                format!(
                    "姓名,身份证号,房屋受损情况,受灾日期,灾害类型\n杨十七,{},严重损坏,2026-11-05,风雹\n",
                    i("P17")
                ),
            ),
            (
                "housing_old.csv",
                format!(
                    "户主姓名,身份证号,鉴定等级,鉴定日期\n褚十一,{},C级,2026-10-01\n",
                    i("P11")
                ),
            ),
        ];
        let paths: Vec<PathBuf> = more
            .iter()
            .map(|(name, text)| common::write_text(dir.path(), name, text, encoding_rs::UTF_8))
            .collect();
        common::ingest(registry, &dir.path().join("receipts"), &paths).await;
        common::link_new_mentions(registry, &persons).await;
        let summary = flag_households(registry, day("2026-11-10"), &rules)
            .await
            .unwrap();
        assert_eq!(
            (
                summary.opened,
                summary.updated,
                summary.level_changed,
                summary.reopened
            ),
            (1, 1, 1, 0),
            "{label}: H02 opened, H12 raised; H07's older assessment does not reopen it"
        );
        let list = cases::list_cases(registry, &CaseFilter::default(), day("2026-11-10"))
            .await
            .unwrap();
        assert_eq!(list.len(), 8, "{label}: one flag per household");
        let h12_now = flag_of(&list, "H12");
        assert_eq!(h12_now.flag_id, h12.flag_id);
        assert_eq!(
            (
                h12_now.level.as_str(),
                h12_now.score,
                h12_now.due_date.as_str()
            ),
            ("high", 100, "2026-11-13"),
            "{label}: a higher level brings the due date forward"
        );
        assert_eq!(flag_of(&list, "H07").status, "closed");

        let newer = common::write_text(
            dir.path(),
            "housing_new.csv",
            &format!(
                "户主姓名,身份证号,鉴定等级,鉴定日期\n褚十一,{},D级,2026-11-08\n",
                i("P11")
            ),
            encoding_rs::UTF_8,
        );
        common::ingest(registry, &dir.path().join("receipts"), &[newer]).await;
        common::link_new_mentions(registry, &persons).await;
        let summary = flag_households(registry, day("2026-11-12"), &rules)
            .await
            .unwrap();
        assert_eq!(summary.reopened, 1, "{label}");
        let h07_now = cases::show_case(registry, h07.flag_id, day("2026-11-12"))
            .await
            .unwrap();
        assert_eq!(h07_now.summary.status, "new");
        assert_eq!(h07_now.summary.due_date, "2026-11-19");
        assert_eq!(h07_now.closed_on, None);
        let actions: Vec<&str> = h07_now.history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "opened",
                "transition",
                "transition",
                "transition",
                "reopened"
            ],
            "{label}"
        );
        assert_eq!(h07_now.evidence.len(), 3, "{label}: all three assessments");

        // overdue: on 2026-11-19 the cases opened on 11-01 with 3- and 7-day limits are late,
        // the case reopened on 11-12 (due 11-19) is not yet
        let overdue = cases::list_cases(
            registry,
            &CaseFilter {
                overdue_on: Some(day("2026-11-19")),
                ..CaseFilter::default()
            },
            day("2026-11-19"),
        )
        .await
        .unwrap();
        assert!(overdue.iter().all(|c| c.overdue && c.status != "closed"));
        assert!(overdue.iter().any(|c| c.household_id == "H01"), "{label}");
        assert!(!overdue.iter().any(|c| c.household_id == "H07"), "{label}");

        // the weekly report of the week the cases were worked
        let out = dir.path().join(format!("report-{label}"));
        let (report, paths) =
            write_weekly_report(registry, Week::parse("2026-W45").unwrap(), &rules, &out)
                .await
                .unwrap();
        assert!(paths.iter().all(|p| p.is_file()));
        let total = report.places[0].counts;
        // W45 is 11-02..11-08: nothing opened, H07 closed on 11-03 within its 11-08 due date
        assert_eq!((total.new, total.handled_in_time), (0, 1), "{label}");
        let (report, _) =
            write_weekly_report(registry, Week::parse("2026-W44").unwrap(), &rules, &out)
                .await
                .unwrap();
        assert_eq!(report.places[0].counts.new, 7, "{label}");
        assert_eq!(report.places[0].counts.new_uncovered, 6, "{label}");
        let html = std::fs::read_to_string(out.join("周报_2026-W44.html")).unwrap();
        assert!(html.contains("<svg") && html.contains("定远县") && !html.contains("<script"));
        test.cleanup().await;
    }
}

#[tokio::test]
async fn exports_list_flags_uncovered_first_with_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let (households, persons) = world();
    let files = write_exports(dir.path(), &persons);
    let rules = RuleSet::built_in().unwrap();
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let label = &test.label;
        common::ingest(registry, &dir.path().join("receipts"), &files).await;
        common::link_by_hand(registry, &households, &persons).await;
        flag_households(registry, day("2026-11-01"), &rules)
            .await
            .unwrap();
        let out = dir.path().join(format!("flags-{label}.csv"));
        let count = export_table(
            registry,
            &flags_query(registry.backend(), day("2026-11-02")),
            Format::Csv,
            Some(&out),
        )
        .await
        .unwrap();
        assert_eq!(count, 7);
        let mut reader = csv::Reader::from_path(&out).unwrap();
        let headers = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let get = |row: &csv::StringRecord, column: &str| {
            row[headers
                .iter()
                .position(|h| h == column)
                .unwrap_or_else(|| panic!("{label}: no column {column}"))]
            .to_string()
        };
        for column in [
            "flag_id",
            "household_id",
            "level",
            "score",
            "reasons",
            "covered",
            "region_code",
            "responsible_unit",
            "status",
            "due_date",
            "person_ids",
        ] {
            assert!(headers.iter().any(|h| h == column), "{label}: {column}");
        }
        assert_eq!(get(&rows[6], "covered"), "true", "{label}: covered last");
        assert_eq!(get(&rows[0], "covered"), "false");
        let h05 = rows
            .iter()
            .find(|r| get(r, "household_id") == "H05")
            .unwrap();
        assert_eq!(get(h05, "person_ids"), "P07;P08");
        assert_eq!(get(h05, "region_code"), DINGYUAN);
        let mut evidence: Vec<String> = get(h05, "evidence")
            .split("; ")
            .map(str::to_string)
            .collect();
        evidence.sort();
        assert_eq!(evidence, ["education.csv::2", "hrss.csv::2"], "{label}");
        assert_eq!(get(h05, "overdue"), "false");

        let out = dir.path().join(format!("households-{label}.csv"));
        let coverage = &rules.coverage;
        let count = export_table(
            registry,
            &households_query(&coverage.event_kind, &coverage.field, &coverage.values),
            Format::Csv,
            Some(&out),
        )
        .await
        .unwrap();
        assert_eq!(count, 12);
        let mut reader = csv::Reader::from_path(&out).unwrap();
        let headers = reader.headers().unwrap().clone();
        let covered: Vec<String> = reader
            .records()
            .map(Result::unwrap)
            .filter(|r| &r[headers.iter().position(|h| h == "covered").unwrap()] == "true")
            .map(|r| r[0].to_string())
            .collect();
        assert_eq!(covered, ["H03"], "{label}");

        if cfg!(feature = "parquet") {
            let out = dir.path().join(format!("persons-{label}.parquet"));
            let count = export_table(registry, &persons_query(), Format::Parquet, Some(&out))
                .await
                .unwrap();
            assert_eq!(count, 17);
        }
        test.cleanup().await;
    }
}
