"""Rules on SQL text against the schema: syntax, tables, columns, arity, parameters, NOT NULL."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from harness.diagnostics import Diagnostic, Related, Severity
from harness.dialects import DIALECTS
from harness.link.model import Model, SqlSite
from harness.python.calls import Convention
from harness.python.facts import ConstArg, SeqArg, SpreadArg, TextArg, ValuesArg
from harness.python.text import PARAM
from harness.rules.advice import did_you_mean
from harness.rules.base import Rule, RuleDoc
from harness.rules.sql_sites import ParsedSite, parsed_sites
from harness.sql.history import (
    HistoryReplay,
    is_history_module,
    is_version_upgrade,
    replay_history,
)
from harness.sql.memo import columns_missing, tables_named, written
from harness.sql.oracle import database_accepts, database_rejects, trailing_comma
from harness.sql.parse import DML, Statement, parse_sql, tokenize
from harness.sql.placeholders import (
    FORMAT,
    PYFORMAT,
    QMARK,
    Placeholders,
    quoted_format_placeholder,
)
from harness.sql.probes import master_probe
from harness.sql.schema import Schema, fold, qualified_name

VENDOR_STATEMENTS = ("SET ", "SHOW ", "USE ", "LOCK ", "GRANT ", "REVOKE ", "DECLARE ", "LISTEN ",
                     "NOTIFY ", "COPY ")


_REPLAYS: dict[int, tuple[Model, HistoryReplay]] = {}


def schema_at(model: Model, ps: ParsedSite, st: Statement) -> Schema:
    """The schema ``st`` runs against: in a ``.sql`` history script (update1.sql, a
    migrations.sql) or a Python migrations module (its SQL in text order, one step after
    another), the schema at that step (harness/sql/history.py); else the project's."""
    python = ps.site.module or ps.site.execute is not None or not ps.site.path.endswith(".sql")
    if python and ps.site.path not in _history_modules(model):
        # with the tables its own function and script made (TEMP, RENAME)
        return model.schema_at(ps.site, st.start)
    found = _REPLAYS.get(id(model))
    if found is None or found[0] is not model:
        scripts = [(s.path, parse_sql(s.text.text, model.dialect).statements)
                   for s in model.sites if not s.module and s.execute is None
                   and s.path.endswith(".sql")]
        scripts += [(step, parse_sql(s.text.text, model.dialect).statements)
                    for s, step in _module_steps(model).items()]
        found = (model, replay_history(scripts, model.schema, model.dialect))
        _REPLAYS.clear()
        _REPLAYS[id(model)] = found
    step = found[1].at(_module_steps(model).get(ps.site, "") if python else ps.site.path,
                       st.start)
    if step is None:
        return model.schema_at(ps.site, st.start) if python else model.schema
    return step


_STEPS: dict[int, tuple[Model, dict[SqlSite, str]]] = {}
_HISTORY: dict[int, tuple[Model, frozenset[str]]] = {}


def _history_modules(model: Model) -> frozenset[str]:
    """The Python modules whose SQL is a history of steps: named as migrations
    (``is_history_module``), or upgrade programs by what their SQL does
    (``is_version_upgrade``: stamps a version column and alters tables)."""
    found = _HISTORY.get(id(model))
    if found is not None and found[0] is model:
        return found[1]
    by_path: dict[str, list[Statement]] = {}
    for site in model.sites:
        if site.path.endswith(".py") and not site.text.holes:
            by_path.setdefault(site.path, []).extend(
                parse_sql(site.text.text, model.dialect).statements)
    out = frozenset(p for p, sts in by_path.items()
                    if is_history_module(p) or is_version_upgrade(sts))
    _HISTORY.clear()
    _HISTORY[id(model)] = (model, out)
    return out



