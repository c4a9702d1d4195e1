#!/usr/bin/env bash
# The API benchmark: household-detail lookups over loopback on a registry of about a million
# persons built by `lifeline samples` + `lifeline run`, with the read audit on, first on a quiet
# registry (the peer figure) and then while `lifeline match --full` and `lifeline flag` write to
# it, on SQLite and on PostgreSQL. Prints one line per measurement.
#
#   tools/bench/api.sh                       # both backends, 550,000 households (~1.1M persons)
#   tools/bench/api.sh --households 50000    # a quick run
#   tools/bench/api.sh --backends sqlite --duration 60 --connections 64
#
# Needs wrk (Debian package `wrk`) and a release build (`cargo build --release`; the binary is
# taken from $LIFELINE, else $CARGO_TARGET_DIR/release/lifeline, else target/release/lifeline).
# PostgreSQL: $LIFELINE_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/lifeline_bench,
# created if missing). Work files go to $LIFELINE_BENCH_DIR (default /tmp/lifeline-bench-api);
# the generated samples and the registries are kept there and reused by the next run.
set -euo pipefail

households=550000
duration=30
connections=32
threads=1
backends="sqlite postgres"
seed=550
while [ $# -gt 0 ]; do
  case "$1" in
    --households) households="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --backends) backends="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${LIFELINE:-${CARGO_TARGET_DIR:-$root/target}/release/lifeline}"
[ -x "$bin" ] || { echo "no release binary at $bin: run cargo build --release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
work="${LIFELINE_BENCH_DIR:-/tmp/lifeline-bench-api}/h$households-s$seed"
mkdir -p "$work"
cd "$work"   # no connectors/ or schedules/ here: serve runs the API alone beside an idle scheduler
as_of=2026-12-01
port=18080

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

if [ ! -f samples/.done ]; then
  log "generating samples for $households households"
  rm -rf samples
  "$bin" samples --households "$households" --seed "$seed" --out samples >/dev/null
  touch samples/.done
fi

server_pid=""
writer_pid=""
cleanup() {
  [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# peak resident memory, and the part of today's that is the process's own (not the registry file
# SQLite maps into memory, which the page cache holds either way)
rss_mb() {
  awk '/VmHWM/ {peak = $2} /RssAnon/ {anon = $2} END {printf "%.0f anon_now_mb=%.0f", peak / 1024, anon / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"
}

bench_backend() {
  local backend="$1" db audit
  case "$backend" in
    sqlite)
      db="sqlite:$work/registry.db"
      audit="sqlite:$work/registry.audit.db" ;;
    postgres)
      db="${LIFELINE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/lifeline_bench}"
      audit="$db"
      local admin="${db%/*}/postgres" name="${db##*/}"
      if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
        psql "$admin" -qc "CREATE DATABASE $name" ;
      fi ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  if [ ! -f "$work/$backend.loaded" ]; then
    log "$backend: building the registry (ingest, match, flag)"
    if [ "$backend" = postgres ]; then
      psql "$db" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public" 2>/dev/null
    else
      rm -f "$work"/registry.db* "$work"/registry.audit.db*
    fi
    local started=$SECONDS
    "$bin" --db "$db" run --inbox samples --receipts "receipts-$backend" --as-of "$as_of" >"run-$backend.log" 2>&1
    log "$backend: registry built in $((SECONDS - started)) s"
    touch "$work/$backend.loaded"
  fi
  local persons households_n
  persons=$("$bin" --db "$db" export persons --format csv | tail -n +2 | wc -l)
  "$bin" --db "$db" export households --format csv | tail -n +2 | cut -d, -f1 | shuf -n 50000 --random-source=<(yes) > ids.txt
  households_n=$("$bin" --db "$db" export households --format csv | tail -n +2 | wc -l)
  "$bin" --db "$db" --audit "$audit" keys revoke bench >/dev/null 2>&1 || true
  local key
  key=$("$bin" --db "$db" --audit "$audit" keys create "bench-$RANDOM" --scope full --rate 1000000 | tail -n 1)

  "$bin" --db "$db" --audit "$audit" serve --listen "127.0.0.1:$port" >"serve-$backend.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "serve did not start: see $work/serve-$backend.log" >&2; exit 1; }

  export IDS_FILE="$work/ids.txt" API_KEY="$key"
  # warm the caches, then the quiet peer
  wrk -t"$threads" -c"$connections" -d5s -s "$here/api.lua" "http://127.0.0.1:$port" >/dev/null
  local quiet
  quiet=$(wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/api.lua" "http://127.0.0.1:$port" | grep '^RESULT' | sed 's/^RESULT //')
  echo "$backend quiet     persons=$persons households=$households_n $quiet"

  # the same lookups while the nightly steps write: match --full then flag, again and again
  (
    runs=0
    while true; do
      "$bin" --db "$db" match --full >>"writer-$backend.log" 2>&1
      "$bin" --db "$db" flag --as-of "$as_of" >>"writer-$backend.log" 2>&1
      runs=$((runs + 1))
      echo "$runs" > "$work/writer-$backend.runs"
    done
  ) &
  writer_pid=$!
  sleep 2
  local busy writer_runs
  busy=$(wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/api.lua" "http://127.0.0.1:$port" | grep '^RESULT' | sed 's/^RESULT //')
  writer_runs=$(cat "$work/writer-$backend.runs" 2>/dev/null || echo 0)
  pkill -P "$writer_pid" 2>/dev/null || true
  kill "$writer_pid" 2>/dev/null || true
  wait "$writer_pid" 2>/dev/null || true
  writer_pid=""
  echo "$backend writing   persons=$persons households=$households_n $busy writer_rounds_completed=$writer_runs server_peak_rss_mb=$(rss_mb "$server_pid")"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  local verified
  verified=$("$bin" --db "$db" --audit "$audit" audit verify 2>&1 | tail -n 1)
  echo "$backend audit     $verified"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $("$bin" --version), wrk -t$threads -c$connections -d${duration}s"
for backend in $backends; do
  bench_backend "$backend"
done
