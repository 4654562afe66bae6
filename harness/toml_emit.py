"""Write TOML for the flat values a config holds (TOML 1.0, https://toml.io/en/v1.0.0).

Strings, booleans, integers, floats (``nan``/``inf`` included), arrays, and tables (written
inline): enough for ``dbharness config``, so no dependency is needed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
# TOML basic strings may not hold control characters other than tab (spec: "Strings").
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\x7f\ud800-\udfff]')


def string(text: str) -> str:
    """A TOML basic string. A lone surrogate (an undecodable file-name byte) has no TOML
    spelling: it is written as the four characters ``\\xNN`` (lossy, never a crash)."""
    def escape(m: re.Match[str]) -> str:
        c = m.group()
        if "\ud800" <= c <= "\udfff":
            return f"\\\\x{ord(c) & 0xFF:02x}"
        return _ESCAPES.get(c, f"\\u{ord(c):04x}")

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else string(name)


def value(v: Any) -> str:
    """One TOML value; TypeError for a type TOML has no spelling for here."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)  # always has '.' or 'e': a float to TOML too
    if isinstance(v, str):
        return string(v)
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{key(str(k))} = {value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"no TOML spelling for {type(v).__name__}")


def emit_table(header: Iterable[str], settings: Mapping[str, Any]) -> str:
    """``[a.b]`` then one ``key = value`` line per setting, in the mapping's order."""
    lines = ["[" + ".".join(key(h) for h in header) + "]"]
    lines.extend(f"{key(k)} = {value(v)}" for k, v in settings.items())
    return "\n".join(lines) + "\n"
