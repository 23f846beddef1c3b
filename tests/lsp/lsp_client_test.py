#!/usr/bin/env python3
"""A scripted LSP client against `floc lsp`: initialize, open a document with an error and check
the diagnostic's range, severity and message (the same as `floc check --json`), edit it to a
warning (checking its code) and then to a clean program (diagnostics clear), ask for formatting,
document symbols, definition and hover, send malformed input, shut down and check the exit code.

Usage: lsp_client_test.py FLOC. Prints every failed expectation; exits 1 on any.
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading

TIMEOUT = 20  # seconds for any one answer; generous for a loaded CI machine

# v1: `go cooling` names no frame (an error). v2: fixed, but `.room.tmep` is a typo that nothing
# writes (-Wunwritten-share, with a suggestion). v3: clean.
V1 = """house home

  init .room.temp with 20.0

  framer thermostat be active first idle
    frame idle
      go heating if .room.temp < 18.0

    frame heating
      enter
        put true into .heater.on
      go idle if .room.temp > 21.0
      go cooling
"""
V2 = V1.replace("      go cooling\n", "").replace("if .room.temp < 18.0", "if .room.tmep < 18.0")
V3 = V1.replace("      go cooling\n", "")
WIDE = ("house h\n  framer f be active first a\n    frame a\n"
        "      put \"h\u00e9llo \U0001F600\" into .x.y of framer nosuch\n")
# Valid but not canonical: indentation and spacing that `floc fmt` rewrites.
UGLY = "house home\ninit .a with 1.0\n framer f be active first s\n  frame s\n   put 2.0 into .a\n"
SYNTAX_ERROR = "house home\n  framer f be active first\n    frame\n"
# Flo extensions for the outline: a deed and a flow beside the house.
EXTRAS = """deed ctof
  input c as f64
  output f as f64
  let f = c * 9.0 / 5.0 + 32.0

flow temps
  from .room.temp
  map ctof
  reduce mean into .building.tempF
