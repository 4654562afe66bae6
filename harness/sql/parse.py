"""Turn one SQL text into parsed statements, each with its offset in the text.

The text is tokenized once with the dialect's own tokenizer (strings and comments are
handled by sqlglot, never by us), placeholders are normalised, statements are split at
top-level semicolons (trigger bodies kept whole), and each statement is parsed on its own
so one bad statement does not hide the others.
"""

from __future__ import annotations

import bisect
import itertools
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from harness.sql.placeholders import Placeholders, find_placeholders, normalise

logging.getLogger("sqlglot").setLevel(logging.CRITICAL)

from harness.dialects import DIALECTS  # noqa: E402,F401 - re-exported for callers


@dataclass(frozen=True)
class SqlError:
    """A statement that does not parse: where (offset in the text) and why."""

    start: int
    message: str
    statement: str = ""  # the statement's own text, when it is known


DML = frozenset({"insert", "update", "delete", "query"})
DDL = frozenset({"create", "alter", "drop"})
CATEGORIES = ((exp.Insert, "insert"), (exp.Update, "update"), (exp.Delete, "delete"),
              (exp.Query, "query"), (exp.Create, "create"), (exp.Alter, "alter"),
              (exp.Drop, "drop"), (exp.Command, "command"), (exp.Pragma, "pragma"))


def category_of(node: exp.Expr) -> str:
    return next((name for kind, name in CATEGORIES if isinstance(node, kind)), "other")


@dataclass(frozen=True, eq=False)
class Statement:
    """One parsed statement; ``start`` is its offset in the original text.

    ``category`` says what it is without touching the tree. From the fact cache the tree
    arrives as sqlglot's serialised form (as JSON text, harness/store.py) and is rebuilt on
    first use: a run that finds every
    answer in the statement memo (harness/sql/memo.py) never rebuilds it."""

    node: Any  # exp.Expr, or its serialised form until ``expression`` is first read
    start: int
    end: int
    text: str
    placeholders: Placeholders
    without_rowid: bool = False
    # For CREATE/ALTER: (end offset of a column's name, its type exactly as written), read
    # from the tokens at parse time so it is cached with the parse.
    declared: tuple[tuple[int, str], ...] = ()
    category: str = "other"

    @property
    def expression(self) -> exp.Expr:
        node = self.node
        if not isinstance(node, exp.Expr):
            if isinstance(node, str):  # from the cache: its JSON, checked before loading
                from harness.sql.trees import load_tree

                node = load_tree(node)
            node = exp.Expr.load(node)
            object.__setattr__(self, "node", node)
        return node

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        node = self.node
        payload = node.dump() if isinstance(node, exp.Expr) else node
        return (Statement, (payload, self.start, self.end, self.text, self.placeholders,
                            self.without_rowid, self.declared, self.category))

    def declared_type(self, ident: exp.Expr) -> str | None:
        end = ident.meta.get("end") if isinstance(ident, exp.Identifier) else None
        if end is None:
            return None
        for offset, text in self.declared:
            if offset == int(end):
                return text
        return None


@dataclass(frozen=True)
class ParsedSql:
    statements: tuple[Statement, ...]
    errors: tuple[SqlError, ...]
    skipped: str | None = None  # why the text was not analysed at all
    # Statements of a kind sqlglot does not model (CREATE OPERATOR...): not analysed, and
    # never reported as syntax errors.
    unmodelled: tuple[SqlError, ...] = ()


# Pure-Python sqlglot needs seconds per megabyte; a string this large in code is data, not a
# query anyone reviews, so it is reported as not analysed instead of stalling the run.
MAX_SQL_CHARS = 512 * 1024


@lru_cache(maxsize=8)
def _dialect(name: str) -> Dialect:
    return Dialect.get_or_raise(name)


