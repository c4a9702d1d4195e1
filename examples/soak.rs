//! Soak: `lifeline serve` for ten minutes with everything at once: exports dropped into the
//! inbox every few seconds, a scheduled job (inbox, match, flag) every minute, and API readers
//! listing households and opening them with a key, audit on. It samples the service's memory
//! and, at the end, checks that every file is archived once with all its rows, that the
//! registry's links hold, and that the read audit verifies.
//!
//! ```sh
//! cargo build && cargo run --example soak -- [--seconds 600] [--seed 7] [--readers 2] [--grow-for S]
//! ```
//!
//! With `--grow-for S`, new exports arrive for the first S seconds only; after that the files
//! dropped are earlier ones sent again under new names (officers resending), which are archived
//! as duplicates and store nothing: the registry stops growing while the service keeps taking
//! files, matching, flagging and answering, so its memory should stop growing too.
//!
//! It prints the memory samples and the figures, and exits non-zero on any violation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "harness/mod.rs"]
mod harness;

use harness::{Rng, Tally, World, check_linkage, check_with_resent, export, terminate};

const EVERY_MINUTE: &str = "cron = \"* * * * *\"\nmissed = \"skip\"\n\
steps = [\"inbox\", \"match\", \"flag\"]\ndescription = \"the nightly steps, every minute\"\n";

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[derive(Default)]
struct Reads {
    ok: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    slowest_ms: AtomicU64,
}

