"""The dbharness command line. Exit codes: 0 clean, 1 findings, 2 usage/config/internal."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import harness
from harness.baseline import filter_baseline, write_baseline
from harness.config import Config, project_root
from harness.diagnostics import Severity
from harness.errors import ConfigError, ToolError
from harness.escape import printable
from harness.terminal import progress, wants_colour

FORMATS = ("text", "json", "sarif", "github")
DESCRIPTION = ("Check that a Python application's records, SQL and database schema agree. "
               "Exit codes: 0 clean, 1 findings, 2 usage, config or internal error.")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise SystemExit(f"dbharness: error: {message}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dbharness", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"dbharness {harness.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="statically check records, SQL and schema")
    _common(check)
    check.add_argument("paths", nargs="*", help="files or directories (default: config paths)")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--baseline", type=Path, help="report only findings not in this file")
    check.add_argument("--update-baseline", action="store_true",
                       help="write the current findings to --baseline and exit 0")
    _cache_options(check)
    check.add_argument("--jobs", type=int, help="processes for extraction (default: all cores)")
    check.add_argument("--stats", action="store_true", help="print files, SQL strings, timings")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")

    contracts = sub.add_parser("contracts", help="show what was bound to what")
    _common(contracts)
    contracts.add_argument("paths", nargs="*")
    contracts.add_argument("--format", choices=("text", "json", "mermaid"), default="text")
    _cache_options(contracts)

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("name", nargs="?", help="slug or code; omit to list all rules")

    config = sub.add_parser("config", help="print the resolved configuration")
    _common(config)

    from harness.migrations.cli import add_commands

    add_commands(sub, _common)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="a pyproject.toml or dbharness.toml")
    p.add_argument("--dialect", choices=("sqlite", "postgres", "mysql"))
    p.add_argument("--exclude", action="append", help="glob to skip (repeatable)")


def _cache_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument("--cache-dir", type=Path, help="keep caches here (default: "
                   "$DBHARNESS_CACHE_DIR, else the per-user cache directory)")


def _cache_overrides(args: argparse.Namespace) -> dict[str, object]:
    return {"cache": False if args.no_cache else None,
            "cache_dir": str(args.cache_dir.resolve()) if args.cache_dir else None}


def load_config(args: argparse.Namespace, **extra: object) -> Config:
    # Paths on the command line are relative to where the user stands, not to the root.
    given = getattr(args, "paths", None) or ()
    for p in given:
        if not os.path.lexists(p):
            raise ConfigError(f"no such file or directory: {printable(p)}")
    paths = tuple(str(Path(p).resolve()) for p in given) or None
    root = args.config.resolve().parent if args.config else project_root(Path.cwd())
    return Config.from_sources(
        root, args.config, dialect=args.dialect, exclude=args.exclude, paths=paths, **extra,
    )


def cmd_check(args: argparse.Namespace) -> int:
    from harness import result_cache, store
    from harness.report import format_github, format_json, format_sarif, format_text, summary

    config = load_config(args, jobs=args.jobs, **_cache_overrides(args))
    place = store.project_dir(config.root, config.cache_dir) if config.cache else None
    if isinstance(place, store.Refused) and args.stats:
        print(store.note(place), file=sys.stderr)
    folder = place if isinstance(place, Path) else None
    key = result_cache.inputs_key(config, None) if folder is not None else None
    hit = result_cache.load(folder, key) if folder is not None and key else None
    result = None
    if hit is not None:
        found, files, covered = hit
    else:
        from harness.check import run_check
        from harness.link.coverage import coverage

        result = run_check(config)
        found, files = result.diagnostics, result.stats.files
        covered = coverage(result.model).line()
        if folder is not None and key:
            result_cache.store_result(folder, key, found, files, covered)
    if files == 0:
        from harness.rules import FILE_ERROR

        where = ", ".join(printable(p) for p in (args.paths or config.paths))
        skipped = [d for d in found if d.rule == FILE_ERROR.slug and d.severity == Severity.NOTE]
        why = f"; {printable(skipped[0].path)}: {skipped[0].message}" if skipped else ""
        raise ConfigError(f"no Python or SQL files to check in {where} (after excludes){why}")
    diagnostics = list(found)
    if args.update_baseline:
        if args.baseline is None:
            raise ToolError("--update-baseline needs --baseline FILE")
        write_baseline(args.baseline, diagnostics)
        print(f"dbharness: wrote {len(diagnostics)} finding(s) to {args.baseline}")
        return 0
    if args.baseline is not None:
        diagnostics = filter_baseline(args.baseline, diagnostics)
    if args.format == "json":
        print(format_json(diagnostics))
    elif args.format == "sarif":
        print(format_sarif(diagnostics))
    elif args.format == "github":
        if diagnostics:
            print(format_github(diagnostics))
    else:
        text = format_text(diagnostics, config.root, sys.stdout.isatty(),
                           wants_colour(sys.stdout))
        if text:
            print(text)
        print(summary(diagnostics, files))
        if covered:
            print(f"dbharness: {covered}")
    if args.stats and result is None:
        print(f"dbharness stats: {files} files; nothing changed since the last run "
              "(result cache)", file=sys.stderr)
    elif args.stats and result is not None:
        s = result.stats
        timings = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in s.timings.items())
        print(f"dbharness stats: {s.files} files ({s.python_files} Python, {s.sql_files} SQL), "
              f"{s.extracted} extracted, {s.cached} from cache, {s.sql_sites} SQL strings, "
              f"{len(result.model.bindings)} bindings, statement answers "
              f"{s.answers_remembered} remembered / {s.answers_computed} computed; {timings}",
              file=sys.stderr)
    failing = [d for d in diagnostics if d.severity != Severity.NOTE]
    return 1 if failing and not args.exit_zero else 0


def cmd_contracts(args: argparse.Namespace) -> int:
    from harness.check import build_model
    from harness.contracts_report import contracts_json, contracts_mermaid, contracts_text

    config = load_config(args, **_cache_overrides(args))
    model = build_model(config)[0]
    render = {"json": contracts_json, "mermaid": contracts_mermaid}.get(args.format,
                                                                       contracts_text)
    text = render(model)
    if args.format != "json":  # names from files and SQL, one escaped line at a time
        text = "\n".join(printable(line) for line in text.split("\n"))
    print(text)
    return 0


def cmd_rule(args: argparse.Namespace) -> int:
    from harness.report import rule_markdown
    from harness.rules import all_rules

    if not args.name:
        for rule in sorted(all_rules(), key=lambda r: r.code):
            print(f"{rule.code}  {rule.slug:<26} {rule.summary}")
        return 0
    text = rule_markdown(args.name)
    if text is None:
        raise ToolError(f"no rule named '{args.name}' (see `dbharness rule` for the list)")
    print(text)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    print(load_config(args).show(), end="")
    return 0


PROGRESS_LABELS = {"check": "checking", "contracts": "reading contracts",
                   "migrations": "running migrations", "snapshot": "making a snapshot"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        return 0 if exc.code in (0, None) else 2
    # A short-lived process whose data holds no reference cycles worth collecting: the cyclic
    # collector would only rescan every retained fact (see harness.check.no_cyclic_gc).
    gc.disable()
    handlers = {"check": cmd_check, "contracts": cmd_contracts, "rule": cmd_rule,
                "config": cmd_config}
    from harness.migrations.cli import HANDLERS

    handlers.update(HANDLERS)
    try:
        with progress(PROGRESS_LABELS.get(args.command, args.command)):
            return handlers[args.command](args)
    except ToolError as err:
        print(f"dbharness: error: {printable(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dbharness: interrupted", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except Exception as err:
        print(f"dbharness: internal error: {type(err).__name__}: {printable(str(err))} "
              "(please report this; run with PYTHONDEVMODE=1 for details)", file=sys.stderr)
        if "PYTHONDEVMODE" in os.environ:
            raise
        return 2
