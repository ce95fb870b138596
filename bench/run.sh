#!/usr/bin/env bash
# Door readings and the group-commit writer over HTTP, on both stores, next to a hello-world endpoint
# measured in the same run; also an authenticated read (the access gate with a bearer
# token) and sign-in (argon2id) throughput. Needs wrk (Debian package `wrk`) and, for the PostgreSQL half,
# the local server. Usage: bench/run.sh [seconds]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns=64
command -v wrk >/dev/null || { echo "install wrk first: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -q -p fangkong-cli --bin fangkong --example hello
bin="${CARGO_TARGET_DIR:-target}/release/fangkong"
hello="${CARGO_TARGET_DIR:-target}/release/examples/hello"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() {
  for _ in $(seq 1 100); do curl -sf "$1/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server at $1 did not start" >&2; exit 1
}

metric() { curl -s -H "Authorization: Bearer $TOKEN" "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

# The demo prints each account's password once; take the administrator's and get a token.
login() { # base-url server-log
  local pw
  for _ in $(seq 1 100); do pw=$(awk '$1 == "admin" && $2 == "admin" { print $3 }' "$2"); [ -n "$pw" ] && break; sleep 0.1; done
  ADMIN_PW="$pw"
  TOKEN=$(curl -s "$1/api/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$pw\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export TOKEN ADMIN_PW
}

measure() { # name base-url [extra serve args...]
  local name="$1" base="$2"
  echo "### $name"
  echo "hello world through the whole stack (GET /livez, $conns connections, ${secs}s):"
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$base/livez" | grep -E "Requests/sec|99%|Non-2xx"
  echo "group-commit writer (POST /api/v1/sync/events, 1 row each, $conns connections, ${secs}s):"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/sync.lua "$base" | grep -E "Requests/sec|99%|Non-2xx|errors"
  echo "door reading (POST /api/v1/screenings, bearer token, Idempotency-Key, $conns connections, ${secs}s):"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/screening.lua "$base" | tee "$work/door.out" | grep -E "Requests/sec|99%|Non-2xx|errors"
  awk -v bare="$bare" '/Requests\/sec/ { printf "door readings / bare hello world: %.2f\n", $2 / bare }' "$work/door.out"
  echo "authenticated read (GET /api/v1/sites with a bearer token, $conns connections, ${secs}s):"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $TOKEN" "$base/api/v1/sites" | grep -E "Requests/sec|99%|Non-2xx"
  echo "sign-in (POST /api/v1/auth/token, argon2id, 4 connections, ${secs}s):"
  wrk -t2 -c4 -d"${secs}s" --latency -s bench/login.lua "$base/api/v1/auth/token" | grep -E "Requests/sec|99%|Non-2xx|errors"
  local batches requests rows maxb
  batches=$(metric "$base" fangkong_writer_batches_total)
  requests=$(metric "$base" fangkong_writer_requests_total)
  rows=$(metric "$base" fangkong_writer_rows_total)
  maxb=$(metric "$base" fangkong_writer_max_batch_requests)
  echo "writer: $rows rows in $batches commits; mean batch $(python3 -c "print(round($requests/max($batches,1),1))") requests, largest $maxb"
  echo
}

# The yardstick: a bare axum hello world, no middleware, same machine, same load.
p=$(port)
"$hello" "127.0.0.1:$p" &
hello_pid=$!
sleep 0.5
echo "### bare axum hello world (GET /, $conns connections, ${secs}s)"
wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$p/" | tee "$work/hello.out" | grep -E "Requests/sec|99%"
bare=$(awk '/Requests\/sec/ { print $2 }' "$work/hello.out")
kill "$hello_pid"; wait "$hello_pid" 2>/dev/null || true
echo

# Embedded SQLite (WAL, synchronous=FULL).
p=$(port)
FANGKONG_LOG=warn "$bin" serve --demo --addr "127.0.0.1:$p" --data-dir "$work/sqlite" >"$work/sqlite.log" 2>&1 &
srv=$!
wait_up "http://127.0.0.1:$p"
login "http://127.0.0.1:$p" "$work/sqlite.log"
measure "SQLite" "http://127.0.0.1:$p"
kill "$srv"; wait "$srv" 2>/dev/null || true

# PostgreSQL: a fresh database on the local server.
if psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS fangkong_bench" 2>/dev/null &&
   psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE fangkong_bench"; then
  p=$(port)
  FANGKONG_LOG=warn "$bin" serve --demo --addr "127.0.0.1:$p" \
    --database-url "postgres://postgres@127.0.0.1:5432/fangkong_bench" --data-dir "$work/pg" >"$work/pg.log" 2>&1 &
  srv=$!
  wait_up "http://127.0.0.1:$p"
  login "http://127.0.0.1:$p" "$work/pg.log"
  measure "PostgreSQL" "http://127.0.0.1:$p"
  kill "$srv"; wait "$srv" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE fangkong_bench"
else
  echo "### PostgreSQL: skipped (no server at 127.0.0.1:5432)"
fi
