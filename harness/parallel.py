"""Extract many files, across processes when the tree is large enough to pay for them."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import Config
from harness.discovery import relative
from harness.python.facts import FileFacts
from harness.python.source import Fingerprint, extract_path, module_name

if TYPE_CHECKING:
    from harness.cache import FactCache
    from harness.check import Stats

PARALLEL_THRESHOLD = 200  # below this, starting workers costs more than it saves


def _init_worker() -> None:
    import gc

    gc.disable()  # see harness.check.no_cyclic_gc


def extract_one(item: tuple[str, str, str]) -> tuple[FileFacts, Fingerprint | None]:
    """One file's facts; a bug in the extractor becomes an internal-error fact, not a crash."""
    path, display, module = item
    try:
        return extract_path(Path(path), display, module)
    except Exception as err:
        return FileFacts(display, module,
                         error=f"internal error: {type(err).__name__}: {err}"), None


def extract_many(paths: list[Path], config: Config, cache: FactCache | None,
                 stats: Stats) -> list[FileFacts]:
    results: dict[int, FileFacts] = {}
    todo: list[tuple[int, tuple[str, str, str]]] = []
    for i, path in enumerate(paths):
        display, module = relative(path, config.root), module_name(path, config.root)
        hit = cache.get(path, display, module) if cache is not None else None
        if hit is not None:
            stats.cached += 1
            results[i] = hit
        else:
            todo.append((i, (str(path), display, module)))
    jobs = config.jobs or os.cpu_count() or 1
    items = [t for _, t in todo]
    if jobs <= 1 or len(todo) < PARALLEL_THRESHOLD:
        extracted = list(map(extract_one, items))
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
            extracted = list(pool.map(extract_one, items,
                                      chunksize=max(1, len(todo) // (jobs * 8))))
    for (i, _), (facts, fingerprint) in zip(todo, extracted):
        results[i] = facts
        stats.extracted += 1
        if cache is not None:
            cache.put(facts, fingerprint)
    return [results[i] for i in range(len(paths))]
