"""``dbharness contracts``: what was bound to what, so users can see (and trust) the inference."""

from __future__ import annotations

import json
from typing import Any

from harness.link.coverage import coverage
from harness.link.model import Binding, Model
from harness.link.simulate import replay_all
from harness.rules.sql_sites import not_modelled
from harness.sql.schema import Schema


def _binding_dict(b: Binding) -> dict[str, Any]:
    r, w = b.record, b.writer
    return {
        "record": {"path": r.path, "line": r.line, "col": r.col, "name": r.label,
                   "keys": [k.name for k in r.keys], "closed": r.closed},
        "writer": {"path": w.path, "line": w.line, "col": w.col, "function": w.qualname,
                   "param": w.param, "mode": w.mode, "via": list(w.via)},
        "table": b.table,
        "call": {"path": b.call.path, "line": b.call.line, "col": b.call.col},
        "resolved_by": b.how,
    }


def _unique(model: Model) -> list[Binding]:
    seen = set()
    out = []
    for b in model.bindings:
        key = (b.record.path, b.record.line, b.record.col, b.writer.qualname, b.writer.param,
               b.table)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return sorted(out, key=lambda b: (b.record.path, b.record.line, b.table))


def schema_code(model: Model) -> list[dict[str, Any]]:
    """Each starting point of the project's schema code and what its replay from an empty
    database and from the oldest upgraded one found (or why it was not replayed)."""
    out = []
    for (facts, program), replay in replay_all(model):
        if isinstance(replay, str):
            status = replay
        elif replay.fresh.failure is not None:
            status = f"a fresh install fails: {replay.fresh.failure.message}"
        elif replay.upgraded.failure is not None:
            status = f"{replay.upgraded_from} fail: {replay.upgraded.failure.message}"
        else:
            parted = _parted_columns(replay.fresh.builder.schema, replay.upgraded.builder.schema)
            status = (f"replayed from an empty database and as {replay.upgraded_from}: "
                      + (f"they end differently ({parted})" if parted else
                         "they end with the same schema"))
        out.append({"path": facts.path, "line": program.line, "function": program.function,
                    "status": status})
    return sorted(out, key=lambda d: (d["path"], d["line"]))


def _parted_columns(fresh: Schema, upgraded: Schema) -> str:
    """Which columns only one of the two replays ends with, as a short phrase."""
    only: dict[str, list[str]] = {"fresh installs only": [], "upgraded databases only": []}
    for table in fresh:
        other = upgraded.table(table.name)
        if other is None:
            continue
        mine, theirs = set(table.column_names()), set(other.column_names())
        only["fresh installs only"] += [f"{table.name}.{c}" for c in sorted(mine - theirs)]
        only["upgraded databases only"] += [f"{table.name}.{c}" for c in sorted(theirs - mine)]
    return "; ".join(f"{who}: {', '.join(cols)}" for who, cols in only.items() if cols)


def contracts_json(model: Model) -> str:
    writers = sorted({(w.path, w.line, w.qualname, w.param, w.table or f"<{w.table_param}>",
                       w.mode) for w in model.writers})
    return json.dumps({
        "coverage": coverage(model).as_dict(),
        "bindings": [_binding_dict(b) for b in _unique(model)],
        "writers": [{"path": p, "line": ln, "function": f, "param": pa, "table": t, "mode": m}
                    for p, ln, f, pa, t, m in writers],
        "unbound": [{"path": u.location.path, "line": u.location.line, "col": u.location.col,
                     "what": u.what, "reason": u.reason} for u in model.unbound],
        "tables": sorted(t.name for t in model.schema),
        "schema_code": schema_code(model),
        "not_analysed": [{"path": where.path, "line": where.line, "col": where.col,
                          "reason": reason} for where, reason in not_modelled(model)],
    }, indent=2)


def contracts_text(model: Model) -> str:
    out = [f"tables ({len(model.schema)}): " + ", ".join(sorted(t.name for t in model.schema))]
    bindings = _unique(model)
    out.append(f"\nbindings ({len(bindings)}):")
    for b in bindings:
        r, w = b.record, b.writer
        out.append(f"  {r.path}:{r.line}:{r.col} {r.label} {{{', '.join(k.name for k in r.keys)}}}"
                   f"{'' if r.closed else ' +unknown keys'}")
        out.append(f"    -> {w.label}({w.param}) at {w.path}:{w.line} [{w.mode}, "
                   f"resolved by {b.how}]")
        out.append(f"    -> table {b.table}")
    writers = sorted({(w.path, w.line, w.qualname, w.param, w.table or f"<param {w.table_param}>",
                       w.mode, w.label) for w in model.writers})
    out.append(f"\nwriters ({len(writers)}):")
    for path, line, _fn, param, table, mode, label in writers:
        out.append(f"  {path}:{line} {label}({param}) -> {table} [{mode}]")
    out.append(f"\nunbound ({len(model.unbound)}):")
    for u in model.unbound:
        out.append(f"  {u.location.path}:{u.location.line}:{u.location.col} {u.what}: {u.reason}")
    replays = schema_code(model)
    out.append(f"\nschema code ({len(replays)}):")
    for replay in replays:
        out.append(f"  {replay['path']}:{replay['line']} {replay['function']}: "
                   f"{replay['status']}")
    skipped = not_modelled(model)
    if skipped:
        out.append(f"\nnot analysed ({len(skipped)}):")
        out.extend(f"  {w.path}:{w.line}:{w.col} {reason}" for w, reason in skipped)
    covered = coverage(model)
    out.append(f"\ncoverage: {covered.line()}; {covered.sql_sites_seen} SQL sites seen; "
               f"records: {covered.records_bound} bound, {covered.records_unbound} unbound")
    for gap in sorted(model.unanalysed, key=lambda g: (g.location.path, g.location.line)):
        out.append(f"  {gap.location.path}:{gap.location.line}:{gap.location.col} not "
                   f"analysed: {gap.reason.value}")
    return "\n".join(out)


def contracts_mermaid(model: Model) -> str:
    out = ["flowchart LR"]
    ids: dict[str, str] = {}

    def node(label: str, shape: tuple[str, str]) -> str:
        if label not in ids:
            ids[label] = f"n{len(ids)}"
            safe = label.replace('"', "'")
            out.append(f'  {ids[label]}{shape[0]}"{safe}"{shape[1]}')
        return ids[label]

    for b in _unique(model):
        r = node(f"{b.record.label} ({b.record.path}:{b.record.line})", ("(", ")"))
        w = node(f"{b.writer.qualname}({b.writer.param})", ("[", "]"))
        t = node(b.table, ("[(", ")]"))
        edge_rw = f"  {r} --> {w}"
        edge_wt = f"  {w} --> {t}"
        for edge in (edge_rw, edge_wt):
            if edge not in out:
                out.append(edge)
    return "\n".join(out)
