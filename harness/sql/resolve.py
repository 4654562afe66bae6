"""Resolve table and column names of one statement against a Schema.

sqlglot's ``qualify`` validates columns only inside SELECT scopes (see the team's sqlglot
notes), so DML targets, SET, WHERE, ON CONFLICT and RETURNING are resolved here against the
single target table; SELECT parts use sqlglot's own scope analysis (CTEs, derived tables,
joins, aliases, correlated subqueries).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from harness.sql.schema import Schema, fold, qualified_name
from harness.sql.scope_columns import ScopeColumns

SYSTEM_TABLES = {
    "sqlite_master": ("type", "name", "tbl_name", "rootpage", "sql"),
    "sqlite_schema": ("type", "name", "tbl_name", "rootpage", "sql"),
    "sqlite_temp_master": ("type", "name", "tbl_name", "rootpage", "sql"),
    "sqlite_sequence": ("name", "seq"),
}

# Qualifiers that name rows without a FROM entry: trigger rows (SQLite docs, "CREATE
# TRIGGER"; PostgreSQL rules) and an upsert's proposed row.
PSEUDO_TABLES = frozenset({"new", "old", "excluded"})
DML_NODES = (exp.Insert, exp.Update, exp.Delete, exp.Merge)

# None: the columns of a source are not known (unknown table, SELECT *, table function).
Columns = frozenset[str] | None


@dataclass(frozen=True)
class NameRef:
    """A table or column name as written, with its offset in the statement text."""

    name: str
    offset: int | None
    table: str | None = None  # for columns: the table it was resolved against
    # For ``q.name`` where q is no table, alias or CTE in scope: ``name`` is the qualifier q.
    qualifier: bool = False


def offset_of(node: exp.Expr) -> int | None:
    ident = node if isinstance(node, exp.Identifier) else node.args.get("this")
    if not isinstance(ident, exp.Identifier):
        ident = node.find(exp.Identifier)
    if ident is None or ident.meta.get("start") is None:
        return None
    return int(ident.meta["start"])


def _cte_names(expression: exp.Expr) -> set[str]:
    return {fold(cte.alias_or_name) for cte in expression.find_all(exp.CTE)}


def ref_name(table: exp.Table) -> str:
    """The schema's name for a referenced table: ``t``, or ``s.t`` outside the default
    schema."""
    return qualified_name(table.name, table.db)


def is_external(table: exp.Table, schema: Schema | None = None) -> bool:
    """Tables we never judge: other schemas (unless ``schema`` declares that very qualified
    table, ``CREATE TABLE mapping.cache``), system catalogues, table functions."""
    db = fold(table.db or "")
    if db and db not in ("main", "public", "dbo", "temp"):
        return schema is None or schema.tables.get(fold(ref_name(table))) is None
    name = fold(table.name)
    return name in SYSTEM_TABLES or name.startswith(
        ("pragma_", "json_", "information_schema", "pg_", "sqlite_"))


def table_refs(expression: exp.Expr) -> list[NameRef]:
    """Every real table the statement reads or writes (not CTEs, not system tables)."""
    ctes = _cte_names(expression)
    out = []
    for table in expression.find_all(exp.Table):
        if not table.name or isinstance(table.this, exp.Func) or is_external(table):
            continue
        if fold(table.name) in ctes and not table.db:
            continue
        out.append(NameRef(table.name, offset_of(table)))
    return out


# Columns every ordinary table has without declaring them: SQLite's rowid aliases (SQLite docs,
# "Rowid Tables") and PostgreSQL's system columns (PostgreSQL docs, "System Columns").
ROWID_COLUMNS = frozenset({"rowid", "oid", "_rowid_"})
PG_SYSTEM_COLUMNS = frozenset({"tableoid", "ctid", "xmin", "xmax", "cmin", "cmax"})


def _table_columns(schema: Schema, name: str, dialect: str = "sqlite") -> Columns:
    if fold(name) in SYSTEM_TABLES:
        return frozenset(SYSTEM_TABLES[fold(name)])
    table = schema.table(name)
    if table is None or not table.columns_known:
        return None
    cols = {c.key for c in table.columns}
    if not table.without_rowid and not table.is_view:
        cols |= ROWID_COLUMNS
    if dialect == "postgres" and not table.is_view:
        cols |= PG_SYSTEM_COLUMNS
    return frozenset(cols)


def _alias_columns(expression: exp.Expr) -> Columns:
    """``WITH chain(member, above) AS (...)`` / ``(SELECT ...) AS t(a, b)``: the column list
    names the source's columns, also inside a recursive CTE's own parts (SQLite docs, "WITH
    clause": the optional column list names the CTE's columns)."""
    node = expression
    while isinstance(node.parent, exp.SetOperation):
        node = node.parent
    holder = node.parent
    if not isinstance(holder, (exp.CTE, exp.Subquery)):
        return None
    alias = holder.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return frozenset(fold(c.name) for c in alias.columns)
    return None


def _scope_columns(scope: Scope) -> Columns:
    expression = scope.expression
    listed = _alias_columns(expression)
    if listed is not None:
        return listed
    if isinstance(expression, (exp.Select, exp.SetOperation)):
        selects = expression.selects
        if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star)
               for s in selects):
            return None
        return frozenset(fold(n) for n in expression.named_selects)
    return None


