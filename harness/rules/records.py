"""The headline rules: a record's keys against its writer and its table."""

from __future__ import annotations

from collections.abc import Iterator

from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.link.model import Binding, Model
from harness.link.writers import KEYED
from harness.rules.base import Rule, RuleDoc
from harness.sql.schema import Table, fold

SQL_TYPES = {"bool": ("BOOLEAN", "0"), "int": ("INTEGER", None), "float": ("REAL", None),
             "str": ("TEXT", None), "bytes": ("BLOB", None)}


def _related(model: Model, b: Binding) -> tuple[Related, ...]:
    w = b.writer
    out = [Related(Location(w.path, w.line, w.col),
                   f"{w.label} writes {b.record.label} to {b.table} here")]
    where = model.table_locations.get(fold(b.table))
    if where is not None:
        out.append(Related(where, f"table {b.table} is defined here"))
    if b.call != Location(b.record.path, b.record.line, b.record.col):
        out.append(Related(b.call, "the record is handed on here"))
    return tuple(out)


def _guess_type(key: str) -> str | None:
    """When the value's type is not obvious, the key's name usually is (a suggestion only)."""
    low = key.lower()
    if low.startswith(("is_", "has_", "can_", "should_", "enable", "allow")):
        return "bool"
    if low.endswith(("_id", "_count", "_total", "_num", "_size")) or low in ("id", "count"):
        return "int"
    if low.endswith(("_at", "_date", "_time", "_name", "_path", "_url", "description", "_text")):
        return "str"
    return None


def suggest_column(table: str, key: str, value_type: str | None, dialect: str) -> str:
    """The ``ALTER TABLE ... ADD COLUMN`` that gives ``table`` a column for ``key``, typed from
    the value (or the key's name); where no type follows and the dialect requires one
    (PostgreSQL, MySQL: SQLite alone accepts a column without a type), what is known instead."""
    sql_type, default = SQL_TYPES.get(value_type or _guess_type(key) or "", ("", None))
    if not sql_type and dialect != "sqlite":
        return f"add a column {key} to {table} (its type does not follow from the code)"
    parts = [f"ALTER TABLE {table} ADD COLUMN {key}"]
    if sql_type:
        parts.append(sql_type)
    if default is not None:
        parts.append(f"DEFAULT {default}")
    return " ".join(parts)


def _table(model: Model, b: Binding) -> Table | None:
    table = model.schema.table(b.table)
    return table if table is not None and table.columns_known else None


def _consumed(model: Model) -> dict[tuple[str, int, int], frozenset[str]]:
    """Per record (path, line, col): the keys some writer it reaches reads (a named
    placeholder, ``p['k']``), folded. One dict is often the parameter mapping of several
    statements (``INSERT ...; UPDATE ...`` in one execute, or two executes sharing ``args``):
    a key one statement ignores and another reads is a parameter, not a value dropped."""
    out: dict[tuple[str, int, int], set[str]] = {}
    for b in model.bindings:
        if b.writer.mode != KEYED:
            out.setdefault((b.record.path, b.record.line, b.record.col), set()).update(
                fold(r.key) for r in b.writer.reads)
    return {k: frozenset(v) for k, v in out.items()}


def check_key_without_column(model: Model) -> Iterator[Diagnostic]:
    consumed = _consumed(model)
    for b in model.bindings:
        table = _table(model, b)
        if table is None:
            continue
        read_somewhere = consumed.get((b.record.path, b.record.line, b.record.col), frozenset())
        for key in b.record.keys:
            if table.has_column(key.name):
                continue
            if b.writer.mode != KEYED and b.writer.reads_key(key.name) is not None:
                continue  # the writer maps it to a column; unknown-column judges that column
            if b.writer.mode != KEYED and fold(key.name) in read_somewhere:
                continue  # another statement the same dict feeds reads it
            if b.writer.mode != KEYED and fold(key.name) in model.historical.get(
                    table.key, frozenset()):
                continue  # a column the schema's own history dropped: a stale key, no loss
            where = model.table_locations.get(table.key)
            fix = suggest_column(table.name, key.name, key.value_type, model.dialect)
            fix += (f" — and add the column to the CREATE TABLE at {where.path}:{where.line}, "
                    "with a migration for existing databases") if where else ""
            if b.writer.mode == KEYED:
                effect = f"{b.writer.label} inserts every key as a column, so this fails with " \
                         "`no such column`"
            else:
                effect = f"{b.writer.label} drops it silently"
            yield KEY_WITHOUT_COLUMN.diagnostic(
                Location(b.record.path, key.line, key.col),
                f"key '{key.name}' of {b.record.label} has no column in table {table.name}; "
                f"{effect}",
                table=table.name, column=key.name, key=key.name, fix=fix,
                related=_related(model, b))