"""

failures = []


def expect(cond, what):
    if cond:
        print(f"ok: {what}")
    else:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


class Client:
    def __init__(self, floc, *args):
        self.proc = subprocess.Popen([floc, "lsp", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages = queue.Queue()
        self.next_id = 1
        self.notifications = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            self.messages.put(json.loads(out.read(length)))

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params, id=None):
        if id is None:
            id = self.next_id
            self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == id and "method" not in m)

    def wait(self, match):
        while True:
            m = self.messages.get(timeout=TIMEOUT)
            if m is None:
                raise RuntimeError("the server closed its output")
            if match(m):
                return m
            self.notifications.append(m)

    def diagnostics(self, uri):
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and
                      m["params"]["uri"] == uri)
        return m["params"]["diagnostics"]

    def finish(self, timeout=TIMEOUT):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=timeout)
        return rc, self.proc.stderr.read().decode(errors="replace")


def check_json(floc, text):
    """`floc check --json` on the text, as a file."""
    with tempfile.NamedTemporaryFile("w", suffix=".flo", delete=False) as f:
        f.write(text)
    try:
        run = subprocess.run([floc, "check", "--json", f.name], capture_output=True, text=True,
                             timeout=60)
        return json.loads(run.stdout)["diagnostics"]
    finally:
        os.unlink(f.name)


def fmt(floc, text):
    run = subprocess.run([floc, "fmt", "-"], input=text, capture_output=True, text=True,
                         timeout=60)
    return run.stdout


def rng(l1, c1, l2, c2):
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def main():
    floc = sys.argv[1]
    uri = "file:///tmp/floc-lsp-test/thermostat.flo"

    run = subprocess.run([floc, "lsp", "--help"], capture_output=True, text=True, timeout=60)
    expect(run.returncode == 0 and "Language Server Protocol" in run.stdout, "floc lsp --help")

    c = Client(floc)
    # Before initialize, a request is refused.
    r = c.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    expect(r.get("error", {}).get("code") == -32002, "a request before initialize is refused")
    r = c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    caps = r.get("result", {}).get("capabilities", {})
    expect(all(caps.get(k) for k in ["documentFormattingProvider", "documentSymbolProvider",
                                     "definitionProvider", "hoverProvider",
                                     "completionProvider"]),
           "initialize announces formatting, symbols, definition, hover and completion")
    expect(caps.get("textDocumentSync", {}).get("change") == 1, "full document sync")
    c.notify("initialized", {})

    # v1: one error, where `floc check --json` puts it.
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "flo",
                                                       "version": 1, "text": V1}})
    d = c.diagnostics(uri)
    ref = check_json(floc, V1)
    if expect(len(d) == 1, f"one diagnostic for v1 (got {len(d)})"):
        expect(d[0]["range"] == rng(12, 9, 12, 16), f"range of 'cooling': {d[0]['range']}")
        expect(d[0]["severity"] == 1, "severity error")
        expect(d[0]["message"] == ref[0]["message"] and d[0]["source"] == "floc",
               f"message as floc check --json: {d[0]['message']!r}")

    # Columns are UTF-16 code units: 'é' is one, '😀' two (floc check says byte column 45).
    wide = "file:///tmp/floc-lsp-test/wide.flo"
    c.notify("textDocument/didOpen", {"textDocument": {"uri": wide, "languageId": "flo",
                                                       "version": 1, "text": WIDE}})
    d = c.diagnostics(wide)
    expect(len(d) == 1 and d[0]["range"] == rng(3, 41, 3, 47),
           f"UTF-16 range of 'nosuch' after non-ASCII text: {d}")
    c.notify("textDocument/didClose", {"textDocument": {"uri": wide}})
    c.diagnostics(wide)

    # v2: the error fixed, a typo left: a named warning with its code.
    c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                        "contentChanges": [{"text": V2}]})
    d = c.diagnostics(uri)
    ref = check_json(floc, V2)
    if expect(len(d) == 1 and len(ref) == 1, f"one warning for v2 (got {d})"):
        expect(d[0]["code"] == ref[0]["warning"] == "unwritten-share",
               f"code {d[0].get('code')!r} as floc check's warning name")
        expect(d[0]["severity"] == 2, "severity warning")
        expect(d[0]["range"] == rng(6, 20, 6, 30), f"range of '.room.tmep': {d[0]['range']}")
        expect("did you mean '.room.temp'" in d[0]["message"], "the suggestion is in the message")

    # v3: clean, and the diagnostics clear.
    c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                        "contentChanges": [{"text": V3 + "\n" + EXTRAS}]})
    expect(c.diagnostics(uri) == [], "diagnostics clear once the program is fixed")

    # Document symbols: house ▸ framer ▸ frames, then the deed and the flow.
    r = c.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    syms = r.get("result") or []
    names = [(s["name"], [(t["name"], [f["name"] for f in t["children"]])
                          for t in s["children"]]) for s in syms]
    expect(names == [("home", [("thermostat", ["idle", "heating"])]), ("ctof", []),
                     ("temps", [])], f"outline {names}")
    if syms:
        heating = syms[0]["children"][0]["children"][1]
        expect(heating["selectionRange"] == rng(8, 10, 8, 17), "frame heating's name")
        expect(heating["range"]["start"] == {"line": 8, "character": 4} and
               heating["range"]["end"]["line"] == 11, f"frame heating's extent {heating['range']}")

    # Definition: `go heating` (line 6) ▸ `frame heating` (line 8); `map ctof` ▸ the deed.
    r = c.request("textDocument/definition", {"textDocument": {"uri": uri},
                                              "position": {"line": 6, "character": 12}})
    expect(r.get("result") == {"uri": uri, "range": rng(8, 10, 8, 17)},
           f"definition of a go target: {r.get('result')}")
    r = c.request("textDocument/definition", {"textDocument": {"uri": uri},
                                              "position": {"line": 4, "character": 37}})
    expect(r.get("result") == {"uri": uri, "range": rng(5, 10, 5, 14)},
           f"definition of a framer's first frame: {r.get('result')}")
    deed_line = (V3 + "\n" + EXTRAS).splitlines().index("  map ctof")
    r = c.request("textDocument/definition", {"textDocument": {"uri": uri},
                                              "position": {"line": deed_line, "character": 7}})
    expect(r.get("result") == {"uri": uri, "range": rng(deed_line - 7, 5, deed_line - 7, 9)},
           f"definition of a mapped deed: {r.get('result')}")
    r = c.request("textDocument/definition", {"textDocument": {"uri": uri},
                                              "position": {"line": 2, "character": 3}})
    expect(r.get("result") is None, "no definition on `init`")

    # References: the uses of frame idle (its `first` clause and `go idle`), with and without
    # the declaration.
    def refs(line, character, declaration):
        r = c.request("textDocument/references", {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"includeDeclaration": declaration}})
        return sorted((l["range"]["start"]["line"], l["range"]["start"]["character"],
                       l["range"]["end"]["character"]) for l in (r.get("result") or []))
    got = refs(11, 10, False)
    expect(got == [(4, 36, 40), (11, 9, 13)], f"references of frame idle: {got}")
    got = refs(5, 11, True)
    expect(got == [(4, 36, 40), (5, 10, 14), (11, 9, 13)], f"with the declaration: {got}")

    # Hover: a frame's acts by context, a share's writers.
    r = c.request("textDocument/hover", {"textDocument": {"uri": uri},
                                         "position": {"line": 6, "character": 12}})
    value = ((r.get("result") or {}).get("contents") or {}).get("value", "")
    expect("enter: put true into .heater.on" in value, f"hover on a frame: {value!r}")
    r = c.request("textDocument/hover", {"textDocument": {"uri": uri},
                                         "position": {"line": 6, "character": 25}})
    value = ((r.get("result") or {}).get("contents") or {}).get("value", "")
    expect("init .room.temp with 20.0" in value, f"hover on a share: {value!r}")
    expect("value: float" in value, "hover on a share shows its type")

    # Completion: frames after `go`, verbs at the start of a line, shares after '.'.
    def labels(line, character):
        r = c.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                  "position": {"line": line, "character": character}})
        return {i["label"] for i in (r.get("result") or [])}
    got = labels(6, 9)
    expect(got == {"idle", "heating"}, f"frames after go: {got}")
    got = labels(7, 0)
    expect({"put", "go", "enter", "framer"} <= got, "verbs at the start of a line")
    got = labels(6, 22)
    expect({".room.temp", ".heater.on", ".building.tempF"} <= got, f"share paths: {got}")

    share_line = (V3 + "\n" + EXTRAS).splitlines().index("  reduce mean into .building.tempF")
    r = c.request("textDocument/hover", {"textDocument": {"uri": uri},
                                         "position": {"line": share_line, "character": 24}})
    value = ((r.get("result") or {}).get("contents") or {}).get("value", "")
    expect("reduce mean into .building.tempF" in value, f"hover on a flow's sink: {value!r}")

    r = c.request("textDocument/hover", {"textDocument": {"uri": uri},
                                         "position": {"line": deed_line, "character": 7}})
    value = ((r.get("result") or {}).get("contents") or {}).get("value", "")
    expect("input c as f64\noutput f as f64" in value, f"hover on a deed: {value!r}")

    # Formatting: one full-document edit to `floc fmt`'s text; refused on a syntax error.
    ugly = "file:///tmp/floc-lsp-test/ugly.flo"
    c.notify("textDocument/didOpen", {"textDocument": {"uri": ugly, "languageId": "flo",
                                                       "version": 1, "text": UGLY}})
    c.diagnostics(ugly)
    r = c.request("textDocument/formatting", {"textDocument": {"uri": ugly},
                                              "options": {"tabSize": 2, "insertSpaces": True}})
    edits = r.get("result")
    expect(edits == [{"range": rng(0, 0, 5, 0), "newText": fmt(floc, UGLY)}],
           f"formatting edit {edits}")
    r = c.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                              "options": {"tabSize": 2, "insertSpaces": True}})
    expect(r.get("result") == [] or r.get("result") is None or
           r["result"][0]["newText"] == fmt(floc, V3 + "\n" + EXTRAS),
           "formatting a canonical file")
    c.notify("textDocument/didChange", {"textDocument": {"uri": ugly, "version": 2},
                                        "contentChanges": [{"text": SYNTAX_ERROR}]})
    expect(len(c.diagnostics(ugly)) > 0, "syntax errors are published")
    r = c.request("textDocument/formatting", {"textDocument": {"uri": ugly},
                                              "options": {"tabSize": 2, "insertSpaces": True}})
    expect(r.get("error", {}).get("code") == -32803 and "syntax error" in r["error"]["message"],
           f"formatting refused on a syntax error: {r}")
    c.notify("textDocument/didClose", {"textDocument": {"uri": ugly}})
    expect(c.diagnostics(ugly) == [], "closing a document clears its diagnostics")

    # `load` resolves against the document's directory (the server runs elsewhere), and
    # definition follows a name into the loaded file.
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "lib.flo"), "w") as f:
            f.write(EXTRAS.split("\nflow")[0] + "\n")  # the deed alone
        main_uri = "file://" + os.path.join(folder, "main.flo")  # unsaved: not on disk
        main = ("load lib.flo\n\nflow" + EXTRAS.split("\nflow")[1] +
                "\nhouse home\n  init .room.temp with 20.0\n")  # the flow's store
        c.notify("textDocument/didOpen", {"textDocument": {"uri": main_uri, "languageId": "flo",
                                                           "version": 1, "text": main}})
        d = c.diagnostics(main_uri)
        expect(d == [], f"load beside an unsaved document: {d}")
        r = c.request("textDocument/definition", {"textDocument": {"uri": main_uri},
                                                  "position": {"line": 4, "character": 7}})
        lib_uri = "file://" + os.path.realpath(os.path.join(folder, "lib.flo"))
        expect(r.get("result") == {"uri": lib_uri, "range": rng(0, 5, 0, 9)},
               f"definition in a loaded file: {r.get('result')}")
        c.notify("textDocument/didClose", {"textDocument": {"uri": main_uri}})
        c.diagnostics(main_uri)

    # Bad input: every request still gets an answer, and the server keeps serving.
    body = b"{not json"
    c.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    r = c.wait(lambda m: "error" in m and m.get("id") is None)
    expect(r["error"]["code"] == -32700, "malformed JSON gets a parse error")
    c.send_raw(b"Content-Type: nothing\r\n\r\n")  # a header block without Content-Length
    c.send_raw(b"Content-Length: banana\r\n\r\n")
    r = c.request("no/such/method", {})
    expect(r.get("error", {}).get("code") == -32601, "an unknown method is not found")
    r = c.request("textDocument/definition", {"textDocument": {"uri": 42}})
    expect(r.get("error", {}).get("code") == -32602, "bad params are invalid params")
    r = c.request("textDocument/hover", {"textDocument": {"uri": "file:///not/open.flo"},
                                         "position": {"line": 0, "character": 0}})
    expect("error" in r, "a request on a document that is not open is refused")
    c.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}})
    c.send([1, 2, 3])
    r = c.wait(lambda m: "error" in m)
    expect(r["error"]["code"] == -32600, "a non-object message is an invalid request")

    r = c.request("shutdown", None)
    expect("result" in r and r["result"] is None, "shutdown answers null")
    c.notify("exit", None)
    rc, err = c.finish()
    expect(rc == 0, f"exit after shutdown: status 0 (got {rc}; stderr {err!r})")

    # Exit without shutdown: status 1, as LSP says. -W flags apply to every document.
    c = Client(floc, "-Wno-unwritten-share")
    c.request("initialize", {"capabilities": {}})
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "flo",
                                                       "version": 1, "text": V2}})
    expect(c.diagnostics(uri) == [], "floc lsp -Wno-unwritten-share silences that warning")
    c.notify("exit", None)
    rc, _ = c.finish()
    expect(rc == 1, f"exit without shutdown: status 1 (got {rc})")

    run = subprocess.run([floc, "lsp", "-Wno-such-warning"], capture_output=True, text=True,
                         input="", timeout=60)
    expect(run.returncode == 2 and "unknown warning option" in run.stderr,
           "an unknown -W flag is a usage error")

    if failures:
        print(f"{len(failures)} failed")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
