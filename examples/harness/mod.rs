//! What the crash and soak harnesses share: generated exports whose rows are known, a lifeline
//! world in a temporary folder driven through the binary, and the checks that nothing was lost
//! or stored twice.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

/// The number after `flag` on the command line, or `default`.
pub fn arg(flag: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator: the same seed gives the same kills.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn id_number(sequence: u64) -> String {
    // 341125 (定远县), born 1950-01-01 + sequence days, a sequence code, the check digit
    let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap()
        + chrono::Duration::days((sequence % 20_000) as i64);
    let code = (sequence / 20_000) % 1000;
    let first = format!("341125{}{code:03}", birth.format("%Y%m%d"));
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = "10X98765432".chars().nth((sum % 11) as usize).unwrap();
    format!("{first}{check}")
}

const SURNAMES: [&str; 10] = ["张", "王", "李", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "洋", "静", "磊", "敏", "强", "杰", "霞"];

pub fn name(sequence: u64) -> String {
    format!(
        "{}{}{}",
        SURNAMES[(sequence % 10) as usize],
        GIVEN[((sequence / 10) % 10) as usize],
        GIVEN[((sequence / 100) % 10) as usize]
    )
}

/// One generated export: its name, its text and the ID numbers of its rows.
pub struct Export {
    pub name: String,
    pub text: String,
    pub ids: Vec<String>,
}

pub fn export(index: usize, rows: u64, first_person: u64, rng: &mut Rng) -> Export {
    let mut text = String::from("序号,患者姓名,身份证号码,入院日期,个人自付（元）,家庭住址\n");
    let mut ids = Vec::new();
    for row in 0..rows {
        // a third of the rows name a person of the previous file again
        let person = if index > 0 && rng.below(3) == 0 {
            first_person - 1 - rng.below(first_person.min(2_000))
        } else {
            first_person + row
        };
        let id = id_number(person);
        text.push_str(&format!(
            "{},{},{id},2026-{:02}-{:02},{}.{:02},安徽省滁州市定远县炉桥镇金岗村{}组\n",
            row + 1,
            name(person),
            1 + rng.below(11),
            1 + rng.below(28),
            100 + rng.below(90_000),
            rng.below(100),
            1 + person % 9
        ));
        ids.push(id);
    }
    Export {
        name: format!("住院-{index:03}.csv"),
        text,
        ids,
    }
}

pub struct World {
    pub dir: PathBuf,
    pub exe: PathBuf,
    pub db: String,
}

impl World {
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .current_dir(&self.dir)
            .env_remove("LIFELINE_DB")
            .env("LIFELINE_LOG", "error")
            .arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(self.dir.join("lifeline.toml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut command = self.command();
        command.args(args);
        command.spawn().expect("start lifeline")
    }

    pub fn run(&self, args: &[&str]) -> bool {
        let mut command = self.command();
        command.args(args).stderr(Stdio::inherit());
        command.status().map(|s| s.success()).unwrap_or(false)
    }

    pub fn inbox(&self) -> PathBuf {
        self.dir.join("inbox")
    }

    /// Data files still waiting in the inbox.
    pub fn waiting(&self) -> usize {
        std::fs::read_dir(self.inbox())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .count()
            })
            .unwrap_or(0)
    }
}

pub fn terminate(child: &mut Child) {
    // SAFETY: kill only sends a signal to the child's pid
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Names of the data files under `folder` (receipts, rejects and reasons left out), with how
/// often each occurs.
pub fn files_under(folder: &Path, out: &mut BTreeMap<String, usize>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".csv") {
                *out.entry(name).or_default() += 1;
            }
        }
    }
}

#[derive(Default)]
pub struct Tally {
    pub violations: Vec<String>,
    pub put_aside: BTreeSet<String>,
    pub rows_expected: u64,
    pub rows_stored: u64,
}

