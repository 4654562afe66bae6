"""Apply DDL statements, in order, to a Schema.

Two modes. ``strict`` follows SQLite exactly (CREATE TABLE IF NOT EXISTS on an existing
table is a no-op, adding an existing column fails): used to reason about what an *existing*
database gets. ``lenient`` is for the static picture of "the current schema" from DDL
scattered over a project: a column declared anywhere exists, re-adding one is a no-op.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token

from harness.sql.parse import Statement, _dialect, type_text
from harness.sql.schema import Column, Schema, Table, canonical_default, fold, qualified_name


class DdlConflict(Exception):
    """The statement would fail on a real database (strict mode only)."""


def table_name(node: exp.Expr | None) -> str | None:
    """The table a DDL statement names: ``t``, or ``s.t`` for a schema other than the
    default one (PostgreSQL docs, "Schemas": ``statistics.user`` is not ``public.user``)."""
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        return qualified_name(node.name, node.db) if node.name else None
    return None


def is_ddl(expression: exp.Expr) -> bool:
    if isinstance(expression, exp.Create):
        return str(expression.args.get("kind") or "").upper() in ("TABLE", "VIEW")
    if isinstance(expression, exp.Alter):
        return str(expression.args.get("kind") or "TABLE").upper() == "TABLE"
    if isinstance(expression, exp.Drop):
        return str(expression.args.get("kind") or "").upper() in ("TABLE", "VIEW")
    return False


def holes_in_values_only(expression: exp.Expr, sentinels: tuple[str, ...]) -> bool:
    """Does every computed part of this DDL sit in a column's type or constraint value
    (``ADD COLUMN opened_at TIMESTAMP DEFAULT {x}``, ``amount {big_int}``), never in a table
    or column name, and is each one parsed into the tree? Then the statement's names are
    literal and it is applied as written: the column exists, its default or type is unknown.

    ``sentinels``: the names computed parts are rendered as (``__dbh3__``)."""
    whole = expression.sql().lower()
    present = [s.lower() for s in sentinels if s.lower() in whole]
    if not present:
        return False
    stripped = expression.copy()
    for node in list(stripped.find_all(exp.ColumnConstraint, exp.DataType)):
        node.pop()
    rest = stripped.sql().lower()
    return not any(s in rest for s in present)


def declared_type(text: str, ident: exp.Expr, dialect: str) -> str:
    """The type exactly as written after a column name, for statements parsed without their
    tokens kept (``Statement.declared`` has it for every parsed CREATE/ALTER)."""
    end = ident.meta.get("end") if isinstance(ident, exp.Identifier) else None
    if end is None:
        return ""
    tokens = _tokens(text, dialect)
    return type_text(text, tokens, bisect.bisect_right([t.start for t in tokens], int(end)))


@lru_cache(maxsize=256)
def _tokens(text: str, dialect: str) -> list[Token]:
    """One statement's tokens, shared by all its columns."""
    try:
        return list(_dialect(dialect).tokenizer_class().tokenize(text))
    except TokenError:
        return []


def column_from_def(node: exp.Expr, dialect: str, text: str = "",
                    statement: Statement | None = None) -> Column | None:
    """A ColumnDef, or a bare Identifier for SQLite's type-less columns."""
    if isinstance(node, exp.Identifier):
        return Column(node.name)
    if not isinstance(node, exp.ColumnDef):
        return None
    kind = node.args.get("kind")
    known = statement.declared_type(node.this) if statement is not None else None
    declared = known if known is not None else (
        declared_type(text, node.this, dialect) if text else "")
    if not declared and isinstance(kind, exp.DataType):
        declared = kind.sql(dialect=dialect).upper()
    col = Column(node.name, type=declared)
    if isinstance(kind, exp.DataType) and kind.this in (
        exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL, exp.DataType.Type.SMALLSERIAL,
    ):
        col = replace(col, default="nextval", not_null=True)
    for constraint in node.args.get("constraints") or []:
        ckind = (constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint)
                 else None)
        if isinstance(ckind, exp.NotNullColumnConstraint):
            col = replace(col, not_null=not ckind.args.get("allow_null"))
        elif isinstance(ckind, exp.DefaultColumnConstraint):
            col = replace(col, default=canonical_default(ckind.this.sql(dialect=dialect), dialect))
        elif isinstance(ckind, exp.PrimaryKeyColumnConstraint):
            col = replace(col, primary_key=True)
        elif isinstance(ckind, exp.AutoIncrementColumnConstraint):
            col = replace(col, autoincrement=True)
        elif isinstance(ckind, exp.UniqueColumnConstraint):
            col = replace(col, unique=True)
        elif isinstance(ckind, exp.ComputedColumnConstraint):
            col = replace(col, generated=True)
        elif isinstance(ckind, exp.GeneratedAsIdentityColumnConstraint):
            col = replace(col, default="identity")
    return col


