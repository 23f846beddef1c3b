#!/usr/bin/env bash
# Bytes a follower writes per committed transaction: runs `fog bench pool` at one rate and reads
# the second replica process's /proc/PID/io (write_bytes: what reached the block layer, WAL and
# checkpoints included; wchar: what it wrote through the page cache) over 4 s of the run.
#
#   bench/pool_write_bytes.sh FOG RATE      e.g. bench/pool_write_bytes.sh build/bin/fog 4000
#
# Prints one line: tx/s, p50, transactions a block, write_bytes and wchar per transaction.
set -euo pipefail
fog=$(realpath "$1")
rate=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
FOG_EXE=$fog "$fog" bench pool --rate "$rate" --seconds 10 --warmup 1 --json >"$out" 2>/dev/null &
bench=$!
sleep 6 # the pool up, funded and 2-3 s into the measured window
pid=$(pgrep -f "pool run --config .*/replica-1/" | head -1)
read -r w1 c1 < <(awk '/^write_bytes/{w=$2} /^wchar/{c=$2} END{print w, c}' "/proc/$pid/io")
sleep 4
read -r w2 c2 < <(awk '/^write_bytes/{w=$2} /^wchar/{c=$2} END{print w, c}' "/proc/$pid/io")
wait "$bench"
python3 - "$out" "$((w2 - w1))" "$((c2 - c1))" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tx = d["tx_per_s"] * 4
print(f"{d['tx_per_s']:.0f} tx/s, p50 {d['p50_ms']:.1f} ms, {d['tx_per_block']:.1f} tx/block: "
      f"write_bytes {int(sys.argv[2]) / tx:.0f} B/tx, wchar {int(sys.argv[3]) / tx:.0f} B/tx")
PY
