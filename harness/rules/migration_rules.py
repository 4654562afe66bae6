"""missing-migration: an older database plus the project's DDL does not reach today's schema."""

from __future__ import annotations

from collections.abc import Iterator

from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.link.model import Model
from harness.rules.base import Rule, RuleDoc
from harness.rules.records import suggest_column
from harness.sql.ddl import DdlConflict, SchemaBuilder
from harness.sql.parse import parse_sql
from harness.sql.schema import Schema


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

RULES = (MISSING_MIGRATION,)
