//! The `lifeline` command: the only place that prints errors for people.

use std::path::{Path, PathBuf};

/// Ingest allocates many small strings on one thread and frees them on another; mimalloc handles
/// that far better than the system allocator. Its `override` feature also serves SQLite's own
/// `malloc`/`free` (a quarter of SQLite's thread went to glibc's allocator): ingest of a
/// 200,000-row workbook took 5–10% less CPU and wall time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use lifeline::export::{
    Format, export_table, flags_query, households_query, links_query, persons_query, records_query,
    rejects_query,
};
use lifeline::ingest::{FileStatus, IngestOptions, Ingestor, Receipt};
use lifeline::linkage::csv_link::LinkRequest;
use lifeline::linkage::households::HouseholdOptions;
use lifeline::linkage::registry::{MatchSummary, match_registry};
use lifeline::linkage::spec::LinkageSpec;
use lifeline::mapping::MappingSet;
use lifeline::pipeline::LifelineSteps;
use lifeline::read::isolate;
use lifeline::registry::{Registry, Table, backup};
use lifeline::risk::RuleSet;
use lifeline::risk::cases::{self, CaseFilter, Status};
use lifeline::risk::report::{Week, write_weekly_report};
use std::sync::Arc;

mod access;
mod serve;

/// lifeline: find households in sudden hardship from the records departments already hold.
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Examples:\n  lifeline demo\n  lifeline --db sqlite:/srv/lifeline/lifeline.db run --inbox /srv/lifeline/inbox\n  lifeline --db postgres://lifeline@db.example/lifeline serve --listen 127.0.0.1:8080"
)]
struct Cli {
    /// Registry database: sqlite:PATH (default sqlite:lifeline.db) or postgres://USER@HOST/DB.
    // the value may hold a password: --help names the variable, never its value
    #[arg(long, global = true, env = "LIFELINE_DB", hide_env_values = true)]
    db: Option<String>,
    /// Folder of mapping files (default: ./mappings if present, else the built-in mappings).
    #[arg(long, global = true, env = "LIFELINE_MAPPINGS")]
    mappings: Option<PathBuf>,
    /// Person linkage spec (default: ./linkage/persons.toml if present, else the built-in one).
    #[arg(long, global = true, env = "LIFELINE_LINKAGE")]
    linkage: Option<PathBuf>,
    /// Service configuration (lifeline.toml): where the registry, mappings, connectors,
    /// schedules and receipts are. Without it: ./connectors, ./schedules, ./receipts.
    #[arg(long, global = true, env = "LIFELINE_CONFIG")]
    config: Option<PathBuf>,
    /// Risk rules file (default: ./rules/risk.toml if present, else the built-in rules).
    #[arg(long, global = true, env = "LIFELINE_RULES")]
    rules: Option<PathBuf>,
    /// Read-audit log: sqlite:PATH or postgres://… (default: NAME.audit.db beside a SQLite
    /// registry, the registry's own database for PostgreSQL).
    #[arg(long, global = true, env = "LIFELINE_AUDIT", hide_env_values = true)]
    audit: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Make a key; the key itself is printed once, alone on the last line, and only its hash
    /// is kept.
    #[command(
        after_help = "Example:\n  lifeline keys create red-cross --scope masked --region 341125 --expires-days 365"
    )]
    Create {
        /// Who holds it (letters, digits, '-', '_', '.').
        name: String,
        /// full: everything, unmasked, ID-number lookups; masked: masked data only (charity
        /// partners); cases: unmasked reads and case actions (caseworkers' systems).
        #[arg(long, value_enum)]
        scope: lifeline::api::keys::Scope,
        /// Limit the key to a GB/T 2260 region (county 6, township 9 or village 12 digits).
        #[arg(long)]
        region: Option<String>,
        /// Days until the key stops working (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
        /// Requests per second the key may make (bursts of twice that).
        #[arg(long, default_value_t = 50)]
        rate: u32,
    },
    /// List keys (never their secrets).
    #[command(after_help = "Example:\n  lifeline keys list")]
    List,
    /// Revoke a key: servers refuse it within two seconds.
    #[command(after_help = "Example:\n  lifeline keys revoke red-cross")]
    Revoke {
        /// The key's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Walk the hash chain of the whole log; exit 1 if an entry was altered, removed or
    /// inserted.
    #[command(after_help = "Example:\n  lifeline audit verify")]
    Verify,
}

