"""DDL self-checks: mistakes inside a CREATE TABLE or CREATE INDEX itself."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from harness.diagnostics import Diagnostic, Severity
from harness.link.model import Model
from harness.rules.advice import did_you_mean
from harness.rules.base import Rule, RuleDoc
from harness.rules.sql_rules import schema_at
from harness.rules.sql_sites import ParsedSite, parsed_sites
from harness.sql.ddl import declared_type, table_name
from harness.sql.parse import Statement
from harness.sql.resolve import offset_of
from harness.sql.schema import fold

TYPE_WORDS = frozenset({
    "INT", "INTEGER", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT", "UNSIGNED", "SIGNED", "BIG",
    "INT2", "INT4", "INT8", "CHARACTER", "VARCHAR", "VARYING", "NCHAR", "NATIVE", "NVARCHAR",
    "CHAR", "TEXT", "CLOB", "BLOB", "REAL", "DOUBLE", "PRECISION", "FLOAT", "NUMERIC",
    "DECIMAL", "BOOLEAN", "BOOL", "DATE", "DATETIME", "TIME", "TIMESTAMP", "TIMESTAMPTZ", "WITH",
    "WITHOUT", "ZONE", "STRING", "JSON", "JSONB", "UUID", "SERIAL", "BIGSERIAL", "SMALLSERIAL",
    "BYTEA", "MONEY", "INTERVAL", "LONG", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "TINYBLOB",
    "MEDIUMBLOB", "LONGBLOB", "ENUM", "SET", "YEAR", "BINARY", "VARBINARY", "BIT", "NUMBER",
    "VARCHAR2", "NVARCHAR2", "INET", "CIDR", "MACADDR", "XML", "ARRAY", "GEOMETRY", "POINT",
})
BASE_TYPES = TYPE_WORDS - {"UNSIGNED", "SIGNED", "BIG", "VARYING", "NATIVE", "PRECISION", "WITH",
                           "WITHOUT", "ZONE", "LONG"}


def _creates(model: Model) -> Iterator[tuple[ParsedSite, Statement, exp.Create]]:
    for ps in parsed_sites(model):
        for st in ps.parsed.statements:
            create = st.expression if st.category == "create" else None
            if isinstance(create, exp.Create) and isinstance(create.this, exp.Schema):
                yield ps, st, create


def _defs(create: exp.Create) -> list[exp.Expr]:
    schema = create.this
    return [e for e in schema.expressions if isinstance(e, (exp.ColumnDef, exp.Identifier))]


def check_duplicate_column(model: Model) -> Iterator[Diagnostic]:
    for ps, st, create in _creates(model):
        seen: set[str] = set()
        for item in _defs(create):
            name = item.name
            if ps.is_sentinel(name):
                continue  # a computed name: never judged
            if fold(name) in seen:
                yield DDL_DUPLICATE_COLUMN.diagnostic(
                    ps.location(st, offset_of(item)),
                    f"column {name} is declared twice in CREATE TABLE {table_name(create.this)}",
                    table=table_name(create.this), column=name,
                    fix="remove or rename one of the two definitions")
            seen.add(fold(name))


def _key_columns(create: exp.Create) -> Iterator[tuple[str, exp.Expr]]:
    """Column names in table-level PRIMARY KEY / UNIQUE / FOREIGN KEY (local side) lists."""
    for item in create.this.expressions:
        inner = item.expressions[0] if isinstance(item, exp.Constraint) and item.expressions \
            else item
        if isinstance(inner, exp.PrimaryKey):
            yield from (("PRIMARY KEY", i) for i in inner.expressions)
        elif isinstance(inner, exp.UniqueColumnConstraint) and isinstance(inner.this, exp.Schema):
            yield from (("UNIQUE", i) for i in inner.this.expressions)
        elif isinstance(inner, exp.ForeignKey):
            yield from (("FOREIGN KEY", i) for i in inner.expressions)


def check_ddl_unknown_column(model: Model) -> Iterator[Diagnostic]:
    for ps, st, create in _creates(model):
        name = table_name(create.this)
        declared = {fold(i.name) for i in _defs(create)}
        if any(ps.is_sentinel(i.name) for i in _defs(create)):
            continue  # a computed column definition may declare any column
        for clause, ident in _key_columns(create):
            target = ident.this if isinstance(ident, exp.Ordered) else ident
            if isinstance(target, (exp.Identifier, exp.Column)) and \
                    fold(target.name) not in declared and not ps.is_sentinel(target.name):
                yield DDL_UNKNOWN_COLUMN.diagnostic(
                    ps.location(st, offset_of(target)),
                    f"{clause} of table {name} names column {target.name}, which the table "
                    "does not declare", table=name, column=target.name,
                    fix=f"declare {target.name} or fix the name in the {clause} list")
        yield from _reference_columns(model, ps, st, create, declared)
    for ps in parsed_sites(model):
        for st in ps.parsed.statements:
            yield from _index_columns(model, ps, st)


def _reference_columns(model: Model, ps: ParsedSite, st: Statement, create: exp.Create,
                       declared: set[str]) -> Iterator[Diagnostic]:
    """Parent columns a REFERENCES clause (column or table constraint) names that the parent
    table never has. The parent is the table being created (a self-reference) or a table of
    the project's schema whose columns are known; a column any of its DDL ever gave it counts
    (a later RENAME COLUMN rewrites the reference, so an older name is no evidence).

    SQLite: the parent key must be the parent's PRIMARY KEY or a UNIQUE set of its columns,
    else every write to the child fails with "foreign key mismatch" once foreign keys are
    enforced (https://sqlite.org/foreignkeys.html, section 3); PostgreSQL refuses the CREATE."""
    own = table_name(create.this)
    for reference in create.this.find_all(exp.Reference):
        target = reference.this
        parent = table_name(target)
        if not isinstance(target, exp.Schema) or not parent or ps.is_sentinel(parent):
            continue  # no column list: the parent's primary key
        if own is not None and fold(parent) == fold(own):
            known: set[str] | frozenset[str] = declared
            shown = own
        else:
            table = model.schema.table(parent)
            if table is None or not table.columns_known or table.is_view or \
                    not model.schema_complete:
                continue
            known = {c.key for c in table.columns} | model.historical.get(table.key, frozenset())
            shown = table.name
        for ident in target.expressions:
            if isinstance(ident, exp.Identifier) and fold(ident.name) not in known and \
                    not ps.is_sentinel(ident.name):
                yield DDL_UNKNOWN_COLUMN.diagnostic(
                    ps.location(st, offset_of(ident)),
                    f"REFERENCES {parent}({ident.name}) in table {own} names a column table "
                    f"{shown} does not have", table=shown, column=ident.name,
                    fix=f"reference one of {shown}'s key columns")


def _index_columns(model: Model, ps: ParsedSite, st: Statement) -> Iterator[Diagnostic]:
    if st.category != "create":
        return
    create = st.expression
    if not (isinstance(create, exp.Create) and isinstance(create.this, exp.Index)):
        return
    index = create.this
    # in a history (update2.sql, a migrations module) the table as it stands at that step
    table = schema_at(model, ps, st).table(table_name(index.args.get("table")) or "")
    params = index.args.get("params")
    if table is None or not table.columns_known or params is None:
        return
    for ordered in params.args.get("columns") or []:
        column = ordered.this if isinstance(ordered, exp.Ordered) else ordered
        if isinstance(column, exp.Column) and not table.has_column(column.name) and \
                not ps.is_sentinel(column.name):
            yield DDL_UNKNOWN_COLUMN.diagnostic(
                ps.location(st, offset_of(column)),
                f"index {index.name} on {table.name} names column {column.name}, which the "
                "table does not have", table=table.name, column=column.name,
                fix=did_you_mean(column.name, table.column_names(), f"table {table.name} has"))


def suspicious(declared: str) -> str | None:
    """The word that looks like a second column name inside a type (``TEXT b INTEGER``)."""
    words = [w for w in declared.replace("(", " ( ").replace(")", " ) ").split()]
    depth = 0
    plain: list[str] = []
    for w in words:
        if w == "(":
            depth += 1
        elif w == ")":
            depth -= 1
        elif depth == 0:
            plain.append(w.upper())
    for i in range(1, len(plain) - 1):
        if plain[0] in BASE_TYPES and plain[i] not in TYPE_WORDS and plain[i + 1] in BASE_TYPES:
            return words[[w.upper() for w in words].index(plain[i])]
    return None


def check_suspicious_type(model: Model) -> Iterator[Diagnostic]:
    for ps, st, create in _creates(model):
        for item in _defs(create):
            if not isinstance(item, exp.ColumnDef):
                continue
            kind = item.args.get("kind")
            if isinstance(kind, exp.DataType) and kind.this != exp.DataType.Type.USERDEFINED:
                continue  # a type sqlglot knows is one type, never two definitions run together
            known = st.declared_type(item.this)
            declared = known if known is not None else declared_type(st.text, item.this,
                                                                     model.dialect)
            word = suspicious(declared)
            if word is None:
                continue
            yield DDL_SUSPICIOUS_TYPE.diagnostic(
                ps.location(st, offset_of(item)),
                f"column {item.name} has type '{declared}': that reads like two column "
                f"definitions run together (a missing comma before {word.lower()}?)",
                table=table_name(create.this), column=item.name,
                fix=f"add the comma: `{item.name} {declared.split()[0]}, {word.lower()} ...`")


DDL_DUPLICATE_COLUMN = Rule(
    "DBH401", "ddl-duplicate-column", "a column declared twice in one CREATE TABLE",
    Severity.ERROR,
    RuleDoc(
        what="The same column name (compared the way the dialect compares names) appears twice "
             "in one CREATE TABLE.",
        why="SQLite refuses the statement (`duplicate column name`): every fresh install fails.",
        example="CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, Name TEXT)",
        fix="Remove or rename one of the definitions.",
    ),
    check_duplicate_column,
)
DDL_UNKNOWN_COLUMN = Rule(
    "DBH402", "ddl-unknown-column", "a key or index names a column the table lacks",
    Severity.ERROR,
    RuleDoc(
        what="A table-level PRIMARY KEY, UNIQUE or FOREIGN KEY list, or a CREATE INDEX, names a "
             "column the table does not declare; or a REFERENCES clause names a parent column "
             "the parent table never has.",
        why="The statement fails at install time, or (SQLite, old versions) silently creates a "
            "key on nothing; a foreign key to a missing parent column makes every write to the "
            "child fail (SQLite: 'foreign key mismatch' once foreign keys are enforced).",
        example="CREATE TABLE t (a INT, b INT, UNIQUE (a, c))",
        fix="Fix the name in the key or index list.",
    ),
    check_ddl_unknown_column,
)
DDL_SUSPICIOUS_TYPE = Rule(
    "DBH403", "ddl-suspicious-type", "a declared type that is two column definitions run together",
    Severity.ERROR,
    RuleDoc(
        what="A column's declared type is a type name, then a word that is no type, then another "
             "type name: `rating TEXT parent_rating_key INTEGER`.",
        why="SQLite accepts any words as a type name, so a missing comma silently merges two "
            "columns into one: the second column never exists.",
        example="CREATE TABLE t (rating TEXT parent_rating_key INTEGER)",
        fix="Add the missing comma.",
    ),
    check_suspicious_type,
)

RULES = (DDL_DUPLICATE_COLUMN, DDL_UNKNOWN_COLUMN, DDL_SUSPICIOUS_TYPE)
