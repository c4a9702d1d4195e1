//! `kind = "inbox"`: a shared folder where data officers drop department files at any hour.
//!
//! The folder (and its sub-folders, which may stand for departments) is watched through
//! filesystem events plus a periodic rescan, since shared folders miss events. A file is taken
//! once it is complete: a name that is not a temporary one (`~$…`, `.tmp`, `.part`…), a size
//! and modification time unchanged for `settle_seconds`, and no writer holding it open (seen
//! through the events; a copy that pauses is waited for). It is copied to
//! `.lifeline/taking/`, and that copy is hashed and read, so that the hash describes the rows
//! stored; the original is checked again just before the commit, and a file that changed is
//! rolled back and taken again once complete. It is ingested in one transaction, then moved
//! to `archive/YYYY-MM-DD/` with its receipt and rejects workbook beside it; a file that cannot
//! be processed moves to `failed/` with `NAME.why.txt` saying why. The same content dropped
//! twice is recognised by its hash and not stored again. A restart in the middle of a file
//! loses nothing: the file stays in the inbox until its transaction has committed, and a file
//! whose rows were committed but which was not yet moved is recognised as stored. A file
//! lifeline stopped in the middle of twice (killed, out of memory) is put aside in `failed/`,
//! so that one poisonous file cannot stop the files after it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use tokio::sync::mpsc;

use super::{
    Connector, ConnectorError, Problems, SyncContext, SyncReport, deserialize_spec, state,
};
use crate::ingest::{FileStatus, IGNORE_MARKER, IngestOptions, Ingestor, Receipt};

/// The file's keys for `kind = "inbox"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxSpec {
    /// The watched folder; relative to the folder holding `connectors/`.
    pub path: PathBuf,
    /// Where ingested files go, under a folder per day (default `PATH/archive`).
    pub archive: Option<PathBuf>,
    /// Where files that cannot be processed go (default `PATH/failed`).
    pub failed: Option<PathBuf>,
    /// Sub-folders standing for departments, with the mapping of their files:
    /// `{ "卫健委" = "health", education = "education" }` (quote names that are
    /// not plain ASCII). Other files use `mapping`, or the
    /// mapping that fits their header.
    #[serde(default)]
    pub folders: BTreeMap<String, String>,
    /// A file is taken once its size and modification time have not changed for this many
    /// seconds (default 30).
    pub settle_seconds: Option<f64>,
    /// Seconds between full rescans of the folder, for events a shared folder misses
    /// (default 60).
    pub rescan_seconds: Option<f64>,
}

/// A validated inbox.
#[derive(Debug, Clone)]
pub struct InboxConfig {
    /// Watched folder.
    pub path: PathBuf,
    /// Archive folder.
    pub archive: PathBuf,
    /// Failed folder.
    pub failed: PathBuf,
    /// Sub-folder → mapping.
    pub folders: BTreeMap<String, String>,
    /// Quiet time before a file is taken.
    pub settle: Duration,
    /// Interval of full rescans.
    pub rescan: Duration,
}

fn seconds(value: Option<f64>, default: f64, key: &str, problems: &mut Problems<'_>) -> Duration {
    let value = value.unwrap_or(default);
    if !(0.0..1e7).contains(&value) {
        problems.add(key, format!("{value} must be a number of seconds"));
        return Duration::from_secs_f64(default);
    }
    Duration::from_secs_f64(value)
}

/// Temporary names of files still being copied or edited.
fn is_temporary(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with('.')
        || name.starts_with("~$")
        || name.ends_with('~')
        || [
            ".tmp",
            ".part",
            ".partial",
            ".crdownload",
            ".filepart",
            ".download",
        ]
        .iter()
        .any(|suffix| lower.ends_with(suffix))
        || name.ends_with(".receipt.json")
        || name.ends_with(".rejects.xlsx")
        || name.ends_with(".why.txt")
        || lower.ends_with(".md")
}