def _module_steps(model: Model) -> dict[SqlSite, str]:
    """Each SQL string of a Python migrations module as one history script, named so that
    the module's strings form one chain in text order (``m.py/00000012-00000005-0.sql``)."""
    found = _STEPS.get(id(model))
    if found is not None and found[0] is model:
        return found[1]
    out: dict[SqlSite, str] = {}
    seen: dict[tuple[str, int, int, str], str] = {}
    counts: dict[tuple[str, int, int], int] = {}
    for site in model.sites:
        if site.path not in _history_modules(model):
            continue
        key = (site.path, site.text.line, site.text.col, site.text.text)
        if key not in seen:
            place = key[:3]
            n = counts[place] = counts.get(place, -1) + 1
            seen[key] = f"{site.path}/{site.text.line:08d}-{site.text.col:08d}-{n}.sql"
        out[site] = seen[key]
    _STEPS.clear()
    _STEPS[id(model)] = (model, out)
    return out


def _related_table(model: Model, table: str | None) -> tuple[Related, ...]:
    if table is None:
        return ()
    where = model.table_locations.get(fold(table))
    return (Related(where, f"table {table} is defined here"),) if where else ()


def check_input_size(model: Model) -> Iterator[Diagnostic]:
    for ps in parsed_sites(model):
        if ps.parsed.skipped:
            yield INPUT_SKIPPED.diagnostic(ps.location(None, 0),
                                           f"SQL not analysed: {ps.parsed.skipped}")


def check_syntax(model: Model) -> Iterator[Diagnostic]:
    for ps in parsed_sites(model, executed_only=True):
        if ps.site.text.holes:
            continue  # a computed part could be what does not parse
        for err in ps.parsed.errors:
            if err.statement and database_accepts(err.statement, model.dialect):
                continue  # sqlglot's gap, not the user's error: the database parses it
            if err.statement and _other_dialect_parses(err.statement, model.dialect):
                continue  # written for another database (a multi-backend project)
            if err.statement.lstrip()[:8].upper().startswith(VENDOR_STATEMENTS):
                continue  # session/admin statements differ per server: not judged
            yield SQL_SYNTAX.diagnostic(ps.location(None, err.start),
                                        f"SQL does not parse ({model.dialect}): {err.message}")
        yield from _database_syntax(model, ps)


def _database_syntax(model: Model, ps: ParsedSite) -> Iterator[Diagnostic]:
    """Where sqlglot is more lenient than the database (a trailing comma before ``)``) or has
    no model (CREATE OPERATOR), the database's own parser decides (harness/sql/oracle.py):
    reported only when it rejects the statement, never when it cannot be asked."""
    for st in ps.parsed.statements:
        comma = trailing_comma(st.text, model.dialect)
        if comma is not None and database_rejects(st.text, model.dialect):
            yield SQL_SYNTAX.diagnostic(
                ps.location(st, comma),
                f"SQL does not parse ({model.dialect}): a ',' directly before ')'",
                fix="remove the trailing comma")
    for err in ps.parsed.unmodelled:
        if model.dialect == "postgres" and err.statement and \
                database_rejects(err.statement, model.dialect):
            yield SQL_SYNTAX.diagnostic(
                ps.location(None, err.start),
                f"SQL does not parse ({model.dialect}): PostgreSQL's parser rejects it")


def _other_dialect_parses(statement: str, dialect: str) -> bool:
    others = [d for d in DIALECTS if d != dialect]
    return any(not parse_sql(statement, d).errors for d in others)


def _other_database(model: Model, ps: ParsedSite, st: Statement) -> bool:
    """SQL on a connection the function opens to a database its caller names, touching none
    of the project's tables: another application's database (a browser's history, say)."""
    execute = ps.site.execute
    return execute is not None and execute.other_db and not any(
        ref.name in model.schema for ref in tables_named(st, model.dialect))


_PROBED: dict[int, tuple[Model, dict[tuple[str, str], frozenset[str]]]] = {}


def _probed_tables(model: Model) -> dict[tuple[str, str], frozenset[str]]:
    """The tables each function asks ``sqlite_master`` about (harness/sql/probes.py), by
    (path, function)."""
    found = _PROBED.get(id(model))
    if found is not None and found[0] is model:
        return found[1]
    out: dict[tuple[str, str], set[str]] = {}
    for site in model.sites:
        execute = site.execute
        if execute is None or execute.function is None or site.text.holes:
            continue
        tables = master_probe(site.text.text)
        if tables is not None:
            out.setdefault((site.path, execute.function), set()).update(fold(t) for t in tables)
    result = {k: frozenset(v) for k, v in out.items()}
    _PROBED.clear()
    _PROBED[id(model)] = (model, result)
    return result