def _split(tokens: list[Token]) -> list[list[Token]]:
    """Split at top-level semicolons. A CREATE TRIGGER with a ``BEGIN ... END`` body (SQLite,
    MySQL) ends at the ``;`` after that END (a ``CASE ... END`` inside the body is not it);
    one without a body (PostgreSQL's ``EXECUTE FUNCTION f();``) ends at its first ``;``.
    Dollar-quoted bodies are single string tokens of the dialect's tokenizer."""
    chunks: list[list[Token]] = []
    current: list[Token] = []
    in_trigger = False
    body = 0  # 0: no body seen; 1: inside BEGIN ... END; 2: the body's END seen
    cases = 0  # open CASE expressions inside the body
    for tok in tokens:
        word = tok.text.upper()
        if tok.token_type == TokenType.SEMICOLON:
            if body == 1:
                current.append(tok)
                continue
            if current:
                chunks.append(current)
            current, in_trigger, body, cases = [], False, 0, 0
            continue
        current.append(tok)
        if len(current) <= 4 and word == "TRIGGER" and current[0].text.upper() == "CREATE":
            in_trigger = True
        elif in_trigger and body == 0 and word == "BEGIN":
            body = 1
        elif body == 1 and word == "CASE":
            cases += 1
        elif body == 1 and word == "END":
            if cases:
                cases -= 1
            else:
                body = 2
    if current:
        chunks.append(current)
    return chunks


def _strip_on_commit_drop(text: str, tokens: list[Token], base: int) -> str:
    """PostgreSQL's ``CREATE TEMP TABLE t (...) ON COMMIT DROP`` (PostgreSQL docs, "CREATE
    TABLE": what happens to a temporary table at the end of a transaction): sqlglot falls back
    to Command on it. It changes no column, so it is blanked (same length, offsets kept)."""
    if not tokens or tokens[0].text.upper() != "CREATE":
        return text
    for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
        if a.text.upper() == "ON" and b.text.upper() == "COMMIT" and c.text.upper() == "DROP":
            s, e = a.start - base, c.end + 1 - base
            return text[:s] + " " * (e - s) + text[e:]
    return text


def _strip_without_rowid(text: str, tokens: list[Token], base: int) -> tuple[str, bool]:
    """sqlglot falls back to Command on WITHOUT ROWID; blank it out and remember it."""
    for a, b in itertools.pairwise(tokens):
        if a.text.upper() == "WITHOUT" and b.text.upper() == "ROWID":
            s, e = a.start - base, b.end + 1 - base
            return text[:s] + " " * (e - s) + text[e:], True
    return text, False


def _strip_key_autoincrement(text: str, tokens: list[Token], base: int) -> str:
    """SQLite takes AUTOINCREMENT at the end of a table-level key list, ``PRIMARY KEY (id
    AUTOINCREMENT)`` (parse.y: ``PRIMARY KEY LP sortlist autoinc RP``); sqlglot rejects it.
    It changes no column, so it is blanked (same length, offsets kept)."""
    for i in range(len(tokens) - 1):
        if tokens[i].token_type != TokenType.PRIMARY_KEY or \
                tokens[i + 1].token_type != TokenType.L_PAREN:
            continue
        depth = 0
        for j in range(i + 1, len(tokens)):
            kind = tokens[j].token_type
            depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
            if depth == 0:
                word = tokens[j - 1]
                if word.text.upper() == "AUTOINCREMENT":
                    s, e = word.start - base, word.end + 1 - base
                    text = text[:s] + " " * (e - s) + text[e:]
                break
    return text


_TABLE_CONSTRAINT_STARTS = (TokenType.FOREIGN_KEY, TokenType.PRIMARY_KEY, TokenType.UNIQUE,
                            TokenType.CONSTRAINT)


def _table_constraint_commas(text: str, tokens: list[Token], base: int) -> str:
    """SQLite takes table constraints with or without commas between them (parse.y:
    ``conslist ::= conslist tconscomma tcons``, ``tconscomma ::= COMMA|``): ``FOREIGN KEY (a)
    REFERENCES p (a) FOREIGN KEY (b) ...``; sqlglot wants the comma. The blank before each
    constraint after the first that lacks one becomes a comma (same length, offsets kept)."""
    if len(tokens) < 3 or tokens[0].token_type != TokenType.CREATE:
        return text
    open_at = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), None)
    if open_at is None or any(t.token_type in (TokenType.ALIAS, TokenType.SELECT)
                              for t in tokens[:open_at]):
        return text
    if not any(t.token_type == TokenType.TABLE for t in tokens[:open_at]):
        return text
    depth = 0
    in_constraints = False
    chars = list(text)
    for i in range(open_at, len(tokens)):
        kind = tokens[i].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
            continue
        if kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                break
            continue
        starts = kind in _TABLE_CONSTRAINT_STARTS or (
            kind == TokenType.VAR and tokens[i].text.upper() == "CHECK")
        if depth != 1 or not starts:
            continue
        before = tokens[i - 1].token_type
        if before in (TokenType.COMMA, TokenType.L_PAREN):
            in_constraints = in_constraints or before == TokenType.COMMA
            continue
        if i >= 2 and tokens[i - 2].token_type == TokenType.CONSTRAINT:
            continue  # CONSTRAINT name PRIMARY KEY ...: one constraint
        at = tokens[i].start - base - 1
        if in_constraints and 0 <= at < len(chars) and chars[at].isspace():
            chars[at] = ","
    return "".join(chars)


