"""Read ``.sql`` files as Text whose offsets map to their own lines and columns."""

from __future__ import annotations

from pathlib import Path

from harness.python.positions import Run
from harness.python.text import Text
from harness.regular import NotRegular, TooLarge, read_regular
from harness.sql.scripts import blank_client_commands

MAX_BYTES = 8 * 1024 * 1024


def text_of_sql(source: str) -> Text:
    """The file's SQL with client meta-commands (psql ``\\i``, sqlite3 ``.read``) blanked,
    each character at its own line and column."""
    runs = []
    offset = 0
    for number, line in enumerate(source.split("\n"), 1):
        runs.append(Run(offset, len(line) + 1, number, 1))
        offset += len(line) + 1
    return Text(blank_client_commands(source), tuple(runs), (), 1, 1)


def read_sql_file(path: Path) -> Text | str:
    """The file as Text, or a one-line reason it could not be read."""
    try:
        data = read_regular(path, MAX_BYTES)[1]
    except TooLarge:
        return f"skipped: larger than {MAX_BYTES // 1024 // 1024} MiB"
    except NotRegular as err:
        return f"skipped: {err}"
    except OSError as err:
        return f"cannot read file: {err.strerror or err}"
    if b"\x00" in data:
        return "file contains NUL bytes; not SQL text"
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return f"cannot decode file as UTF-8: {err.reason} at byte {err.start}"
    return text_of_sql(source)
