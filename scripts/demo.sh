#!/usr/bin/env bash
# The main job: set up, build floc and fog, then `fog up --detach` a local fog (4 replica
# processes and 2 foggers: one x86-64, one aarch64 under qemu) and `fog deploy` a job to it: it
# is compiled, ordered (escrow), run on both architectures, its output comes back as signed
# provenance chains that are verified, and the foggers are paid for the work they measured; a
# flow job fed by another job on the other fogger (federation, with back-pressure). Then
# the rest of what works: the example mission built to native code for x86-64 and aarch64, a
# flow, a job bundle run by fog's job host, contracts proven by floc verify, the trust layer
# (identities, a signed store sent over the encrypted transport), and the pool (accounts, stake,
# a contract deployed and called, the first leader killed with kill -9 and restarted, a chain
# verified); `fog down` stops the fog.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh floc fog flo-host
cmake --build build --target flo_host_aarch64 >/dev/null 2>&1 || true # when aarch64 is there
cmake --build build --target fogger_aarch64 >/dev/null 2>&1 || true   # (fog up runs it under qemu)

echo "== fog up: a local fog of 4 replica processes and 2 foggers on loopback"
fogdir=$(mktemp -d)/fog
demo=$(mktemp -d)
listener=
cleanup_fog() { build/bin/fog down --dir "$fogdir" >/dev/null 2>&1 || true; }
trap 'cleanup_fog; [ -n "$listener" ] && kill "$listener" 2>/dev/null; rm -rf "$demo" "$(dirname "$fogdir")"' EXIT
build/bin/fog up --dir "$fogdir" --detach
echo "== fog deploy examples/thermostat_job.flo: compile, order, run on both foggers, settle"
build/bin/fog deploy examples/thermostat_job.flo --dir "$fogdir"
job=$(ls "$fogdir/jobs" | grep -v -e bundles -e provenance | head -1)
echo "== fog results $job: each fogger's output, its signed chain verified again"
build/bin/fog results "$job" --dir "$fogdir"
echo "== fog provenance lineage: the last item of one fogger's output, back to its source"
item=$(build/bin/fog results "$job" --dir "$fogdir" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["items"][-1]["item"])')
build/bin/fog provenance lineage "$item" --db "$fogdir/jobs/provenance.db"
echo "== the settled payment: the job on the pool, and what the foggers hold now"
build/bin/fog jobs --dir "$fogdir"
build/bin/fog account balance fogger-0 --dir "$fogdir"
build/bin/fog account balance fogger-1 --dir "$fogdir"
build/bin/fog status --dir "$fogdir"
echo "== federation: examples/federated_flow.flo, the sensors on one fogger feed the flow on the other"
build/bin/fog deploy examples/federated_flow.flo --job average --input sensing --runs 1 --dir "$fogdir"
grep -h "fed .* items" "$fogdir"/fogger-*/fogger.log | tail -1

example=${1:-examples/mission.flo}
echo "== floc check $example"
build/bin/floc check "$example" && echo "ok: no errors or warnings"
echo "== floc build $example -o build/mission --stats"
build/bin/floc build "$example" -o build/mission --stats
echo "== build/mission (x86-64, simulated clock)"
build/mission --store build/mission.store
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

echo "== a flow: examples/sensor_flow.flo, sensors averaged over 10 s windows (x86-64, then ARM)"
build/bin/floc build examples/sensor_flow.flo -o build/sensor_flow --stats
build/sensor_flow --until 31 --stats -v 2>&1 | grep -E '^(flow|\*\*\*)'
if command -v qemu-aarch64 >/dev/null; then
  build/bin/floc run --target aarch64-linux-gnu examples/sensor_flow.flo -- --until 31
fi
echo "== a job bundle: examples/faas_job.flo for x86-64 and aarch64, run by fog's job host"
jobdir=$(mktemp -d)
build/bin/floc build --bundle examples/faas_job.flo -o "$jobdir/bundle"
cat "$jobdir/bundle/manifest.json"; echo
build/bin/fog job run "$jobdir/bundle" roomavg --runs 2 --work
rm -rf "$jobdir"

echo "== contracts proven with Z3: the escrow, token and auction examples, then a seeded bug"
for c in examples/escrow_contract.flo examples/token_contract.flo examples/auction_contract.flo; do
  build/bin/floc verify "$c"