def _existence_checked(model: Model, ps: ParsedSite, table: str) -> bool:
    """A read in a branch of a function that first asks whether ``table`` exists, or whether
    a table exists that no DDL of the project makes (``SELECT name FROM sqlite_master WHERE
    name = 'old'``): code for the databases an older release left, whose tables are that
    release's; on the other databases the branch does not run."""
    execute = ps.site.execute
    if execute is None or execute.function is None or not execute.guarded:
        return False
    probed = _probed_tables(model).get((ps.site.path, execute.function), frozenset())
    return fold(table) in probed or any(t != "*" and t not in model.schema for t in probed)


def check_unknown_table(model: Model) -> Iterator[Diagnostic]:
    if not len(model.schema) or not model.schema_complete:
        return
    for ps in parsed_sites(model, executed_only=True):
        for st in ps.parsed.statements:
            if st.category not in DML or _other_database(model, ps, st):
                continue
            schema = schema_at(model, ps, st)
            for ref in tables_named(st, model.dialect):
                if ps.is_sentinel(ref.name) or ref.name in schema or \
                        _existence_checked(model, ps, ref.name):
                    continue
                yield UNKNOWN_TABLE.diagnostic(
                    ps.location(st, ref.offset),
                    f"table {ref.name} is not created by any DDL in the project",
                    table=ref.name,
                    fix=did_you_mean(ref.name, (t.name for t in schema), "the schema has table"))
            for ref in columns_missing(st, schema, model.dialect):
                if ref.qualifier and not ps.is_sentinel(ref.name):
                    yield UNKNOWN_TABLE.diagnostic(
                        ps.location(st, ref.offset),
                        f"{ref.name} names no table, alias or CTE in this query's FROM",
                        table=ref.name, fix="add it to FROM, or use the alias FROM gives")


def check_unknown_column(model: Model) -> Iterator[Diagnostic]:
    for ps in parsed_sites(model, executed_only=True):
        guarded = ps.site.execute is not None and ps.site.execute.guarded
        for st in ps.parsed.statements:
            if st.category not in DML or _other_database(model, ps, st):
                continue
            schema = schema_at(model, ps, st)
            for ref in columns_missing(st, schema, model.dialect):
                if ref.qualifier or ps.is_sentinel(ref.name) or (
                        ref.table and ps.is_sentinel(ref.table)):
                    continue
                if guarded and ref.table and fold(ref.name) in model.historical.get(
                        fold(ref.table), frozenset()):
                    continue  # a probe for an old column inside a migration guard
                where = f"table {ref.table}" if ref.table else "any table in scope"
                table = schema.table(ref.table) if ref.table else None
                fix = None if table is None else did_you_mean(
                    ref.name, table.column_names(), f"table {table.name} has")
                yield UNKNOWN_COLUMN.diagnostic(
                    ps.location(st, ref.offset), f"column {ref.name} does not exist in {where}",
                    table=ref.table, column=ref.name, fix=fix,
                    related=_related_table(model, ref.table))


def check_insert_arity(model: Model) -> Iterator[Diagnostic]:
    for ps in parsed_sites(model, executed_only=True):
        for st in ps.parsed.statements:
            if st.category != "insert" or not _holes_are_quoted_values(ps, st):
                continue
            yield from _arity(model, ps, st)


def _holes_are_quoted_values(ps: ParsedSite, st: Statement) -> bool:
    """No computed part in ``st``, or each is a function parameter spliced inside a quoted
    string (``VALUES (1, '" + version + "')``): the string stays one value, whatever the
    parameter holds, so the count of values is the text's. Any other hole (a joined list,
    an unknown expression, a parameter outside quotes) may be several values: not judged."""
    holes = ps.site.text.holes
    if any(h.kind != PARAM for h in holes):
        return False  # a run of placeholders renders as one ``?``: no sentinel to find
    present = [h for h in holes if h.sentinel in st.text]
    quoted = [node.this for node in st.expression.find_all(exp.Literal) if node.is_string]
    return all(st.text.count(h.sentinel) == sum(q.count(h.sentinel) for q in quoted)
               for h in present)