def _names(node: exp.Expr | None) -> tuple[str, ...]:
    if node is None:
        return ()
    items = node.expressions if not isinstance(node, exp.Identifier) else [node]
    out = []
    for item in items:
        target = item.this if isinstance(item, exp.Ordered) else item
        if isinstance(target, (exp.Identifier, exp.Column)):
            out.append(target.name)
    return tuple(out)


def table_from_create(create: exp.Create, dialect: str, without_rowid: bool = False,
                      text: str = "", statement: Statement | None = None) -> Table:
    """A CREATE TABLE's table: columns, table-level keys, STRICT / WITHOUT ROWID."""
    if statement is None or statement.expression is not create:
        return _table_from_create(create, dialect, without_rowid, text, statement)
    key = (statement.text, dialect, without_rowid)  # the same CREATE reached by several rules
    found = _TABLES.get(key)
    if found is None:
        found = _TABLES[key] = _table_from_create(create, dialect, without_rowid, text,
                                                  statement)
    return found


_TABLES: dict[tuple[str, str, bool], Table] = {}


def _table_from_create(create: exp.Create, dialect: str, without_rowid: bool,
                       text: str, statement: Statement | None) -> Table:
    name = table_name(create.this) or ""
    schema_node = create.this if isinstance(create.this, exp.Schema) else None
    columns: list[Column] = []
    pk: tuple[str, ...] = ()
    uniques: list[tuple[str, ...]] = []
    for item in schema_node.expressions if schema_node is not None else []:
        col = column_from_def(item, dialect, text, statement)
        if col is not None:
            columns.append(col)
            continue
        constrained = isinstance(item, exp.Constraint) and item.expressions
        inner = item.expressions[0] if constrained else item
        if isinstance(inner, exp.PrimaryKey):
            pk = _names(inner)
        elif isinstance(inner, exp.UniqueColumnConstraint):
            uniques.append(_names(inner.this))
    if pk:
        wanted = {fold(n) for n in pk}
        # SQLite's ``PRIMARY KEY (id AUTOINCREMENT)``: parse.py blanks the word for sqlglot;
        # the original text still has it (as live.py reads sqlite_master)
        auto = len(pk) == 1 and statement is not None and dialect == "sqlite" and \
            "AUTOINCREMENT" in statement.text.upper()
        columns = [replace(c, primary_key=True, autoincrement=c.autoincrement or auto)
                   if c.key in wanted else c for c in columns]
    else:
        pk = tuple(c.name for c in columns if c.primary_key)
    props = create.args.get("properties")
    strict = props is not None and any(
        type(p).__name__ == "StrictProperty" for p in props.expressions
    )
    module = next((p for p in props.expressions if isinstance(p, exp.ModuleProperty)),
                  None) if props is not None else None
    if module is not None:
        return _virtual_table(name, module)
    if create.expression is not None and not columns:
        return _table_from_select(name, create.expression, kind=str(create.args.get("kind")))
    table = Table(name, tuple(columns), without_rowid=without_rowid, strict=strict,
                  primary_key=pk, unique_sets=tuple(uniques))
    if strict or without_rowid:
        # PRIMARY KEY implies NOT NULL in STRICT and WITHOUT ROWID tables (not the rowid).
        alias = table.rowid_alias()
        table = table.with_columns(tuple(
            replace(c, not_null=True) if c.primary_key and c.name != alias else c
            for c in table.columns))
    return table


