#!/usr/bin/env bash
# Runs every benchmark script (tests/benchmarks/bench_*.py) with the project's Python, one after
# the other, printing each one's figures. `make bench` calls this with DATABASE_URL and
# QUORUM_TEST_BROKER_URL set. A failing benchmark is reported and the others still run.
set -uo pipefail
cd "$(dirname "$0")/../.."
PYTHON=.venv/bin/python
status=0
for bench in tests/benchmarks/bench_*.py; do
  echo "=== $bench"
  if ! "$PYTHON" "$bench"; then
    echo "!!! $bench failed"
    status=1
  fi
done
exit $status
