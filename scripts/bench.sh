#!/usr/bin/env bash
# make bench: provision against its emulator, measured and printed as the
# Markdown table of BENCHMARKS.md (overhead, quota use, latency hiding,
# members, soak, and the go test benchmarks of the planner and the journal).
# Progress goes to stderr; the table to stdout. Takes about five minutes.
# Extra arguments go to cmd/provbench (-quick, -soak N).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/provbench -bin bin "$@"
