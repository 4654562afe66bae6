"""missing-migration: an older database plus the project's DDL does not reach today's schema."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.link.model import Model
from harness.link.simulate import Path, Replay, replay_all
from harness.python.facts import Cond, GuardFact
from harness.rules.advice import add_column_from_declared
from harness.rules.base import Rule, RuleDoc
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
                yield MISSING_MIGRATION.diagnostic(
                    where,
                    f"databases like snapshot {name} never get column {table.name}."
                    f"{column.name}: CREATE TABLE IF NOT EXISTS leaves an existing table as it "
                    "is, and no ALTER TABLE adds the column",
                    table=table.name, column=column.name,
                    fix="add a migration that " + add_column_from_declared(
                        table.name, column, model.dialect),
                    related=(Related(where, f"table {table.name} is defined here"),))


def _added_columns(text: str, dialect: str) -> list[tuple[str, str, int | None]]:
    """(table, column, offset) for each ALTER TABLE ... ADD COLUMN in the text."""
    out: list[tuple[str, str, int | None]] = []
    for st in parse_sql(text, dialect).statements:
        alter = st.expression if st.category == "alter" else None
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


def _batches(guards: tuple[GuardFact, ...], dialect: str) -> frozenset[tuple[int, int]]:
    """The guard blocks that add one of the columns they probe: a batch migration (probe
    ``score``, add ``score`` and ``source`` together) is one change, judged by its probe."""
    out: set[tuple[int, int]] = set()
    for guard in guards:
        probe = _probe(guard, dialect)
        if probe is None or guard.block == (0, 0):
            continue
        table, probed = probe
        if any(fold(t) == fold(table) and fold(c) in probed
               for t, c, _ in _added_columns(guard.action.text, dialect)):
            out.add(guard.block)
    return frozenset(out)


def check_guard_mismatch(model: Model) -> Iterator[Diagnostic]:
    for facts in model.files:
        batches = _batches(facts.guards, model.dialect)
        for guard in facts.guards:
            probe = _probe(guard, model.dialect)
            if probe is None or guard.block in batches:
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
    """Replay the schema code from an empty database and from the oldest one it upgrades;
    report where the two end differently, or where a fresh install fails."""
    for _root, replay in replay_all(model):
        if isinstance(replay, Replay):
            yield from _fresh_failure(replay)
            if replay.fresh.failure is None and replay.upgraded.failure is None:
                yield from _parted(replay)


def _guard_words(guards: tuple[tuple[Cond, bool], ...]) -> str:
    shown = [f"`{c.source}`" for c, _ in guards if c.kind == "version"]
    return " and ".join(shown)


def _fresh_failure(replay: Replay) -> Iterator[Diagnostic]:
    failure = replay.fresh.failure
    if failure is None or fold(failure.table) not in replay.fresh.created:
        return  # a table some other code creates first: ordering is not known here
    if any(c.kind == "column" for c, _ in failure.guards):
        return  # a probe guard that tests the wrong column: migration-guard-mismatch
    if not failure.message.startswith(("duplicate column name", "table")):
        return
    guard = _guard_words(failure.guards)
    why = (f"{guard} holds on a fresh install (user_version starts at 0)" if guard
           else "nothing guards it")
    created = replay.fresh.created[fold(failure.table)]
    yield SCHEMA_DIVERGENCE.diagnostic(
        failure.where,
        f"a fresh install fails here (`{failure.message}`): {replay.program.function} has "
        f"just created {failure.table} with that column, and {why}; fresh installs and "
        "upgraded databases take different paths",
        table=failure.table, column=failure.column,
        fix="run this only when the column is missing (PRAGMA table_info check), or stamp "
            "the schema version when the fresh install creates the table",
        related=(Related(created, f"{failure.table} is created here on a fresh install"),))


def _parted(replay: Replay) -> Iterator[Diagnostic]:
    fresh, upgraded = replay.fresh, replay.upgraded
    for table in fresh.builder.schema:
        other = upgraded.builder.schema.table(table.name)
        if other is None or table.is_view:
            continue
        have = {c.key: c.name for c in table.columns}
        got = {c.key: c.name for c in other.columns}
        for key in sorted(set(got) - set(have)):
            yield from _lacking(replay, fresh, upgraded, table.name, got[key],
                                "fresh installs end", f"{replay.upgraded_from} have it")
        for key in sorted(set(have) - set(got)):
            yield from _lacking(replay, upgraded, fresh, table.name, have[key],
                                f"{replay.upgraded_from} end", "fresh installs have it")


def _lacking(replay: Replay, lacking: Path, having: Path, table: str, column: str,
             who: str, contrast: str) -> Iterator[Diagnostic]:
    key = (fold(table), fold(column))
    added = having.added.get(key)
    skipped = lacking.skipped.get(key)
    related = [Related(added, f"the migration that adds {column}")] if added else []
    created = lacking.created.get(fold(table))
    if created is not None:
        related.append(Related(created, f"{table} is created here without {column}"))
    if skipped is None or added is None:
        return  # no guard to name: say nothing rather than guess
    cond = skipped.cond
    if cond is None:
        because = "this return ends the schema code before the migration that adds it runs"
    elif cond.kind == "column" and fold(cond.column) != fold(column):
        return  # migration-guard-mismatch says it better
    else:
        state = "true" if skipped.outcome else "false"
        at = ""
        if cond.kind == "version":
            local = cond.var if cond.var and not cond.var.startswith("$") else "user_version"
            at = f" ({local} is {skipped.version} at that point"
            stamp = lacking.stamped_at
            if stamp is not None:
                at += f"; user_version is stamped {lacking.version} at line {stamp.line}"
            at += ")"
        because = f"`{cond.source}` is {state} there{at}, so the migration that adds it never runs"
    where = skipped.where
    yield SCHEMA_DIVERGENCE.diagnostic(
        where,
        f"{who} without {table}.{column} but {contrast}: {because}",
        table=table, column=column,
        fix=f"declare {column} in the CREATE TABLE a fresh install runs, or let every "
            "database run the migration (stamp the version the created schema really has)",
        related=tuple(related))


SCHEMA_DIVERGENCE = Rule(
    "DBH302", "schema-divergence", "a fresh install and an upgraded database take different "
    "paths", Severity.ERROR,
    RuleDoc(
        what="The project's schema code, replayed statically from an empty database (a fresh "
             "install) and from the oldest database it upgrades (its CREATE TABLEs without the "
             "columns its migrations add, at the user_version they start from), with its "
             "guards evaluated (`PRAGMA user_version` comparisons, `PRAGMA table_info` "
             "membership, `sqlite_master` probes, SELECT-in-try probes, IF NOT EXISTS), "
             "ends with different columns, or fails on a fresh install. The finding names the "
             "guard responsible.",
        why="Fresh installs and upgraded databases then run different schemas: the code "
            "breaks for one group only (a fresh-install branch that stamps the latest "
            "version but creates an older table; an ADD COLUMN that crashes fresh installs).",
        example='version = conn.execute("PRAGMA user_version").fetchone()[0]\n'
                'if version == 0:  # fresh install: the latest version, but an old CREATE\n'
                '    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")\n'
                '    conn.execute("PRAGMA user_version = 2")\n'
                '    return\n'
                'if version < 2:\n'
                '    conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")',
        fix="Make the fresh install's CREATE TABLE declare what the migrations add (or let it "
            "run them); guard an ADD COLUMN that a fresh install also reaches (probe the "
            "column, or gate it on the version). `dbharness contracts` shows each replay.",
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
