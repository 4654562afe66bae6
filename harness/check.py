"""``dbharness check``: files -> facts -> linked model -> diagnostics."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness import store
from harness.cache import FactCache, tool_fingerprint
from harness.config import Config
from harness.diagnostics import Diagnostic, Location, Severity
from harness.discovery import Skipped, discover, relative
from harness.link.contracts import load_contracts
from harness.link.model import Model, link
from harness.parallel import extract_many
from harness.python.calls import inferred_dialect
from harness.python.facts import FileFacts
from harness.python.text import Text
from harness.rules import FILE_ERROR, INTERNAL_ERROR, all_rules
from harness.sql import memo
from harness.sql.parse import seed as seed_parsed
from harness.sql.schema import Schema
from harness.sqlfiles import read_sql_file


@dataclass
class Stats:
    files: int = 0
    python_files: int = 0
    sql_files: int = 0
    extracted: int = 0
    cached: int = 0
    sql_sites: int = 0
    answers_remembered: int = 0  # statement answers from the memo of earlier runs
    answers_computed: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    diagnostics: tuple[Diagnostic, ...]
    model: Model
    stats: Stats


def gather(config: Config, paths: tuple[str, ...] | None = None
           ) -> tuple[list[FileFacts], list[tuple[str, Text]], list[Diagnostic], Stats]:
    stats = Stats()
    start = time.perf_counter()
    folder = cache_folder(config)
    cache = FactCache(folder, config.dialect) if folder is not None else None
    files: list[FileFacts] = []
    sql_files: list[tuple[str, Text]] = []
    problems: list[Diagnostic] = []
    python_paths: list[Path] = []
    skipped: list[Skipped] = []
    for path in discover(config, paths, skipped):
        stats.files += 1
        if path.suffix == ".sql":
            stats.sql_files += 1
            display = relative(path, config.root)
            text = read_sql_file(path)
            if isinstance(text, str):
                problems.append(FILE_ERROR.diagnostic(Location(display, 1, 1), text))
            else:
                sql_files.append((display, text))
        else:
            python_paths.append(path)
    stats.python_files = len(python_paths)
    for skip in skipped:  # never read: a note, not a failure
        problems.append(replace(FILE_ERROR.diagnostic(
            Location(relative(skip.path, config.root), 1, 1), skip.reason),
            severity=Severity.NOTE))
    files, counts = extract_many(python_paths, config, cache)
    stats.cached += counts.cached
    stats.extracted += counts.extracted
    for facts in files:
        if facts.parsed and facts.dialect == config.dialect:
            seed_parsed(dict(facts.parsed), config.dialect)
    for facts in files:
        if facts.error is not None and facts.syntax_error:
            # not Python this interpreter parses (Python 2, a template): no schema/code
            # disagreement to report, so a note that says what was not analysed
            problems.append(replace(FILE_ERROR.diagnostic(
                Location(facts.path, facts.error_line, facts.error_col),
                f"not analysed: Python {facts.error}"), severity=Severity.NOTE))
        elif facts.error is not None:
            rule = INTERNAL_ERROR if facts.error.startswith("internal error") else FILE_ERROR
            problems.append(rule.diagnostic(
                Location(facts.path, facts.error_line, facts.error_col), facts.error))
    if cache is not None:
        cache.flush()
    stats.timings["extract"] = time.perf_counter() - start
    return files, sql_files, problems, stats


def legacy_schemas(config: Config) -> tuple[tuple[tuple[str, Schema], ...], list[Diagnostic]]:
    """Schemas of the legacy snapshots, for missing-migration (an unreadable one is reported)."""
    import tempfile

    from harness.errors import SnapshotError, ToolError
    from harness.migrations.generate import RevisionDdl, schema_at_revision
    from harness.migrations.snapshots import discover, snapshot_schema

    out: list[tuple[str, Schema]] = []
    problems: list[Diagnostic] = []
    if config.revisions:
        with RevisionDdl(config) as reader:  # one git process, blobs cached by id
            for rev in config.revisions:
                try:
                    out.append((f"git {rev}", schema_at_revision(config, rev, reader)))
                except ToolError as err:
                    problems.append(FILE_ERROR.diagnostic(Location("pyproject.toml", 1, 1),
                                                          f"revision {rev}: {err}"))
    snapshots = discover(config.snapshots, config.root)
    if not snapshots:
        return tuple(out), problems
    with tempfile.TemporaryDirectory(prefix="dbharness-") as tmp:
        for snapshot in snapshots:
            try:
                out.append((snapshot.name, snapshot_schema(snapshot, Path(tmp))))
            except SnapshotError as err:
                problems.append(FILE_ERROR.diagnostic(Location(snapshot.name, 1, 1), str(err)))
    return tuple(out), problems


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Facts and ASTs hold no reference cycles, so refcounting frees them; the cyclic
    collector would only rescan every retained fact each time a parse allocates (it made a
    500k-line check 1.6x slower)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build_model(config: Config, paths: tuple[str, ...] | None = None
                ) -> tuple[Model, list[FileFacts], list[Diagnostic], Stats]:
    """Files -> facts -> the linked model (with contracts and legacy snapshot schemas)."""
    folder = cache_folder(config)
    if folder is not None:
        memo.load(_memo_path(folder, config))
    with no_cyclic_gc():
        return _build_model(config, paths)


def cache_folder(config: Config) -> Path | None:
    """The project's cache folder outside the project (harness/store.py); None when caching
    is off or the folder is refused."""
    return store.for_config(config.root, config.cache, config.cache_dir)


def _memo_path(folder: Path, config: Config) -> Path:
    return folder / f"sqlmemo-{tool_fingerprint()}-{config.dialect}.json"


def project_dialect(config: Config, files: list[FileFacts]) -> str:
    """The configured dialect when one was given; else the one the project's drivers speak
    (calls.inferred_dialect); else the default."""
    if config.dialect_given:
        return config.dialect
    return inferred_dialect([frozenset(i.module.split(".")[0] for i in f.imports)
                             for f in files]) or config.dialect


def _build_model(config: Config, paths: tuple[str, ...] | None
                 ) -> tuple[Model, list[FileFacts], list[Diagnostic], Stats]:
    files, sql_files, problems, stats = gather(config, paths)
    start = time.perf_counter()
    contracts = load_contracts(config.root, config.contracts, config.binding)
    model = link(files, sql_files, project_dialect(config, files), contracts)
    legacy, snapshot_problems = legacy_schemas(config)
    model = replace(model, legacy=legacy)
    problems.extend(snapshot_problems)
    stats.timings["link"] = time.perf_counter() - start
    return model, files, problems, stats


def run_check(config: Config, paths: tuple[str, ...] | None = None) -> CheckResult:
    before = memo.counts()
    model, files, problems, stats = build_model(config, paths)
    with no_cyclic_gc():
        result = _run_rules(config, model, files, problems, stats)
    after = memo.counts()
    stats.answers_remembered = after[0] - before[0]
    stats.answers_computed = after[1] - before[1]
    folder = cache_folder(config)
    if folder is not None:
        memo.save(_memo_path(folder, config))
    return result


def _run_rules(config: Config, model: Model, files: list[FileFacts],
               problems: list[Diagnostic], stats: Stats) -> CheckResult:
    stats.sql_sites = len(model.sites)
    start = time.perf_counter()
    found: list[Diagnostic] = list(problems)
    disabled = set(config.disable)
    for rule in all_rules():
        if rule.check is None or rule.slug in disabled or rule.code in disabled:
            continue
        try:
            found.extend(rule.check(model))
        except Exception as err:
            found.append(INTERNAL_ERROR.diagnostic(
                Location(".", 1, 1), f"rule {rule.slug} failed: {type(err).__name__}: {err}"))
    if config.external_tables:
        external = {t.lower() for t in config.external_tables}
        found = [d for d in found if not (d.table and d.table.lower() in external)]
    stats.timings["rules"] = time.perf_counter() - start
    suppress = {f.path: dict(f.suppressions) for f in files if f.suppressions}
    kept = [d for d in found if not _suppressed(d, suppress)]
    # One finding per place and message (a record reaching an upsert's UPDATE and INSERT).
    by_place: dict[tuple[str, str, int, int, str], Diagnostic] = {}
    for d in sorted(kept, key=lambda d: (d.sort_key(), len(d.related))):
        by_place.setdefault((d.code, d.path, d.line, d.col, d.message), d)
    unique = sorted(by_place.values(), key=Diagnostic.sort_key)
    return CheckResult(tuple(unique), model, stats)


def _suppressed(d: Diagnostic, suppress: dict[str, dict[int, frozenset[str]]]) -> bool:
    slugs = suppress.get(d.path, {}).get(d.line)
    if slugs is None:
        return False
    return not slugs or d.rule in slugs or d.code in slugs