pub async fn check(world: &World, dropped: &BTreeMap<String, u64>, after: &str, tally: &mut Tally) {
    check_with_resent(world, dropped, &BTreeMap::new(), after, tally).await;
}

/// [`check`], with `resent` files: copies of earlier files under new names, which must be
/// archived (or failed) once and store nothing.
pub async fn check_with_resent(
    world: &World,
    dropped: &BTreeMap<String, u64>,
    resent: &BTreeMap<String, u64>,
    after: &str,
    tally: &mut Tally,
) {
    let mut fail = |what: String| tally.violations.push(format!("after {after}: {what}"));
    if world.waiting() > 0 {
        fail(format!("{} files still in the inbox", world.waiting()));
    }
    let mut archived = BTreeMap::new();
    files_under(&world.inbox().join("archive"), &mut archived);
    let mut failed = BTreeMap::new();
    files_under(&world.inbox().join("failed"), &mut failed);
    for name in dropped.keys().chain(resent.keys()) {
        let seen =
            archived.get(name).copied().unwrap_or(0) + failed.get(name).copied().unwrap_or(0);
        if seen != 1 {
            fail(format!("{name} is archived or failed {seen} times"));
        }
    }
    tally.put_aside = failed.keys().cloned().collect();
    let mut connection = sqlx::SqliteConnection::connect(&world.db)
        .await
        .expect("open the registry");
    let stored: Vec<(String, i64, i64)> = sqlx::query(
        "SELECT f.file_name, f.rows_accepted, \
         (SELECT COUNT(*) FROM records r WHERE r.file_id = f.id) FROM files f",
    )
    .fetch_all(&mut connection)
    .await
    .expect("files")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, accepted, records) in &stored {
        *by_name.entry(name.as_str()).or_default() += 1;
        if accepted != records {
            fail(format!(
                "{name}: receipt says {accepted} rows, registry holds {records}"
            ));
        }
    }
    for name in resent.keys() {
        if by_name.contains_key(name.as_str()) {
            fail(format!("{name} repeats an earlier file but was stored"));
        }
    }
    tally.rows_expected = 0;
    for (name, rows) in dropped {
        let stored_times = by_name.get(name.as_str()).copied().unwrap_or(0);
        let is_archived = archived.contains_key(name);
        if is_archived && stored_times != 1 {
            fail(format!(
                "{name} is archived but stored {stored_times} times"
            ));
        }
        if !is_archived && stored_times != 0 {
            fail(format!(
                "{name} is in failed/ but stored {stored_times} times"
            ));
        }
        if is_archived {
            tally.rows_expected += rows;
            let accepted = stored
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, a, _)| *a as u64)
                .unwrap_or(0);
            if accepted != *rows {
                fail(format!("{name}: {accepted} of {rows} rows stored"));
            }
        }
    }
    let records: i64 = sqlx::query(
        "SELECT COUNT(*) FROM records r JOIN files f ON f.id = r.file_id \
         WHERE f.file_name NOT LIKE 'http:%'",
    )
    .fetch_one(&mut connection)
    .await
    .expect("records")
    .get(0);
    tally.rows_stored = records as u64;
    if records as u64 != tally.rows_expected {
        fail(format!(
            "{records} rows in the registry, {} in the archived files",
            tally.rows_expected
        ));
    }
    let integrity: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .expect("integrity")
        .get(0);
    if integrity != "ok" {
        fail(format!("integrity_check: {integrity}"));
    }
    let orphans = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut connection)
        .await
        .expect("foreign keys")
        .len();
    if orphans > 0 {
        fail(format!("{orphans} rows fail the foreign-key check"));
    }
    let _ = connection.close().await;
}

