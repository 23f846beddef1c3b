#!/usr/bin/env python3
"""A built program stopped by SIGINT or SIGTERM ends like Ioflo on Ctrl-C: the run stops after
the current pass, the queued taskers are aborted (exit actions run), output and the store are
written, and the exit status is 130.

Each signal is sent once the program is seen running, never after a guessed delay: as fast as
it can (the default), when its first output comes through the pipe (the program prints every
pass, so its 64 KiB output buffer fills and flushes within a few thousand passes); paced to the
wall clock (--realtime, output line-buffered), when it has printed its first line.

Usage: run_interrupt_test.py --floc PATH
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading

PROGRAM = """\
house forever
  framer f be active first loop
    frame loop
      recur
        inc .n with 1
        print "pass"
      exit
        print "stopped"
  init .n with 0
"""
PASS_LINE, STOPPED_LINE = '*** "pass" ***\n', '*** "stopped" ***\n'
SEEN_WITHIN = 10  # seconds for the first output and the end (a bound on a hang, not a wait)


def interrupt(exe, store, sig, extra, tmp):
    """Runs the program and sends `sig` once its first line is out. Returns the exit status,
    the count of "pass" lines, the other lines (the first few, and the last line whatever it
    is) and stderr. A program that shows
    nothing, or does not end, is killed after SEEN_WITHIN seconds; its output is counted as it
    comes, never held whole."""
    errors = os.path.join(tmp, "stderr")
    passes, others = 0, []
    with open(errors, "w+") as err:
        proc = subprocess.Popen([exe, "--store", store, *extra], stdout=subprocess.PIPE,
                                stderr=err, text=True)
        guard = threading.Timer(SEEN_WITHIN, proc.kill)
        guard.start()
        try:
            first = proc.stdout.readline()  # returns once the output shows the program running
            if first and proc.poll() is None:
                proc.send_signal(sig)
            line, last = first, ""
            while line:  # through the same buffer as readline: no loss
                if line == PASS_LINE:
                    passes += 1
                elif len(others) < 5:
                    others.append(line)
                last, line = line, proc.stdout.readline()
            proc.wait()
        finally:
            guard.cancel()
        err.seek(0)
        return proc.returncode, passes, others + ([] if last in others else [last]), err.read()


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
        for mode, extra in (("batch", []), ("realtime", ["--realtime"])):
            for sig in (signal.SIGINT, signal.SIGTERM):
                what = f"{sig.name} ({mode})"
                store = os.path.join(tmp, f"store-{sig.name}-{mode}")
                code, passes, others, err = interrupt(exe, store, sig, extra, tmp)
                if code != 130:
                    failures.append(f"{what}: exit {code}, expected 130 ({err[-300:]!r})")
                if not passes:
                    failures.append(f"{what}: no pass ran before the signal")
                if others != [STOPPED_LINE]:
                    failures.append(f"{what}: besides {passes} passes, stdout holds {others!r}, "
                                    "not the exit action's line alone, last")
                if "interrupted at" not in err:
                    failures.append(f"{what}: no notice on stderr: {err!r}")
                try:
                    with open(store) as f:
                        n = [line for line in f if line.startswith(".n ")]
                    # The store holds the last pass: one increment per "pass" printed.
                    if not n or int(n[0].split("=")[1]) != passes:
                        failures.append(f"{what}: store {n} does not match {passes} passes")
                except FileNotFoundError:
                    failures.append(f"{what}: no store written")
        for failure in failures:
            print("FAIL", failure)
        if failures:
            sys.exit(1)
        print("PASS interrupt")


if __name__ == "__main__":
    main()
