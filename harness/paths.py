"""Where a path really points: inside the project root or not."""

from __future__ import annotations

import os
from pathlib import Path


def inside_root(path: Path, root: Path) -> bool:
    """True when ``path``, with every symlink resolved (``os.path.realpath``), is ``root`` or
    lies under it (``root`` resolved the same way). A dangling symlink is judged by where it
    points; a path that cannot be resolved at all is outside. Never raises."""
    try:
        real = Path(os.path.realpath(path))
        base = Path(os.path.realpath(root))
    except (OSError, ValueError):
        return False
    return real == base or real.is_relative_to(base)
