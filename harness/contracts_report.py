"""``dbharness contracts``: what was bound to what, so users can see (and trust) the inference."""

from __future__ import annotations

import json
from typing import Any

from harness.link.model import Binding, Model


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


def contracts_json(model: Model) -> str:
    writers = sorted({(w.path, w.line, w.qualname, w.param, w.table or f"<{w.table_param}>",
                       w.mode) for w in model.writers})
    return json.dumps({
        "bindings": [_binding_dict(b) for b in _unique(model)],
        "writers": [{"path": p, "line": ln, "function": f, "param": pa, "table": t, "mode": m}
                    for p, ln, f, pa, t, m in writers],
        "unbound": [{"path": u.location.path, "line": u.location.line, "col": u.location.col,
                     "what": u.what, "reason": u.reason} for u in model.unbound],
        "tables": sorted(t.name for t in model.schema),
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
