"""Extract many files, across processes when the tree is large enough to pay for them."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import Config
from harness.python.facts import FileFacts
from harness.python.source import extract_file, module_name

if TYPE_CHECKING:
    from harness.cache import FactCache
    from harness.check import Stats

PARALLEL_THRESHOLD = 200  # below this, starting workers costs more than it saves


def _work(item: tuple[str, str, str]) -> FileFacts:
    path, display, module = item
    try:
        return extract_file(Path(path), display, module)
    except Exception as err:
        return FileFacts(display, module, error=f"internal error: {type(err).__name__}: {err}")


def extract_many(paths: list[Path], config: Config, cache: FactCache | None, stats: Stats,
                 one: Callable[[Path, Config, FactCache | None, Stats], FileFacts],
                 ) -> list[FileFacts]:
    jobs = config.jobs or os.cpu_count() or 1
    if jobs <= 1 or len(paths) < PARALLEL_THRESHOLD:
        return [one(p, config, cache, stats) for p in paths]
    from harness.discovery import relative

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
    if todo:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunk = max(1, len(todo) // (jobs * 8))
            for (i, _), facts in zip(todo, pool.map(_work, [t for _, t in todo],
                                                    chunksize=chunk)):
                results[i] = facts
                stats.extracted += 1
                if cache is not None:
                    cache.put(paths[i], facts)
    return [results[i] for i in range(len(paths))]