#[derive(Subcommand)]
enum ChangesAction {
    /// Show the feed's newest cursor, its oldest kept change and its size.
    #[command(after_help = "Example:\n  lifeline changes status")]
    Status,
    /// Remove changes older than the retention; readers behind it must take a new snapshot.
    #[command(after_help = "Example:\n  lifeline changes prune --keep-days 90")]
    Prune {
        /// Keep this many days of changes.
        #[arg(long)]
        keep_days: u32,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Ingest Excel/CSV exports (files or folders) into the registry, with a receipt per file.
    #[command(
        after_help = "Example:\n  lifeline ingest --receipts receipts/ inbox/卫健委/2026-12住院.xlsx"
    )]
    Ingest {
        /// Use this mapping instead of detecting one from the headers.
        #[arg(long)]
        mapping: Option<String>,
        /// Folder for receipts (JSON) and rejects workbooks.
        #[arg(long, default_value = "receipts")]
        receipts: PathBuf,
        /// Print receipts as JSON lines instead of text.
        #[arg(long)]
        json: bool,
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Export the registry.
    #[command(after_help = "Example:\n  lifeline export flags --format xlsx --out flags.xlsx")]
    Export {
        /// What to export.
        what: ExportWhat,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Output file (default: stdout, for csv and json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Generate realistic exports of every source, with ground truth.
    #[command(
        after_help = "Example:\n  lifeline samples --households 1000 --seed 7 --out /tmp/samples"
    )]
    Samples {
        /// Number of households.
        #[arg(long, default_value_t = 60)]
        households: usize,
        /// Random seed.
        #[arg(long, default_value_t = 20141)]
        seed: u64,
        /// How given names are drawn: `census` (calibrated to the national name reports) or
        /// `dense` (the commonest names on seven times as many people: a linkage stress test).
        #[arg(long, default_value = "census")]
        names: lifeline::samples::NameModel,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Ingest the shipped samples into a fresh SQLite registry and show what was found.
    #[command(after_help = "Example:\n  lifeline demo")]
    Demo {
        /// Folder of exports to use (default: the shipped samples/).
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// Evaluate every household against the risk rules and record the flags.
    #[command(after_help = "Example:\n  lifeline flag --as-of 2026-12-01")]
    Flag {
        /// Evaluation date (default: today).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Work the cases flags open: list, show, assign, refer, transition.
    #[command(after_help = "Example:\n  lifeline cases list --open --uncovered --unit 定远县")]
    Cases {
        #[command(subcommand)]
        action: CasesAction,
    },
    /// Reports for officers.
    #[command(after_help = "Example:\n  lifeline report weekly --week 2026-W49 --out reports/")]
    Report {
        #[command(subcommand)]
        report: ReportKind,
    },
    /// Validate the mappings, connectors and schedules; exit non-zero on any problem.
    #[command(after_help = "Example:\n  lifeline --config /etc/lifeline/lifeline.toml check")]
    Check,
    /// Run the service: the scheduled jobs, the inbox watchers and (with --listen) the HTTP
    /// API for downstream systems, until SIGTERM or Ctrl-C.
    #[command(
        after_help = "Example:\n  lifeline --db sqlite:/srv/lifeline/lifeline.db serve --listen 127.0.0.1:8080"
    )]
    Serve {
        /// Address for the HTTP API (also `listen` in lifeline.toml); without it, no API.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Issue, list and revoke the API keys of downstream systems and charity partners.
    #[command(
        after_help = "Example:\n  lifeline keys create case-system --scope cases --region 341125"
    )]
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The read audit: who read which personal data, when and why; `audit verify` checks the
    /// log has not been altered.
    #[command(
        after_help = "Examples:\n  lifeline audit --since 2026-12-01 --key red-cross\n  lifeline audit verify"
    )]
    Audit {
        #[command(subcommand)]
        action: Option<AuditAction>,
        /// Entries at or after this date or RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only this key's entries.
        #[arg(long)]
        key: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The change feed downstream systems follow: how far back it goes, pruning.
    #[command(after_help = "Example:\n  lifeline changes status")]
    Changes {
        #[command(subcommand)]
        action: ChangesAction,
    },
    /// Copy a SQLite registry and its audit log, while the service runs, into a new folder
    /// (with a manifest of hashes); a PostgreSQL registry is backed up with pg_dump.
    #[command(after_help = "Example:\n  lifeline backup /srv/backups/lifeline-2026-12-07")]
    Backup {
        /// A new (or empty) folder for the copy.
        folder: PathBuf,
    },
    /// Put a backup folder back in place of the registry and its audit log, after checking it
    /// whole; the current files are kept as FILE.before-restore-TIMESTAMP. Stop the service
    /// first.
    #[command(after_help = "Example:\n  lifeline restore /srv/backups/lifeline-2026-12-07")]
    Restore {
        /// A folder written by `lifeline backup`.
        folder: PathBuf,
    },
    /// Run one connector now (an inbox takes every file it holds; an API or database is pulled
    /// from its watermark).
    #[command(after_help = "Example:\n  lifeline sync hrss_db")]
    Sync {
        /// Connector name (a file name in connectors/ without .toml).
        connector: String,
    },
    /// Show the latest job runs, their steps, and the deliveries that are overdue.
    #[command(after_help = "Example:\n  lifeline runs --job nightly --limit 5")]
    Runs {
        /// Only this job.
        #[arg(long)]
        job: Option<String>,
        /// How many runs.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// The whole pipeline once: ingest the inbox (if given), match, flag.
    #[command(after_help = "Example:\n  lifeline run --inbox inbox/ --receipts receipts/")]
    Run {
        /// Evaluation date for the flags (default: today).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Files or folders to ingest first.
        #[arg(long)]
        inbox: Vec<PathBuf>,
        /// Folder for receipts (JSON) and rejects workbooks.
        #[arg(long, default_value = "receipts")]
        receipts: PathBuf,
    },
    /// Resolve every ingested mention not yet resolved into persons and households.
    #[command(after_help = "Example:\n  lifeline match --full")]
    Match {
        /// Re-train the model and re-cluster every mention (IDs stay stable).
        #[arg(long)]
        full: bool,
    },
    /// Show why mentions were linked, field by field.
    #[command(after_help = "Example:\n  lifeline explain person P000000042")]
    Explain {
        #[command(subcommand)]
        what: ExplainWhat,
    },
    /// The queue of uncertain pairs, and decisions on them.
    #[command(
        after_help = "Example:\n  lifeline review accept 17 --by 王科员 --note \"同一人：身份证号录入错一位\""
    )]
    Review {
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Run the linkage engine on CSV files: deduplicate one file or link two.
    #[command(
        after_help = "Example:\n  lifeline link --spec linkage/febrl4.toml --truth rec_id a.csv b.csv"
    )]
    Link {
        /// Linkage spec: fields (columns), blocking rules, comparisons (e.g. linkage/febrl4.toml).
        #[arg(long)]
        spec: PathBuf,
        /// Write linked pairs (id_a, id_b, weight, probability) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write one line per record with its cluster here.
        #[arg(long)]
        clusters: Option<PathBuf>,
        /// Column holding true entity labels: print precision, recall, F1 and blocking recall.
        #[arg(long)]
        truth: Option<String>,
        /// One CSV (deduplicate) or two (link).
        #[arg(required = true, num_args = 1..=2)]
        inputs: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExplainWhat {
    /// A person: their mentions, the links holding them together, their household.
    #[command(after_help = "Example:\n  lifeline explain person P000000042")]
    Person {
        /// Person ID (P000000001).
        id: String,
    },
    /// Two mentions (ids from `export links`), compared field by field.
    #[command(after_help = "Example:\n  lifeline explain pair 1207 3311")]
    Pair {
        /// First mention id.
        a: i64,
        /// Second mention id.
        b: i64,
    },
}

#[derive(Subcommand)]
enum ReviewAction {
    /// Pairs waiting for a decision (strongest first).
    #[command(after_help = "Example:\n  lifeline review list")]
    List {
        /// Include decided pairs.
        #[arg(long)]
        all: bool,
    },
    /// The two mentions are the same person (must-link).
    #[command(after_help = "Example:\n  lifeline review accept 17 --by 王科员")]
    Accept {
        /// Review item id.
        id: i64,
        /// Who decides: a person's name, recorded with the decision (or LIFELINE_OFFICER).
        #[arg(long, env = "LIFELINE_OFFICER")]
        by: String,
        /// Why.
        #[arg(long)]
        note: Option<String>,
    },
    /// The two mentions are different persons (cannot-link).
    #[command(
        after_help = "Example:\n  lifeline review reject 18 --by 王科员 --note \"同名不同人\""
    )]
    Reject {
        /// Review item id.
        id: i64,
        /// Who decides: a person's name, recorded with the decision (or LIFELINE_OFFICER).
        #[arg(long, env = "LIFELINE_OFFICER")]
        by: String,
        /// Why.
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand)]
enum CasesAction {
    /// List cases: households no programme covers first, then by level and score.
    #[command(after_help = "Example:\n  lifeline cases list --overdue --unit 定远县炉桥镇")]
    List {
        /// Only this status (new, verifying, assisting, closed, dismissed).
        #[arg(long)]
        status: Option<Status>,
        /// Only units whose name starts with this (定远县 lists all its townships).
        #[arg(long)]
        unit: Option<String>,
        /// Only open cases past their due date.
        #[arg(long)]
        overdue: bool,
        /// Only households no programme covers.
        #[arg(long)]
        uncovered: bool,
        /// Only open cases.
        #[arg(long)]
        open: bool,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Show a case: reasons, evidence (file, sheet, row) and history.
    #[command(after_help = "Example:\n  lifeline cases show 42")]
    Show {
        /// Flag id.
        flag_id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Assign a case to an officer.
    #[command(after_help = "Example:\n  lifeline cases assign 42 --to 李四 --by 王科员")]
    Assign {
        /// Flag id.
        flag_id: i64,
        /// Officer.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        action: ActionArgs,
    },
    /// Refer a case to another unit (转介); the history keeps where it came from.
    #[command(
        after_help = "Example:\n  lifeline cases refer 42 --to 定远县民政局 --note \"需县级统筹\" --by 王科员"
    )]
    Refer {
        /// Flag id.
        flag_id: i64,
        /// Unit that takes the case over.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        action: ActionArgs,
    },
    /// Move a case to another status (dismissed needs --note with the reason).
    #[command(
        after_help = "Example:\n  lifeline cases transition 42 verifying --by 王科员 --note \"已电话联系\""
    )]
    Transition {
        /// Flag id.
        flag_id: i64,
        /// verifying, assisting, closed or dismissed.
        status: Status,
        /// What was done, or why the case is dismissed.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        action: ActionArgs,
    },
}

