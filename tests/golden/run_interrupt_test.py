#!/usr/bin/env python3
"""A built program stopped by SIGINT or SIGTERM ends like Ioflo on Ctrl-C: the run stops after
the current pass, the queued taskers are aborted (exit actions run), output and the store are
written, and the exit status is 130.

Usage: run_interrupt_test.py --floc PATH
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

PROGRAM = """\
house forever
  framer f be active first loop
    frame loop
      recur
        inc .n with 1
      exit
        print "stopped"
  init .n with 0
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--floc", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "forever.flo")
        with open(src, "w") as f:
            f.write(PROGRAM)
        exe = os.path.join(tmp, "forever")
        subprocess.run([args.floc, "build", src, "-o", exe], check=True)
        failures = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            store = os.path.join(tmp, f"store-{sig.name}")
            proc = subprocess.Popen([exe, "--store", store], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=20)
            if proc.returncode != 130:
                failures.append(f"{sig.name}: exit {proc.returncode}, expected 130 ({err!r})")
            if out != '*** "stopped" ***\n':
                failures.append(f"{sig.name}: exit actions did not run: stdout {out!r}")
            if "interrupted at" not in err:
                failures.append(f"{sig.name}: no notice on stderr: {err!r}")
            try:
                with open(store) as f:
                    n = [line for line in f if line.startswith(".n ")]
                if not n or int(n[0].split("=")[1]) <= 0:
                    failures.append(f"{sig.name}: store shows no progress: {n}")
            except FileNotFoundError:
                failures.append(f"{sig.name}: no store written")
        for failure in failures:
            print("FAIL", failure)
        if failures:
            sys.exit(1)
        print("PASS interrupt")


if __name__ == "__main__":
    main()
