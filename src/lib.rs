//! lifeline: a data-sharing hub that finds households in sudden hardship (the 2014 Anhui
//! "救急难" notice) from the records other departments already hold.
//!
//! The pipeline: **pull** department exports ([`read`]: Excel, WPS, CSV in any CJK encoding) →
//! **map** their columns onto the canonical record ([`mapping`], configured in
//! `mappings/*.toml`) → **normalize** every value ([`normalize`]: ID numbers, names, dates,
//! phones, money, addresses) → **store** records, the persons they name and every rejected value
//! with its lineage ([`registry`], SQLite or PostgreSQL) — see [`ingest`] for the per-file flow
//! and its receipts — then match people into persons and households, **flag** households at
//! risk with evidence, a responsible unit and a due date ([`risk`], rules in `rules/risk.toml`)
//! and serve the registry (later stages).
//!
//! In production the pull is done by the service ([`service`]): [`connectors`] (a watched
//! inbox folder, department APIs, department databases, configured in `connectors/*.toml`)
//! feed the same ingest path, and [`schedule`] runs nightly jobs (`schedules/*.toml`) and
//! records every run.
#![deny(missing_docs)]

pub mod api;
pub mod config;
pub mod connectors;
pub mod export;
pub mod ingest;
pub mod linkage;
pub mod mapping;
pub mod normalize;
pub mod pipeline;
pub mod read;
pub mod record;
pub mod registry;
pub mod risk;
pub mod samples;
pub mod schedule;
pub mod service;
pub mod shutdown;

/// Makes every file this process creates readable by its owner only (umask 077): the registry,
/// its audit log, receipts, rejects workbooks, exports and reports hold ID numbers, diagnoses
/// and deaths. Call it first thing in `main`.
pub fn keep_files_private() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Turns transparent huge pages off for this process (Linux; elsewhere it does nothing).
///
/// mimalloc asks the kernel for huge pages on its arenas. On the virtual machines lifeline runs
/// on, each fresh 2 MiB page is zeroed, and often first backed by the host, on first touch: that
/// added 0.3–0.6 s of system time, at random, to a `lifeline link` run of half a second, and
/// 40 MiB of peak memory. 4 KiB pages fault more often but steadily. The setting holds for
/// every thread of the process; call it first thing in `main`.
pub fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes no pointer and only sets a flag on this process's memory
    // map; it cannot fail in a way that matters (huge pages simply stay allowed).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
