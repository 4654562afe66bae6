"""Read a Python file into facts without ever importing or running it.

Every way a file can be bad (unreadable, not UTF-8, NUL bytes, a syntax error, too deep
to parse) becomes a FileFacts with ``error`` set; nothing here raises.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import tokenize
from pathlib import Path

from harness.python.extract import Extractor
from harness.python.facts import FileFacts
from harness.regular import NotRegular, TooLarge, read_regular

MAX_BYTES = 8 * 1024 * 1024


def module_name(path: Path, root: Path) -> str:
    """``pkg/sub/mod.py`` under ``root`` is ``pkg.sub.mod``; ``__init__.py`` names the package."""
    text, base = str(path), str(root)
    if text.startswith(base + os.sep):  # the usual case: no syscall
        rel = Path(text[len(base) + 1:])
    else:
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            rel = Path(path.name)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or path.stem


def decode(data: bytes) -> str:
    """Honour PEP 263 coding cookies and BOMs, as the interpreter does."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def extract_source(source: str, path: str, module: str) -> FileFacts:
    if "\x00" in source:
        return FileFacts(path, module, error="file contains NUL bytes; not Python source")
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as err:
        return FileFacts(path, module, error=f"syntax error: {err.msg}",
                         error_line=err.lineno or 1, error_col=(err.offset or 1),
                         syntax_error=True)
    except (RecursionError, MemoryError, ValueError) as err:
        return FileFacts(path, module, error=f"cannot parse: {type(err).__name__}")
    try:
        return Extractor(path, module, source, tree).run()
    except RecursionError:
        return FileFacts(path, module, error="nesting too deep to analyse")


# mtime_ns, size, ctime_ns, inode (stat taken before the read), sha256 of the bytes read
Fingerprint = tuple[int, int, int, int, str]


def extract_file(path: Path, display: str, module: str) -> FileFacts:
    return extract_path(path, display, module)[0]


def extract_path(path: Path, display: str, module: str
                 ) -> tuple[FileFacts, Fingerprint | None]:
    """Read the file once: its facts, and the fingerprint the cache keys them by."""
    try:
        st, data = read_regular(path, MAX_BYTES)
    except TooLarge as err:
        return FileFacts(display, module,
                         error=f"skipped: {err.size // 1024 // 1024} MiB is over the "
                               f"{MAX_BYTES // 1024 // 1024} MiB limit for Python files"), None
    except NotRegular as err:
        return FileFacts(display, module, error=f"skipped: {err}"), None
    except OSError as err:
        return FileFacts(display, module, error=f"cannot read file: {err.strerror or err}"), None
    fingerprint = (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino,
                   hashlib.sha256(data).hexdigest())
    try:
        source = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as err:
        reason = err.reason if isinstance(err, UnicodeDecodeError) else str(err)
        return FileFacts(display, module, error=f"cannot decode file: {reason}"), fingerprint
    return extract_source(source, display, module), fingerprint
