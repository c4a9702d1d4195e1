//! Crash harness: kills lifeline with SIGKILL at random points of `serve` (inbox files being
//! read, stored and archived), an API pull (`sync`), `match` and `flag`, restarts it, and checks
//! after every restart that nothing was lost or stored twice.
//!
//! ```sh
//! cargo build && cargo run --example crash -- [--kills 50] [--seed 7] [--keep]
//! ```
//!
//! It drives the `lifeline` binary built beside it (`target/debug/lifeline`, or
//! `target/release/lifeline` with `--release`) in a temporary folder: a SQLite registry, one
//! inbox connector, and generated health exports whose rows it knows (each row a person with a
//! valid, unique ID number; a third of the persons appear in two files). After each kill the
//! service is started again and left to take every file, then stopped with SIGTERM; then:
//!
//! - every file dropped so far is in `archive/` or `failed/`, exactly once, and not in the inbox;
//! - the registry holds each archived file once, with every one of its rows, and no other rows;
//! - SQLite's integrity and foreign-key checks pass;
//! - a killed pull of the harness's API (10 pages of 200 houses, 150 ms a page) stored all of
//!   its rows or none, and once the pull runs again they are stored exactly once;
//! - after a `match` and a `flag` run to completion, every mention is linked to exactly one
//!   existing person, every person to an existing household, and there is one person per ID
//!   number.
//!
//! It prints the figures and exits non-zero on any violation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "harness/mod.rs"]
mod harness;

use harness::{Rng, Tally, World, check, check_linkage, check_pulls, export, start_api, terminate};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let kills = harness::arg("--kills", 50);
    let seed = harness::arg("--seed", 7);
    let keep = std::env::args().any(|a| a == "--keep");
    let temp = tempfile::tempdir().expect("temporary folder");
    let world = World::create(temp.path(), &[], None);
    world.add_api(start_api(Duration::from_millis(150)));
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
    let mut next_file = 0usize;
    let mut next_person = 1u64;
    let mut tally = Tally::default();
    let mut phases: BTreeMap<&str, u64> = BTreeMap::new();
    let started = Instant::now();
    println!(
        "crash harness: {kills} kills, seed {seed}, binary {}",
        world.exe.display()
    );
    for kill in 1..=kills {
        let phase = match rng.below(10) {
            0 | 1 => "match",
            2 => "flag",
            3 => "pull",
            _ => "serve",
        };
        *phases.entry(phase).or_default() += 1;
        let mut child = match phase {
            "serve" => {
                // new files appear whole (renamed into the inbox) while the service starts
                for _ in 0..1 + rng.below(3) {
                    let rows = 300 + rng.below(2_700);
                    let file = export(next_file, rows, next_person, &mut rng);
                    next_person += rows;
                    next_file += 1;
                    world.drop_file(&file, &mut dropped);
                }
                world.spawn(&["serve"])
            }
            "match" => world.spawn(&["match"]),
            "pull" => world.spawn(&["sync", "housing_api"]),
            _ => world.spawn(&["flag"]),
        };
        let wait = 50 + rng.below(2_500);
        std::thread::sleep(Duration::from_millis(wait));
        let _ = child.kill();
        let _ = child.wait();

        // restart: the service takes every file, then stops
        let mut service = world.spawn(&["serve"]);
        world.wait_for_empty_inbox(Duration::from_secs(300));
        terminate(&mut service);
        let label = format!("kill {kill} ({phase} at {wait} ms)");
        check(&world, &dropped, &label, &mut tally).await;
        if phase == "pull" {
            check_pulls(&world, false, &label, &mut tally).await;
            if !world.run(&["sync", "housing_api"]) {
                tally
                    .violations
                    .push(format!("after {label}: the pull failed after the restart"));
            }
            check_pulls(&world, true, &label, &mut tally).await;
        }
        if phase != "serve" {
            if !world.run(&["match"]) || !world.run(&["flag"]) {
                tally.violations.push(format!(
                    "after {label}: match or flag failed after the restart"
                ));
            }
            check_linkage(&world, &label, &mut tally).await;
        }
        println!(
            "kill {kill:>3}: {phase:<5} after {wait:>4} ms · {} files, {} rows stored · {} violations",
            dropped.len(),
            tally.rows_stored,
            tally.violations.len()
        );
    }
    // the end state, matched once more from scratch
    if !world.run(&["match"]) || !world.run(&["flag"]) {
        tally
            .violations
            .push("the final match or flag failed".into());
    }
    check_linkage(&world, "the final match", &mut tally).await;
    let lost = tally.rows_expected.saturating_sub(tally.rows_stored);
    let extra = tally.rows_stored.saturating_sub(tally.rows_expected);
    println!();
    println!("kills            {kills} ({phases:?})");
    println!("files dropped    {}", dropped.len());
    println!(
        "files put aside  {} (stopped in twice; in failed/ with the reason, not stored)",
        tally.put_aside.len()
    );
    println!(
        "rows expected    {} (rows of the archived files)",
        tally.rows_expected
    );
    println!("rows stored      {}", tally.rows_stored);
    println!("rows lost        {lost}");
    println!("rows duplicated  {extra}");
    println!("violations       {}", tally.violations.len());
    for violation in &tally.violations {
        println!("  {violation}");
    }
    println!("time             {:.0} s", started.elapsed().as_secs_f64());
    if keep {
        let kept = temp.keep();
        println!("kept             {}", kept.display());
    }
    if !tally.violations.is_empty() {
        std::process::exit(1);
    }
}