def _arity(model: Model, ps: ParsedSite, st: Statement) -> Iterator[Diagnostic]:
    info = written(st, model.dialect)
    if info.columns is not None:
        expected = len(info.columns)
        what = f"{expected} target column{'s' if expected != 1 else ''}"
    else:
        schema = schema_at(model, ps, st)
        table = schema.table(info.table) if info.table else None
        if table is None or not table.columns_known:
            return
        expected = len([c for c in table.columns if not c.generated])
        what = f"{expected} columns in table {table.name}"
    got = list(info.row_lengths) or ([info.select_width] if info.select_width else [])
    # PostgreSQL, with no column list, fills "the first N column names" when the VALUES or
    # query supply only N (PostgreSQL docs, INSERT): fewer values is no error there
    fewer_ok = info.columns is None and model.dialect == "postgres"
    for n in got:
        if n != expected and not (fewer_ok and n < expected):
            yield INSERT_ARITY.diagnostic(
                ps.location(st, info.values_offset if info.values_offset is not None
                            else info.table_offset),
                f"INSERT into {info.table} gives {n} value{'s' if n != 1 else ''} for {what}",
                table=info.table,
                fix="make the VALUES list and the column list the same length")
            return


def check_param_count(model: Model) -> Iterator[Diagnostic]:
    """Every execute site, not each distinct text once: one SQL constant is run by many calls,
    each with its own parameters. The executes one call may reach with the same text (a
    wrapper's ``if values: execute(q, values) else: execute(q)``) are alternatives: reported
    only when none of them agrees. SQL built along branches is one execute per path, each
    judged; a mismatch is reported once per call."""
    groups: dict[tuple[str, str, str, int, int, int, str],
                 list[tuple[ParsedSite, str | None]]] = {}
    for site in model.sites:
        execute = site.execute
        if execute is None:
            continue
        key = (site.module, site.path, execute.function or "", execute.line, execute.col,
               execute.path, site.text.text)
        ps = ParsedSite(site, parse_sql(site.text.text, model.dialect))
        groups.setdefault(key, []).append((ps, _param_problem(ps, model.dialect)))
    reported: set[tuple[str, str, int, int]] = set()
    for (module, _path, function, line, col, _n, _text), found in groups.items():
        if (module, function, line, col) in reported or any(m is None for _, m in found):
            continue
        ps, message = found[0]
        reported.add((module, function, line, col))
        yield PARAM_COUNT.diagnostic(ps.location(None, 0), message or "",
                                     fix="pass exactly one value per placeholder")


def _param_problem(ps: ParsedSite, dialect: str) -> str | None:
    """What is wrong with one execute's parameter count; None when it agrees or cannot be
    judged."""
    execute = ps.site.execute
    if execute is None or ps.site.text.dynamic_placeholders or ps.parsed.errors:
        return None
    items = [st.placeholders for st in ps.parsed.statements]
    if not items or any(p.mixed for p in items) or execute.convention in (
            Convention.SCRIPT, Convention.COLUMNS):
        return None
    if any(st.category == "command" for st in ps.parsed.statements):
        return None  # sqlglot swallowed the statement whole: its placeholders are unseen
    if "%" in ps.site.text.text and quoted_format_placeholder(
            tokenize(ps.site.text.text, dialect)):
        return None  # the driver fills a quoted ``'%s'`` too: its count is not the tokens'
    if any(p.styles & {FORMAT, PYFORMAT} for p in items):
        # psycopg's placeholders are %s / %(name)s only: a ``?`` beside them is PostgreSQL's
        # jsonb key-exists operator (``payload ? 'key'``; PostgreSQL docs, "JSON Functions
        # and Operators"), not a parameter
        items = [Placeholders(tuple(x for x in p.items if x.style != QMARK)) for p in items]
    positional = sum(p.positional_count for p in items)
    named = frozenset().union(*(p.names for p in items))
    rows = _rows(execute.params, execute.convention)
    if rows is None:
        return None
    for row in rows:
        message = _count_problem(positional, named, row)
        if message:
            return message
    return None


