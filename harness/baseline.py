"""Baselines: record today's findings so a large codebase can adopt the tool and see only new ones.

Entries are fingerprints without line numbers, counted, so unrelated edits that move code do
not resurrect old findings, and a second identical finding is still new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from harness.diagnostics import Diagnostic
from harness.errors import ConfigError
from harness.regular import read_regular

BASELINE_LIMIT = 64 * 1024 * 1024  # bytes


def write_baseline(path: Path, diagnostics: Sequence[Diagnostic]) -> None:
    counts = Counter(d.fingerprint() for d in diagnostics)
    data = {"version": 1, "findings": [{"fingerprint": f, "count": n}
                                       for f, n in sorted(counts.items())]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def filter_baseline(path: Path, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    try:
        data = json.loads(read_regular(path, BASELINE_LIMIT)[1].decode("utf-8"))
        allowed = Counter({e["fingerprint"]: int(e["count"]) for e in data["findings"]})
    except FileNotFoundError:
        raise ConfigError(f"baseline file not found: {path} (create it with "
                          "--update-baseline)") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"cannot read baseline {path}: {err}") from err
    out = []
    for d in diagnostics:
        fp = d.fingerprint()
        if allowed[fp] > 0:
            allowed[fp] -= 1
        else:
            out.append(d)
    return out
