//! Ingest throughput: a 200,000-row health workbook through `lifeline ingest` (hash, read,
//! detect, normalize, store in SQLite, commit, receipt) next to reading the same file with
//! calamine alone — the floor for this work. With `--rows N` another size; with `--memory`
//! it also reports peak memory (run it alone for a clean figure); with `--files K` it also
//! ingests K different workbooks of that size in one batch, the registry closed at the end.
//!
//! Run: `cargo bench --bench ingest` (release build), optionally `-- --rows 1000000` or
//! `-- --files 4`.

use std::path::Path;

/// The same allocator as the `lifeline` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

use calamine::{Reader, Xlsx};
use lifeline::ingest::{FileStatus, IngestOptions, Ingestor};
use lifeline::mapping::MappingSet;
use lifeline::registry::Registry;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "曾", "欧阳",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
];
const TOWNS: &[&str] = &["炉桥镇", "定城镇", "藕塘镇", "池河镇", "连江镇", "蒋集镇"];
const VILLAGES: &[&str] = &[
    "金岗", "高塘", "丰收", "龙岗", "三和", "大桥", "新华", "团结", "双河", "红星", "光明", "前进",
    "永丰", "石塘", "黄庄", "李湾", "张桥", "王集", "陈圩", "刘郢",
];

fn check_digit(first17: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

/// Writes a realistic health export: title row, header, `rows` data rows, footer.
fn write_workbook(path: &Path, rows: u32, seed: u64) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name("住院结算")?;
    sheet.write_string(0, 0, "定远县2026年住院费用结算明细表")?;
    let header = [
        "序号",
        "患者姓名",
        "身份证号码",
        "性别",
        "入院日期",
        "出院日期",
        "医疗机构",
        "疾病诊断",
        "医疗总费用",
        "统筹支付",
        "个人自付",
        "联系电话",
        "家庭住址",
    ];
    for (column, text) in header.iter().enumerate() {
        sheet.write_string(1, column as u16, *text)?;
    }
    let mut state: u64 = 0x2014_0528 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..rows {
        let row = i + 2;
        let r = next();
        let name = format!(
            "{}{}",
            SURNAMES[(r % SURNAMES.len() as u64) as usize],
            GIVEN[((r >> 8) % GIVEN.len() as u64) as usize]
        );
        let year = 1940 + (r >> 16) % 70;
        let month = 1 + (r >> 24) % 12;
        let day = 1 + (r >> 28) % 28;
        let first17 = format!("341125{year:04}{month:02}{day:02}{:03}", (r >> 32) % 1000);
        let id = format!("{first17}{}", check_digit(first17.as_bytes()));
        let total = 1000.0 + ((r >> 40) % 200_000) as f64 / 2.0;
        let reimbursed = (total * 0.6).round();
        let admission = format!("2026-{:02}-{:02}", 1 + (r >> 44) % 10, 1 + (r >> 48) % 28);
        sheet.write_number(row, 0, (i + 1) as f64)?;
        sheet.write_string(row, 1, &name)?;
        sheet.write_string(row, 2, &id)?;
        // the 17th digit of the ID number is odd for men
        let male = ((r >> 32) % 1000) % 2 == 1;
        sheet.write_string(row, 3, if male { "男" } else { "女" })?;
        sheet.write_string(row, 4, &admission)?;
        sheet.write_string(row, 5, &admission)?;
        sheet.write_string(row, 6, "定远县总医院")?;
        sheet.write_string(row, 7, "肺炎")?;
        sheet.write_number(row, 8, total)?;
        sheet.write_number(row, 9, reimbursed)?;
        sheet.write_number(row, 10, total - reimbursed)?;
        sheet.write_string(row, 11, format!("138{:08}", (r >> 20) % 100_000_000))?;
        sheet.write_string(
            row,
            12,
            // mostly distinct addresses, as in a real export: town, village, group, house number
            format!(
                "安徽省滁州市定远县{}{}村{}组{}号",
                TOWNS[((r >> 56) % 6) as usize],
                VILLAGES[((r >> 36) % VILLAGES.len() as u64) as usize],
                1 + (r >> 60) % 9,
                1 + (r >> 4) % 200
            ),
        )?;
    }
    sheet.write_string(rows + 2, 0, "合计")?;
    sheet.write_string(rows + 3, 0, "制表人：李四")?;
    workbook.save(path)
}

