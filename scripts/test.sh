#!/usr/bin/env bash
# Run the suite on SQLite; then, when DATABASE_URL is set, again on PostgreSQL + Redis in a
# database created for this run and dropped after it.
set -euo pipefail
BIN=${VENV:-.venv}/bin
run_id="$(date +%s)_$$"
# A stalled run is stopped with SIGABRT, which makes pytest's faulthandler print every
# thread's stack, before CI's own limit (a quiet 2-core machine runs each in under 20
# minutes).
guard=(timeout --signal=ABRT --kill-after=30 "${SUITE_TIMEOUT:-2400}")

echo "== no model change without its migration"
env -u DATABASE_URL -u REDIS_URL CASELOOP_DATA_DIR="$(mktemp -d)" "$BIN/caseloop" makemigrations --check --dry-run

echo "== suite on SQLite (embedded jobs, in-memory realtime)"
env -u DATABASE_URL -u REDIS_URL CASELOOP_DATA_DIR="$(mktemp -d)" "${guard[@]}" "$BIN/pytest" ${PYTEST_ARGS:-}

if [ -n "${DATABASE_URL:-}" ]; then
  server="${DATABASE_URL%/*}"
  db="caseloop_run_${run_id}"
  "$BIN/python" scripts/pgdb.py create "$server/postgres" "$db"
  cleanup() {
    "$BIN/python" scripts/pgdb.py drop "$server/postgres" "test_$db" || true
    "$BIN/python" scripts/pgdb.py drop "$server/postgres" "$db" || true
  }
  trap cleanup EXIT
  echo "== suite on PostgreSQL ($db) + Redis (${REDIS_URL:-not set})"
  DATABASE_URL="$server/$db" CASELOOP_QUEUE_NAME="caseloop_$run_id" \
    CASELOOP_CHANNEL_PREFIX="caseloop_$run_id" CASELOOP_DATA_DIR="$(mktemp -d)" \
    "${guard[@]}" "$BIN/pytest" ${PYTEST_ARGS:-}
fi