FTS_HIDDEN = {"fts3": ("rowid", "docid"), "fts4": ("rowid", "docid"), "fts5": ("rowid", "rank")}


def _virtual_table(name: str, module: exp.ModuleProperty) -> Table:
    """``CREATE VIRTUAL TABLE t USING fts5(a, b)``: full-text and R*Tree tables declare their
    columns as module arguments (plus hidden ones: rowid, docid/rank, the table's own name);
    for any other module the columns are not known."""
    kind = module.this.name.lower() if isinstance(module.this, exp.Expr) else ""
    args = [a.name for a in module.expressions if isinstance(a, (exp.Identifier, exp.Column))]
    if kind in FTS_HIDDEN:
        hidden = (*FTS_HIDDEN[kind], name)
        columns = [Column(a) for a in args] + [Column(h, generated=True) for h in hidden]
        return Table(name, tuple(columns))
    if kind.startswith("rtree") and args:
        return Table(name, tuple(Column(a) for a in args))
    return Table(name, (), columns_known=False)


def _table_from_select(name: str, query: exp.Expr, kind: str) -> Table:
    """CREATE TABLE AS SELECT / CREATE VIEW: output names; types only for a view's sake."""
    is_view = kind.upper() == "VIEW"
    if not isinstance(query, exp.Query) or any(
        isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
        for s in query.selects
    ):
        return Table(name, (), is_view=is_view, columns_known=False)
    return Table(name, tuple(Column(n) for n in query.named_selects), is_view=is_view)


