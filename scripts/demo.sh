#!/usr/bin/env bash
# The main job for now: set up, build floc, check an example mission and draw its frame graph.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh floc
example=${1:-examples/mission.flo}
echo "== floc check $example"
build/bin/floc check "$example" && echo "ok: no errors or warnings"
echo "== floc graph $example (Graphviz DOT; written to build/mission.dot)"
build/bin/floc graph "$example" -o build/mission.dot
head -n 12 build/mission.dot
if command -v dot >/dev/null; then
  dot -Tsvg build/mission.dot -o build/mission.svg && echo "rendered build/mission.svg"
fi