#[derive(clap::Args)]
struct ActionArgs {
    /// Who acts: a person's name, recorded in the history (首问负责: the first to act on a case
    /// answers for it), or LIFELINE_OFFICER. There is no default: a login name or "lifeline"
    /// does not say who took the case.
    #[arg(long, env = "LIFELINE_OFFICER")]
    by: String,
    /// Date of the action (default: today).
    #[arg(long)]
    on: Option<NaiveDate>,
}

#[derive(Subcommand)]
enum ReportKind {
    /// The weekly statistics (周报): Excel workbook and HTML page with charts.
    #[command(after_help = "Example:\n  lifeline report weekly --out reports/")]
    Weekly {
        /// ISO week such as 2026-W45 (default: the current week).
        #[arg(long)]
        week: Option<String>,
        /// Folder for the workbook and the page.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportWhat {
    /// One line per person mention with its person and household.
    Links,
    /// One line per accepted row.
    Records,
    /// One line per rejected row or dropped value.
    Rejects,
    /// One line per flag: level, score, reasons, coverage, responsible unit, status, due date.
    Flags,
    /// One line per household, with its coverage and flag.
    Households,
    /// One line per person.
    Persons,
}

fn load_rules(path: Option<&Path>) -> Result<RuleSet> {
    match path {
        Some(path) => RuleSet::load(path).context("invalid risk rules"),
        None if Path::new("rules/risk.toml").is_file() => {
            RuleSet::load(Path::new("rules/risk.toml")).context("invalid risk rules")
        }
        None => RuleSet::built_in().context("invalid built-in risk rules"),
    }
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

async fn flag(db: String, rules: &RuleSet, as_of: Option<NaiveDate>, json: bool) -> Result<bool> {
    let registry = Registry::open(&db).await?;
    let as_of = as_of.unwrap_or_else(today);
    let summary = lifeline::risk::flag_households(&registry, as_of, rules).await?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "evaluated {} households ({} persons, {} events) on {} with rules {} ({})",
            summary.households,
            summary.persons,
            summary.events,
            summary.as_of,
            rules.version,
            rules.source
        );
        println!(
            "at risk: {} households ({} high, {} medium, {} low); {} covered by no programme",
            summary.at_risk,
            summary.by_level[0],
            summary.by_level[1],
            summary.by_level[2],
            summary.uncovered
        );
        println!(
            "flags: {} opened, {} updated ({} changed level), {} reopened; {} evidence rows added",
            summary.opened,
            summary.updated,
            summary.level_changed,
            summary.reopened,
            summary.evidence_added
        );
        println!(
            "time: load {:.1}s, evaluate {:.1}s, write {:.1}s",
            summary.load_seconds, summary.evaluate_seconds, summary.write_seconds
        );
    }
    registry.close().await;
    Ok(true)
}

