#!/usr/bin/env bash
# clang-tidy over the C++ sources the last commits changed, with the repository's .clang-tidy
# (whose checks are all errors). Exit status 0 clean, 1 findings, 2 no clang-tidy-19 or no
# build/compile_commands.json (run scripts/build.sh first).
#
# Which files: the sources under TIDY_PATHS (default: the project's code, not its tests and
# benchmarks) changed since TIDY_BASE (default HEAD~10, working-tree changes included); when
# that revision does not exist (a shallow or young clone), every source under core/ fog/ sim/
# pool/. TIDY_BASE=all takes every source under TIDY_PATHS, and TIDY_PATHS=. the tests and
# benchmarks too. A changed header is checked through the .cpp of the same name beside it. Only
# files in compile_commands.json are checked (so nothing that is not built here), and never
# generated code (it lives in the build tree).
#
# Time: files run in parallel, one per core; a file takes 4-6 s, most of it parsing (15 s for
# compiler/codegen with the LLVM headers, 6 s for a GoogleTest file). Ten commits of this
# project (19 files) take about 90 s of CPU, 45 s on two idle cores; TIDY_BASE=all TIDY_PATHS=.
# (64 files) about 5 minutes of CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
tidy=${CLANG_TIDY:-clang-tidy-19}
build=${TIDY_BUILD:-build}
base=${TIDY_BASE:-HEAD~10}
read -r -a paths <<<"${TIDY_PATHS:-core fog sim pool relay lang compiler runtime stdlib}"

if ! command -v "$tidy" >/dev/null; then
  echo "tidy: $tidy not found (scripts/setup.sh installs it)" >&2
  exit 2
fi
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: no $build/compile_commands.json (configure and build first)" >&2
  exit 2
fi

sources=()
for p in "${paths[@]}"; do sources+=("$p/*.cpp" "$p/*.h"); done
if [ "$base" = all ]; then
  candidates=$(git ls-files -- "${sources[@]}")
elif git rev-parse -q --verify "$base^{commit}" >/dev/null; then
  candidates=$(git diff --name-only --diff-filter=d "$base" -- "${sources[@]}")
else
  echo "tidy: no $base here; checking every source under core/ fog/ sim/ pool/" >&2
  candidates=$(git ls-files -- 'core/*.cpp' 'fog/*.cpp' 'sim/*.cpp' 'pool/*.cpp')
fi

# Keep the sources compile_commands.json knows, outside the build tree; a header stands for the
# .cpp beside it.
files=$(CANDIDATES="$candidates" python3 - "$build/compile_commands.json" <<'EOF'
import json, os, sys
root = os.getcwd()
build = os.path.realpath(os.path.dirname(sys.argv[1]))
known = {os.path.realpath(os.path.join(e["directory"], e["file"])) for e in json.load(open(sys.argv[1]))}
picked = []
for name in os.environ["CANDIDATES"].split():
    if name.endswith(".h"):
        name = name[:-2] + ".cpp"
    path = os.path.realpath(os.path.join(root, name))
    if path in known and not path.startswith(build + os.sep) and path not in picked:
        picked.append(path)
picked.sort(key=lambda p: -os.path.getsize(p))  # the longest first: the cores finish together
print("\n".join(os.path.relpath(p, root) for p in picked))
EOF
)

if [ -z "$files" ]; then
  echo "tidy: no C++ source changed since $base"
  exit 0
fi
count=$(echo "$files" | wc -l)
if [ "$base" = all ]; then what="every source under ${paths[*]}"; else what="changed since $base"; fi
echo "tidy: $tidy on $count file(s) $what"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
echo "$files" | xargs -P "$(nproc)" -n 1 "$tidy" -p "$build" --quiet >"$out" 2>&1 || status=1
# clang-tidy counts the warnings it suppressed in system headers; only the findings matter.
grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' "$out" || true
if [ "$status" -ne 0 ]; then
  echo "tidy: findings above (the checks and why they are there: .clang-tidy)" >&2
  exit 1
fi
echo "tidy: clean"