impl InboxConfig {
    /// Validates the file's inbox keys.
    pub fn build(table: toml::Table, problems: &mut Problems<'_>) -> Option<InboxConfig> {
        let spec: InboxSpec = deserialize_spec(table, problems)?;
        let before = problems.count();
        if spec.path.as_os_str().is_empty() {
            problems.add("path", "must name the watched folder");
        }
        let settle = seconds(spec.settle_seconds, 30.0, "settle_seconds", problems);
        let rescan = seconds(spec.rescan_seconds, 60.0, "rescan_seconds", problems);
        if rescan.is_zero() {
            problems.add("rescan_seconds", "must be more than 0");
        }
        for folder in spec.folders.keys() {
            if folder.contains(['/', '\\']) || folder == "." || folder == ".." {
                problems.add(
                    &format!("folders.{folder}"),
                    "must be the name of a sub-folder",
                );
            }
        }
        if problems.count() > before {
            return None;
        }
        Some(InboxConfig {
            archive: spec.archive.unwrap_or_else(|| spec.path.join("archive")),
            failed: spec.failed.unwrap_or_else(|| spec.path.join("failed")),
            path: spec.path,
            folders: spec.folders,
            settle,
            rescan,
        })
    }

    /// Makes relative folders relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        for path in [&mut self.path, &mut self.archive, &mut self.failed] {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }

    /// How long a file written to and not closed is waited for: ten settle times, at least a
    /// minute (a writer that died has its file closed by the system, so only a missed event
    /// makes this wait run out).
    fn writer_patience(&self) -> Duration {
        (self.settle * 10).max(Duration::from_secs(60))
    }

    fn staging(&self) -> PathBuf {
        self.path.join(".lifeline")
    }

