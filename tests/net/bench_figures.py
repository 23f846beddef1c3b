"""What the `fog bench ... --json` tests check alike: the command exited 0 and printed one JSON
object in which every named figure is a positive number and `ok` is true; and that a benchmark
run in a temporary folder left no process and no file there."""
import json
import os
import signal
import subprocess
import tempfile

from fog_cli import processes_naming


def run_leaving_nothing(command, prefix, timeout):
    """Runs `command` (a list ending in `--tmp`, to which a fresh folder is appended), echoing
    its stderr (the tables); the finished run, or None after saying what it left running or
    in the folder."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        try:
            run = subprocess.run([*command, tmp], capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired as e:
            # Killed, it could not stop its replicas (they run in sessions of their own).
            for pid in processes_naming(tmp):
                os.kill(pid, signal.SIGKILL)
            print((e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes)
                  else (e.stderr or ""), end="")
            print(f"FAIL: {' '.join(command[:3])} ran longer than {timeout} s")
            return None
        print(run.stderr, end="")
        left = processes_naming(tmp)
        remaining = os.listdir(tmp)
    if left:
        print("FAIL: replica processes still running:\n  " + "\n  ".join(map(str, left)))
        return None
    if remaining:
        print(f"FAIL: the temporary fog was not removed: {remaining}")
        return None
    return run


def figures(run, keys, command, incomplete):
    """The object `run` (a finished subprocess) printed, or None after printing why it fails;
    `incomplete` says what `ok: false` means for this benchmark."""
    if run.returncode != 0:
        print(f"FAIL: {command} exited {run.returncode}")
        return None
    try:
        found = json.loads(run.stdout)
    except json.JSONDecodeError as e:
        print(f"FAIL: stdout is not one JSON object ({e}): {run.stdout!r}")
        return None
    if not isinstance(found, dict):
        print(f"FAIL: expected a JSON object, got {type(found).__name__}")
        return None
    bad = [k for k in keys
           if not isinstance(found.get(k), (int, float)) or isinstance(found.get(k), bool)
           or not found[k] > 0]
    if bad:
        print(f"FAIL: missing or not a positive number: {', '.join(bad)}")
        print(json.dumps(found, indent=2))
        return None
    if found.get("ok") is not True:
        print(f"FAIL: the object says {incomplete}")
        return None
    return found