async fn cases_command(db: String, action: CasesAction) -> Result<bool> {
    let registry = Registry::open(&db).await?;
    let today = today();
    match action {
        CasesAction::List {
            status,
            unit,
            overdue,
            uncovered,
            open,
            json,
        } => {
            let filter = CaseFilter {
                status,
                unit,
                overdue_on: overdue.then_some(today),
                uncovered,
                open,
            };
            let list = cases::list_cases(&registry, &filter, today).await?;
            for case in &list {
                if json {
                    println!("{}", serde_json::to_string(case)?);
                } else {
                    println!(
                        "#{:<6} {:<6} {:>3}  {}  {:<10} due {}{}  {}  {}  {}",
                        case.flag_id,
                        case.level,
                        case.score,
                        if case.covered {
                            "covered  "
                        } else {
                            "UNCOVERED"
                        },
                        case.status,
                        case.due_date,
                        if case.overdue { " OVERDUE" } else { "" },
                        case.responsible_unit,
                        case.household_id,
                        case.reasons
                    );
                }
            }
            if !json {
                eprintln!("{} cases", list.len());
            }
        }
        CasesAction::Show { flag_id, json } => {
            let case = cases::show_case(&registry, flag_id, today).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&case)?);
            } else {
                print_case(&case);
            }
        }
        CasesAction::Assign {
            flag_id,
            to,
            action,
        } => {
            let on = action.on.unwrap_or(today);
            cases::assign_case(&registry, flag_id, &to, &action.by, on).await?;
            println!("flag {flag_id} assigned to {to}");
        }
        CasesAction::Refer {
            flag_id,
            to,
            note,
            action,
        } => {
            let on = action.on.unwrap_or(today);
            cases::refer_case(&registry, flag_id, &to, note.as_deref(), &action.by, on).await?;
            println!("flag {flag_id} referred to {to}");
        }
        CasesAction::Transition {
            flag_id,
            status,
            note,
            action,
        } => {
            let on = action.on.unwrap_or(today);
            cases::transition_case(&registry, flag_id, status, note.as_deref(), &action.by, on)
                .await?;
            println!("flag {flag_id} is now {}", status.as_str());
        }
    }
    registry.close().await;
    Ok(true)
}

fn print_case(case: &cases::CaseDetail) {
    let s = &case.summary;
    println!(
        "flag #{} household {}: {} (score {}), {}",
        s.flag_id,
        s.household_id,
        s.level,
        s.score,
        if s.covered {
            "on the 低保/特困 roster"
        } else {
            "covered by no programme"
        }
    );
    println!(
        "unit: {}{}; status: {}; opened {}; due {}{}",
        s.responsible_unit,
        s.assignee
            .as_deref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default(),
        s.status,
        s.opened_on,
        s.due_date,
        if s.overdue { " — OVERDUE" } else { "" }
    );
    if let Some(reason) = &case.dismiss_reason {
        println!("dismissed: {reason}");
    }
    println!(
        "persons: {}; rules {}",
        case.person_ids, case.rule_set_version
    );
    println!("reasons:");
    for reason in s.reasons.split('；') {
        println!("  - {reason}");
    }
    println!("evidence:");
    for e in &case.evidence {
        println!(
            "  [{}] {} {} — {}{} row {} ({}) {}",
            e.rule,
            e.event_kind,
            e.event_date.as_deref().unwrap_or("undated"),
            e.file,
            if e.sheet.is_empty() {
                String::new()
            } else {
                format!(" sheet {}", e.sheet)
            },
            e.row,
            e.department,
            e.attributes
        );
    }
    println!("history:");
    for h in &case.history {
        println!(
            "  {} {} {}{}{} {}",
            h.on_date,
            h.action,
            match (&h.from_status, &h.to_status) {
                (Some(a), Some(b)) => format!("{a} → {b} "),
                (None, Some(b)) => format!("→ {b} "),
                _ => String::new(),
            },
            match (&h.from_unit, &h.to_unit) {
                (Some(a), Some(b)) if a != b => format!("{a} → {b} "),
                (None, Some(b)) => format!("unit {b} "),
                _ => String::new(),
            },
            h.note.as_deref().unwrap_or(""),
            h.actor
                .as_deref()
                .map(|a| format!("({a})"))
                .unwrap_or_default()
        );
    }
}