/// The floor: calamine streaming every cell of the sheet, touching each value.
fn bare_calamine(path: &Path) -> (u64, f64) {
    let started = Instant::now();
    let mut workbook: Xlsx<_> = calamine::open_workbook(path).expect("open workbook");
    let mut reader = workbook.worksheet_cells_reader("住院结算").expect("sheet");
    let mut cells = 0u64;
    let mut bytes = 0usize;
    while let Some(cell) = reader.next_cell().expect("cell") {
        cells += 1;
        if let calamine::DataRef::SharedString(s) = cell.get_value() {
            bytes += s.len();
        }
    }
    std::hint::black_box(bytes);
    (cells, started.elapsed().as_secs_f64())
}

/// calamine loading the whole sheet into a Range (the way most tools read a workbook).
fn calamine_range(path: &Path) -> f64 {
    let started = Instant::now();
    let mut workbook: Xlsx<_> = calamine::open_workbook(path).expect("open workbook");
    let range = workbook.worksheet_range("住院结算").expect("sheet");
    std::hint::black_box(range.get_size());
    started.elapsed().as_secs_f64()
}

/// An empty SQLite registry `dir/NAME.db`, and ingest options writing receipts under `dir`.
async fn fresh_registry(dir: &Path, name: &str) -> (Registry, IngestOptions) {
    let db = dir.join(format!("{name}.db"));
    let registry = Registry::open(&format!("sqlite:{}", db.display()))
        .await
        .expect("registry");
    let options = IngestOptions {
        receipts_dir: Some(dir.join("receipts")),
        ..IngestOptions::default()
    };
    (registry, options)
}

/// CPU seconds (user + system) the process has used, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // fields after the command: state is 0, utime is 11, stime is 12; 100 ticks a second
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds (user + system) of the child processes waited for so far.
fn children_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Peak resident memory of the largest child process waited for so far, in MiB.
fn children_peak_rss_mib() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as f64 / 1024.0
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

/// The value given after `--name` on the command line.
fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

