#!/usr/bin/env bash
# The main job for now: set up, build floc, check the example mission, build it to native code
# for x86-64 and aarch64, and run both (the ARM build under qemu).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh floc
example=${1:-examples/mission.flo}
echo "== floc check $example"
build/bin/floc check "$example" && echo "ok: no errors or warnings"
echo "== floc build $example -o build/mission --stats"
build/bin/floc build "$example" -o build/mission --stats
echo "== build/mission (x86-64, simulated clock)"
build/bin/mission --store build/mission.store
echo "== final store (build/mission.store), a few shares"
grep -E '^\.(time|vehicle|mission|payload)' build/mission.store || true
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null; then
  echo "== floc build --target aarch64-linux-gnu; run under qemu-aarch64"
  build/bin/floc build "$example" --target aarch64-linux-gnu -o build/mission-arm
  qemu-aarch64 -L /usr/aarch64-linux-gnu build/mission-arm
fi
echo "== floc graph $example -o build/mission.dot"
build/bin/floc graph "$example" -o build/mission.dot
if command -v dot >/dev/null; then
  dot -Tsvg build/mission.dot -o build/mission.svg && echo "rendered build/mission.svg"
fi