fn load_mappings(dir: Option<&Path>) -> Result<MappingSet> {
    match dir {
        Some(dir) => MappingSet::load_dir(dir).context("invalid mappings"),
        None if Path::new("mappings").is_dir() => {
            MappingSet::load_dir(Path::new("mappings")).context("invalid mappings")
        }
        None => MappingSet::built_in().context("invalid built-in mappings"),
    }
}

fn load_linkage(path: Option<&Path>) -> Result<LinkageSpec> {
    let spec = match path {
        Some(path) => LinkageSpec::load(path)?,
        None if Path::new("linkage/persons.toml").is_file() => {
            LinkageSpec::load(Path::new("linkage/persons.toml"))?
        }
        None => LinkageSpec::parse(
            include_str!("../linkage/persons.toml"),
            "built-in linkage/persons.toml",
        )?,
    };
    lifeline::linkage::registry::check_spec(&spec)?;
    Ok(spec)
}

fn print_match(summary: &MatchSummary) {
    println!(
        "match ({}): {} mentions resolved{}; {} persons, {} households in the registry; {} new persons, {} merged, {} split; {} pairs compared, {} merges refused by the guards; {} pairs queued for review; {:.1} s reading, {:.1} s linking, {:.1} s writing",
        summary.mode,
        summary.mentions,
        if summary.compared_existing > 0 {
            format!(" against {} existing mentions", summary.compared_existing)
        } else {
            String::new()
        },
        summary.persons,
        summary.households,
        summary.new_persons,
        summary.merges,
        summary.splits,
        summary.pairs,
        summary.refused,
        summary.review_added,
        summary.seconds[0],
        summary.seconds[1],
        summary.seconds[2],
    );
}

fn default_db() -> String {
    "sqlite:lifeline.db".into()
}

fn print_receipts(receipts: &[Receipt], json: bool) {
    for receipt in receipts {
        if json {
            println!("{}", serde_json::to_string(receipt).unwrap_or_default());
        } else {
            println!("{}", receipt.summary());
        }
    }
}

async fn ingest(
    registry: &Registry,
    mappings: &MappingSet,
    mapping: Option<String>,
    receipts_dir: PathBuf,
    paths: &[PathBuf],
) -> Result<Vec<Receipt>> {
    if let Some(name) = &mapping
        && mappings.get(name).is_none()
    {
        anyhow::bail!(
            "no mapping named \"{name}\" (known: {})",
            mappings.names().join(", ")
        );
    }
    let options = IngestOptions {
        mapping,
        receipts_dir: Some(receipts_dir),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        ..IngestOptions::default()
    };
    let ingestor = Ingestor::new(registry, mappings, options);
    Ok(ingestor.ingest_paths(paths).await?)
}

fn samples_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| {
        let local = PathBuf::from("samples");
        if local.is_dir() {
            local
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
        }
    })
}

/// A spinner on a terminal while a stage runs.
fn stage(message: &str) -> indicatif::ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// What the pipeline needs besides the registry.
struct Pipeline<'a> {
    mappings: &'a MappingSet,
    linkage: LinkageSpec,
    rules: RuleSet,
    receipts: PathBuf,
}

/// Ingest (if there is anything to ingest), match, flag: `lifeline run` and `demo`.
async fn pipeline(
    registry: &Registry,
    p: &Pipeline<'_>,
    inbox: &[PathBuf],
    as_of: NaiveDate,
) -> Result<bool> {
    let mut ok = true;
    if !inbox.is_empty() {
        let receipts = ingest(registry, p.mappings, None, p.receipts.clone(), inbox).await?;
        print_receipts(&receipts, false);
        ok = receipts.iter().all(|r| r.status != FileStatus::Failed);
        println!();
    }
    let bar = stage("matching persons and households");
    let summary = match_registry(registry, &p.linkage, false, HouseholdOptions::default()).await;
    bar.finish_and_clear();
    print_match(&summary?);
    let bar = stage("evaluating households against the risk rules");
    let flags = lifeline::risk::flag_households(registry, as_of, &p.rules).await;
    bar.finish_and_clear();
    let flags = flags?;
    println!(
        "flag (rules {}, as of {}): {} households evaluated, {} at risk ({} high, {} medium, {} low), {} covered by no programme; {} flags opened, {} updated, {} reopened",
        flags.rule_set_version,
        flags.as_of,
        flags.households,
        flags.at_risk,
        flags.by_level[0],
        flags.by_level[1],
        flags.by_level[2],
        flags.uncovered,
        flags.opened,
        flags.updated,
        flags.reopened
    );
    Ok(ok)
}