def check_key_not_written(model: Model) -> Iterator[Diagnostic]:
    for b in model.bindings:
        table = _table(model, b)
        if table is None or b.writer.mode == KEYED:
            continue
        for key in b.record.keys:
            col = table.column(key.name)
            if col is None or b.writer.reads_key(key.name) is not None:
                continue
            yield KEY_NOT_WRITTEN.diagnostic(
                Location(b.record.path, key.line, key.col),
                f"key '{key.name}' of {b.record.label} is never written: table {table.name} has "
                f"column {col.name}, but {b.writer.label} does not "
                f"{b.writer.kind.upper()} it",
                table=table.name, column=col.name, key=key.name,
                fix=f"add {col.name} to the {b.writer.kind.upper()} in {b.writer.sql_function} "
                    f"({b.writer.path}:{b.writer.line}), or stop putting the key in the record",
                related=_related(model, b))


def check_missing_key(model: Model) -> Iterator[Diagnostic]:
    for b in model.bindings:
        if not b.record.closed:
            continue
        for read in b.writer.reads:
            if not read.required or b.record.key(read.key) is not None:
                continue
            how = (f"{b.writer.param}['{read.key}']" if b.writer.mode != "named"
                   else f"placeholder :{read.key}")
            yield MISSING_KEY.diagnostic(
                Location(b.record.path, b.record.line, b.record.col),
                f"{b.record.label} has no key '{read.key}', but {b.writer.label} reads "
                f"{how} (KeyError / missing binding at run time)",
                table=b.table, column=read.column or None, key=read.key,
                fix=f"add '{read.key}' to the record, or read it with .get() in the writer",
                related=_related(model, b))


KEY_WITHOUT_COLUMN = Rule(
    "DBH201", "key-without-column", "a record key has no column in the table it is written to",
    Severity.ERROR,
    RuleDoc(
        what="A dict the code builds reaches a function that writes it to table T (directly or "
             "through any number of pass-through calls, across modules), and one of its keys "
             "has no column in T.",
        why="The value is silently dropped (explicit column lists) or the write fails with "
            "`no such column` (generic helpers that insert every key). This is the ModelForge "
            "bug: `is_custom_base_model` was lost for months.",
        example='model_data = {"model_name": n, "is_custom_base_model": flag}\n'
                "db_manager.add_model(model_data)  # fine_tuned_models has no such column",
        fix="Add the column to the CREATE TABLE, add it to the writer's INSERT, and add a "
            "migration (ALTER TABLE ... ADD COLUMN) so existing databases get it too.",
    ),
    check_key_without_column,
)
KEY_NOT_WRITTEN = Rule(
    "DBH202", "key-not-written", "the table has the column, but the writer never writes the key",
    Severity.ERROR,
    RuleDoc(
        what="The table has a column for a record key, but the writer's INSERT/UPDATE never "
             "reads that key.",
        why="The half-fixed state of the seed bug: the column exists, yet every row gets its "
            "DEFAULT instead of the value the router computed.",
        example="CREATE TABLE t (..., is_custom_base_model BOOLEAN DEFAULT 0)\n"
                'INSERT INTO t (model_name) VALUES (?)  # with (d["model_name"],)',
        fix="Add the column and the value to the writer's statement.",
    ),
    check_key_not_written,
)
MISSING_KEY = Rule(
    "DBH203", "missing-key", "the writer reads a key the record does not have", Severity.ERROR,
    RuleDoc(
        what="The writer reads d['k'] (no default) or uses placeholder :k, and a record that "
             "reaches it, with all its keys known, lacks k.",
        why="KeyError, or `You did not supply a value for binding parameter :k`, at run time.",
        example='add_model({"model_name": n})  # add_model reads model_data["model_path"]',
        fix="Add the key to the record, or make the writer read it with .get(k, default).",
    ),
    check_missing_key,
)

RULES = (KEY_WITHOUT_COLUMN, KEY_NOT_WRITTEN, MISSING_KEY)
