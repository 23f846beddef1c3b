#!/usr/bin/env python3
"""Fails when a source includes a layer above its own, or when pure code reaches for an effect.

DESIGN.md §2: dependencies only point down, and effects (sockets, files, clocks, randomness)
live in their own layers above pure code, so every protocol and state machine runs unchanged
in sim/. The link graph enforces most of it (the pure library links neither Asio nor SQLite);
this check catches what a header-only include or a libc call would slip past the linker.

Usage: check_layers.py SOURCE_DIR. Prints every violation as FILE:LINE: message.
"""
import pathlib
import re
import sys

# Folder -> the project folders its sources may include (its own is always allowed). A folder
# not listed here is not checked. The most specific folder wins (core/net before core); a file
# (path without suffix) listed on its own is a layer of its own.
LAYERS = {
    "core": ["core"],
    "core/os": ["core"],
    "core/store": ["core", "core/os"],
    "core/net": ["core", "core/os", "core/store"],
    "sim": ["core"],
    "pool/wire": ["core"],
    "pool/ledger": ["core", "pool/wire", "compiler/vm"],
    "pool/core": ["core", "pool/wire", "pool/ledger"],
    "pool/sim": ["core", "sim", "pool/wire", "pool/ledger", "pool/core"],
    "pool/store": ["core", "core/os", "core/store", "pool/wire", "pool/ledger", "pool/core"],
    "pool/net": ["core", "core/os", "core/net", "core/store", "pool/wire", "pool/ledger",
                 "pool/core", "pool/store", "pool/net/pool_client"],
    # A library of one file in a folder (flo_pool_client): what the fogger links of the pool.
    "pool/net/pool_client": ["core", "core/os", "core/net", "core/store", "pool/wire"],
    "fogger": ["core", "pool/wire"],
    "fogger/net": ["core", "core/os", "core/net", "core/store", "pool/wire",
                   "pool/net/pool_client", "fogger"],
    "lang": [],
    "stdlib": [],
    "runtime": [],
    "runtime/host": ["runtime"],
    "compiler/sema": ["lang", "stdlib"],
    "compiler/ir": ["compiler/sema", "lang", "stdlib", "runtime"],
    "compiler/codegen": ["compiler/ir", "compiler/sema", "lang", "stdlib", "runtime"],
    "compiler/verify": ["compiler/vm", "compiler/sema", "lang", "stdlib"],
    "compiler/vm": ["compiler/sema", "lang", "stdlib"],
    "compiler/lsp": ["compiler/ir", "compiler/sema", "lang", "stdlib", "runtime"],
}

# Pure folders: no system headers or calls that do I/O, read a clock or draw randomness.
PURE = {"core", "sim", "pool/wire", "pool/ledger", "pool/core", "pool/sim", "fogger"}
FORBIDDEN_HEADERS = re.compile(
    r"<(fstream|filesystem|thread|mutex|condition_variable|future|random|ctime|"
    r"sqlite3\.h|unistd\.h|fcntl\.h|termios\.h|sys/[a-z_]+\.h|netinet/[a-z_]+\.h|"
    r"arpa/[a-z_]+\.h|boost/[^>]+)>")
FORBIDDEN_CALLS = re.compile(
    r"\b(randombytes_buf|randombytes_random|random_device|std::rand|srand|getenv|fopen|"
    r"system_clock::now|steady_clock::now|Clock::now|high_resolution_clock::now|"
    r"gettimeofday|clock_gettime|socket|sendto|recvfrom)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel):
    if rel.with_suffix("").as_posix() in LAYERS:
        return rel.with_suffix("").as_posix()
    parts = rel.parts[:-1]
    for n in range(len(parts), 0, -1):
        folder = "/".join(parts[:n])
        if folder in LAYERS:
            return folder
    return None


def project_folder(include):
    stem = include.rsplit(".", 1)[0]
    if stem in LAYERS:
        return stem
    parts = include.split("/")[:-1]
    for n in range(len(parts), 0, -1):
        folder = "/".join(parts[:n])
        if folder in LAYERS:
            return folder
    return "/".join(parts) or None


def main():
    root = pathlib.Path(sys.argv[1])
    problems = []
    checked = 0
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cpp", ".h") or "build" in path.relative_to(root).parts[0]:
            continue
        rel = path.relative_to(root)
        layer = layer_of(rel)
        if layer is None:
            continue
        checked += 1
        allowed = set(LAYERS[layer]) | {layer}
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            where = f"{rel}:{number}"
            m = INCLUDE.match(line)
            if m and m.group(1) == '"':
                target = project_folder(m.group(2))
                if target and target not in allowed:
                    problems.append(f"{where}: {layer}/ may not include {m.group(2)} "
                                    f"(allowed: {', '.join(sorted(allowed))})")
            if layer in PURE:
                if m and m.group(1) == "<" and FORBIDDEN_HEADERS.match(f"<{m.group(2)}>"):
                    problems.append(f"{where}: pure {layer}/ may not include <{m.group(2)}> "
                                    "(effects belong in core/os, core/net or core/store)")
                code = line.split("//", 1)[0]
                c = FORBIDDEN_CALLS.search(code)
                if c:
                    problems.append(f"{where}: pure {layer}/ may not call {c.group(1)} "
                                    "(take a clock, random source or socket as an interface)")
    for p in problems:
        print(p)
    print(f"{checked} files checked, {len(problems)} layering violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