def _rows(params: object, convention: Convention) -> list[object] | None:
    """The parameter rows to compare, or None when they are not literally known.
    SQLAlchemy/``databases`` binds (``BINDS``) take a mapping or a list of mappings: only
    their absence is judged here."""
    if params is None:
        return [()]
    if convention is Convention.BINDS:
        return None
    if convention is Convention.MANY:
        if isinstance(params, SeqArg) and params.items and all(
                isinstance(i, SeqArg) for i in params.items):
            return list(params.items)
        return None
    if isinstance(params, (SeqArg, ConstArg, TextArg)):
        return [params]
    return None


def _count_problem(positional: int, named: frozenset[str], row: object) -> str | None:
    if row == ():
        total = positional + len(named)
        if total:
            return f"SQL has {total} placeholder{'s' if total != 1 else ''} but no parameters " \
                   "are passed"
        return None
    if isinstance(row, (ConstArg, TextArg)):
        if not positional and not named:
            return None
        kind = "string" if isinstance(row, TextArg) else row.type
        return f"parameters must be a sequence or a mapping, not a single {kind}"
    assert isinstance(row, SeqArg)
    if any(isinstance(i, (SpreadArg, ValuesArg)) for i in row.items):
        return None  # the length is only known at run time
    if named:
        return f"SQL uses named placeholders ({', '.join(sorted(named))}) but a sequence of " \
               f"{len(row.items)} is passed"
    if positional != len(row.items):
        return f"SQL has {positional} placeholder{'s' if positional != 1 else ''} but " \
               f"{len(row.items)} parameter{'s are' if len(row.items) != 1 else ' is'} passed"
    return None


def filled_by_trigger(model: Model) -> frozenset[str]:
    """Tables with a BEFORE INSERT row trigger: PostgreSQL lets it set ``NEW.col`` before the
    NOT NULL check (PostgreSQL docs, "Overview of Trigger Behavior"), so an INSERT that leaves
    a NOT NULL column out may be complete. (SQLite's triggers cannot change NEW.)"""
    if model.dialect != "postgres":
        return frozenset()
    out = set()
    for ps in parsed_sites(model):
        for st in ps.parsed.statements:
            node = st.expression if st.category == "create" else None
            if not isinstance(node, exp.Create) or str(node.args.get("kind")).upper() != \
                    "TRIGGER":
                continue
            for props in node.find_all(exp.TriggerProperties):
                events = {str(e.this).upper() for e in props.args.get("events") or []}
                table = props.args.get("table")
                if str(props.args.get("timing")).upper() == "BEFORE" and "INSERT" in events \
                        and isinstance(table, exp.Table):
                    out.add(fold(qualified_name(table.name, table.db)))
    return frozenset(out)


def check_not_null(model: Model) -> Iterator[Diagnostic]:
    triggered = filled_by_trigger(model)
    for ps in parsed_sites(model, executed_only=True):
        if ps.site.text.holes:
            continue
        for st in ps.parsed.statements:
            if st.category != "insert":
                continue
            info = written(st, model.dialect)
            schema = schema_at(model, ps, st)
            table = schema.table(info.table) if info.table else None
            if table is None or info.columns is None or not table.columns_known or \
                    table.key in triggered:
                continue
            given = {fold(c) for c in info.columns}
            alias = table.rowid_alias()
            for col in table.columns:
                if (col.not_null and col.default is None and not col.generated
                        and col.key not in given and col.name != alias and not col.autoincrement):
                    yield NOT_NULL_MISSING.diagnostic(
                        ps.location(st, info.table_offset),
                        f"INSERT into {table.name} never supplies {col.name}, which is NOT NULL "
                        "with no DEFAULT",
                        table=table.name, column=col.name,
                        fix=f"add {col.name} to the column list, or give it a DEFAULT",
                        related=_related_table(model, table.name))