def _virtual_module_args(text: str, tokens: list[Token], base: int) -> str:
    """``CREATE VIRTUAL TABLE t USING fts5(body, title UNINDEXED, tokenize='porter')``: sqlglot
    takes only bare names as module arguments. Blank out (same length, offsets kept) options
    (``key=value``) and words after a column's name, leaving ``fts5(body, title)``."""
    words = [t.text.upper() for t in tokens[:4]]
    if words[:3] != ["CREATE", "VIRTUAL", "TABLE"]:
        return text
    open_at = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), None)
    if open_at is None:
        return text
    args: list[list[int]] = [[]]  # token indexes of each top-level argument
    commas: list[int] = []
    depth = 0
    for i in range(open_at + 1, len(tokens)):
        kind = tokens[i].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            if depth == 0:
                break
            depth -= 1
        elif kind == TokenType.COMMA and depth == 0:
            commas.append(i)
            args.append([])
            continue
        args[-1].append(i)
    blank: list[int] = []
    kept = 0
    for n, arg in enumerate(args):
        option = not arg or any(tokens[i].token_type == TokenType.EQ for i in arg)
        if option:
            blank.extend(arg)
            if n > 0:
                blank.append(commas[n - 1])
            elif n < len(commas):
                blank.append(commas[n])
            continue
        kept += 1
        blank.extend(arg[1:])
    if not blank or not kept:
        return text
    chars = list(text)
    for i in blank:
        for k in range(tokens[i].start - base, tokens[i].end + 1 - base):
            if 0 <= k < len(chars):
                chars[k] = " "
    return "".join(chars)


def _error_offset(chunk: str, line: int, col: int, highlight: str) -> int:
    lines = chunk.split("\n")
    line = max(1, min(line, len(lines)))
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - len(highlight)
    return max(0, min(offset, len(chunk)))


def parse_sql(text: str, dialect: str = "sqlite") -> ParsedSql:
    """Parse every statement of ``text``; errors are data, never exceptions."""
    if len(text) > MAX_SQL_CHARS:
        return ParsedSql((), (), f"{len(text) // 1024} KiB of SQL is over the "
                                 f"{MAX_SQL_CHARS // 1024} KiB analysis limit")
    key = (text, dialect)
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) > 200_000:
            _PARSED.clear()
        found = _PARSED[key] = _parse(text, dialect)
    return found


# Parsed SQL by (text, dialect): filled as texts are parsed, and seeded with the results that
# extraction workers computed and the fact cache kept, so a warm run parses only new SQL.
_PARSED: dict[tuple[str, str], ParsedSql] = {}


def seed(results: dict[str, ParsedSql], dialect: str) -> None:
    for text, parsed in results.items():
        _PARSED.setdefault((text, dialect), parsed)


def tokenize(text: str, dialect: str) -> list[Token]:
    """The dialect's tokens of ``text`` (strings and comments are single tokens); ``[]`` when
    it does not tokenize."""
    try:
        return list(_dialect(dialect).tokenizer_class().tokenize(text))
    except TokenError:
        return []