    /// Every file of the inbox that could be taken, whether complete or not.
    fn candidates(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut stack = vec![self.path.clone()];
        while let Some(dir) = stack.pop() {
            if dir.join(IGNORE_MARKER).exists() {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    if !name.starts_with('.') && path != self.archive && path != self.failed {
                        stack.push(path);
                    }
                } else if kind.is_file() && !is_temporary(&name) {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    fn is_candidate(&self, path: &Path) -> bool {
        is_regular_file(path)
            && path.starts_with(&self.path)
            && !path.starts_with(&self.archive)
            && !path.starts_with(&self.failed)
            && !path.starts_with(self.staging())
            && path
                .file_name()
                .is_some_and(|n| !is_temporary(&n.to_string_lossy()))
            && path.strip_prefix(&self.path).is_ok_and(|rel| {
                rel.components()
                    .all(|c| !c.as_os_str().to_string_lossy().starts_with('.'))
            })
    }

    /// The mapping for a file: its department sub-folder's, else the connector's.
    fn mapping_for(&self, connector: &Connector, file: &Path) -> Option<String> {
        let relative = file.strip_prefix(&self.path).ok()?;
        let mut components = relative.components();
        let first = components.next()?;
        if components.next().is_some()
            && let Some(mapping) = self.folders.get(&*first.as_os_str().to_string_lossy())
        {
            return Some(mapping.clone());
        }
        connector.mapping.clone()
    }

    /// Takes every file of the inbox now, without waiting for it to settle (a file seen
    /// changing during the scan is left for the next one).
    pub(super) async fn sync(
        &self,
        connector: &Connector,
        context: &SyncContext<'_>,
        report: &mut SyncReport,
    ) -> Result<(), ConnectorError> {
        self.check_folder()?;
        let mut watch = Observed::default();
        for file in self.candidates() {
            watch.observe(&file);
        }
        for file in self.candidates() {
            if context.shutdown.is_requested() {
                break;
            }
            if watch.changed(&file) {
                report.notes.push(format!(
                    "{}: still changing, left for later",
                    file.display()
                ));
                continue;
            }
            if let Some(age) = modified_ago(&file)
                && age < self.settle
            {
                // a copy that paused a moment ago looks complete: only the settle time tells
                report.notes.push(format!(
                    "{}: modified {:.0} s ago, left until it has been unchanged for {} s",
                    file.display(),
                    age.as_secs_f64(),
                    self.settle.as_secs_f64()
                ));
                continue;
            }
            self.take(connector, context, &file, report).await?;
        }
        Ok(())
    }

    /// Creates the inbox folder if it does not exist yet (a fresh installation).
    fn check_folder(&self) -> Result<(), ConnectorError> {
        std::fs::create_dir_all(&self.path).map_err(|error| ConnectorError::Inbox {
            path: self.path.display().to_string(),
            message: format!("cannot create the folder: {error}"),
        })
    }

    /// Ingests one complete file and moves it to the archive (or to `failed/`).
    async fn take(
        &self,
        connector: &Connector,
        context: &SyncContext<'_>,
        file: &Path,
        report: &mut SyncReport,
    ) -> Result<(), ConnectorError> {
        if !is_regular_file(file) {
            // a link can name any file the service may read (another county's export, the
            // registry itself): only files put in the inbox are taken
            tracing::warn!(connector = %connector.name, file = %file.display(), "not a regular file (a link, a device or a pipe): left alone");
            report.notes.push(format!(
                "{}: not a regular file (a link, a device or a pipe): left alone; copy the file itself into the inbox",
                file.display()
            ));
            return Ok(());
        }
        let relative = file
            .strip_prefix(&self.path)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from(file.file_name().unwrap_or_default()));
        let stat_before = stat(file);
        let taking =
            Taking::begin(&self.staging(), &relative).map_err(|error| ConnectorError::Inbox {
                path: file.display().to_string(),
                message: format!("cannot mark the file as being taken: {error}"),
            })?;
        let receipt = if taking.interrupted >= INTERRUPTED_ATTEMPTS {
            // lifeline stopped (killed, out of memory, power cut) every time it read this file:
            // it is put aside so that the files after it are taken
            let mut receipt = Receipt::new(
                &file.file_name().unwrap_or_default().to_string_lossy(),
                &file.display().to_string(),
            );
            receipt.error = Some(format!(
                "lifeline stopped {} times while reading this file and has put it aside; \
                 tell the operator (the service log says what happened), then drop it again",
                taking.interrupted
            ));
            receipt
        } else {
            let copy = taking.copy_of(file);
            if let Err(error) = tokio::fs::copy(file, &copy).await {
                taking.finish();
                return Err(ConnectorError::Inbox {
                    path: file.display().to_string(),
                    message: format!("cannot copy the file to {}: {error}", copy.display()),
                });
            }
            let original = file.to_path_buf();
            let unchanged = move || stat(&original) == stat_before;
            let _gate = context.write_gate.lock().await;
            let ingestor = Ingestor::new(
                context.registry,
                context.mappings,
                IngestOptions {
                    mapping: self.mapping_for(connector, file),
                    receipts_dir: Some(self.staging().join("receipts")),
                    origin: connector.name.clone(),
                    ..IngestOptions::default()
                },
            );
            let taken = async {
                let batch = context.registry.start_batch(&connector.name).await?;
                ingestor.ingest_copy(batch, &copy, file, &unchanged).await
            }
            .await;
            match taken {
                Ok(receipt) => receipt,
                Err(error) => {
                    taking.finish();
                    return Err(error.into());
                }
            }
        };
        if receipt.status == FileStatus::Failed && stat(file) != stat_before {
            // written to while it was read: not broken, only not complete yet
            report.notes.push(format!(
                "{}: changed while it was read, taken again once complete",
                file.display()
            ));
            remove_receipt_files(&receipt);
            taking.finish();
            return Ok(());
        }
        // what is archived is what was stored: the original, unless it changed after the
        // commit (then its stored copy is archived and the new version is taken as a new file)
        let source = if stat(file) == stat_before || receipt.status == FileStatus::Failed {
            file.to_path_buf()
        } else {
            report.notes.push(format!(
                "{}: changed after it was stored; the stored version is archived and the new one \
                 is taken as a new file",
                file.display()
            ));
            taking.copy_of(file)
        };
        let folder = match receipt.status {
            FileStatus::Ingested | FileStatus::Duplicate => self
                .archive
                .join(shanghai_today())
                .join(relative.parent().unwrap_or(Path::new(""))),
            FileStatus::Failed => self.failed.join(relative.parent().unwrap_or(Path::new(""))),
        };
        let moved = move_beside(&source, &folder, &receipt);
        taking.finish();
        let moved = moved.map_err(|error| ConnectorError::Inbox {
            path: file.display().to_string(),
            message: format!("cannot move to {}: {error}", folder.display()),
        })?;
        match receipt.status {
            FileStatus::Ingested => {
                state::touch(context.registry, &connector.name, true).await?;
                tracing::info!(connector = %connector.name, file = %moved.display(), rows = receipt.rows_accepted, "inbox file ingested");
            }
            FileStatus::Duplicate => {
                report.notes.push(format!(
                    "{}: same content as {}, not stored again",
                    relative.display(),
                    receipt.duplicate_of.as_deref().unwrap_or("an earlier file")
                ));
            }
            FileStatus::Failed => {
                let why = receipt.error.as_deref().unwrap_or("unknown error");
                tracing::warn!(connector = %connector.name, file = %moved.display(), "inbox file failed: {why}");
                report
                    .problems
                    .push(format!("{}: {why}", relative.display()));
            }
        }
        report.add_receipt(receipt);
        Ok(())
    }

    /// Watches the inbox until shutdown, taking each file once it is complete. Each taken file
    /// is also sent on `taken` (for tests and logs).
    pub async fn watch(
        &self,
        connector: &Connector,
        context: &SyncContext<'_>,
        taken: Option<mpsc::UnboundedSender<Receipt>>,
    ) -> Result<(), ConnectorError> {
        self.check_folder()?;
        // a registry busy or unreachable at start is waited for, not a reason to stop watching
        loop {
            match state::ensure(context.registry, &connector.name).await {
                Ok(()) => break,
                Err(error) if error.is_transient() => {
                    tracing::warn!(connector = %connector.name, %error, "registry unavailable; trying again in 5 s");
                    tokio::select! {
                        _ = context.shutdown.requested() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        let (events, mut incoming) = mpsc::unbounded_channel::<(PathBuf, Activity)>();
        let _watcher = start_watcher(&self.path, events);
        let tick = (self.settle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rescans = tokio::time::interval(self.rescan);
        rescans.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut observed = Observed::default();
        loop {
            tokio::select! {
                _ = context.shutdown.requested() => break,
                Some((path, activity)) = incoming.recv() => {
                    if path.is_dir() {
                        for file in self.candidates() {
                            observed.observe(&file);
                        }
                    } else if self.is_candidate(&path) {
                        observed.observe(&path);
                        observed.activity(&path, activity);
                    }
                }
                _ = rescans.tick() => {
                    for file in self.candidates() {
                        observed.observe(&file);
                    }
                }
                _ = ticks.tick() => {
                    for file in observed.settled(self.settle, self.writer_patience()) {
                        if context.shutdown.is_requested() {
                            break;
                        }
                        let mut report = SyncReport::new(&connector.name);
                        match self.take(connector, context, &file, &mut report).await {
                            Ok(()) => {
                                observed.forget(&file);
                                if let Some(taken) = &taken {
                                    for receipt in report.receipts {
                                        let _ = taken.send(receipt);
                                    }
                                }
                            }
                            Err(error) => {
                                // the registry or the disk failed: the file stays, tried again later
                                tracing::warn!(connector = %connector.name, file = %file.display(), %error, "inbox file not taken");
                                observed.observe(&file);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// How many times lifeline may stop in the middle of a file (killed, out of memory, a power
/// cut) before the file is put aside in `failed/` instead of being read again.
const INTERRUPTED_ATTEMPTS: u32 = 2;

/// A file being taken: `.lifeline/taking/KEY/` holds a marker (which file, how many attempts
/// began) and the private copy that is hashed and read. The folder is removed when the file has
/// been stored, failed or left for later; one still there at the next attempt means lifeline
/// stopped in the middle of it.
struct Taking {
    folder: PathBuf,
    /// Earlier attempts at this file that never finished.
    interrupted: u32,
}

#[derive(serde::Serialize, Deserialize)]
struct TakingMarker {
    file: String,
    attempts: u32,
}

impl Taking {
    fn begin(staging: &Path, relative: &Path) -> std::io::Result<Taking> {
        use sha2::Digest;
        let key = hex::encode(&sha2::Sha256::digest(relative.to_string_lossy().as_bytes())[..8]);
        let folder = staging.join("taking").join(key);
        std::fs::create_dir_all(&folder)?;
        let marker_path = folder.join("marker.json");
        let interrupted = std::fs::read(&marker_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<TakingMarker>(&bytes).ok())
            .map_or(0, |marker| marker.attempts);
        let marker = TakingMarker {
            file: relative.display().to_string(),
            attempts: interrupted + 1,
        };
        // durable before reading: a crash while reading must find it at the next start
        let mut out = std::fs::File::create(&marker_path)?;
        std::io::Write::write_all(&mut out, &serde_json::to_vec(&marker).unwrap_or_default())?;
        out.sync_all()?;
        if interrupted > 0 {
            tracing::warn!(file = %relative.display(), interrupted, "lifeline stopped in the middle of this file before");
        }
        Ok(Taking {
            folder,
            interrupted,
        })
    }

    /// Where the private copy of `file` goes (same name, so its format is recognised alike).
    fn copy_of(&self, file: &Path) -> PathBuf {
        self.folder.join(
            file.file_name()
                .unwrap_or_else(|| std::ffi::OsStr::new("file")),
        )
    }

    /// The file's attempt has ended: marker and copy are removed.
    fn finish(self) {
        if let Err(error) = std::fs::remove_dir_all(&self.folder) {
            tracing::warn!(folder = %self.folder.display(), %error, "cannot remove the taking folder");
        }
    }
}

/// How long ago a file was last modified (`None` when unknown or in the future).
fn modified_ago(path: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    SystemTime::now().duration_since(modified).ok()
}

/// What a filesystem event says of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    /// Created, renamed, its attributes changed: look at it.
    Seen,
    /// Written to by a program that may still hold it open.
    Written,
    /// A program that wrote it has closed it.
    Closed,
}

/// Starts filesystem events for `path` (recursive); `None` when the platform refuses (the
/// rescan still finds files).
fn start_watcher(
    path: &Path,
    events: mpsc::UnboundedSender<(PathBuf, Activity)>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let handler = move |event: notify::Result<notify::Event>| {
        use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
        if let Ok(event) = event {
            let activity = match event.kind {
                EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => {
                    Activity::Written
                }
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => Activity::Closed,
                _ => Activity::Seen,
            };
            for path in event.paths {
                let _ = events.send((path, activity));
            }
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(watcher) => watcher,
        Err(error) => {
            tracing::warn!(folder = %path.display(), %error, "no filesystem events: relying on rescans");
            return None;
        }
    };
    if let Err(error) = watcher.watch(path, notify::RecursiveMode::Recursive) {
        tracing::warn!(folder = %path.display(), %error, "no filesystem events: relying on rescans");
        return None;
    }
    Some(watcher)
}

/// Whether `path` itself is a regular file: symbolic links are not followed.
fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

type Stat = Option<(u64, SystemTime)>;

fn stat(path: &Path) -> Stat {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Files seen in the inbox, with their size and modification time and since when those have
/// not changed.
#[derive(Default)]
struct Observed {
    files: HashMap<PathBuf, (Stat, Instant)>,
    /// Files written to and not closed since (from filesystem events), with when the last
    /// write was seen: a copy that pauses longer than the settle time is still not complete.
    open_for_writing: HashMap<PathBuf, Instant>,
}

impl Observed {
    fn observe(&mut self, path: &Path) {
        let now = stat(path);
        match self.files.get_mut(path) {
            Some((seen, since)) if *seen != now => {
                *seen = now;
                *since = Instant::now();
            }
            Some(_) => {}
            None => {
                self.files.insert(path.to_path_buf(), (now, Instant::now()));
            }
        }
    }

    fn changed(&self, path: &Path) -> bool {
        self.files
            .get(path)
            .is_none_or(|(seen, _)| *seen != stat(path))
    }

    fn activity(&mut self, path: &Path, activity: Activity) {
        match activity {
            Activity::Written => {
                self.open_for_writing
                    .insert(path.to_path_buf(), Instant::now());
            }
            Activity::Closed => {
                self.open_for_writing.remove(path);
            }
            Activity::Seen => {}
        }
    }

    fn forget(&mut self, path: &Path) {
        self.files.remove(path);
        self.open_for_writing.remove(path);
    }

    /// Files unchanged for `settle` and not held open by a writer (for at most `patience`
    /// since its last write, in case the closing event was missed), re-checking each; files
    /// gone are forgotten.
    fn settled(&mut self, settle: Duration, patience: Duration) -> Vec<PathBuf> {
        let mut ready = Vec::new();
        let paths: Vec<PathBuf> = self.files.keys().cloned().collect();
        for path in paths {
            let now = stat(&path);
            if now.is_none() {
                self.forget(&path);
                continue;
            }
            if let Some(written) = self.open_for_writing.get(&path) {
                if written.elapsed() < patience {
                    continue;
                }
                tracing::warn!(file = %path.display(), "written to {} s ago and never closed: taken as it is", written.elapsed().as_secs());
                self.open_for_writing.remove(&path);
            }
            if let Some((seen, since)) = self.files.get_mut(&path) {
                if *seen != now {
                    *seen = now;
                    *since = Instant::now();
                } else if since.elapsed() >= settle {
                    ready.push(path);
                }
            }
        }
        ready.sort();
        ready
    }
}

/// Today in Asia/Shanghai, `YYYY-MM-DD`.
fn shanghai_today() -> String {
    chrono::Utc::now()
        .with_timezone(&crate::schedule::SHANGHAI)
        .format("%Y-%m-%d")
        .to_string()
}

/// A free name in `folder` for `name`: `a.xlsx`, else `a-2.xlsx`, `a-3.xlsx`…
fn free_name(folder: &Path, name: &str) -> PathBuf {
    let candidate = folder.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| folder.join(format!("{stem}-{n}{extension}")))
        .find(|p| !p.exists())
        .unwrap_or(candidate)
}

/// Moves `file` into `folder` with its receipt and rejects workbook; a failed file gets
/// `NAME.why.txt`. Returns where the file went.
fn move_beside(file: &Path, folder: &Path, receipt: &Receipt) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let target = free_name(folder, &name);
    move_file(file, &target)?;
    let target_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let mut moved = receipt.clone();
    if let Some(workbook) = &receipt.rejects_workbook {
        let destination = folder.join(format!("{target_name}.rejects.xlsx"));
        if move_file(Path::new(workbook), &destination).is_ok() {
            moved.rejects_workbook = Some(destination.display().to_string());
        }
    }
    let receipt_path = folder.join(format!(
        "{target_name}.{}",
        if receipt.status == FileStatus::Duplicate {
            "duplicate.receipt.json"
        } else {
            "receipt.json"
        }
    ));
    moved.path = target.display().to_string();
    moved.receipt_path = Some(receipt_path.display().to_string());
    if let Ok(json) = serde_json::to_string_pretty(&moved) {
        std::fs::write(&receipt_path, json)?;
    }
    if let Some(old) = &receipt.receipt_path {
        let _ = std::fs::remove_file(old);
    }
    if receipt.status == FileStatus::Failed {
        let why = format!(
            "{name} could not be processed and was not stored.\n\nWhy: {}\n\nFix the file and drop it in the inbox again.\n",
            receipt.error.as_deref().unwrap_or("unknown error")
        );
        std::fs::write(folder.join(format!("{target_name}.why.txt")), why)?;
    }
    Ok(target)
}

fn remove_receipt_files(receipt: &Receipt) {
    for path in [&receipt.receipt_path, &receipt.rejects_workbook]
        .into_iter()
        .flatten()
    {
        let _ = std::fs::remove_file(path);
    }
}

/// Renames, or copies and removes across filesystems.
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(_) => {
            std::fs::copy(from, to)?;
            std::fs::remove_file(from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_not_taken() {
        assert!(is_temporary("~$住院.xlsx"));
        assert!(is_temporary("住院.xlsx.part"));
        assert!(is_temporary("upload.TMP"));
        assert!(is_temporary(".hidden.csv"));
        assert!(!is_temporary("住院.xlsx"));
    }

    #[test]
    fn archive_names_never_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.csv"), "x").expect("write");
        std::fs::write(dir.path().join("a-2.csv"), "x").expect("write");
        assert_eq!(free_name(dir.path(), "a.csv"), dir.path().join("a-3.csv"));
        assert_eq!(free_name(dir.path(), "b.csv"), dir.path().join("b.csv"));
    }
}