async fn reader(base: String, key: String, reads: Arc<Reads>, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let list = client
            .get(format!("{base}/api/v1/households?limit=50"))
            .bearer_auth(&key)
            .header("X-Purpose", "soak test")
            .send()
            .await;
        let ids: Vec<String> = match list {
            Ok(response) if response.status().is_success() => {
                reads.ok.fetch_add(1, Ordering::Relaxed);
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                body["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|h| h["household_id"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            Ok(response) if response.status().as_u16() == 429 => {
                reads.refused.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Vec::new()
            }
            _ => {
                reads.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Vec::new()
            }
        };
        for id in ids.iter().take(10) {
            let one = client
                .get(format!("{base}/api/v1/households/{id}"))
                .bearer_auth(&key)
                .header("X-Purpose", "soak test")
                .send()
                .await;
            match one {
                // a household merged away by the last match answers 404
                Ok(r) if r.status().is_success() || r.status().as_u16() == 404 => {
                    reads.ok.fetch_add(1, Ordering::Relaxed)
                }
                Ok(r) if r.status().as_u16() == 429 => {
                    reads.refused.fetch_add(1, Ordering::Relaxed)
                }
                _ => reads.failed.fetch_add(1, Ordering::Relaxed),
            };
        }
        let took = started.elapsed().as_millis() as u64;
        reads.slowest_ms.fetch_max(took, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() {
    let seconds = harness::arg("--seconds", 600);
    let seed = harness::arg("--seed", 7);
    let readers = harness::arg("--readers", 2);
    let grow_for = Duration::from_secs(harness::arg("--grow-for", u64::MAX / 4));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let temp = tempfile::tempdir().expect("temporary folder");
    let world = World::create(
        temp.path(),
        &[("every_minute.toml", EVERY_MINUTE)],
        Some(&listen),
    );
    let key = {
        let output = world
            .command()
            .args(["keys", "create", "soak", "--scope", "full"])
            .stdout(std::process::Stdio::piped())
            .output()
            .expect("keys create");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    if key.is_empty() {
        eprintln!("could not create an API key");
        std::process::exit(2);
    }
    println!(
        "soak: {seconds} s, seed {seed}, {readers} readers, binary {}",
        world.exe.display()
    );
    let mut service = world.spawn(&["serve"]);
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reads = Arc::new(Reads::default());
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..readers)
        .map(|_| {
            tokio::spawn(reader(
                base.clone(),
                key.clone(),
                Arc::clone(&reads),
                Arc::clone(&stop),
            ))
        })
        .collect();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
    let mut resent: BTreeMap<String, u64> = BTreeMap::new();
    let mut sent = Vec::new();
    let (mut next_file, mut next_person) = (0usize, 1u64);
    let mut samples: Vec<(u64, f64)> = Vec::new();
    let started = Instant::now();
    let mut next_drop = Instant::now();
    let mut next_sample = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        if Instant::now() >= next_drop {
            if started.elapsed() < grow_for || sent.is_empty() {
                let rows = 300 + rng.below(1_200);
                let file = export(next_file, rows, next_person, &mut rng);
                next_person += rows;
                next_file += 1;
                world.drop_file(&file, &mut dropped);
                sent.push(file);
            } else {
                let original = &sent[rng.below(sent.len() as u64) as usize];
                world.resend(original, resent.len(), &mut resent);
            }
            next_drop = Instant::now() + Duration::from_secs(3 + rng.below(5));
        }
        if Instant::now() >= next_sample {
            let at = started.elapsed().as_secs();
            if let Some(mib) = rss_mib(service.id()) {
                samples.push((at, mib));
                println!(
                    "{at:>4} s  rss {mib:>7.1} MiB  files {:>4} (+{} resent)  reads {:>7}",
                    dropped.len(),
                    resent.len(),
                    reads.ok.load(Ordering::Relaxed)
                );
            }
            next_sample = Instant::now() + Duration::from_secs(30);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    world.wait_for_empty_inbox(Duration::from_secs(300));
    let alive = matches!(service.try_wait(), Ok(None));
    terminate(&mut service);
    let mut tally = Tally::default();
    if !alive {
        tally
            .violations
            .push("the service died during the soak".into());
    }
    check_with_resent(&world, &dropped, &resent, "the soak", &mut tally).await;
    if !world.run(&["match"]) || !world.run(&["flag"]) {
        tally
            .violations
            .push("the final match or flag failed".into());
    }
    check_linkage(&world, "the soak", &mut tally).await;
    if !world.run(&["audit", "verify"]) {
        tally
            .violations
            .push("the read audit does not verify".into());
    }
    let first_minute = samples
        .iter()
        .filter(|(at, _)| *at >= 60)
        .map(|(_, mib)| *mib)
        .next()
        .unwrap_or(0.0);
    let peak = samples.iter().map(|(_, mib)| *mib).fold(0.0, f64::max);
    let last = samples.last().map(|(_, mib)| *mib).unwrap_or(0.0);
    println!();
    println!("duration         {seconds} s");
    println!(
        "files dropped    {} new, {} resent ({} put aside)",
        dropped.len(),
        resent.len(),
        tally.put_aside.len()
    );
    println!("rows expected    {}", tally.rows_expected);
    println!("rows stored      {}", tally.rows_stored);
    println!(
        "API reads        {} answered, {} rate-limited, {} failed, slowest round {} ms",
        reads.ok.load(Ordering::Relaxed),
        reads.refused.load(Ordering::Relaxed),
        reads.failed.load(Ordering::Relaxed),
        reads.slowest_ms.load(Ordering::Relaxed)
    );
    println!("rss after 1 min  {first_minute:.1} MiB");
    println!("rss at the end   {last:.1} MiB");
    println!("rss peak         {peak:.1} MiB");
    let settled: Vec<f64> = samples
        .iter()
        .filter(|(at, _)| Duration::from_secs(*at) >= grow_for + Duration::from_secs(60))
        .map(|(_, mib)| *mib)
        .collect();
    if let (Some(first), Some(low), Some(high)) = (
        settled.first(),
        settled.iter().copied().reduce(f64::min),
        settled.iter().copied().reduce(f64::max),
    ) {
        let half = settled.len() / 2;
        let early = settled[..half.max(1)].iter().copied().fold(0.0, f64::max);
        let late = settled[half..].iter().copied().fold(0.0, f64::max);
        println!(
            "rss once the registry stopped growing: first {first:.1}, {low:.1}–{high:.1} MiB; \
             peak of the first half {early:.1}, of the second half {late:.1} MiB"
        );
    }
    println!("violations       {}", tally.violations.len());
    for violation in &tally.violations {
        println!("  {violation}");
    }
    if !tally.violations.is_empty() || reads.failed.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
}