pub async fn check_linkage(world: &World, after: &str, tally: &mut Tally) {
    let mut connection = sqlx::SqliteConnection::connect(&world.db)
        .await
        .expect("open the registry");
    let mut fail = |what: String| tally.violations.push(format!("after {after}: {what}"));
    for (what, sql) in [
        (
            "mentions without a person",
            "SELECT COUNT(*) FROM mentions m LEFT JOIN mention_links l ON l.mention_id = m.id \
             WHERE l.mention_id IS NULL",
        ),
        (
            "links to a missing person",
            "SELECT COUNT(*) FROM mention_links l LEFT JOIN persons p ON p.person_id = l.person_id \
             WHERE p.person_id IS NULL",
        ),
        (
            "persons in a missing household",
            "SELECT COUNT(*) FROM persons p LEFT JOIN households h \
             ON h.household_id = p.household_id WHERE h.household_id IS NULL",
        ),
        (
            "persons whose mention count is wrong",
            "SELECT COUNT(*) FROM persons p WHERE p.mentions <> \
             (SELECT COUNT(*) FROM mention_links l WHERE l.person_id = p.person_id)",
        ),
        (
            "ID numbers split over several persons",
            "SELECT COUNT(*) FROM (SELECT m.id_number FROM mentions m \
             JOIN mention_links l ON l.mention_id = m.id WHERE m.id_number IS NOT NULL \
             GROUP BY m.id_number HAVING COUNT(DISTINCT l.person_id) > 1)",
        ),
        (
            "flags of a missing household",
            "SELECT COUNT(*) FROM risk_flags f LEFT JOIN households h \
             ON h.household_id = f.household_id WHERE h.household_id IS NULL",
        ),
    ] {
        let count: i64 = sqlx::query(sql)
            .fetch_one(&mut connection)
            .await
            .expect(what)
            .get(0);
        if count > 0 {
            fail(format!("{count} {what}"));
        }
    }
    let _ = connection.close().await;
}

