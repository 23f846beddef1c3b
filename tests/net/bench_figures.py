"""What the `fog bench ... --json` tests check alike: the command exited 0 and printed one JSON
object in which every named figure is a positive number and `ok` is true."""
import json


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
