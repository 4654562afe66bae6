"""harness/store.py: the data-only cache format, its atomic writes and where caches live."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import store
from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.parallel import extract_one
from harness.python.facts import FileFacts, KeyFact
from harness.python.source import module_name
from harness.sql.dml import DmlInfo, describe
from harness.sql.parse import ParsedSql, Statement, parse_sql
from harness.sql.resolve import NameRef

REPO = Path(__file__).resolve().parent.parent


def _generated(root: Path) -> Path:
    path = REPO / "benchmarks" / "generate_project.py"
    spec = importlib.util.spec_from_file_location("generate_project", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(root, 3000, 7)
    return root


def _real_facts(generated: Path) -> list[FileFacts]:
    """Facts (SQL parsed, as the cache stores them) of every Python file of the examples, of
    dbharness itself and of a generated project: real extractions, not hand-made ones."""
    paths = [*sorted((REPO / "examples").rglob("*.py")), *sorted((REPO / "harness").rglob("*.py")),
             *sorted(generated.rglob("*.py"))]
    out = []
    for path in paths:
        root = generated if generated in path.parents else REPO
        display = str(path.relative_to(root))
        facts, fingerprint = extract_one((str(path), display, module_name(path, root), "sqlite"))
        assert fingerprint is not None and facts.error is None, display
        out.append(facts)
    return out


def comparable(value: Any) -> Any:
    """``value`` with each Statement (equal only to itself) replaced by what it holds."""
    if isinstance(value, Statement):
        return ("Statement", value.expression.sql(), value.expression.dump(), value.start,
                value.end, value.text, value.placeholders, value.without_rowid, value.declared,
                value.category)
    if isinstance(value, ParsedSql):
        return ("ParsedSql", comparable(value.statements), value.errors, value.skipped)
    if isinstance(value, FileFacts):
        return (value.__class__, *(comparable(getattr(value, f)) for f in value.__slots__)) \
            if hasattr(value, "__slots__") else (value.__class__, comparable(vars(value)))
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(comparable(v) for v in value)
    return value


@pytest.fixture(scope="module")
def real_facts(tmp_path_factory: pytest.TempPathFactory) -> list[FileFacts]:
    return _real_facts(_generated(tmp_path_factory.mktemp("generated")))


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_real_facts_round_trip_exactly(real_facts: list[FileFacts]) -> None:
    assert len(real_facts) > 50
    assert sum(len(f.parsed) for f in real_facts) > 100  # statements with trees are covered
    for facts in real_facts:
        again = store.loads(store.dumps(facts))
        assert type(again) is FileFacts
        assert comparable(again) == comparable(facts), facts.path
        without_trees = facts.__class__(**{**vars(facts), "parsed": ()})
        assert store.loads(store.dumps(without_trees)) == without_trees


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_sampled_real_facts_round_trip(real_facts: list[FileFacts], data: st.DataObject) -> None:
    """Property: decode(encode(f)) == f, over real facts and random pieces cut from them."""
    facts = data.draw(st.sampled_from(real_facts))
    field_name = data.draw(st.sampled_from([f for f in vars(facts) if f != "parsed"]))
    piece = getattr(facts, field_name)
    assert store.loads(store.dumps(piece)) == piece


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.builds(FileFacts, parsed=st.just(())))
def test_generated_facts_round_trip(facts: FileFacts) -> None:
    """Property over every field type of the facts (Arg unions, nested Steps, frozensets)."""
    again = store.loads(store.dumps(facts))
    assert again == facts
    assert type(again.suppressions) is tuple
    for _, slugs in again.suppressions:
        assert type(slugs) is frozenset


def test_answers_and_diagnostics_round_trip() -> None:
    (st_,) = parse_sql("INSERT INTO t (a, b) VALUES (?, :x)", "sqlite").statements
    info = describe(st_.expression)
    assert isinstance(info, DmlInfo)
    refs = (NameRef("t", 12), NameRef("a", 15, "t"))
    diag = Diagnostic("DBH201", "key-without-column", Severity.WARNING, Location("a.py", 3, 4),
                      "msg", table="t", related=(Related(Location("b.py", 1, 1), "here"),))
    for value in (info, refs, (diag,), frozenset({"a", "b"}), (1, 2.5, None, True, "x")):
        again = store.loads(store.dumps(value))
        assert again == value and type(again) is type(value)
    assert store.loads(store.dumps(Severity.NOTE)) is Severity.NOTE


def test_values_outside_the_allow_list_are_not_stored() -> None:
    class Foreign:
        pass

    for value in ([1, 2], {"a": 1}, Foreign(), b"bytes", {1, 2}):
        with pytest.raises(TypeError):
            store.dumps(value)


@pytest.mark.parametrize("text", [
    '{"@":"Popen","args":"x"}',  # a class not on the allow-list
    '{"@":"KeyFact","name":"a","line":1,"col":1,"evil":2}',  # a field the class has not
    '{"@":"KeyFact","name":"a"}',  # missing fields
    '{"x":1}',  # a plain dict is never written
    '{"@e":"Severity","v":"fatal"}',
    '{"@e":"Signals","v":9}',
    '{"@s":[[1]], "more": 1}',
    '[1, {"@":"FileFacts","path":"a","module":"m","imports":5}]',  # wrong type inside
    '{"@":"KeyFact","name":"a","line":"1","col":1}',
    '{"@":"RecordArg","record":{"@":"KeyFact","name":"a","line":1,"col":1}}',
    '{"@":"Hole","sentinel":"s","kind":"k","param":["p"]}',
    "not json", "", '{"@":', '{"@":["KeyFact"]}',
])
def test_foreign_or_damaged_data_is_a_bad_entry(text: str) -> None:
    """Every way a stored value can be wrong is BadEntry (callers drop it), nothing else."""
    with pytest.raises(store.BadEntry):
        store.loads(text)


def test_every_allowed_class_has_field_type_tests() -> None:
    """Each allowed class decodes from its own encoding (its annotations all have tests)."""
    from harness.store import _BY_NAME, _checks

    for name, cls in store.allowed().items():
        assert set(_checks(_BY_NAME[name])) == {f.name for f in dataclasses.fields(cls)}


def test_a_tree_naming_a_foreign_module_is_refused_and_never_imported(tmp_path: Path) -> None:
    """sqlglot's own loader imports whatever module a payload names: the store checks every
    class name against sqlglot's expression classes first."""
    marker = tmp_path / "imported"
    (tmp_path / "evil_tree_module.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Select:\n    pass\n")
    (st_,) = parse_sql("SELECT a FROM t", "sqlite").statements
    encoded = json.loads(store.dumps(st_))
    tree = json.loads(encoded["node"][17:])
    tree[0]["c"] = "evil_tree_module.Select"
    text = json.dumps(tree)
    encoded["node"] = f"{encoded['node'][:17]}{text}"  # the old digest: a damaged tree
    with pytest.raises(store.BadEntry):
        store.loads(json.dumps(encoded))
    # Forged with a matching digest: read (trees are parsed only when used), then refused.
    from harness.store import _tree_digest

    encoded["node"] = f"{_tree_digest(text)}:{text}"
    forged = store.loads(json.dumps(encoded))
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(store.BadEntry):
            forged.expression  # noqa: B018
    finally:
        sys.path.remove(str(tmp_path))
    assert not marker.exists()
    assert "evil_tree_module" not in sys.modules