#[tokio::main]
async fn main() {
    lifeline::disable_transparent_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    let rows: u32 = option(&args, "--rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("定远县住院结算_{rows}.xlsx"));
    let started = Instant::now();
    write_workbook(&path, rows, 0).expect("write workbook");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "workbook: {rows} data rows, {:.1} MiB, written in {:.1} s",
        size as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    let rss_before = peak_rss_mib();

    // `--save FILE` keeps the workbook, e.g. to profile `lifeline ingest` on it
    if let Some(save) = option(&args, "--save") {
        std::fs::copy(&path, save).expect("copy the workbook");
        println!("workbook saved to {save}");
    }

    // best of three for the floor
    let mut floor = f64::MAX;
    let mut cells = 0;
    for _ in 0..3 {
        let (c, seconds) = bare_calamine(&path);
        cells = c;
        floor = floor.min(seconds);
    }
    let range_seconds = if rows <= 300_000 {
        calamine_range(&path)
    } else {
        f64::NAN
    };

    let mappings = MappingSet::built_in().expect("mappings");

    // read + detect + normalize, batches dropped: where the time goes without storage
    let read_only = {
        let vocabulary = lifeline::mapping::resolve::Vocabulary::new(&mappings);
        let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
        let drain = tokio::spawn(async move { while receiver.recv().await.is_some() {} });
        let path = path.clone();
        let mappings = mappings.clone();
        let started = Instant::now();
        tokio::task::spawn_blocking(move || {
            let mut sink =
                lifeline::ingest::sink::IngestSink::new(&mappings, &vocabulary, None, sender, None);
            lifeline::read::read_file(&path, &lifeline::read::ReadLimits::default(), &mut sink)
                .expect("read");
            let _ = sink.finish();
        })
        .await
        .expect("reader");
        drain.await.expect("drain");
        started.elapsed().as_secs_f64()
    };
    let mut cpu = f64::MAX;
    let mut best = f64::MAX;
    let mut best_closed = f64::MAX;
    let mut accepted = 0;
    for attempt in 0..3 {
        let (registry, options) = fresh_registry(dir.path(), &format!("bench-{attempt}")).await;
        let ingestor = Ingestor::new(&registry, &mappings, options);
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let receipts = ingestor
            .ingest_paths(std::slice::from_ref(&path))
            .await
            .expect("ingest");
        let seconds = started.elapsed().as_secs_f64();
        cpu = cpu.min(cpu_seconds() - cpu_before);
        assert_eq!(
            receipts[0].status,
            FileStatus::Ingested,
            "{}",
            receipts[0].summary()
        );
        accepted = receipts[0].rows_accepted;
        best = best.min(seconds);
        // the WAL checkpoint that follows a commit runs on its own task; closing waits for it
        registry.close().await;
        best_closed = best_closed.min(started.elapsed().as_secs_f64());
        if rows > 300_000 {
            break;
        }
    }
    println!(
        "calamine alone (streaming cells):   {floor:>7.2} s  {:>9.0} rows/s  ({cells} cells)",
        rows as f64 / floor
    );
    if range_seconds.is_finite() {
        println!(
            "calamine worksheet_range:           {range_seconds:>7.2} s  {:>9.0} rows/s",
            rows as f64 / range_seconds
        );
    }
    println!(
        "lifeline read+normalize, no storage: {read_only:>7.2} s  {:>9.0} rows/s",
        rows as f64 / read_only
    );
    println!(
        "lifeline ingest (to SQLite, commit): {best:>7.2} s  {:>9.0} rows/s  ({accepted} rows accepted)",
        rows as f64 / best
    );
    println!(
        "  and the WAL checkpoint after it:   {best_closed:>7.2} s  {:>9.0} rows/s  (registry closed)",
        rows as f64 / best_closed
    );
    println!(
        "  (ingest used {cpu:.2} CPU seconds on {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "ratio ingest / calamine floor:       {:>7.2}x",
        best / floor
    );
    println!(
        "peak memory: {:.0} MiB (before reading: {rss_before:.0} MiB)",
        peak_rss_mib()
    );
    // the same ingest with the workbook read by a child `lifeline` process under a memory
    // budget, as the `lifeline` binary reads every workbook
    lifeline::read::isolate::isolate_workbooks(lifeline::read::isolate::Isolation {
        exe: env!("CARGO_BIN_EXE_lifeline").into(),
        memory_bytes: 4096 << 20,
    });
    let mut isolated = f64::MAX;
    let mut isolated_cpu = f64::MAX;
    for attempt in 0..3 {
        let (registry, options) = fresh_registry(dir.path(), &format!("isolated-{attempt}")).await;
        let ingestor = Ingestor::new(&registry, &mappings, options);
        let started = Instant::now();
        let cpu_before = cpu_seconds() + children_cpu_seconds();
        let receipts = ingestor
            .ingest_paths(std::slice::from_ref(&path))
            .await
            .expect("ingest");
        isolated = isolated.min(started.elapsed().as_secs_f64());
        isolated_cpu = isolated_cpu.min(cpu_seconds() + children_cpu_seconds() - cpu_before);
        assert_eq!(
            receipts[0].rows_accepted,
            accepted,
            "{}",
            receipts[0].summary()
        );
        registry.close().await;
        if rows > 300_000 {
            break;
        }
    }
    println!(
        "lifeline ingest, workbook read in a child reader: {isolated:>7.2} s  {:>9.0} rows/s  \
         ({:.2}x the in-process ingest, {:.2}x the floor; {isolated_cpu:.2} CPU seconds, reader peak {:.0} MiB)",
        rows as f64 / isolated,
        isolated / best,
        isolated / floor,
        children_peak_rss_mib()
    );
    // `--files K`: K different workbooks of the same size in one ingest, until the registry is
    // closed — the steady state of a nightly batch, where each file's checkpoint overlaps the
    // next file's reading and the last one is waited for
    let files: usize = option(&args, "--files")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if files > 1 {
        let mut paths = vec![path.clone()];
        for k in 1..files {
            let other = dir.path().join(format!("定远县住院结算_{rows}_{k}.xlsx"));
            write_workbook(&other, rows, k as u64).expect("write workbook");
            paths.push(other);
        }
        let (registry, options) = fresh_registry(dir.path(), "bench-batch").await;
        let ingestor = Ingestor::new(&registry, &mappings, options);
        let started = Instant::now();
        let receipts = ingestor.ingest_paths(&paths).await.expect("ingest");
        registry.close().await;
        let seconds = started.elapsed().as_secs_f64();
        let ingested = receipts
            .iter()
            .filter(|r| r.status == FileStatus::Ingested)
            .count();
        assert_eq!(ingested, files, "every workbook is new");
        let total = rows as f64 * files as f64;
        println!(
            "{files} workbooks in one ingest, registry closed: {seconds:.2} s  {:.0} rows/s  \
             ({:.2} s a workbook, {:.2}x the floor)",
            total / seconds,
            seconds / files as f64,
            seconds / files as f64 / floor
        );
    }
}