def _parse(text: str, dialect: str) -> ParsedSql:
    d = _dialect(dialect)
    try:
        tokens = d.tokenizer_class().tokenize(text)
        source = _replace_into(text, tokens)
        if source != text:
            tokens = d.tokenizer_class().tokenize(source)
        if dialect == "sqlite":
            quoted = _quoted_insert_columns(source, tokens)
            if quoted != source:
                source = quoted
                tokens = d.tokenizer_class().tokenize(source)
    except TokenError as err:
        return ParsedSql((), (SqlError(_token_error_offset(text), f"cannot tokenize SQL: {err}"),))
    block = procedural_block(tokens)
    if block is not None:
        # no statement text: the database's parser is not asked either (PostgreSQL would
        # reject Oracle's PL/SQL, which a multi-backend project sends only to Oracle)
        return ParsedSql((), (), unmodelled=(SqlError(
            0, f"{block}: a procedural block, not one SQL statement; skipped"),))
    placeholders = find_placeholders(tokens)
    normal = normalise(source, placeholders)
    statements: list[Statement] = []
    errors: list[SqlError] = []
    unmodelled: list[SqlError] = []
    for chunk_tokens in _split(tokens):
        start, end = chunk_tokens[0].start, chunk_tokens[-1].end + 1
        chunk, without_rowid = _strip_without_rowid(normal[start:end], chunk_tokens, start)
        chunk = _virtual_module_args(chunk, chunk_tokens, start)
        chunk = _strip_on_commit_drop(chunk, chunk_tokens, start)
        if dialect == "sqlite":
            chunk = _strip_key_autoincrement(chunk, chunk_tokens, start)
            chunk = _table_constraint_commas(chunk, chunk_tokens, start)
        own = Placeholders(tuple(p for p in placeholders.items if start <= p.start < end))
        try:
            parsed = _parse_one(chunk, chunk_tokens, start, d)
        except (ParseError, TokenError, RecursionError, ValueError) as err:
            kind = unmodelled_kind(chunk_tokens)
            if kind is None and not isinstance(err, ParseError):
                errors.append(SqlError(start, f"cannot parse SQL: {str(err)[:200]}"))
                continue
            if kind is not None:
                unmodelled.append(SqlError(start, f"{kind}: sqlglot has no model of it; skipped",
                                           normal[start:end]))
                continue
            assert isinstance(err, ParseError)
            first = err.errors[0] if err.errors else {}
            offset = _error_offset(
                chunk, int(first.get("line") or 1), int(first.get("col") or 1),
                str(first.get("highlight") or ""),
            )
            desc = str(first.get("description") or err).split("\n")[0]
            near = str(first.get("highlight") or "").strip()
            errors.append(SqlError(start + offset, desc + (f" near {near!r}" if near else ""),
                                   normal[start:end]))
            continue
        except Exception as err:
            errors.append(SqlError(start, f"sqlglot could not parse this statement "
                                          f"({type(err).__name__}: {str(err)[:120]})"))
            continue
        if _not_a_statement(parsed, chunk_tokens):
            errors.append(SqlError(start, f"not a SQL statement: {chunk_tokens[0].text!r} "
                                          "starts no statement", normal[start:end]))
            continue
        declared = _declared_types(parsed, chunk_tokens, start, source) if isinstance(
            parsed, (exp.Create, exp.Alter)) else ()
        statements.append(Statement(parsed, start, end, text[start:end], own, without_rowid,
                                    declared, category_of(parsed)))
    return ParsedSql(tuple(statements), tuple(errors), unmodelled=tuple(unmodelled))


# Object kinds of CREATE/ALTER/DROP that sqlglot has no model for (PostgreSQL docs, "SQL
# Commands"): none of them creates a table or a column, so skipping them loses no schema.
UNMODELLED_OBJECTS = (
    ("OPERATOR",), ("AGGREGATE",), ("CAST",), ("COLLATION",), ("CONVERSION",),
    ("TEXT", "SEARCH"), ("EXTENSION",), ("LANGUAGE",), ("PROCEDURAL", "LANGUAGE"),
    ("TRUSTED",), ("RULE",), ("POLICY",), ("PUBLICATION",), ("SUBSCRIPTION",), ("SERVER",),
    ("FOREIGN", "DATA", "WRAPPER"), ("USER", "MAPPING"), ("EVENT", "TRIGGER"), ("TRANSFORM",),
    ("ACCESS", "METHOD"), ("STATISTICS",), ("TABLESPACE",), ("ROLE",), ("GROUP",),
    ("DEFAULT", "PRIVILEGES"),
)


# What may follow a transaction's BEGIN (PostgreSQL docs, BEGIN; SQLite docs, "BEGIN
# TRANSACTION"; MySQL docs, "START TRANSACTION ... BEGIN [WORK]").
_TRANSACTION_WORDS = frozenset({
    ";", "TRANSACTION", "WORK", "TRAN", "ISOLATION", "READ", "DEFERRABLE", "NOT", "DEFERRED",
    "IMMEDIATE", "EXCLUSIVE",
})