def test_a_statement_comes_back_with_its_tree() -> None:
    (st_,) = parse_sql("UPDATE t SET a = ? WHERE id = :id", "sqlite").statements
    again = store.loads(store.dumps(st_))
    assert type(again) is Statement
    assert again.expression.sql() == st_.expression.sql()
    assert (again.text, again.start, again.placeholders) == (st_.text, st_.start,
                                                             st_.placeholders)


def test_write_bytes_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    link = tmp_path / "cache" / "entry.json"
    link.parent.mkdir()
    link.symlink_to(outside)
    assert store.write_bytes(link, b"{}")
    assert outside.read_text() == "keep"
    assert not link.is_symlink() and link.read_bytes() == b"{}"


def test_write_bytes_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    assert not store.write_bytes(tmp_path / "missing" / "x.json", b"{}")
    assert list(tmp_path.iterdir()) == []


def test_read_document_checks_format_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    assert store.write_document(path, "facts", {"entries": {}})
    assert store.read_document(path, "facts") == {"format": store.FORMAT, "kind": "facts",
                                                  "entries": {}}
    assert store.read_document(path, "result") is None
    path.write_text(json.dumps({"format": store.FORMAT + 1, "kind": "facts"}))
    assert store.read_document(path, "facts") is None
    path.write_text("[]")
    assert store.read_document(path, "facts") is None
    link = tmp_path / "link.json"
    store.write_document(path, "facts", {})
    link.symlink_to(path)
    assert store.read_document(link, "facts") is None  # a symlink is not followed


# --- where caches live ---------------------------------------------------------------------

def test_project_folder_is_private_and_outside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    folder = store.project_dir(project)
    assert isinstance(folder, Path)
    assert folder.parent == store.base_dir()
    assert project not in folder.parents
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert store.project_dir(project / "." ) == folder
    assert store.project_dir(tmp_path) != folder


def test_env_and_override_choose_the_base(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(store.ENV, str(tmp_path / "from-env"))
    assert store.base_dir() == tmp_path / "from-env"
    assert store.base_dir(str(tmp_path / "flag")) == tmp_path / "flag"
    monkeypatch.delenv(store.ENV)
    import platformdirs

    assert store.base_dir() == Path(platformdirs.user_cache_dir("dbharness")).resolve()


def test_a_folder_open_to_others_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "shared"
    base.mkdir()
    os.chmod(base, 0o777)
    found = store.project_dir(tmp_path, str(base))
    assert isinstance(found, store.Refused) and "writable by other users" in found.reason
    assert list(base.iterdir()) == []
    os.chmod(base, 0o700)
    assert isinstance(store.project_dir(tmp_path, str(base)), Path)
    os.chmod(store.project_dir(tmp_path, str(base)), 0o770)  # type: ignore[arg-type]
    assert isinstance(store.project_dir(tmp_path, str(base)), store.Refused)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                    reason="handing a folder to another user needs root")
def test_a_folder_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "theirs"
    base.mkdir(mode=0o700)
    os.chown(base, 65534, 65534)
    found = store.project_dir(tmp_path, str(base))
    assert isinstance(found, store.Refused) and "owned by another user" in found.reason


def test_a_symlinked_project_folder_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (base / store.project_key(tmp_path)).symlink_to(elsewhere)
    found = store.project_dir(tmp_path, str(base))
    assert isinstance(found, store.Refused) and "not a directory" in found.reason


def test_keyfact_defaults_are_left_out() -> None:
    assert json.loads(store.dumps(KeyFact("a", 1, 2))) == {"@": "KeyFact", "name": "a",
                                                          "line": 1, "col": 2}
