//! Scheduled jobs on a clock the test moves by hand: a nightly job fires at 01:30 Shanghai
//! time without anyone waiting for the night, never overlaps itself, runs or skips what was
//! missed while the service was down, and every run is recorded.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use lifeline::connectors::ConnectorSet;
use lifeline::mapping::MappingSet;
use lifeline::registry::Registry;
use lifeline::schedule::history::{self, Cause, list_runs};
use lifeline::schedule::missing::missing_deliveries;
use lifeline::schedule::runner::{RunSummary, StepFuture};
use lifeline::schedule::{
    JobRunner, JobSet, ManualClock, PipelineSteps, Scheduler, Step, StepOutcome, Unavailable,
};
use lifeline::shutdown::Shutdown;
use tokio::sync::{Notify, mpsc};

const HEADER: &str = "序号,患者姓名,身份证号码,性别,入院日期,个人自付（元）,家庭住址\n";

fn connectors(inbox: &Path) -> ConnectorSet {
    std::fs::create_dir_all(inbox).unwrap();
    ConnectorSet::from_sources(
        &[(
            "connectors/health_inbox.toml".into(),
            format!(
                "kind = \"inbox\"\ndepartment = \"health\"\nmapping = \"health\"\npath = '{}'\n\
                 expect_every_days = 30\n# written by the test just before the run, not being copied\nsettle_seconds = 0\n",
                inbox.display()
            ),
        )],
        &MappingSet::built_in().unwrap(),
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn jobs(connectors: &ConnectorSet, text: &str) -> JobSet {
    JobSet::from_sources(
        &[("schedules/nightly.toml".into(), text.into())],
        connectors,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

struct Started {
    task: tokio::task::JoinHandle<()>,
    finished: mpsc::UnboundedReceiver<(String, RunSummary)>,
    trigger: lifeline::shutdown::ShutdownTrigger,
}

async fn start(
    registry: &Registry,
    dir: &Path,
    connectors: ConnectorSet,
    jobs: JobSet,
    clock: Arc<ManualClock>,
    steps: Arc<dyn PipelineSteps>,
) -> Started {
    let (trigger, shutdown) = Shutdown::new();
    let runner = Arc::new(JobRunner::new(
        registry.clone(),
        MappingSet::built_in().unwrap(),
        connectors,
        dir.join("receipts"),
        steps,
        shutdown.clone(),
    ));
    let (sender, finished) = mpsc::unbounded_channel();
    let scheduler = Scheduler::new(jobs, runner, clock).notify(sender);
    let task = tokio::spawn(async move {
        scheduler.run(shutdown).await.unwrap();
    });
    // let the scheduler read the clock before the test moves it
    tokio::time::sleep(Duration::from_millis(200)).await;
    Started {
        task,
        finished,
        trigger,
    }
}

async fn next_run(started: &mut Started) -> (String, RunSummary) {
    tokio::time::timeout(Duration::from_secs(20), started.finished.recv())
        .await
        .expect("a run finished")
        .expect("the scheduler is running")
}

/// 2024-05-01 20:00 in Shanghai.
fn evening() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
}

#[tokio::test]
async fn a_nightly_job_fires_at_its_shanghai_time_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let connectors = connectors(&inbox);
    std::fs::write(
        inbox.join("住院.csv"),
        format!("{HEADER}1,张三,11010519491231002X,女,2026/3/1,100.00,安徽省滁州市定远县\n"),
    )
    .unwrap();
    let jobs = jobs(
        &connectors,
        "cron = \"30 1 * * *\"\nsteps = [\"pull:health_inbox\", \"match\"]\n",
    );
    for test in common::registries(dir.path()).await {
        let registry = &test.registry;
        let clock = Arc::new(ManualClock::new(evening()));
        let mut started = start(
            registry,
            dir.path(),
            connectors.clone(),
            jobs.clone(),
            Arc::clone(&clock),
            Arc::new(Unavailable),
        )
        .await;
        // 01:29 Shanghai: not yet
        clock.set(
            Utc.with_ymd_and_hms(2024, 5, 1, 17, 29, 0)
                .single()
                .unwrap(),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            started.finished.try_recv().is_err(),
            "{}: fired early",
            test.label
        );
        // 01:30 Shanghai
        clock.set(
            Utc.with_ymd_and_hms(2024, 5, 1, 17, 30, 0)
                .single()
                .unwrap(),
        );
        let (job, summary) = next_run(&mut started).await;
        assert_eq!(job, "nightly");
        // the pull worked; match belongs to a stage this build does not have, and says so
        assert_eq!(summary.status.as_str(), "failed", "{}", test.label);
        let runs = list_runs(registry, Some("nightly"), 10).await.unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run.cause, "schedule");
        assert_eq!(
            run.scheduled_for.as_deref(),
            Some("2024-05-01T17:30:00+00:00")
        );
        assert!(run.finished_at.is_some());
        assert_eq!(run.steps.len(), 2);
        assert_eq!(
            (run.steps[0].step.as_str(), run.steps[0].status.as_str()),
            ("pull:health_inbox", "ok")
        );
        assert_eq!((run.steps[0].rows_read, run.steps[0].rows_stored), (1, 1));
        assert_eq!(
            run.steps[1].error.as_deref(),
            Some("step `match` is not available in this build")
        );
        started.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(10), started.task)
            .await
            .expect("the scheduler stops on shutdown")
            .unwrap();
        // the inbox file is archived: put it back for the next backend
        test.cleanup().await;
        std::fs::remove_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::write(
            inbox.join("住院.csv"),
            format!("{HEADER}1,张三,11010519491231002X,女,2026/3/1,100.00,安徽省滁州市定远县\n"),
        )
        .unwrap();
    }
}