class SchemaBuilder:
    """Fold DDL statements into a Schema."""

    def __init__(self, dialect: str = "sqlite", *, strict: bool = False,
                 schema: Schema | None = None) -> None:
        self.dialect = dialect
        self.strict = strict
        self.schema = schema if schema is not None else Schema()
        self.pending: dict[str, list[tuple[exp.Alter, str, Statement | None]]] = {}

    def apply(self, statement: Statement) -> None:
        expression = statement.expression
        if isinstance(expression, exp.Create):
            self._create(expression, statement.without_rowid, statement.text, statement)
        elif isinstance(expression, exp.Alter):
            self._alter(expression, statement.text, statement)
        elif isinstance(expression, exp.Drop):
            self._drop(expression)

    def _create(self, create: exp.Create, without_rowid: bool, text: str = "",
                statement: Statement | None = None) -> None:
        kind = str(create.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            return
        new = table_from_create(create, self.dialect, without_rowid, text, statement)
        if kind == "TABLE" and create.expression is not None and new.columns_known:
            new = replace(new, columns=self._ctas_types(new, create.expression))
        old = self.schema.table(new.name)
        if old is not None:
            if create.args.get("exists"):
                if self.strict or not new.columns_known:
                    return
                new = _union(old, new)
            elif create.args.get("replace") or not self.strict:
                new = _union(old, new) if not self.strict and kind == "TABLE" else new
            else:
                raise DdlConflict(f"table {new.name} already exists")
        self.schema = self.schema.put(new)
        for alter, alter_text, alter_statement in self.pending.pop(new.key, []):
            self._alter(alter, alter_text, alter_statement)

    def _ctas_types(self, table: Table, query: exp.Expr) -> tuple[Column, ...]:
        """SQLite declares CTAS columns by the affinity of a plain source column."""
        if not isinstance(query, exp.Select):
            return table.columns
        sources = [t.name for t in query.find_all(exp.Table)]
        out = []
        for col, sel in zip(table.columns, query.selects):
            inner = sel.this if isinstance(sel, exp.Alias) else sel
            declared = ""
            if isinstance(inner, exp.Column):
                for src in sources:
                    found = self.schema.table(src)
                    source_col = found.column(inner.name) if found else None
                    if source_col is not None:
                        declared = _ctas_declared(source_col.type)
                        break
            out.append(replace(col, type=declared))
        return tuple(out)

    def _alter(self, alter: exp.Alter, text: str = "",
               statement: Statement | None = None) -> None:
        name = table_name(alter.this)
        if name is None:
            return
        table = self.schema.table(name)
        if table is None:
            if self.strict:
                raise DdlConflict(f"no such table: {name}")
            # Lenient: the CREATE may sit in a file that sorts later; apply it then.
            self.pending.setdefault(fold(name), []).append((alter, text, statement))
            return
        for action in alter.args.get("actions") or []:
            table = self._alter_action(table, action, text, statement)
        if table.key != fold(name):
            self.schema = self.schema.remove(name)
        self.schema = self.schema.put(table)

    def _alter_action(self, table: Table, action: exp.Expr, text: str,
                      statement: Statement | None = None) -> Table:
        if isinstance(action, exp.ColumnDef):
            col = column_from_def(action, self.dialect, text, statement)
            if col is None:
                return table
            if table.column(col.name) is not None:
                if self.strict and not action.args.get("exists"):
                    raise DdlConflict(f"duplicate column name: {col.name}")
                return table
            return table.with_columns((*table.columns, col))
        if isinstance(action, exp.RenameColumn):
            old, new = action.this.name, action.args["to"].name
            if table.column(old) is None:
                if self.strict:
                    raise DdlConflict(f"no such column: {old}")
                return table
            return table.with_columns(tuple(
                replace(c, name=new) if c.key == fold(old) else c for c in table.columns
            ))
        if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
            gone = {fold(t.name) for t in action.args.get("tables") or []}
            if self.strict and any(table.column(g) is None for g in gone):
                raise DdlConflict(f"no such column: {', '.join(sorted(gone))}")
            return table.with_columns(tuple(c for c in table.columns if c.key not in gone))
        if isinstance(action, exp.AlterRename):
            # the table stays in its schema: ``ALTER TABLE s.a RENAME TO b`` makes ``s.b``
            # (PostgreSQL docs, ALTER TABLE: "RENAME ... changes the name of a table";
            # SET SCHEMA moves it)
            new_name = table_name(action.this)
            home, dot, _ = table.name.rpartition(".")
            if new_name and dot and "." not in new_name:
                new_name = f"{home}.{new_name}"
            return replace(table, name=new_name) if new_name else table
        if isinstance(action, exp.AlterColumn):
            return _alter_column(table, action, self.dialect)
        return table

    def _drop(self, drop: exp.Drop) -> None:
        if str(drop.args.get("kind") or "").upper() not in ("TABLE", "VIEW"):
            return
        for node in drop.args.get("tables") or []:
            name = table_name(node)
            if name is None:
                continue
            if self.schema.table(name) is None and self.strict and not drop.args.get("exists"):
                raise DdlConflict(f"no such table: {name}")
            self.schema = self.schema.remove(name)


def _alter_column(table: Table, action: exp.AlterColumn, dialect: str) -> Table:
    name = action.this.name
    col = table.column(name)
    if col is None:
        return table
    if action.args.get("dtype") is not None:
        col = replace(col, type=action.args["dtype"].sql(dialect=dialect).upper())
    if action.args.get("allow_null") is not None:
        col = replace(col, not_null=not action.args["allow_null"])
    if action.args.get("drop") and action.args.get("allow_null") is None:
        col = replace(col, default=None)
    if action.args.get("default") is not None:
        col = replace(col, default=canonical_default(action.args["default"].sql(dialect=dialect)))
    return table.with_columns(tuple(col if c.key == fold(name) else c for c in table.columns))


def _union(old: Table, new: Table) -> Table:
    """Lenient merge of two declarations of one table: every column either declares."""
    merged = list(new.columns)
    for col in old.columns:
        if new.column(col.name) is None:
            merged.append(col)
    return replace(new, columns=tuple(merged))


def _ctas_declared(declared: str) -> str:
    """SQLite's affinity rules, as CREATE TABLE AS SELECT writes them back."""
    t = declared.upper()
    if "INT" in t:
        return "INT"
    if any(x in t for x in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not t or "BLOB" in t:
        return ""
    if any(x in t for x in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUM"


def build_schema(statements: list[Statement], dialect: str = "sqlite", *,
                 strict: bool = False) -> Schema:
    builder = SchemaBuilder(dialect, strict=strict)
    for statement in statements:
        builder.apply(statement)
    return builder.schema