async fn demo(cli: &Cli, mappings: &MappingSet, samples: Option<PathBuf>) -> Result<bool> {
    let samples = samples_dir(samples);
    let db = cli
        .db
        .clone()
        .unwrap_or_else(|| "sqlite:lifeline-demo.db".into());
    if let Some(path) = db.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    println!(
        "lifeline demo: ingest {} into {db}, match, flag\n",
        samples.display()
    );
    let registry = Registry::open(&db).await?;
    let p = Pipeline {
        mappings,
        linkage: load_linkage(cli.linkage.as_deref())?,
        rules: load_rules(cli.rules.as_deref())?,
        receipts: PathBuf::from("receipts"),
    };
    // The shipped samples are the exports of October 2026; evaluate them as of the end of it.
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_else(today);
    let ok = pipeline(&registry, &p, &[samples], as_of).await?;
    println!();
    println!(
        "registry: {} files, {} records, {} person mentions, {} rejects/value issues",
        registry.count(Table::Files).await?,
        registry.count(Table::Records).await?,
        registry.count(Table::Mentions).await?,
        registry.count(Table::Rejects).await?,
    );
    lifeline::ingest::report::print_overview(&registry).await?;
    let open = lifeline::risk::cases::list_cases(
        &registry,
        &CaseFilter {
            open: true,
            ..CaseFilter::default()
        },
        as_of,
    )
    .await?;
    println!("\nhouseholds flagged (uncovered first):");
    for case in open.iter().take(12) {
        println!(
            "  #{} {} {} (score {}) {} {} due {}: {}",
            case.flag_id,
            case.household_id,
            case.level,
            case.score,
            if case.covered { "covered" } else { "UNCOVERED" },
            case.responsible_unit,
            case.due_date,
            case.reasons
        );
    }
    if open.len() > 12 {
        println!(
            "  … {} more: `lifeline --db {db} cases list`",
            open.len() - 12
        );
    }
    println!(
        "\nnext: `lifeline --db {db} cases show FLAG`, `lifeline --db {db} explain person P…`, `lifeline --db {db} export flags --format xlsx --out flags.xlsx`"
    );
    registry.close().await;
    Ok(ok)
}

async fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Keys { action } => {
            let db = registry_url(&cli.db, &cli.config)?;
            return access::keys(&db, action).await;
        }
        Command::Audit {
            action,
            since,
            key,
            limit,
            json,
        } => {
            let db = registry_url(&cli.db, &cli.config)?;
            let audit = audit_url(&cli.audit, &cli.config, &db)?;
            return match action {
                Some(AuditAction::Verify) => access::verify(&audit).await,
                None => access::list(&audit, since.as_deref(), key.as_deref(), limit, json).await,
            };
        }
        Command::Changes { action } => {
            let db = registry_url(&cli.db, &cli.config)?;
            return access::changes(&db, action).await;
        }
        Command::Backup { ref folder } | Command::Restore { ref folder } => {
            let folder = folder.clone();
            let db = registry_url(&cli.db, &cli.config)?;
            let audit = audit_url(&cli.audit, &cli.config, &db)?;
            if matches!(cli.command, Command::Backup { .. }) {
                let manifest = backup::backup(&db, &audit, &folder).await?;
                for file in &manifest.files {
                    println!(
                        "{} ({}): {} bytes, sha256 {}",
                        folder.join(&file.name).display(),
                        file.role,
                        file.size_bytes,
                        file.sha256
                    );
                }
                println!(
                    "backup of {} (schema {}) written to {}",
                    manifest.registry,
                    manifest.schema_version,
                    folder.display()
                );
            } else {
                let restored = backup::restore(&db, &audit, &folder).await?;
                for path in &restored.set_aside {
                    println!("kept the replaced file as {}", path.display());
                }
                println!(
                    "restored the backup of {} made {} (schema {})",
                    restored.manifest.registry,
                    restored.manifest.created_at,
                    restored.manifest.schema_version
                );
            }
            return Ok(true);
        }
        Command::Flag { as_of, json } => {
            let rules = load_rules(cli.rules.as_deref())?;
            return flag(cli.db.unwrap_or_else(default_db), &rules, as_of, json).await;
        }
        Command::Cases { action } => {
            return cases_command(cli.db.unwrap_or_else(default_db), action).await;
        }
        Command::Report {
            report: ReportKind::Weekly { week, out },
        } => {
            let rules = load_rules(cli.rules.as_deref())?;
            let week = match week {
                Some(text) => Week::parse(&text).map_err(anyhow::Error::msg)?,
                None => Week::containing(today()),
            };
            let registry = Registry::open(&cli.db.unwrap_or_else(default_db)).await?;
            let (report, paths) = write_weekly_report(&registry, week, &rules, &out).await?;
            let total = report.places.first().map(|p| p.counts).unwrap_or_default();
            println!(
                "week {} ({} to {}): {} new flags ({} covered by no programme), {} handled in \
                 time, {} late, {} overdue and open",
                report.week,
                report.start,
                report.end,
                total.new,
                total.new_uncovered,
                total.handled_in_time,
                total.handled_late,
                total.overdue_open
            );
            for path in paths {
                println!("{}", path.display());
            }
            registry.close().await;
            return Ok(true);
        }
        _ => {}
    }
    let mappings_dir = match (&cli.mappings, &cli.config) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(config)) => serve::paths(Some(config))?.mappings,
        (None, None) => None,
    };
    let mappings = load_mappings(mappings_dir.as_deref())?;
    match cli.command {
        Command::Flag { .. }
        | Command::Cases { .. }
        | Command::Report { .. }
        | Command::Keys { .. }
        | Command::Audit { .. }
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Changes { .. } => Ok(true),
        Command::Check => serve::check(cli.config.as_deref(), &mappings),
        Command::Serve { listen } => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            let audit = match cli.audit.or(paths.audit.clone()) {
                Some(audit) => audit,
                None => lifeline::api::audit::default_audit_url(&db)?,
            };
            let listen = listen.or(paths.listen.clone());
            let steps = Arc::new(LifelineSteps::new(
                load_linkage(cli.linkage.as_deref())?,
                load_rules(cli.rules.as_deref())?,
                paths.receipts.join("reports"),
            ));
            serve::serve(&db, mappings, &paths, steps, listen.as_deref(), &audit).await
        }
        Command::Sync { connector } => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            let steps = Arc::new(LifelineSteps::new(
                load_linkage(cli.linkage.as_deref())?,
                load_rules(cli.rules.as_deref())?,
                paths.receipts.join("reports"),
            ));
            serve::sync(&db, &mappings, &paths, &connector, steps).await
        }
        Command::Runs { job, limit } => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            serve::runs(&db, &mappings, &paths, job.as_deref(), limit).await
        }
        Command::Match { full } => {
            let spec = load_linkage(cli.linkage.as_deref())?;
            let registry = Registry::open(&cli.db.unwrap_or_else(default_db)).await?;
            let summary =
                match_registry(&registry, &spec, full, HouseholdOptions::default()).await?;
            print_match(&summary);
            registry.close().await;
            Ok(true)
        }
        Command::Explain { what } => {
            let spec = load_linkage(cli.linkage.as_deref())?;
            let registry = Registry::open(&cli.db.unwrap_or_else(default_db)).await?;
            match what {
                ExplainWhat::Person { id } => {
                    print!(
                        "{}",
                        lifeline::linkage::registry::explain_person(&registry, &spec, &id).await?
                    )
                }
                ExplainWhat::Pair { a, b } => {
                    let e =
                        lifeline::linkage::registry::explain_pair(&registry, &spec, a, b).await?;
                    println!(
                        "left:  {} (person {})",
                        e.left,
                        e.persons.0.as_deref().unwrap_or("-")
                    );
                    println!(
                        "right: {} (person {})\n",
                        e.right,
                        e.persons.1.as_deref().unwrap_or("-")
                    );
                    println!("{}", e.explanation);
                }
            }
            registry.close().await;
            Ok(true)
        }
        Command::Review { action } => {
            use lifeline::linkage::registry::{review_decide, review_list};
            let spec = load_linkage(cli.linkage.as_deref())?;
            let registry = Registry::open(&cli.db.unwrap_or_else(default_db)).await?;
            match action {
                ReviewAction::List { all } => {
                    let items = review_list(&registry, all).await?;
                    println!(
                        "{:>6} {:>10} {:>10} {:>8} status",
                        "id", "mention_a", "mention_b", "weight"
                    );
                    for i in &items {
                        println!(
                            "{:>6} {:>10} {:>10} {:>8.2} {}",
                            i.id, i.mention_a, i.mention_b, i.score, i.status
                        );
                    }
                    println!(
                        "{} items; `lifeline explain pair A B` shows why, `lifeline review accept|reject ID` decides",
                        items.len()
                    );
                }
                ReviewAction::Accept { id, by, note } => {
                    let item =
                        review_decide(&registry, &spec, id, true, &by, note.as_deref()).await?;
                    println!(
                        "review {}: mentions {} and {} {}; the next `lifeline match` applies it",
                        item.id, item.mention_a, item.mention_b, item.status
                    );
                }
                ReviewAction::Reject { id, by, note } => {
                    let item =
                        review_decide(&registry, &spec, id, false, &by, note.as_deref()).await?;
                    println!(
                        "review {}: mentions {} and {} {}; the next `lifeline match` applies it",
                        item.id, item.mention_a, item.mention_b, item.status
                    );
                }
            }
            registry.close().await;
            Ok(true)
        }
        Command::Link {
            spec,
            out,
            clusters,
            truth,
            inputs,
        } => {
            let spec = LinkageSpec::load(&spec)?;
            let request = LinkRequest {
                inputs,
                pairs_out: out,
                clusters_out: clusters,
                truth,
            };
            let report = lifeline::linkage::csv_link::link(&spec, &request)?;
            println!("{report}");
            Ok(true)
        }
        Command::Demo { ref samples } => demo(&cli, &mappings, samples.clone()).await,
        Command::Run {
            as_of,
            ref inbox,
            ref receipts,
        } => {
            let registry = Registry::open(&cli.db.clone().unwrap_or_else(default_db)).await?;
            let p = Pipeline {
                mappings: &mappings,
                linkage: load_linkage(cli.linkage.as_deref())?,
                rules: load_rules(cli.rules.as_deref())?,
                receipts: receipts.clone(),
            };
            let ok = pipeline(&registry, &p, inbox, as_of.unwrap_or_else(today)).await?;
            registry.close().await;
            Ok(ok)
        }
        Command::Samples {
            households,
            seed,
            names,
            out,
        } => {
            let summary = lifeline::samples::generate(
                &lifeline::samples::SampleOptions {
                    households,
                    seed,
                    names,
                },
                &out,
            )
            .with_context(|| format!("cannot generate samples into {}", out.display()))?;
            for (path, rows) in &summary.files {
                println!("{}: {rows} rows", path.display());
            }
            println!(
                "{} households, {} persons, {} person mentions; truth in {}",
                summary.households,
                summary.persons,
                summary.mentions,
                out.join("truth").display()
            );
            Ok(true)
        }
        Command::Ingest {
            mapping,
            receipts,
            json,
            paths,
        } => {
            let db = cli.db.unwrap_or_else(default_db);
            let registry = Registry::open(&db).await?;
            let receipts = ingest(&registry, &mappings, mapping, receipts, &paths).await?;
            print_receipts(&receipts, json);
            registry.close().await;
            Ok(receipts.iter().all(|r| r.status != FileStatus::Failed))
        }
        Command::Export { what, format, out } => {
            let db = cli.db.unwrap_or_else(default_db);
            let registry = Registry::open(&db).await?;
            let query = match what {
                ExportWhat::Records => records_query(),
                ExportWhat::Links => links_query(),
                ExportWhat::Rejects => rejects_query(None),
                ExportWhat::Flags => flags_query(registry.backend(), today()),
                ExportWhat::Households => {
                    let rules = load_rules(cli.rules.as_deref())?;
                    households_query(
                        &rules.coverage.event_kind,
                        &rules.coverage.field,
                        &rules.coverage.values,
                    )
                }
                ExportWhat::Persons => persons_query(),
            };
            let count = export_table(&registry, &query, format, out.as_deref()).await?;
            if let Some(out) = &out {
                eprintln!("{count} rows written to {}", out.display());
            }
            registry.close().await;
            Ok(true)
        }
    }
}

