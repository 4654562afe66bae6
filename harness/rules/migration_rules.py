"""missing-migration: an older database plus the project's DDL does not reach today's schema."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.link.model import Model, SqlSite
from harness.python.facts import GuardFact
from harness.rules.base import Rule, RuleDoc
from harness.rules.records import suggest_column
from harness.sql.ddl import DdlConflict, SchemaBuilder, table_name
from harness.sql.parse import parse_sql
from harness.sql.resolve import offset_of
from harness.sql.schema import Schema, fold


def upgrade_statically(model: Model, legacy: Schema) -> Schema:
    """Apply the project's DDL to an existing database with SQLite's semantics: CREATE TABLE
    IF NOT EXISTS leaves an existing table alone; a statement SQLite would reject is skipped
    (a guarded migration that does not apply)."""
    builder = SchemaBuilder(model.dialect, strict=True, schema=legacy)
    for site in model.ddl_sites():
        for statement in parse_sql(site.text.text, model.dialect).statements:
            try:
                builder.apply(statement)
            except DdlConflict:
                continue
    return builder.schema


def check_missing_migration(model: Model) -> Iterator[Diagnostic]:
    for name, legacy in model.legacy:
        upgraded = upgrade_statically(model, legacy)
        for table in model.schema:
            if table.is_view or not table.columns_known:
                continue
            got = upgraded.table(table.name)
            if got is None:
                continue
            where = model.table_locations.get(table.key) or Location(".", 1, 1)
            for column in table.columns:
                if got.column(column.name) is not None:
                    continue
                value_type = {"BOOLEAN": "bool", "INTEGER": "int", "REAL": "float",
                              "TEXT": "str"}.get(column.type.upper())
                fix = suggest_column(table.name, column.name, value_type)
                if column.type and value_type is None:
                    fix = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}"
                if column.default is not None and "DEFAULT" not in fix:
                    fix += f" DEFAULT {column.default}"
                yield MISSING_MIGRATION.diagnostic(
                    where,
                    f"databases like snapshot {name} never get column {table.name}."
                    f"{column.name}: CREATE TABLE IF NOT EXISTS leaves an existing table as it "
                    "is, and no ALTER TABLE adds the column",
                    table=table.name, column=column.name,
                    fix=f"add a migration that runs `{fix}` when the column is missing",
                    related=(Related(where, f"table {table.name} is defined here"),))


def _added_columns(text: str, dialect: str) -> list[tuple[str, str, int | None]]:
    """(table, column, offset) for each ALTER TABLE ... ADD COLUMN in the text."""
    out: list[tuple[str, str, int | None]] = []
    for st in parse_sql(text, dialect).statements:
        alter = st.expression
        if isinstance(alter, exp.Alter):
            table = table_name(alter.this)
            for action in alter.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef) and table:
                    out.append((table, action.name, st.start + (offset_of(action) or 0)))
    return out


def _probe(guard: GuardFact, dialect: str) -> tuple[str, frozenset[str]] | None:
    """(table, columns the guard looks at), or None when that is not plainly known."""
    for st in parse_sql(guard.probe.text, dialect).statements:
        node = st.expression
        if guard.kind == "membership" and isinstance(node, exp.Pragma):
            target = node.this.expression if isinstance(node.this, exp.EQ) else None
            if isinstance(target, (exp.Column, exp.Literal)) and guard.probed_column:
                return target.name, frozenset({fold(guard.probed_column)})
        if guard.kind == "try" and isinstance(node, exp.Select):
            tables = [t.name for t in node.find_all(exp.Table)]
            if len(tables) != 1 or any(isinstance(s, exp.Star) for s in node.selects):
                return None
            cols = frozenset(fold(c.name) for c in node.find_all(exp.Column) if c.name)
            return tables[0], cols
    return None


def check_guard_mismatch(model: Model) -> Iterator[Diagnostic]:
    for facts in model.files:
        for guard in facts.guards:
            probe = _probe(guard, model.dialect)
            if probe is None:
                continue
            table, probed = probe
            for added_table, column, offset in _added_columns(guard.action.text, model.dialect):
                if fold(added_table) != fold(table) or fold(column) in probed:
                    continue
                line, col = guard.action.locate(offset or 0)
                what = ", ".join(sorted(probed))
                yield GUARD_MISMATCH.diagnostic(
                    Location(facts.path, line, col),
                    f"the guard probes {table}.{what} but the migration adds "
                    f"{added_table}.{column}: databases that have {what} never get {column}, "
                    f"and databases that lack {what} but have {column} fail with "
                    "`duplicate column name`",
                    table=added_table, column=column,
                    fix=f"probe {column} itself", related=(Related(
                        Location(facts.path, guard.probe.line, guard.probe.col),
                        "the guard's probe"),))


def check_schema_divergence(model: Model) -> Iterator[Diagnostic]:
    """Replay each function's DDL from an empty database (a fresh install): an unguarded
    ADD COLUMN of a column its own CREATE TABLE already declared fails there."""
    by_function: dict[tuple[str, str], list[SqlSite]] = {}
    for site in model.sites:
        if site.execute is not None and site.execute.function is not None:
            key = (site.path, site.execute.function)
            by_function.setdefault(key, []).append(site)
    for (path, function), sites in by_function.items():
        builder = SchemaBuilder(model.dialect, strict=True)
        created: dict[str, Location] = {}
        for site in sorted(sites, key=lambda s: (s.execute.line, s.execute.col)
                           if s.execute else (0, 0)):
            assert site.execute is not None
            for st in parse_sql(site.text.text, model.dialect).statements:
                node = st.expression
                if isinstance(node, exp.Alter) and not site.execute.guarded:
                    yield from _refused_add(model, site, st.start, node, builder, created,
                                            function)
                if isinstance(node, exp.Create):
                    name = table_name(node.this)
                    if name:
                        created.setdefault(fold(name), Location(path, site.execute.line,
                                                                site.execute.col))
                try:
                    builder.apply(st)
                except DdlConflict:
                    continue


def _refused_add(model: Model, site: SqlSite, start: int, alter: exp.Alter,
                 builder: SchemaBuilder, created: dict[str, Location],
                 function: str) -> Iterator[Diagnostic]:
    name = table_name(alter.this)
    table = builder.schema.table(name) if name else None
    if table is None or table.key not in created:
        return
    for action in alter.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef) and table.column(action.name) is not None:
            line, col = site.text.locate(start + (offset_of(action) or 0))
            yield SCHEMA_DIVERGENCE.diagnostic(
                Location(site.path, line, col),
                f"on a fresh install {function} creates {table.name} with {action.name} and "
                f"then runs this unguarded ADD COLUMN, which fails (`duplicate column name`): "
                "fresh installs and upgraded databases take different paths",
                table=table.name, column=action.name,
                fix=f"run the ALTER only when {action.name} is missing (PRAGMA table_info "
                    "check, or a schema version)",
                related=(Related(created[table.key], f"{table.name} is created here"),))


SCHEMA_DIVERGENCE = Rule(
    "DBH302", "schema-divergence", "a fresh install and an upgraded database take different "
    "paths", Severity.ERROR,
    RuleDoc(
        what="Replaying a function's schema code from an empty database (a fresh install), an "
             "ADD COLUMN without a guard adds a column its own CREATE TABLE already declares.",
        why="The init that upgrades old databases crashes every fresh install (`duplicate "
            "column name`), or, caught and ignored, leaves the two paths to drift apart.",
        example='cur.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, c TEXT)")\n'
                'cur.execute("ALTER TABLE t ADD COLUMN c TEXT")',
        fix="Guard the ALTER (probe the column) or gate it on a schema version.",
    ),
    check_schema_divergence,
)
GUARD_MISMATCH = Rule(
    "DBH303", "migration-guard-mismatch", "a migration guard probes one column and adds another",
    Severity.ERROR,
    RuleDoc(
        what="A migration runs `ALTER TABLE t ADD COLUMN b` behind a guard (a SELECT in a try "
             "block, or `if \"a\" not in` the PRAGMA table_info(t) result) that tests a "
             "different column a.",
        why="The guard never matches the change: old databases that already have a skip the "
            "migration and never get b; others run it twice and fail.",
        example='try:\n    cur.execute("SELECT is_custom FROM models LIMIT 1")\nexcept '
                'sqlite3.OperationalError:\n    cur.execute("ALTER TABLE models ADD COLUMN '
                'is_custom_base_model BOOLEAN")',
        fix="Probe the column the migration adds.",
    ),
    check_guard_mismatch,
)
MISSING_MIGRATION = Rule(
    "DBH301", "missing-migration", "an older database never gets a column the code now uses",
    Severity.ERROR,
    RuleDoc(
        what="Starting from each legacy snapshot's schema and applying the project's DDL the way "
             "SQLite would (CREATE TABLE IF NOT EXISTS is a no-op on an existing table, ADD "
             "COLUMN adds), some column of today's schema is never created.",
        why="Fresh installs work, and every existing user's database breaks with `no such "
            "column` after the upgrade: the third trap of the seed bug.",
        example="CREATE TABLE IF NOT EXISTS fine_tuned_models (..., is_custom_base_model "
                "BOOLEAN DEFAULT 0)\n# and no ALTER TABLE ... ADD COLUMN is_custom_base_model",
        fix="Add a guarded `ALTER TABLE ... ADD COLUMN` (or a versioned migration) that runs on "
            "existing databases.",
    ),
    check_missing_migration,
)

RULES = (MISSING_MIGRATION, SCHEMA_DIVERGENCE, GUARD_MISMATCH)
