"""Extract many files, across processes when the tree is large enough to pay for them."""

from __future__ import annotations

import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import Config
from harness.discovery import relative
from harness.python.facts import FileFacts, TextArg
from harness.python.source import Fingerprint, extract_path, module_name
from harness.sql.hints import SQL_HINT
from harness.sql.parse import MAX_SQL_CHARS, parse_sql

if TYPE_CHECKING:
    from harness.cache import FactCache

PARALLEL_THRESHOLD = 200  # below this, starting workers costs more than it saves


@dataclass(frozen=True)
class Counts:
    """What ``extract_many`` did, for the caller to add to its statistics (files)."""

    cached: int = 0  # facts read from the cache
    extracted: int = 0  # files extracted in this run


def _init_worker() -> None:
    import gc

    gc.disable()  # see harness.check.no_cyclic_gc


def extract_one(item: tuple[str, str, str, str]) -> tuple[FileFacts, Fingerprint | None]:
    """One file's facts, with its SQL already parsed (in the worker, and then cached with
    the facts); a bug in the extractor becomes an internal-error fact, not a crash."""
    path, display, module, dialect = item
    try:
        facts, fingerprint = extract_path(Path(path), display, module)
        return with_parsed_sql(facts, dialect), fingerprint
    except Exception as err:  # one file's bug must not stop the run
        return FileFacts(display, module,
                         error=f"internal error: {type(err).__name__}: {err}"), None


def sql_texts(facts: FileFacts) -> set[str]:
    """Every string of the file that the link and the rules will parse as SQL."""
    texts = {t.text for t in facts.ddl}
    texts.update(e.sql.text.text for e in facts.executes if isinstance(e.sql, TextArg))
    texts.update(t.text for _, t in facts.constants if SQL_HINT.search(t.text))
    for guard in facts.guards:
        texts.update((guard.probe.text, guard.action.text))
    for call in facts.calls:
        texts.update(a.text.text for a in call.args
                     if isinstance(a, TextArg) and SQL_HINT.search(a.text.text))
    return {t for t in texts if len(t) <= MAX_SQL_CHARS}


def extract_pickled(item: tuple[str, str, str, str]
                    ) -> tuple[bytes, Fingerprint | None, str | None]:
    """In a worker: the facts pickled for the parent (in memory, never stored), and encoded
    for the cache (``harness.store.dumps``; None when not storable) while the parent waits."""
    from harness import store

    facts, fingerprint = extract_one(item)
    encoded = None
    if fingerprint is not None:
        try:
            encoded = store.dumps(facts)
        except (TypeError, ValueError, RecursionError):
            encoded = None
    return pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL), fingerprint, encoded


def with_parsed_sql(facts: FileFacts, dialect: str) -> FileFacts:
    if facts.error is not None:
        return facts
    parsed = tuple((text, parse_sql(text, dialect)) for text in sorted(sql_texts(facts)))
    return replace(facts, parsed=parsed, dialect=dialect)


def worker_count(jobs: int) -> int:
    """Processes for extraction: ``jobs`` (0: one per core), never more than the cores (more
    workers than cores only cost memory: ``jobs = 100`` must not start 100 processes)."""
    cores = os.cpu_count() or 1
    return max(1, min(jobs or cores, cores))


def extract_many(paths: list[Path], config: Config, cache: FactCache | None
                 ) -> tuple[list[FileFacts], Counts]:
    """The facts of ``paths`` in their order (from the cache when it holds them), and how
    many were cached and extracted; the caller sums the counts (this module knows nothing of
    ``harness.check``)."""
    results: dict[int, FileFacts] = {}
    todo: list[tuple[int, tuple[str, str, str, str]]] = []
    for i, path in enumerate(paths):
        display, module = relative(path, config.root), module_name(path, config.root)
        hit = cache.get(path, display, module) if cache is not None else None
        if hit is not None:
            results[i] = hit
        else:
            todo.append((i, (str(path), display, module, config.dialect)))
    jobs = worker_count(config.jobs)
    items = [t for _, t in todo]
    if jobs <= 1 or len(todo) < PARALLEL_THRESHOLD:
        for (i, _), (facts, fingerprint) in zip(todo, map(extract_one, items)):
            results[i] = facts
            if cache is not None:
                cache.put(facts, fingerprint)
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
            chunk = max(1, len(todo) // (jobs * 8))
            for (i, _), (blob, fingerprint, encoded) in zip(
                    todo, pool.map(extract_pickled, items, chunksize=chunk)):
                facts = pickle.loads(blob)  # from our own worker, over a pipe: never stored
                results[i] = facts
                if cache is not None:
                    cache.put(facts, fingerprint, encoded)
    counts = Counts(cached=len(paths) - len(todo), extracted=len(todo))
    return [results[i] for i in range(len(paths))], counts