def procedural_block(tokens: list[Token]) -> str | None:
    """``BEGIN EXECUTE IMMEDIATE ...; EXCEPTION WHEN ... END;`` or ``DECLARE ... BEGIN ...
    END;``: an anonymous block of PL/SQL or T-SQL, whose ``;`` end its inner statements, not
    the text; ``"BEGIN ... END"``, or None when the text is SQL statements (a bare
    ``BEGIN`` / ``BEGIN TRANSACTION`` starts a transaction)."""
    if not tokens:
        return None
    first = tokens[0].text.upper()
    if first == "DECLARE" and any(t.text.upper() == "BEGIN" for t in tokens[1:]):
        return "DECLARE ... BEGIN ... END"
    if first != "BEGIN" or len(tokens) < 2 or tokens[1].text.upper() in _TRANSACTION_WORDS:
        return None
    if tokens[-1].text == ";":
        tokens = tokens[:-1]
    return "BEGIN ... END" if tokens[-1].text.upper() == "END" else None


def unmodelled_kind(tokens: list[Token]) -> str | None:
    """``CREATE OPERATOR``, ``ALTER AGGREGATE``...: the statement's kind when it is one that
    sqlglot does not model, else None. ``OR REPLACE`` after CREATE is skipped."""
    words = [t.text.upper() for t in tokens[:6]]
    if not words or words[0] not in ("CREATE", "ALTER", "DROP", "COMMENT"):
        return None
    rest = words[1:]
    if rest[:2] == ["OR", "REPLACE"]:
        rest = rest[2:]
    if words[0] == "COMMENT" and rest[:1] == ["ON"]:
        rest = rest[1:]
    for kind in UNMODELLED_OBJECTS:
        if tuple(rest[: len(kind)]) == kind:
            return f"{words[0]} {' '.join(kind)}"
    return None


# Words that end a column's type and start a constraint (by text: sqlglot tokenizes some of
# them, e.g. CHECK and GENERATED, as plain VARs).
CONSTRAINT_WORDS = frozenset({
    "PRIMARY", "PRIMARY KEY", "NOT", "NULL", "DEFAULT", "UNIQUE", "CHECK", "REFERENCES",
    "COLLATE", "CONSTRAINT", "AUTOINCREMENT", "AUTO_INCREMENT", ",", "AS", "GENERATED",
    "FOREIGN", "ON", "COMMENT", "(", ")",
})


def _parse_one(chunk: str, tokens: list[Token], base: int, d: Dialect) -> exp.Expr:
    """Parse; on failure, retry with multi-word type names joined (SQLite takes any words as a
    type name: ``UNSIGNED BIG INT``, or a missing comma's ``TEXT b INTEGER``)."""
    try:
        return sqlglot.parse_one(chunk, read=d)
    except ParseError:
        joined = _join_type_words(chunk, tokens, base)
        if joined == chunk:
            raise
        return sqlglot.parse_one(joined, read=d)


def _join_type_words(chunk: str, tokens: list[Token], base: int) -> str:
    """Replace the blanks between the words of each column type with underscores (same
    length, so every offset still holds)."""
    if not tokens or tokens[0].text.upper() not in ("CREATE", "ALTER"):
        return chunk
    out = list(chunk)
    depth = 0
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        word = tok.text.upper()
        starts_column = (word in ("(", ",") and depth == (1 if word == "," else 0)) or \
            word == "ADD"
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if not starts_column:
            i += 1
            continue
        j = i + 1
        if j < n and tokens[j].text.upper() == "COLUMN":
            j += 1
        j += 1  # the column name
        words = []
        while j < n and tokens[j].text.upper() not in CONSTRAINT_WORDS and \
                tokens[j].text.replace("_", "").isalnum():
            words.append(tokens[j])
            j += 1
        for a, b in itertools.pairwise(words):
            gap = chunk[a.end + 1 - base : b.start - base]
            if gap.strip() == "":
                out[a.end + 1 - base : b.start - base] = "_" * len(gap)
        i += 1
    return "".join(out)


