#!/usr/bin/env python3
"""Latency of `floc lsp` diagnostics after a change: a generated FloScript file (gen_floscript.py,
about LINES lines) is opened, then changed RUNS times (full-document sync, as editors send it,
each change editing one value); each time is from writing didChange to reading the
publishDiagnostics for that version. Prints min, median, p90 and max in milliseconds.

    lsp_bench.py --floc build/bin/floc [--lines 1000] [--runs 50] [--error]

--error puts an unknown frame into every other version, so half the analyses stop after check.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read(out):
    length = None
    while True:
        line = out.readline()
        if not line:
            raise RuntimeError("floc lsp closed its output")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(out.read(length))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floc", required=True)
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--error", action="store_true")
    a = ap.parse_args()
    text = subprocess.run([sys.executable, os.path.join(HERE, "gen_floscript.py"), str(a.lines),
                           "--seed", "1"], capture_output=True, text=True, check=True).stdout
    proc = subprocess.Popen([a.floc, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    send = lambda m: (proc.stdin.write(frame(m)), proc.stdin.flush())
    uri = "file:///bench/generated.flo"
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    read(proc.stdout)
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "flo", "version": 1,
                                      "text": text}}})
    first = read(proc.stdout)["params"]["diagnostics"]
    times = []
    for v in range(2, a.runs + 2):
        changed = text.replace("with 50.0", f"with {v}.0", 1)
        if a.error and v % 2:
            lines = changed.split("\n")
            at = next(i for i, l in enumerate(lines) if l.lstrip().startswith("frame "))
            changed = "\n".join(lines[:at + 1] + ["      go nowhere"] + lines[at + 1:])
        start = time.perf_counter()
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": v},
                         "contentChanges": [{"text": changed}]}})
        while True:
            m = read(proc.stdout)
            if m.get("params", {}).get("version") == v:
                break
        times.append((time.perf_counter() - start) * 1000)
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    read(proc.stdout)
    send({"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=10)
    times.sort()
    print(f"{len(text.splitlines())} lines, {len(text)} bytes, {len(first)} diagnostics on open; "
          f"{a.runs} changes: min {times[0]:.1f} ms, median {statistics.median(times):.1f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, max {times[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
