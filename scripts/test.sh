#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, golden, examples, docs, fuzz for a bounded time).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