/// A pipeline step that waits until released: a run that takes long.
struct Slow {
    release: Arc<Notify>,
}

impl PipelineSteps for Slow {
    fn run_step<'a>(&'a self, _step: &'a Step, _registry: &'a Registry) -> StepFuture<'a> {
        Box::pin(async move {
            self.release.notified().await;
            Ok(StepOutcome {
                rows_read: 7,
                rows_stored: 3,
                notes: vec!["matched".into()],
            })
        })
    }
}

#[tokio::test]
async fn a_job_never_overlaps_itself_and_pipeline_steps_plug_in() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let connectors = ConnectorSet::default();
    let jobs = jobs(
        &connectors,
        "name = \"hourly\"\ncron = \"0 * * * *\"\nsteps = [\"match\"]\n",
    );
    let clock = Arc::new(ManualClock::new(evening()));
    let release = Arc::new(Notify::new());
    let mut started = start(
        &registry,
        dir.path(),
        connectors,
        jobs,
        Arc::clone(&clock),
        Arc::new(Slow {
            release: Arc::clone(&release),
        }),
    )
    .await;
    clock.advance(chrono::Duration::hours(1));
    // wait until the first run is recorded as running
    for _ in 0..400 {
        if !list_runs(&registry, None, 10).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // the next hour comes while the first run is still going
    clock.advance(chrono::Duration::hours(1));
    let mut skipped = false;
    for _ in 0..400 {
        let runs = list_runs(&registry, None, 10).await.unwrap();
        if runs.iter().any(|r| r.status == "skipped") {
            skipped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(skipped, "the overlapping run was not recorded as skipped");
    release.notify_one();
    let (_, summary) = next_run(&mut started).await;
    assert_eq!(summary.status.as_str(), "ok");
    let runs = list_runs(&registry, None, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    let done = runs.iter().find(|r| r.status == "ok").unwrap();
    assert_eq!((done.steps[0].rows_read, done.steps[0].rows_stored), (7, 3));
    assert_eq!(done.steps[0].notes, vec!["matched".to_string()]);
    let skip = runs.iter().find(|r| r.status == "skipped").unwrap();
    assert_eq!(
        skip.error.as_deref(),
        Some("the previous run of this job was still going")
    );
    started.trigger.trigger();
    let _ = started.task.await;
}

#[tokio::test]
async fn runs_missed_while_down_follow_the_jobs_policy() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let connectors = ConnectorSet::default();
    let jobs = JobSet::from_sources(
        &[
            (
                "schedules/catch_up.toml".into(),
                "cron = \"30 1 * * *\"\nmissed = \"run_once\"\nsteps = [\"flag\"]\n".into(),
            ),
            (
                "schedules/let_go.toml".into(),
                "cron = \"30 1 * * *\"\nmissed = \"skip\"\nsteps = [\"flag\"]\n".into(),
            ),
        ],
        &connectors,
    )
    .unwrap();
    // both last ran three nights ago; the service was down since
    let three_nights_ago = Utc
        .with_ymd_and_hms(2024, 4, 27, 17, 30, 0)
        .single()
        .unwrap();
    for job in ["catch_up", "let_go"] {
        let run = history::start_run(&registry, job, Cause::Schedule, Some(three_nights_ago))
            .await
            .unwrap();
        history::finish_run(&registry, run, history::Status::Ok, None)
            .await
            .unwrap();
    }
    let clock = Arc::new(ManualClock::new(evening()));
    let mut started = start(
        &registry,
        dir.path(),
        connectors,
        jobs,
        clock,
        Arc::new(Unavailable),
    )
    .await;
    let (job, _) = next_run(&mut started).await;
    assert_eq!(job, "catch_up");
    let mut runs = Vec::new();
    for _ in 0..200 {
        runs = list_runs(&registry, None, 10).await.unwrap();
        if runs.len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let latest = |job: &str| runs.iter().find(|r| r.job == job).unwrap().clone();
    let caught = latest("catch_up");
    assert_eq!(caught.cause, "missed");
    // once, for the latest missed night only
    assert_eq!(
        caught.scheduled_for.as_deref(),
        Some("2024-04-30T17:30:00+00:00")
    );
    let let_go = latest("let_go");
    assert_eq!(
        (let_go.cause.as_str(), let_go.status.as_str()),
        ("missed", "skipped")
    );
    assert_eq!(runs.len(), 4);
    started.trigger.trigger();
    let _ = started.task.await;

    // a service that died during a run: the run is recorded as interrupted at the next start
    let run = history::start_run(&registry, "catch_up", Cause::Manual, None)
        .await
        .unwrap();
    assert_eq!(history::mark_interrupted(&registry).await.unwrap(), 1);
    let runs = list_runs(&registry, Some("catch_up"), 1).await.unwrap();
    assert_eq!((runs[0].id, runs[0].status.as_str()), (run, "interrupted"));
}

#[tokio::test]
async fn a_connector_that_has_not_delivered_within_its_cadence_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&format!("sqlite:{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let connectors = connectors(&dir.path().join("inbox"));
    lifeline::connectors::state::ensure(&registry, "health_inbox")
        .await
        .unwrap();
    let now = Utc::now();
    assert!(
        missing_deliveries(&registry, &connectors, now)
            .await
            .unwrap()
            .is_empty()
    );
    let later = now + chrono::Duration::days(31);
    let missing = missing_deliveries(&registry, &connectors, later)
        .await
        .unwrap();
    assert_eq!(missing.len(), 1);
    assert!(
        missing[0]
            .to_string()
            .contains("health_inbox (health): never delivered in 31 days"),
        "{}",
        missing[0]
    );
    // a delivery resets the count
    lifeline::connectors::state::touch(&registry, "health_inbox", true)
        .await
        .unwrap();
    assert!(
        missing_deliveries(&registry, &connectors, later - chrono::Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_shipped_connectors_and_schedules_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mappings = MappingSet::load_dir(&root.join("mappings")).unwrap();
    let connectors = ConnectorSet::load_dir(&root.join("connectors"), &mappings)
        .unwrap_or_else(|e| panic!("{e}"));
    // an inbox for every department, an http and a sql example
    for mapping in &mappings.mappings {
        assert!(
            connectors.connectors.iter().any(|c| {
                matches!(c.kind, lifeline::connectors::ConnectorKind::Inbox(_))
                    && c.mapping.as_deref() == Some(mapping.name.as_str())
            }),
            "no inbox for {}",
            mapping.name
        );
    }
    for kind in ["http", "sql"] {
        assert!(connectors.connectors.iter().any(|c| c.kind.name() == kind));
    }
    let jobs =
        JobSet::load_dir(&root.join("schedules"), &connectors).unwrap_or_else(|e| panic!("{e}"));
    assert!(jobs.get("nightly").is_some());
}
