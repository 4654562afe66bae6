"""Generate a synthetic project of realistic shape, reproducible by seed.

    .venv/bin/python benchmarks/generate_project.py OUT_DIR --lines 500000 [--seed 7]

Shape (per "service" package): DDL in a schema module and a migrations module, a repository
class with writers (explicit column lists, named placeholders, a generic insert helper), a
manager object holding repositories, routers that build records and hand them on, and a large
amount of ordinary code with no SQL at all (services, models, utils, tests) — most lines of a
real application never touch the database. About one record in forty carries a stray key, so
the check has real findings to report.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = ("name", "title", "status", "owner", "email", "score", "region", "label", "kind",
         "price", "amount", "comment", "source", "target", "version", "weight", "color",
         "rating", "slug", "path", "notes", "flag", "count", "level", "stage")
TYPES = ("TEXT", "INTEGER", "REAL", "BOOLEAN", "TEXT NOT NULL DEFAULT ''")


def _table(rng: random.Random, svc: int, t: int) -> tuple[str, list[tuple[str, str]]]:
    cols = rng.sample(WORDS, rng.randint(4, 9))
    return f"s{svc}_t{t}", [(c, rng.choice(TYPES)) for c in cols]


def _schema_module(tables: list[tuple[str, list[tuple[str, str]]]]) -> str:
    out = ['"""Schema of this service."""\n', "SCHEMA = ["]
    for name, cols in tables:
        body = ",\n        ".join(f"{c} {t}" for c, t in cols[:-1])
        out.append(f'    """CREATE TABLE IF NOT EXISTS {name} (\n        id INTEGER PRIMARY KEY,'
                   f'\n        {body}\n    )""",')
    out.append("]\n")
    return "\n".join(out)


def _migrations_module(tables: list[tuple[str, list[tuple[str, str]]]]) -> str:
    out = ['"""Migrations for databases created by older releases."""\n', "import sqlite3\n\n",
           "def migrate(conn: sqlite3.Connection) -> None:",
           "    for statement in SCHEMA:", "        conn.execute(statement)"]
    for name, cols in tables:
        col, typ = cols[-1]
        out += [f'    cols = [r[1] for r in conn.execute("PRAGMA table_info({name})")]',
                f'    if "{col}" not in cols:',
                f'        conn.execute("ALTER TABLE {name} ADD COLUMN {col} {typ}")']
    out.append("    conn.commit()\n")
    return "from .schema import SCHEMA\n" + "\n".join(out)


def _repo_module(svc: int, tables: list[tuple[str, list[tuple[str, str]]]]) -> str:
    out = ['"""Data access for this service."""\n', "import sqlite3", "from typing import Any\n",
           f"class Repo{svc}:",
           "    def __init__(self, path: str) -> None:",
           "        self.conn = sqlite3.connect(path)\n",
           "    def insert(self, table: str, data: dict[str, Any]) -> None:",
           '        cols = ", ".join(data.keys())',
           '        marks = ", ".join("?" for _ in data)',
           '        self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})",',
           "                          tuple(data.values()))\n"]
    for i, (name, cols) in enumerate(tables):
        names = [c for c, _ in cols]
        if i % 2 == 0:
            values = ", ".join(f'rec["{c}"]' if j == 0 else f'rec.get("{c}")'
                               for j, c in enumerate(names))
            out += [f"    def add_{name}(self, rec: dict[str, Any]) -> None:",
                    "        self.conn.execute(",
                    f'            "INSERT INTO {name} ({", ".join(names)}) "',
                    f'            "VALUES ({", ".join("?" for _ in names)})",',
                    f"            ({values}),", "        )", "        self.conn.commit()\n"]
        else:
            out += [f"    def add_{name}(self, rec: dict[str, Any]) -> None:",
                    f'        self.conn.execute("INSERT INTO {name} ({", ".join(names)}) VALUES '
                    f'({", ".join(":" + c for c in names)})", rec)',
                    "        self.conn.commit()\n"]
        out += [f"    def list_{name}(self, limit: int = 50) -> list[Any]:",
                f'        return self.conn.execute("SELECT id, {", ".join(names)} FROM {name} '
                'ORDER BY id DESC LIMIT ?", (limit,)).fetchall()\n']
    return "\n".join(out)