done
if build/bin/floc verify tests/golden/verify/bug_underflow.flo; then
  echo "error: a contract with an underflow was proven" >&2; exit 1
fi
echo "(the underflow above is caught, with its counterexample: floc verify exits 1)"

echo "== fog: the vehicle signs the final store and sends it, encrypted, to the ground station"
export FOG_PASSPHRASE=demo
ground=$(FOG_HOME=$demo/ground build/bin/fog id new ground | sed -n 2p)
vehicle=$(FOG_HOME=$demo/vehicle build/bin/fog id new vehicle | sed -n 2p)
echo "ground station: $ground"
echo "vehicle:        $vehicle"
FOG_HOME=$demo/vehicle build/bin/fog sign --id vehicle build/mission.store
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FOG_HOME=$demo/ground build/bin/fog net listen --id ground --addr "127.0.0.1:$port" --count 2 \
  --duration 30 --save "$demo/inbox" >"$demo/listener.out" 2>&1 &
listener=$!
for _ in $(seq 100); do grep -q listening "$demo/listener.out" && break; sleep 0.1; done
FOG_HOME=$demo/vehicle build/bin/fog net send --id vehicle --to "$ground@127.0.0.1:$port" \
  build/mission.store
FOG_HOME=$demo/vehicle build/bin/fog net send --id vehicle --to "$ground@127.0.0.1:$port" \
  build/mission.store.sig
wait "$listener"
listener=
cat "$demo/listener.out"
echo "== the ground station verifies what it received"
FOG_HOME=$demo/ground build/bin/fog verify "$demo/inbox/1" "$demo/inbox/2"

echo "== the pool: accounts, transfers and stake on the same local fog"
build/bin/fog account new alice --dir "$fogdir"
build/bin/fog account new bob --dir "$fogdir"
echo "== transfers, each acknowledged by f+1 matching commits"
build/bin/fog account transfer --from genesis --to alice 5000 --dir "$fogdir"
build/bin/fog account transfer --from alice --to bob 1200 --dir "$fogdir"
build/bin/fog stake --from alice 1000 --dir "$fogdir"
build/bin/fog provider register --from bob --arch aarch64 x86_64 --cores 4 --memory 2048 \
  --zone home --price 3 --dir "$fogdir"
build/bin/fog account balance alice --dir "$fogdir"
build/bin/fog account balance bob --dir "$fogdir"
echo "== a contract on the pool: deploy the escrow, deposit with tokens attached, withdraw"
build/bin/fog contract deploy examples/escrow_contract.flo --as alice --dir "$fogdir"
build/bin/fog contract call escrow deposit --value 300 --as bob --dir "$fogdir"
build/bin/fog contract call escrow withdraw 120 --as bob --dir "$fogdir"
build/bin/fog contract call escrow withdraw 999 --as bob --dir "$fogdir" || true
build/bin/fog contract show escrow --dir "$fogdir"
build/bin/fog stake escrow 100 --from alice --dir "$fogdir"
build/bin/fog account balance bob --dir "$fogdir"
echo "== bad input is a clear error, not a hang"
build/bin/fog account transfer --from bob --to alice 999999 --dir "$fogdir" || true
echo "== kill -9 the first leader; the pool changes view and keeps committing"
kill -9 "$(cat "$fogdir/replica-0/replica.pid")"
build/bin/fog account transfer --from genesis --to bob 42 --dir "$fogdir"
build/bin/fog status --dir "$fogdir" || true
echo "== restart it (fog up --detach restarts only what is down); it catches up"
build/bin/fog up --dir "$fogdir" --detach >/dev/null
build/bin/fog account transfer --from genesis --to alice 1 --dir "$fogdir"
for _ in $(seq 50); do
  heights=$(build/bin/fog status --dir "$fogdir" --json | python3 -c 'import json,sys; print(len({r["height"] for r in json.load(sys.stdin)["replicas"]}))')
  [ "$heights" = 1 ] && break
  sleep 0.1
done
build/bin/fog status --dir "$fogdir"
echo "== verify a replica's stored chain against the genesis, trusting nothing else"
build/bin/fog pool verify-chain "$fogdir/replica-0"
build/bin/fog down --dir "$fogdir"