def _declared_types(parsed: exp.Expr, tokens: list[Token], base: int,
                    source: str) -> tuple[tuple[int, str], ...]:
    """Each column definition's type as written (sqlglot maps REAL to DOUBLE, BOOLEAN to
    INTEGER...; SQLite's affinity and PRAGMA output need the words themselves)."""
    starts = [t.start for t in tokens]
    out = []
    for col in parsed.find_all(exp.ColumnDef):
        ident = col.this
        end = ident.meta.get("end") if isinstance(ident, exp.Identifier) else None
        if end is None:
            continue
        declared = type_text(source, tokens, bisect.bisect_right(starts, base + int(end)))
        if declared:
            out.append((int(end), declared))
    return tuple(out)


def type_text(source: str, tokens: list[Token], i: int) -> str:
    """The words of a column type starting at token ``i``: up to the first constraint word,
    comma or closing parenthesis at depth 0, as written, upper-cased."""
    depth, first, last = 0, None, None
    for tok in tokens[i:]:
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and tok.text.upper() in CONSTRAINT_WORDS:
            break
        if first is None:
            first = tok.start
        last = tok
    if first is None or last is None:
        return ""
    return " ".join(source[first : last.end + 1].split()).upper()


def _replace_into(text: str, tokens: list[Token]) -> str:
    """SQLite/MySQL ``REPLACE INTO``: sqlglot's tokenizer swallows the rest of the statement
    as a string. ``INSERT `` has the same length and the same columns, so it is analysed as
    that (every offset stays valid)."""
    out = text
    for i, tok in enumerate(tokens):
        if tok.text.upper() != "REPLACE" or (i and tokens[i - 1].token_type != TokenType.SEMICOLON):
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and nxt.text.lstrip().upper().startswith("INTO") and \
                tok.end + 1 - tok.start == 7:
            out = out[: tok.start] + "INSERT " + out[tok.end + 1 :]
    return out


def _quoted_insert_columns(text: str, tokens: list[Token]) -> str:
    """SQLite reads a single-quoted name in an INSERT column list as that column (SQLite docs,
    "SQLite Keywords": a string in single quotes where an identifier is allowed but a string
    literal is not is understood as an identifier). ``'name'`` becomes ``"name"``: the same
    length, so every offset holds."""
    out = text
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.token_type != TokenType.INTO or not i or \
                tokens[i - 1].text.upper() not in ("INSERT", "REPLACE", "ABORT", "FAIL",
                                                   "IGNORE", "ROLLBACK"):
            continue
        j = i + 1
        while j + 1 < n and tokens[j + 1].token_type == TokenType.DOT:
            j += 2  # schema.table
        j += 1
        if j + 1 < n and tokens[j].token_type == TokenType.ALIAS:
            j += 2  # AS alias
        if j >= n or tokens[j].token_type != TokenType.L_PAREN:
            continue
        j += 1
        while j < n and tokens[j].token_type != TokenType.R_PAREN:
            t = tokens[j]
            raw = text[t.start : t.end + 1]
            if t.token_type == TokenType.STRING and len(raw) >= 2 and raw[0] == raw[-1] == "'" \
                    and "'" not in raw[1:-1] and '"' not in raw[1:-1]:
                out = out[: t.start] + '"' + raw[1:-1] + '"' + out[t.end + 1 :]
            elif t.token_type not in (TokenType.COMMA, TokenType.STRING, TokenType.VAR,
                                      TokenType.IDENTIFIER) and not t.text.isidentifier():
                break
            j += 1
    return out


_BARE_STATEMENTS = frozenset({"REINDEX", "VACUUM", "ANALYZE", "END", "SAVEPOINT", "RELEASE",
                              "ROLLBACK", "COMMIT", "BEGIN"})


def _not_a_statement(parsed: exp.Expr, tokens: list[Token]) -> bool:
    """sqlglot accepts a bare expression (``SELEC broken`` is ``SELEC AS broken``); a
    database does not."""
    return isinstance(parsed, (exp.Alias, exp.Condition)) and \
        tokens[0].text.upper() not in _BARE_STATEMENTS


def _token_error_offset(text: str) -> int:
    """A tokenizer error is almost always an unterminated quote: point at it."""
    for quote in ("'", '"', "`"):
        if text.count(quote) % 2:
            return text.rfind(quote)
    return 0
