"""Make text safe for one terminal line or CI annotation.

File names are bytes on POSIX: one that is not UTF-8 reaches Python as lone surrogates
(PEP 383 ``surrogateescape``) and crashes a strict UTF-8 stream; a control character (ESC,
CR, BEL) from a file name or an SQL identifier would drive the terminal. Both become
backslash escapes, as would the bidirectional-override characters of "Trojan Source"
(CVE-2021-42574).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # one undecodable byte, as surrogateescape carried it
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters, line separators, bidi controls and lone surrogates
    written as ``\\xNN`` / ``\\uNNNN``; everything else (any printable Unicode) unchanged."""
    return _UNSAFE.sub(_escape, text)
