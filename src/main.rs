//! The `lifeline` command: the only place that prints errors for people.

use std::path::{Path, PathBuf};

/// Ingest allocates many small strings on one thread and frees them on another; mimalloc handles
/// that far better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use lifeline::export::{Format, export_table, links_query, records_query, rejects_query};
use lifeline::ingest::{FileStatus, IngestOptions, Ingestor, Receipt};
use lifeline::linkage::csv_link::LinkRequest;
use lifeline::linkage::households::HouseholdOptions;
use lifeline::linkage::registry::{MatchSummary, match_registry};
use lifeline::linkage::spec::LinkageSpec;
use lifeline::mapping::MappingSet;
use lifeline::pipeline::LifelineSteps;
use lifeline::registry::{Registry, Table};
use std::sync::Arc;

mod serve;

/// lifeline: find households in sudden hardship from the records departments already hold.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Registry database: sqlite:PATH (default sqlite:lifeline.db) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "LIFELINE_DB")]
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest Excel/CSV exports (files or folders) into the registry, with a receipt per file.
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
    Samples {
        /// Number of households.
        #[arg(long, default_value_t = 60)]
        households: usize,
        /// Random seed.
        #[arg(long, default_value_t = 20141)]
        seed: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Ingest the shipped samples into a fresh SQLite registry and show what was found.
    Demo {
        /// Folder of exports to use (default: the shipped samples/).
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// Validate the mappings, connectors and schedules; exit non-zero on any problem.
    Check,
    /// Run the service: the scheduled jobs and the inbox watchers, until SIGTERM or Ctrl-C.
    Serve,
    /// Run one connector now (an inbox takes every file it holds; an API or database is pulled
    /// from its watermark).
    Sync {
        /// Connector name (a file name in connectors/ without .toml).
        connector: String,
    },
    /// Show the latest job runs, their steps, and the deliveries that are overdue.
    Runs {
        /// Only this job.
        #[arg(long)]
        job: Option<String>,
        /// How many runs.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Resolve every ingested mention not yet resolved into persons and households.
    Match {
        /// Re-train the model and re-cluster every mention (IDs stay stable).
        #[arg(long)]
        full: bool,
    },
    /// Show why mentions were linked, field by field.
    Explain {
        #[command(subcommand)]
        what: ExplainWhat,
    },
    /// The queue of uncertain pairs, and decisions on them.
    Review {
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Run the linkage engine on CSV files: deduplicate one file or link two.
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
    Person {
        /// Person ID (P000000001).
        id: String,
    },
    /// Two mentions (ids from `export links`), compared field by field.
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
    List {
        /// Include decided pairs.
        #[arg(long)]
        all: bool,
    },
    /// The two mentions are the same person (must-link).
    Accept {
        /// Review item id.
        id: i64,
        /// Who decides.
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
        /// Why.
        #[arg(long)]
        note: Option<String>,
    },
    /// The two mentions are different persons (cannot-link).
    Reject {
        /// Review item id.
        id: i64,
        /// Who decides.
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
        /// Why.
        #[arg(long)]
        note: Option<String>,
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

async fn demo(
    cli_db: Option<String>,
    mappings: &MappingSet,
    samples: Option<PathBuf>,
) -> Result<bool> {
    let samples = samples_dir(samples);
    let db = cli_db.unwrap_or_else(|| "sqlite:lifeline-demo.db".into());
    if let Some(path) = db.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    println!("lifeline demo: ingesting {} into {db}\n", samples.display());
    let registry = Registry::open(&db).await?;
    let receipts = ingest(
        &registry,
        mappings,
        None,
        PathBuf::from("receipts"),
        &[samples],
    )
    .await?;
    print_receipts(&receipts, false);
    let ok = receipts.iter().all(|r| r.status != FileStatus::Failed);
    println!();
    println!(
        "registry: {} files, {} records, {} person mentions, {} rejects/value issues",
        registry.count(Table::Files).await?,
        registry.count(Table::Records).await?,
        registry.count(Table::Mentions).await?,
        registry.count(Table::Rejects).await?,
    );
    lifeline::ingest::report::print_overview(&registry).await?;
    println!(
        "\nnext: `lifeline --db {db} export records` lists every accepted row with its lineage"
    );
    registry.close().await;
    Ok(ok)
}

async fn run(cli: Cli) -> Result<bool> {
    let mappings_dir = match (&cli.mappings, &cli.config) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(config)) => serve::paths(Some(config))?.mappings,
        (None, None) => None,
    };
    let mappings = load_mappings(mappings_dir.as_deref())?;
    match cli.command {
        Command::Check => serve::check(cli.config.as_deref(), &mappings),
        Command::Serve => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            let steps = Arc::new(LifelineSteps::new(load_linkage(cli.linkage.as_deref())?));
            serve::serve(&db, mappings, &paths, steps).await
        }
        Command::Sync { connector } => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            let steps = Arc::new(LifelineSteps::new(load_linkage(cli.linkage.as_deref())?));
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
        Command::Demo { samples } => demo(cli.db, &mappings, samples).await,
        Command::Samples {
            households,
            seed,
            out,
        } => {
            let summary = lifeline::samples::generate(
                &lifeline::samples::SampleOptions { households, seed },
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIFELINE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
