"""Formatters: diagnostics to text, JSON, SARIF 2.1.0 and GitHub annotations."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import harness
from harness.diagnostics import Diagnostic, Severity
from harness.escape import printable
from harness.paths import inside_root
from harness.regular import read_regular
from harness.terminal import Colour, paint

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _source_line(root: Path, path: str, line: int) -> str | None:
    """Line ``line`` of the file, read only when it is a regular file inside the root (a
    note about a refused symlink must not show the target's text)."""
    full = root / path
    if not inside_root(full, root):
        return None
    try:
        data = read_regular(full, SOURCE_LIMIT)[1]
    except OSError:
        return None
    lines = data.decode("utf-8", errors="replace").split("\n")
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None


SOURCE_LIMIT = 8 * 1024 * 1024

_SEVERITY_COLOUR = {Severity.ERROR: Colour.RED, Severity.WARNING: Colour.YELLOW,
                    Severity.NOTE: Colour.CYAN}


def format_text(diagnostics: Sequence[Diagnostic], root: Path, show_source: bool,
                colour: bool = False) -> str:
    """One line per finding, ``path:line:col: CODE [slug] message``, then the source line and
    a caret (``show_source``), the fix and related notes. Every piece of text that came from
    a file name or the code is escaped (harness.escape.printable); ``colour`` adds ANSI SGR."""
    out = []
    for d in diagnostics:
        where = paint(f"{printable(d.path)}:{d.line}:{d.col}:", Colour.BOLD, colour)
        what = paint(f"{d.code} [{d.rule}]", _SEVERITY_COLOUR[d.severity], colour)
        out.append(f"{where} {what} {printable(d.message)}")
        if show_source:
            source = _source_line(root, d.path, d.line)
            if source is not None and len(source) < 400:
                shown = source.expandtabs(4)
                out.append("    " + printable(shown))
                if shown == printable(shown):  # the caret lines up only with unescaped text
                    out.append("    " + " " * max(d.col - 1, 0) + paint("^", Colour.RED, colour))
        if d.fix:
            out.append(f"    {paint('fix:', Colour.DIM, colour)} {printable(d.fix)}")
        for rel in d.related:
            out.append(f"    {printable(rel.location.path)}:{rel.location.line}:"
                       f"{rel.location.col}: note: {printable(rel.message)}")
    return "\n".join(out)


def summary(diagnostics: Sequence[Diagnostic], files: int) -> str:
    n = len(diagnostics)
    if not n:
        return f"dbharness: no problems in {files} file{'s' if files != 1 else ''}"
    return f"dbharness: {n} problem{'s' if n != 1 else ''} in {files} file" \
           f"{'s' if files != 1 else ''}"


def as_dict(d: Diagnostic) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": d.code, "rule": d.rule, "severity": d.severity.value, "path": d.path,
        "line": d.line, "col": d.col, "message": d.message,
    }
    for key in ("table", "column", "key", "fix"):
        value = getattr(d, key)
        if value is not None:
            data[key] = value
    if d.related:
        data["related"] = [
            {"path": r.location.path, "line": r.location.line, "col": r.location.col,
             "message": r.message} for r in d.related
        ]
    return data


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2)


def _level(severity: Severity) -> str:
    return {"error": "error", "warning": "warning", "note": "note"}[severity.value]


def format_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    from harness.rules import all_rules

    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index.get(d.code, 0),
            "level": _level(d.severity),
            "message": {"text": d.message + (f" Fix: {d.fix}" if d.fix else "")},
            "locations": [_location(d.path, d.line, d.col)],
            "partialFingerprints": {"dbharness/v1": d.fingerprint()},
        }
        if d.related:
            result["relatedLocations"] = [
                {**_location(r.location.path, r.location.line, r.location.col), "id": i,
                 "message": {"text": r.message}} for i, r in enumerate(d.related)
            ]
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dbharness",
                "version": harness.__version__,
                "informationUri": "https://pypi.org/project/dbharness/",
                "rules": [{
                    "id": r.code,
                    "name": r.slug,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.doc.what},
                    "help": {"text": f"{r.doc.why}\n\nFix: {r.doc.fix}",
                             "markdown": rule_markdown(r.slug) or r.doc.fix},
                    "defaultConfiguration": {"level": _level(r.severity)},
                } for r in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2)


def artifact_uri(path: str) -> str:
    """A relative URI reference for a posix path (RFC 3986 percent-encoding of its bytes; a
    non-UTF-8 name keeps its own bytes through surrogateescape)."""
    return quote(os.fsencode(path), safe="/")


def _location(path: str, line: int, col: int) -> dict[str, Any]:
    return {"physicalLocation": {
        "artifactLocation": {"uri": artifact_uri(path)},
        "region": {"startLine": max(line, 1), "startColumn": max(col, 1)},
    }}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands (``::error file=...::message``), one per finding;
    text is escaped (harness.escape.printable) before the workflow-command encoding."""
    out = []
    for d in diagnostics:
        level = "error" if d.severity == Severity.ERROR else (
            "warning" if d.severity == Severity.WARNING else "notice")
        message = printable(d.message) + (f"\nfix: {printable(d.fix)}" if d.fix else "")
        out.append(
            f"::{level} file={_escape_property(printable(d.path))},line={d.line},col={d.col},"
            f"title={_escape_property(f'{d.code} {d.rule}')}::{_escape_data(message)}"
        )
    return "\n".join(out)


def rule_markdown(name: str) -> str | None:
    from harness.rules import find_rule

    rule = find_rule(name)
    if rule is None:
        return None
    return (
        f"# {rule.code} {rule.slug}\n\n{rule.summary}.\n\n"
        f"## What it does\n\n{rule.doc.what}\n\n"
        f"## Why is this bad?\n\n{rule.doc.why}\n\n"
        f"## Example\n\n```\n{rule.doc.example}\n```\n\n"
        f"## How to fix\n\n{rule.doc.fix}\n\n"
        f"Suppress one line with `# dbharness: ignore[{rule.slug}]`.\n"
    )
