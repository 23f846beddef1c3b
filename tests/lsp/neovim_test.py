#!/usr/bin/env python3
"""A user opens a .flo file in Neovim (Debian 12's 0.7, headless, no configuration but the
lines docs/editors.md gives) and gets from `floc lsp`: the diagnostics of `floc check`, the
outline, go to definition, hover and formatting. usage: neovim_test.py FLOC"""
import os
import shutil
import subprocess
import sys
import tempfile

PROGRAM = """house thermostat
  init .room.temp with 20.0
  framer control be active first heating
    frame heating
      enter
        put true into .heater.on
      go cool if .room.tmep > 22.0
    frame cool
     print "cooling"
"""


def main():
    floc = os.path.abspath(sys.argv[1])
    nvim = shutil.which("nvim")
    if not nvim:
        print("FAIL: nvim is not installed (scripts/setup.sh installs neovim)")
        return 1
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory(prefix="nvim-lsp-") as tmp:
        path = os.path.join(tmp, "thermostat.flo")
        with open(path, "w") as f:
            f.write(PROGRAM)
        env = dict(os.environ, FLOC=floc, HOME=tmp, XDG_STATE_HOME=tmp, XDG_DATA_HOME=tmp)
        try:
            r = subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
                                "-c", f"luafile {os.path.join(here, 'neovim_client.lua')}", path],
                               capture_output=True, text=True, timeout=60, cwd=tmp, env=env)
        except subprocess.TimeoutExpired:
            print("FAIL: nvim did not finish within 60 s")
            return 1
    lines = r.stdout.splitlines()
    print("\n".join(lines))
    failures = []

    def expect(prefix, what):
        if not any(line.startswith(prefix) for line in lines):
            failures.append(f"no line starting {prefix!r} ({what})")

    expect("diagnostic 7:18 share '.room.tmep' is read but never initialized or written",
           "the -Wunwritten-share warning where floc check puts it")
    expect("symbol thermostat", "the outline's house")
    expect("symbol   control", "the framer under it")
    expect("symbol     heating", "a frame under the framer")
    expect("symbol     cool", "the other frame")
    expect("definition 8:11", "go to the frame 'cool' from its use in `go cool`")
    expect("hover ", "hover on a frame name")
    expect('formatted house thermostat|  init .room.temp with 20.0|', "the buffer formatted")
    if not any(l.startswith("formatted") and '|      print "cooling"' in l for l in lines):
        failures.append("formatting did not re-indent the print under its frame")
    for f in failures:
        print("FAIL:", f)
    if r.returncode != 0:
        print(f"FAIL: nvim exited {r.returncode}: {r.stderr.strip()[:500]}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