def _router_module(rng: random.Random, svc: int, r: int,
                   tables: list[tuple[str, list[tuple[str, str]]]]) -> str:
    out = ['"""HTTP handlers."""\n', "from typing import Any\n",
           "from ..state import manager\n\n"]
    for h in range(rng.randint(3, 6)):
        name, cols = rng.choice(tables)
        keys = [c for c, _ in cols]
        if rng.random() < 0.025:
            keys.append("stray_" + rng.choice(WORDS))
        items = ",\n        ".join(f'"{k}": payload.get("{k}")' for k in keys)
        out.append(f"def handle_{r}_{h}(payload: dict[str, Any]) -> dict[str, Any]:")
        out.append(f"    record = {{\n        {items},\n    }}")
        out.append(f'    if payload.get("verbose"):\n        record["{keys[0]}"] = '
                   f'str(record["{keys[0]}"]).strip()')
        if rng.random() < 0.3:
            out.append(f'    manager.repo.insert("{name}", record)')
        else:
            out.append(f"    manager.repo.add_{name}(record)")
        out.append('    return {"ok": True, "id": payload.get("id")}\n\n')
    return "\n".join(out)


def _plain_module(rng: random.Random, n: int) -> str:
    """Ordinary application code: classes, loops, comprehensions, dicts that never reach SQL."""
    out = ['"""Business logic with no database access."""\n', "import json", "import logging",
           "from dataclasses import dataclass\n", "log = logging.getLogger(__name__)\n"]
    for i in range(n):
        w = rng.choice(WORDS)
        out += [
            "@dataclass", f"class Model{i}:", f"    {w}: str", "    value: float = 0.0",
            "    tags: tuple[str, ...] = ()\n",
            "    def to_dict(self) -> dict[str, object]:",
            f'        return {{"{w}": self.{w}, "value": self.value, "tags": list(self.tags)}}\n',
            f"def compute_{i}(items: list[Model{i}], factor: float = 1.5) -> dict[str, float]:",
            "    totals: dict[str, float] = {}",
            "    for item in items:",
            f"        key = item.{w}.lower().strip()",
            "        totals[key] = totals.get(key, 0.0) + item.value * factor",
            "        if item.value > 100:",
            '            log.info("large %s: %s", key, json.dumps(item.to_dict()))',
            "    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)",
            f'    return {{k: round(v, 2) for k, v in ranked[:{rng.randint(5, 50)}]}}\n\n',
        ]
    return "\n".join(out)


def generate(out: Path, lines: int, seed: int) -> int:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text('[tool.dbharness]\npaths = ["app"]\n', encoding="utf-8")
    app = out / "app"
    app.mkdir(exist_ok=True)
    (app / "__init__.py").write_text("", encoding="utf-8")
    total, svc = 0, 0
    while total < lines:
        pkg = app / f"svc{svc}"
        (pkg / "db").mkdir(parents=True, exist_ok=True)
        (pkg / "routers").mkdir(exist_ok=True)
        (pkg / "logic").mkdir(exist_ok=True)
        tables = [_table(rng, svc, t) for t in range(rng.randint(3, 8))]
        files = {
            pkg / "__init__.py": "",
            pkg / "db" / "__init__.py": "",
            pkg / "db" / "schema.py": _schema_module(tables),
            pkg / "db" / "migrations.py": _migrations_module(tables),
            pkg / "db" / "repo.py": _repo_module(svc, tables),
            pkg / "state.py": f"from .db.repo import Repo{svc}\n\n\nclass Manager:\n"
                              f"    def __init__(self) -> None:\n"
                              f'        self.repo = Repo{svc}("app.db")\n\n\n'
                              "manager = Manager()\n",
            pkg / "routers" / "__init__.py": "",
            pkg / "logic" / "__init__.py": "",
        }
        for r in range(rng.randint(2, 5)):
            files[pkg / "routers" / f"r{r}.py"] = _router_module(rng, svc, r, tables)
        for p in range(rng.randint(6, 14)):
            files[pkg / "logic" / f"m{p}.py"] = _plain_module(rng, rng.randint(10, 40))
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
            total += text.count("\n")
        svc += 1
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    total = generate(args.out, args.lines, args.seed)
    print(f"wrote {total:,} lines to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
