"""Run the app's migration entry point in a child process, optionally killed at statement k.

``python -m harness.migrations.child ENTRY DB [--kill-at K] [--count-file F]``
``python -m harness.migrations.child --load-dump DUMP DB --seconds S``

Every connection the entry opens through ``sqlite3.connect`` gets a trace callback that counts
the statements SQLite actually executes. With ``--kill-at K`` the process sends itself SIGKILL
just before statement K runs: a real crash, no cleanup, no atexit, no rollback but SQLite's own.

``--load-dump`` loads a ``.sql`` dump snapshot into the new file DB under the fences of
:mod:`harness.migrations.dumpload` (this process, never dbharness's, runs the dump's SQL); a
refused dump prints one line on stderr and exits 3.

Either way the process first asks the kernel to SIGKILL it when dbharness dies
(``PR_SET_PDEATHSIG``, Linux), so it cannot outlive the run that started it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sqlite3
import sys
from typing import Any

_count = 0


def _install(kill_at: int | None) -> None:
    original = sqlite3.connect

    def trace(_statement: str) -> None:
        global _count
        _count += 1
        if kill_at is not None and _count >= kill_at:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = original(*args, **kwargs)
        conn.set_trace_callback(trace)
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]


def resolve(entry: str) -> Any:
    module_name, _, attr = entry.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"entry must look like module:callable, not {entry!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


def _write_record(writer: str, db: str, record_json: str) -> None:
    """``module:Class.method``: ``Class(db).method(record)``; ``module:func``: ``func(conn,
    record)`` when its first parameter takes a connection, else ``func(db, record)``."""
    import inspect
    import json

    with open(record_json, encoding="utf-8") as fh:
        record = json.load(fh)
    module_name, _, attr = writer.partition(":")
    owner_name, _, method = attr.rpartition(".")
    if owner_name:
        owner = resolve(f"{module_name}:{owner_name}")
        obj = owner(db)
        getattr(obj, method)(record)
        close = getattr(obj, "close", None)
        if callable(close):
            close()
        return
    func = resolve(writer)
    first = next(iter(inspect.signature(func).parameters), "")
    if first in ("conn", "connection", "db", "cursor", "cur", "con"):
        conn = sqlite3.connect(db)
        try:
            func(conn, record)
            conn.commit()
        finally:
            conn.close()
    else:
        func(db, record)


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG(SIGKILL), then make sure the parent did not die before it took."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    parent = os.environ.get("DBHARNESS_PARENT", "")
    if parent.isdigit() and os.getppid() != int(parent):
        os._exit(1)


def _load_dump(argv: list[str]) -> int:
    from harness.migrations.dumpload import DumpRefused, load_dump

    parser = argparse.ArgumentParser(prog="child --load-dump")
    parser.add_argument("dump")
    parser.add_argument("db")
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)
    try:
        with open(args.dump, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as err:
        print(f"cannot read the dump: {err}", file=sys.stderr)
        return 3
    conn = sqlite3.connect(args.db, isolation_level=None)
    try:
        load_dump(text, conn, args.seconds)
    except DumpRefused as err:
        print(str(err), file=sys.stderr)
        return 3
    finally:
        conn.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _die_with_parent()
    if argv[:1] == ["--load-dump"]:
        return _load_dump(argv[1:])
    parser = argparse.ArgumentParser()
    parser.add_argument("entry")
    parser.add_argument("db")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--count-file")
    parser.add_argument("--record-json", help="call ENTRY as a writer with this record")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    _install(args.kill_at)
    if args.record_json:
        _write_record(args.entry, args.db, args.record_json)
        return 0
    func = resolve(args.entry)
    func(args.db)
    if args.count_file:
        with open(args.count_file, "w", encoding="utf-8") as fh:
            fh.write(str(_count))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
