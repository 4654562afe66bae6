"""Run the app's migration entry point in a child process, optionally killed at statement k.

``python -m harness.migrations.child ENTRY DB [--kill-at K] [--count-file F]``

Every connection the entry opens through ``sqlite3.connect`` gets a trace callback that counts
the statements SQLite actually executes. With ``--kill-at K`` the process sends itself SIGKILL
just before statement K runs: a real crash, no cleanup, no atexit, no rollback but SQLite's own.
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


def main(argv: list[str] | None = None) -> int:
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