impl World {
    /// A new world in `dir`: a SQLite registry, one inbox connector (`inbox/`) and the
    /// schedules given as `(file name, text)`.
    pub fn create(dir: &Path, schedules: &[(&str, &str)], listen: Option<&str>) -> World {
        let exe = std::env::current_exe()
            .expect("own path")
            .parent()
            .and_then(Path::parent)
            .map(|folder| folder.join("lifeline"))
            .expect("target folder");
        if !exe.exists() {
            eprintln!("{} is missing: run `cargo build` first", exe.display());
            std::process::exit(2);
        }
        let db = format!("sqlite:{}", dir.join("lifeline.db").display());
        for folder in ["connectors", "schedules", "inbox", "outbox"] {
            std::fs::create_dir_all(dir.join(folder)).expect("world folders");
        }
        let listen = listen
            .map(|address| format!("listen = \"{address}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            dir.join("lifeline.toml"),
            format!(
                "db = \"{db}\"\nconnectors = \"connectors\"\nschedules = \"schedules\"\n\
                 receipts = \"receipts\"\n{listen}"
            ),
        )
        .expect("lifeline.toml");
        std::fs::write(
            dir.join("connectors/inbox_health.toml"),
            "kind = \"inbox\"\ndepartment = \"health\"\nmapping = \"health\"\npath = \"inbox\"\n\
             settle_seconds = 0.2\nrescan_seconds = 1\n",
        )
        .expect("connector");
        for (name, text) in schedules {
            std::fs::write(dir.join("schedules").join(name), text).expect("schedule");
        }
        World {
            dir: dir.to_path_buf(),
            exe,
            db,
        }
    }

    /// Writes a new export into the inbox whole (written beside it, then renamed in) and
    /// records its rows in `dropped`.
    pub fn drop_file(&self, file: &Export, dropped: &mut BTreeMap<String, u64>) {
        let staged = self.dir.join("outbox").join(&file.name);
        std::fs::write(&staged, &file.text).expect("write export");
        std::fs::rename(&staged, self.inbox().join(&file.name)).expect("drop export");
        dropped.insert(file.name.clone(), file.ids.len() as u64);
    }

    /// Sends `original` (already dropped) again under a new name, byte for byte.
    pub fn resend(&self, original: &Export, index: usize, resent: &mut BTreeMap<String, u64>) {
        let name = format!("重发-{index:03}-{}", original.name);
        let staged = self.dir.join("outbox").join(&name);
        std::fs::write(&staged, &original.text).expect("write export");
        std::fs::rename(&staged, self.inbox().join(&name)).expect("drop export");
        resent.insert(name, original.ids.len() as u64);
    }

    /// Waits until the inbox holds no waiting file (at most `patience`).
    pub fn wait_for_empty_inbox(&self, patience: Duration) {
        let deadline = Instant::now() + patience;
        while self.waiting() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        // the last file's archive move follows its commit
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Houses the department API of the harness serves: `pages` pages of `size`.
pub const API_PAGES: u64 = 10;
/// Records per page of the harness's API.
pub const API_PAGE_SIZE: u64 = 200;

/// A department API on loopback (a thread of its own, blocking I/O): `GET /houses?page=N`
/// answers page N of the same houses every time, each page after `delay`. Returns its address.
pub fn start_api(delay: Duration) -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the API");
    let address = listener.local_addr().expect("API address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut request = String::new();
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).map_or(true, |n| n == 0) || line == "\r\n" {
                        break;
                    }
                }
                let page: u64 = request
                    .split(['?', '&', ' '])
                    .find_map(|part| part.strip_prefix("page="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                std::thread::sleep(delay);
                let items: Vec<serde_json::Value> = if (1..=API_PAGES).contains(&page) {
                    (0..API_PAGE_SIZE)
                        .map(|i| {
                            let person = 5_000_000 + (page - 1) * API_PAGE_SIZE + i;
                            serde_json::json!({
                                "hzxm": name(person),
                                "sfzh": id_number(person),
                                "djjg": if i % 2 == 0 { "C级" } else { "D级" },
                                "fwdz": "安徽省滁州市定远县炉桥镇金岗村",
                            })
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let body = serde_json::json!({ "data": { "items": items } }).to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    address
}

impl World {
    /// Adds the `housing_api` connector pulling the harness's API at `address`.
    pub fn add_api(&self, address: std::net::SocketAddr) {
        std::fs::write(
            self.dir.join("connectors/housing_api.toml"),
            format!(
                "kind = \"http\"\ndepartment = \"housing\"\nmapping = \"housing\"\n\
                 url = \"http://{address}/houses\"\nrecords = \"data.items\"\n\
                 rename = {{ hzxm = \"户主姓名\", sfzh = \"身份证号\", djjg = \"鉴定等级\", fwdz = \"房屋地址\" }}\n\
                 pagination = {{ style = \"page\", size = {API_PAGE_SIZE} }}\n"
            ),
        )
        .expect("API connector");
    }
}

/// Checks that the API's pulls are whole: either nothing of them is stored or all
/// `API_PAGES × API_PAGE_SIZE` rows, once (a repeated pull of the same rows is a duplicate).
pub async fn check_pulls(world: &World, expect_stored: bool, after: &str, tally: &mut Tally) {
    let mut connection = sqlx::SqliteConnection::connect(&world.db)
        .await
        .expect("open the registry");
    let rows: i64 = sqlx::query(
        "SELECT COUNT(*) FROM records r JOIN files f ON f.id = r.file_id \
         WHERE f.file_name LIKE 'http:%'",
    )
    .fetch_one(&mut connection)
    .await
    .expect("pulled rows")
    .get(0);
    let whole = (API_PAGES * API_PAGE_SIZE) as i64;
    if rows != whole && (expect_stored || rows != 0) {
        tally.violations.push(format!(
            "after {after}: {rows} rows of the API stored, not {}",
            if expect_stored {
                whole.to_string()
            } else {
                format!("0 or {whole}")
            }
        ));
    }
    let _ = connection.close().await;
}
