//! The `lifeline` command: the only place that prints errors for people.

use std::path::{Path, PathBuf};

/// Ingest allocates many small strings on one thread and frees them on another; mimalloc handles
/// that far better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use lifeline::export::{Format, export_table, records_query, rejects_query};
use lifeline::ingest::{FileStatus, IngestOptions, Ingestor, Receipt};
use lifeline::mapping::MappingSet;
use lifeline::registry::{Registry, Table};

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
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportWhat {
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
            serve::serve(&db, mappings, &paths).await
        }
        Command::Sync { connector } => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            serve::sync(&db, &mappings, &paths, &connector).await
        }
        Command::Runs { job, limit } => {
            let paths = serve::paths(cli.config.as_deref())?;
            let db = cli.db.or(paths.db.clone()).unwrap_or_else(default_db);
            serve::runs(&db, &mappings, &paths, job.as_deref(), limit).await
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
