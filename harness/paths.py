"""Containment: is a path, symlinks resolved, inside the project root?"""

from __future__ import annotations

import os
from pathlib import Path


def inside_root(path: Path, root: Path) -> bool:
    """True when ``path`` with every symlink resolved is ``root`` or below it (``root``
    resolved too). A path that cannot be resolved is outside."""
    try:
        real = Path(os.path.realpath(path))
        base = Path(os.path.realpath(root))
    except (OSError, ValueError):
        return False
    return real == base or real.is_relative_to(base)
