"""Subcommands of the migration harness: ``migrations`` and ``snapshot create|from-git``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.config import Config, project_root
from harness.errors import ConfigError

HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {}


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    mig = sub.add_parser("migrations", help="run the app's migrations on every legacy snapshot")
    common(mig)
    mig.add_argument("--snapshots", help="glob of snapshot files (default: config)")
    mig.add_argument("--entry", help="module:callable, called with the database path")
    mig.add_argument("--format", choices=("text", "json"), default="text")
    mig.add_argument("--checks", help="comma-separated subset of: schema, rows, integrity, "
                                      "idempotent, crash-safe, round-trip")
    mig.add_argument("--timeout", type=float, help="seconds per run of the entry point")
    mig.add_argument("--max-crash-points", type=int, default=200)

    snap = sub.add_parser("snapshot", help="make legacy snapshots")
    snap_sub = snap.add_subparsers(dest="snapshot_command", required=True)
    create = snap_sub.add_parser("create", help="a snapshot of today's schema with rows")
    common(create)
    create.add_argument("name")
    create.add_argument("--entry")
    create.add_argument("--rows", type=int, default=3)
    create.add_argument("--dir", default=None, help="where to write (default: next to the "
                                                    "configured snapshots glob)")
    from_git = snap_sub.add_parser("from-git", help="a snapshot from the DDL at a git revision")
    common(from_git)
    from_git.add_argument("rev")
    from_git.add_argument("--name")
    from_git.add_argument("--rows", type=int, default=3)
    from_git.add_argument("--dir", default=None)


def _config(args: argparse.Namespace, **extra: Any) -> Config:
    root = args.config.resolve().parent if args.config else project_root(Path.cwd())
    return Config.from_sources(root, args.config, dialect=args.dialect,
                               exclude=args.exclude, **extra)


def _entry(config: Config, given: str | None) -> str:
    entry = given or config.entry
    if not entry or ":" not in entry:
        raise ConfigError("no migration entry point: pass --entry module:callable or set "
                          "entry in [tool.dbharness]")
    return entry


def cmd_migrations(args: argparse.Namespace) -> int:
    from harness.check import build_model
    from harness.migrations.roundtrip import make_roundtrip
    from harness.migrations.snapshots import scan
    from harness.migrations.verify import CHECKS, ERROR, FAIL, Verifier

    config = _config(args, timeout=args.timeout, snapshots=args.snapshots)
    entry = _entry(config, args.entry)
    checks = tuple(c.strip() for c in args.checks.split(",")) if args.checks else CHECKS
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ConfigError(f"unknown check(s): {', '.join(unknown)} (choose from "
                          f"{', '.join(CHECKS)})")
    # A glob typed on the command line is the user's own; one from the configuration came
    # with the checkout and stays inside the project root.
    found = scan(config.snapshots, config.root, trusted=bool(args.snapshots))
    for skipped in found.skipped:
        print(f"dbharness: skipped snapshot {skipped.name}: {skipped.reason}", file=sys.stderr)
    snapshots = list(found.snapshots)
    if not snapshots:
        raise ConfigError(f"no snapshots match {config.snapshots!r}")
    roundtrip = None
    if "round-trip" in checks:
        roundtrip = make_roundtrip(config, build_model(config)[0])
    verifier = Verifier(config, entry, checks, args.max_crash_points, roundtrip)
    _terminate_as_exit()
    outcomes = []
    for outcome in verifier.verify(snapshots):
        outcomes.append(outcome)
        if args.format == "text":
            print(f"{outcome.status.upper():5} {outcome.snapshot}  {outcome.check}: "
                  f"{outcome.message}")
            sys.stdout.flush()
    failed = [o for o in outcomes if o.status in (FAIL, ERROR)]
    if args.format == "json":
        print(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        print(f"dbharness migrations: {len(snapshots)} snapshot(s), {len(outcomes)} check(s), "
              f"{len(failed)} failed")
    return 1 if failed else 0


def _terminate_as_exit() -> None:
    """SIGTERM ends the run the way Ctrl-C does, through the runner's cleanup (which kills
    every child process group), instead of killing dbharness with its children left behind."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)


def cmd_snapshot(args: argparse.Namespace) -> int:
    from harness.migrations.generate import create_snapshot, snapshot_from_git
    from harness.migrations.snapshots import check_pattern

    config = _config(args)
    if not args.dir:
        check_pattern(config.snapshots)  # the configured glob decides where to write
    out_dir = Path(args.dir) if args.dir else (config.root / config.snapshots).parent
    if args.snapshot_command == "create":
        path = create_snapshot(config, _entry(config, args.entry), args.name, out_dir, args.rows)
    else:
        path = snapshot_from_git(config, args.rev, args.name, out_dir, args.rows)
    print(f"dbharness: wrote {path}")
    return 0


HANDLERS["migrations"] = cmd_migrations
HANDLERS["snapshot"] = cmd_snapshot