/// The registry URL: `--db`, else lifeline.toml's `db`, else the default.
fn registry_url(db: &Option<String>, config: &Option<PathBuf>) -> Result<String> {
    Ok(match (db, config) {
        (Some(db), _) => db.clone(),
        (None, Some(config)) => serve::paths(Some(config))?.db.unwrap_or_else(default_db),
        (None, None) => default_db(),
    })
}

/// The read audit's URL: `--audit`, else `audit` in lifeline.toml, else beside the registry.
fn audit_url(audit: &Option<String>, config: &Option<PathBuf>, db: &str) -> Result<String> {
    let configured = match (audit, config) {
        (Some(audit), _) => Some(audit.clone()),
        (None, Some(config)) => serve::paths(Some(config))?.audit,
        (None, None) => None,
    };
    Ok(match configured {
        Some(audit) => audit,
        None => lifeline::api::audit::default_audit_url(db)?,
    })
}

fn main() -> ExitCode {
    lifeline::disable_transparent_huge_pages();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == isolate::WORKER_ARG) {
        return isolate::worker_main(&args[2..]);
    }
    lifeline::keep_files_private();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIFELINE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    isolate_workbook_reading();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::from(2)
        }
    }
}

/// Reads every workbook in a child process capped at `LIFELINE_READER_MEMORY_MB` (default
/// 4096; 0 reads workbooks in this process, where a crafted file can abort it).
fn isolate_workbook_reading() {
    let megabytes = match std::env::var("LIFELINE_READER_MEMORY_MB") {
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(megabytes) => megabytes,
            Err(_) => {
                tracing::warn!(%value, "LIFELINE_READER_MEMORY_MB is not a number of MiB: using 4096");
                4096
            }
        },
        Err(_) => 4096,
    };
    if megabytes == 0 {
        return;
    }
    match std::env::current_exe() {
        Ok(exe) => isolate::isolate_workbooks(isolate::Isolation {
            exe,
            memory_bytes: megabytes << 20,
        }),
        Err(error) => {
            tracing::warn!(%error, "cannot find this executable: workbooks are read in this process")
        }
    }
}

/// The error and its causes, each once: most of lifeline's errors already name their cause
/// (`cannot open the registry at …: pool timed out …`), which `{:#}` would print a second time.
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::describe;

    /// Regression: case actions and review decisions were recorded under `$USER` (a login such
    /// as root) or "lifeline" when no officer was named.
    #[test]
    fn acting_on_a_case_or_a_pair_needs_a_name() {
        use clap::Parser;
        if std::env::var_os("LIFELINE_OFFICER").is_some() {
            return;
        }
        for args in [
            &["lifeline", "cases", "assign", "42", "--to", "李四"][..],
            &["lifeline", "cases", "transition", "42", "verifying"],
            &["lifeline", "review", "accept", "17"],
        ] {
            let error = super::Cli::try_parse_from(args).err();
            assert!(
                error
                    .as_ref()
                    .is_some_and(|e| e.to_string().contains("--by")),
                "{args:?}: {error:?}"
            );
        }
    }

    /// `lifeline --help` and the help of every subcommand end with an example that parses.
    #[test]
    fn every_help_ends_with_an_example_that_parses() {
        use clap::{CommandFactory, Parser};
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let help = command
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let examples: Vec<&str> = help
                .lines()
                .filter_map(|l| l.trim().strip_prefix("lifeline "))
                .collect();
            if examples.is_empty() {
                missing.push(path.to_string());
            }
            for example in examples {
                let mut words = vec!["lifeline".to_string()];
                let mut quoted = String::new();
                for word in example.split(' ') {
                    if !quoted.is_empty() {
                        quoted.push(' ');
                        quoted.push_str(word);
                        if word.ends_with('"') {
                            words.push(quoted.trim_matches('"').to_string());
                            quoted.clear();
                        }
                    } else if word.starts_with('"') && !word[1..].ends_with('"') {
                        quoted = word.to_string();
                    } else {
                        words.push(word.trim_matches('"').to_string());
                    }
                }
                if let Err(error) = super::Cli::try_parse_from(&words) {
                    missing.push(format!("{path}: {example}: {error}"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &format!("{path} {}", sub.get_name()), missing);
                }
            }
        }
        let command = super::Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&command, "lifeline", &mut missing);
        assert!(missing.is_empty(), "no example that parses: {missing:#?}");
    }

    #[test]
    fn a_cause_the_message_already_names_is_not_repeated() {
        let io = std::io::Error::other("connection refused");
        let named = anyhow::Error::new(lifeline::registry::RegistryError::Folder {
            path: "/srv/lifeline".into(),
            source: io,
        });
        let text = describe(&named);
        assert_eq!(text.matches("connection refused").count(), 1, "{text}");
        // a cause the message does not name is still given, after it
        let wrapped = anyhow::Error::msg("connection refused").context("cannot pull housing");
        assert_eq!(
            describe(&wrapped),
            "cannot pull housing: connection refused"
        );
    }
}