def _source_columns(source: object, schema: Schema, dialect: str) -> Columns:
    if isinstance(source, exp.Table):
        if isinstance(source.this, exp.Func) or (is_external(source, schema) and (
            fold(source.name) not in SYSTEM_TABLES
        )):
            return None
        return _table_columns(schema, ref_name(source), dialect)
    if isinstance(source, Scope):
        return _scope_columns(source)
    return None


class _Resolver:
    def __init__(self, schema: Schema, dialect: str) -> None:
        self.columns = ScopeColumns()  # sqlglot's scope.columns, in linear time
        self.judge_qualifiers = True
        self.schema = schema
        self.dialect = dialect
        self.unknown: list[NameRef] = []

    def report(self, column: exp.Expr, name: str, table: str | None) -> None:
        ident = column.args.get("this") if isinstance(column, exp.Column) else column
        if self.dialect == "sqlite" and isinstance(ident, exp.Identifier) and ident.quoted:
            parent = column.parent
            is_set_target = (isinstance(parent, exp.EQ) and parent.this is column
                             and isinstance(parent.parent, exp.Update))
            if not is_set_target:
                return  # SQLite reads an unresolvable "double-quoted" word as a string.
        self.unknown.append(NameRef(name, offset_of(column), table))

    # --- SELECT parts, through sqlglot's scopes -------------------------------------------
    def check_query(self, query: exp.Expr, outer: dict[str, tuple[str, Columns]]) -> None:
        try:
            scopes = traverse_scope(query)
        except (SqlglotError, RecursionError, KeyError, AttributeError):
            return
        # Table functions and laterals name rows their own way (SQLite: ``json_each.value``
        # with json_each unaliased): where one is used, no qualifier is judged unknown.
        # So do DML statements nested in a CTE (PostgreSQL's ``WITH x AS (UPDATE t ...)``), whose
        # target a subquery may name: sqlglot's scopes do not see it.
        root = query.root()
        self.judge_qualifiers = not any(
            isinstance(node, (exp.Lateral, exp.Unnest, exp.UDTF)) or (
                isinstance(node, exp.Table) and isinstance(node.this, exp.Func)) or (
                isinstance(node, DML_NODES) and node is not root)
            for node in root.find_all(exp.Lateral, exp.Unnest, exp.UDTF, exp.Table, *DML_NODES))
        for scope in scopes:
            self._check_scope(scope, outer)

    def _visible(self, scope: Scope) -> list[dict[str, object]]:
        chain: list[dict[str, object]] = []
        current: Scope | None = scope
        while current is not None:
            chain.append(dict(current.sources))
            current = current.parent
        return chain

    def _check_scope(self, scope: Scope, outer: dict[str, tuple[str, Columns]]) -> None:
        chain = self._visible(scope)
        aliases = {
            fold(s.alias) for s in scope.expression.selects if isinstance(s, exp.Alias)
        } if isinstance(scope.expression, exp.Select) else set()
        for column in self.columns.columns(scope):
            if column.is_star or not column.name:
                continue
            if self.columns.nearest_query(column) is not scope.expression:
                continue  # sqlglot lists a correlated subquery's columns in its parent too
            name, qualifier = fold(column.name), fold(column.table)
            if qualifier:
                self._check_qualified(column, name, qualifier, chain, outer)
                continue
            if name in aliases:
                continue
            if self.dialect == "postgres" and (name in outer or any(
                    fold(src) == name for sources in chain for src in sources)):
                continue  # a whole-row reference: ``SELECT p FROM participants p``
            candidates: list[tuple[str, Columns]] = []
            for sources in chain:
                for src_name, src in sources.items():
                    candidates.append((src_name, _source_columns(src, self.schema, self.dialect)))
            candidates.extend(outer.values())
            if not candidates or any(cols is None for _, cols in candidates):
                continue
            if not any(name in cols for _, cols in candidates if cols is not None):
                tables = [n for n, _ in candidates]
                self.report(column, column.name, tables[0] if len(tables) == 1 else None)

    def _check_qualified(self, column: exp.Column, name: str, qualifier: str,
                         chain: list[dict[str, object]],
                         outer: dict[str, tuple[str, Columns]]) -> None:
        for sources in chain:
            for src_name, src in sources.items():
                if fold(src_name) == qualifier:
                    cols = _source_columns(src, self.schema, self.dialect)
                    if cols is not None and name not in cols:
                        real = src.name if isinstance(src, exp.Table) else src_name
                        self.report(column, column.name, real)
                    return
        if qualifier in outer:
            table, cols = outer[qualifier]
            if cols is not None and name not in cols:
                self.report(column, column.name, table)
            return
        written = column.args.get("table")
        if self.judge_qualifiers and not column.args.get("db") and \
                qualifier not in PSEUDO_TABLES and \
                isinstance(written, exp.Identifier):
            # PostgreSQL: missing FROM-clause entry for table "q"; SQLite: no such column: q.x
            self.unknown.append(NameRef(written.name, offset_of(written), None, qualifier=True))

    # --- DML -------------------------------------------------------------------------------
    def check_dml(self, dml: exp.Expr) -> None:
        target = dml.this
        if isinstance(target, exp.Schema):
            target = target.this
        if not isinstance(target, exp.Table) or not target.name or \
                is_external(target, self.schema):
            return
        cols = _table_columns(self.schema, ref_name(target), self.dialect)
        env: dict[str, tuple[str, Columns]] = {fold(target.name): (target.name, cols)}
        if target.alias:
            env[fold(target.alias)] = (target.name, cols)
        if isinstance(dml, exp.Insert):
            env["excluded"] = (target.name, cols)
        extra = self._extra_sources(dml)
        env.update(extra)
        queries = _top_queries(dml)
        for query in queries:
            # An INSERT's SELECT cannot see the target table (its RETURNING can); UPDATE and
            # DELETE subqueries can.
            blind = isinstance(dml, exp.Insert) and _clause_of(query, dml) != "returning"
            self.check_query(query, {} if blind else env)
        if cols is None:
            return
        if isinstance(dml, exp.Insert) and isinstance(dml.this, exp.Schema):
            for ident in dml.this.expressions:
                if isinstance(ident, exp.Identifier) and fold(ident.name) not in cols:
                    self.unknown.append(NameRef(ident.name, offset_of(ident), target.name))
        conflict = dml.args.get("conflict")
        if conflict is not None:
            for ident in conflict.args.get("conflict_keys") or []:
                if isinstance(ident, exp.Identifier) and fold(ident.name) not in cols:
                    self.unknown.append(NameRef(ident.name, offset_of(ident), target.name))
        inside = {id(n) for q in queries for n in q.walk()}
        # a data-modifying CTE (``WITH ins AS (INSERT ... ON CONFLICT (k) ...) INSERT ...``)
        # names the columns of its own target, never this statement's
        for nested in dml.find_all(exp.Insert, exp.Update, exp.Delete):
            if nested is not dml:
                inside.update(id(n) for n in nested.walk())
        for column in dml.find_all(exp.Column):
            if id(column) in inside or column.is_star or not column.name:
                continue
            self._check_dml_column(column, env, extra, target.name, cols)

    def _check_dml_column(self, column: exp.Column, env: dict[str, tuple[str, Columns]],
                          extra: dict[str, tuple[str, Columns]], target: str,
                          cols: frozenset[str]) -> None:
        name, qualifier = fold(column.name), fold(column.table)
        if qualifier:
            if qualifier in env:
                table, known = env[qualifier]
                if known is not None and name not in known:
                    self.report(column, column.name, table)
            return
        if name in cols:
            return
        if self.dialect == "postgres" and name in env:
            return  # a whole-row reference: ``RETURNING repositories``
        if any(known is None or name in known for _, known in extra.values()):
            return
        self.report(column, column.name, target)

    def _extra_sources(self, dml: exp.Expr) -> dict[str, tuple[str, Columns]]:
        """UPDATE ... FROM / DELETE ... USING tables, and joined tables."""
        out: dict[str, tuple[str, Columns]] = {}
        nodes: list[exp.Expr] = []
        for key in ("from", "from_", "using", "joins"):
            value = dml.args.get(key)
            if isinstance(value, list):
                nodes.extend(value)
            elif isinstance(value, exp.Expr):
                nodes.append(value)
        for node in nodes:
            for table in node.find_all(exp.Table):
                subquery = table.find_ancestor(exp.Subquery)
                if subquery is not None:
                    out[fold(subquery.alias or "")] = ("", None)
                    continue
                cols = None if table.db and is_external(table, self.schema) else \
                    _table_columns(self.schema, ref_name(table), self.dialect)
                out[fold(table.alias or table.name)] = (table.name, cols)
        return out


def _clause_of(node: exp.Expr, dml: exp.Expr) -> str | None:
    """The argument of ``dml`` (``expression``, ``returning``, ``where``...) holding ``node``."""
    while node.parent is not None and node.parent is not dml:
        node = node.parent
    return node.arg_key if node.parent is dml else None


def _top_queries(dml: exp.Expr) -> list[exp.Expr]:
    """SELECT subtrees directly inside a DML statement (each analysed with scopes)."""
    out: list[exp.Expr] = []
    for node in dml.find_all(exp.Query):
        if node is dml:
            continue
        parent = node.parent
        nested = False
        while parent is not None and parent is not dml:
            if isinstance(parent, exp.Query):
                nested = True
                break
            parent = parent.parent
        if not nested:
            out.append(node)
    return out


def unknown_columns(expression: exp.Expr, schema: Schema, dialect: str = "sqlite") -> list[NameRef]:
    """Column names that no visible table has, with where they are written."""
    resolver = _Resolver(schema, dialect)
    if isinstance(expression, (exp.Insert, exp.Update, exp.Delete)):
        resolver.check_dml(expression)
    elif isinstance(expression, exp.Query):
        resolver.check_query(expression, {})
    return resolver.unknown
