#!/usr/bin/env bash
# Configures (once) and builds the project with clang-19, Ninja and ccache into build/.
# Usage: scripts/build.sh [TARGET...]   (no target: everything)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CC=${CC:-clang-19} CXX=${CXX:-clang++-19}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if [ $# -gt 0 ]; then
  cmake --build build --target "$@"
else
  cmake --build build
fi
