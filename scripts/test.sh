#!/usr/bin/env bash
# Sets up, builds, runs clang-tidy over the C++ files the last commits changed (scripts/tidy.sh),
# and runs every test (unit, golden, examples, docs, fuzz for a bounded time). Extra arguments go
# to ctest, e.g. `scripts/test.sh -L golden`. Tidy findings fail the run after the tests ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
tidy=0
bash scripts/tidy.sh || tidy=$?
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
exit "$tidy"
