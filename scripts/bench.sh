#!/usr/bin/env bash
# make bench: provision against its emulator, measured and printed as the
# Markdown table of BENCHMARKS.md (overhead, quota use, the creation limit
# without Retry-After, members with roles under quotas, latency hiding,
# members, soak, and the go test benchmarks of the planner and the journal).
# Progress goes to stderr; the table to stdout. Takes about twelve minutes.
# Extra arguments go to cmd/provbench (-quick, -soak N, -only WORDS,
# -repeat N: runs of each creation-limit scenario, 3).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/provbench -bin bin "$@"