INPUT_SKIPPED = Rule(
    "DBH003", "input-skipped", "an input too large to analyse was skipped", Severity.NOTE,
    RuleDoc(
        what="A SQL string or file over the analysis limit was not parsed; nothing in it was "
             "checked. A note: it does not fail the run.",
        why="Parsing megabytes of SQL in pure Python takes seconds per megabyte; a pre-commit "
            "hook must not stall on a data dump.",
        example="SEED = open_the_1mb_fixture()  # or a 5 MB .sql dump under the checked paths",
        fix="Exclude data dumps ([tool.dbharness] exclude), or split the SQL.",
    ),
    check_input_size,
)
SQL_SYNTAX = Rule(
    "DBH001", "sql-syntax", "SQL at an execute site does not parse", Severity.ERROR,
    RuleDoc(
        what="The SQL passed to execute()/executemany()/executescript() does not parse in the "
             "configured dialect.",
        why="The statement fails on every call; often it sits on a path tests do not reach.",
        example='cur.execute("INSERT INTO t (a, b VALUES (?, ?)", row)',
        fix="Fix the statement; the message shows what the parser expected and where.",
    ),
    check_syntax,
)
UNKNOWN_TABLE = Rule(
    "DBH101", "unknown-table", "SQL names a table no DDL declares", Severity.ERROR,
    RuleDoc(
        what="A statement reads or writes a table that no CREATE TABLE/VIEW in the project "
             "declares.",
        why="`no such table` at run time, typically after a rename or a typo.",
        example='CREATE TABLE models (...)\ncur.execute("SELECT * FROM model")',
        fix="Fix the name, or add the DDL. Tables made outside the project can be listed in "
            "[tool.dbharness] external_tables.",
    ),
    check_unknown_table,
)
UNKNOWN_COLUMN = Rule(
    "DBH102", "unknown-column", "SQL names a column its table lacks", Severity.ERROR,
    RuleDoc(
        what="An INSERT column list, SET, WHERE, SELECT, RETURNING or ON CONFLICT names a column "
             "the table does not have (as the project's DDL declares it).",
        why="`no such column` at run time; or, for an INSERT changed without its migration, "
            "every existing database breaks.",
        example="CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)\n"
                'cur.execute("UPDATE t SET nme = ? WHERE id = ?", (n, i))',
        fix="Fix the name, or add the column to the DDL and a migration for old databases.",
    ),
    check_unknown_column,
)
INSERT_ARITY = Rule(
    "DBH103", "insert-arity", "INSERT gives a different number of values than columns",
    Severity.ERROR,
    RuleDoc(
        what="The VALUES rows (or the SELECT) of an INSERT do not match its column list, or the "
             "table's column count when no list is given.",
        why="SQLite rejects it: `N values for M columns`.",
        example='INSERT INTO t (a, b, c) VALUES (?, ?)',
        fix="Make the lists the same length.",
    ),
    check_insert_arity,
)
PARAM_COUNT = Rule(
    "DBH104", "param-count", "placeholders differ from the parameters passed", Severity.ERROR,
    RuleDoc(
        what="The number of placeholders (any DB-API paramstyle) differs from the length of the "
             "literal tuple or list passed, or named placeholders get a sequence.",
        why="`Incorrect number of bindings supplied` at run time.",
        example='cur.execute("INSERT INTO t (a, b) VALUES (?, ?)", (a,))',
        fix="Pass one value per placeholder.",
    ),
    check_param_count,
)
NOT_NULL_MISSING = Rule(
    "DBH105", "not-null-missing", "a NOT NULL column without DEFAULT is never supplied",
    Severity.ERROR,
    RuleDoc(
        what="An INSERT with a column list leaves out a NOT NULL column that has no DEFAULT, is "
             "not generated and is not the rowid alias (INTEGER PRIMARY KEY).",
        why="`NOT NULL constraint failed` on every call.",
        example="CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)\n"
                'INSERT INTO t (id) VALUES (?)',
        fix="Supply the column, or give it a DEFAULT in the DDL and a migration.",
    ),
    check_not_null,
)

RULES = (INPUT_SKIPPED, SQL_SYNTAX, UNKNOWN_TABLE, UNKNOWN_COLUMN, INSERT_ARITY, PARAM_COUNT,
         NOT_NULL_MISSING)
