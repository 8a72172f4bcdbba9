"""Import cycles between caseloop's modules, counting imports inside functions.

import-linter keeps the arrows between apps honest; this keeps every module graph acyclic
. Exits 1 on a cycle.
`--stats` also prints the figures the layering is judged by.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent / "src" / "caseloop"


def _graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("caseloop")
    modules = {m for m in graph.modules if ".migrations" not in m}
    edges: dict[str, set[str]] = {}
    for module in modules:
        edges[module] = graph.find_modules_directly_imported_by(module) & modules
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def stats() -> dict[str, object]:
    inner, lazy_third_party = [], 0
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        seen: set[int] = set()
        for node in ast.walk(tree):
            # AppConfig.ready() is where Django wants apps to import their models and hooks.
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name == "ready":
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom) and id(sub) not in seen:
                    seen.add(id(sub))
                    name = sub.module if isinstance(sub, ast.ImportFrom) else sub.names[0].name
                    ours = isinstance(sub, ast.ImportFrom) and sub.level or (
                        (name or "").startswith("caseloop")
                    )
                    if ours:
                        inner.append(f"{path.relative_to(ROOT.parent)}:{sub.lineno}")
                    else:
                        lazy_third_party += 1
    sizes = sorted(
        ((len(p.read_text().splitlines()), str(p.relative_to(ROOT.parent)))
         for p in ROOT.rglob("*.py") if "migrations" not in p.parts),
        reverse=True,
    )
    return {
        "caseloop_imports_inside_functions": len(inner),
        "where": inner,
        "third_party_imports_inside_functions": lazy_third_party,
        "largest_modules": sizes[:5],
    }


def main() -> int:
    found = cycles(_graph())
    for component in found:
        print("import cycle:", " ↔ ".join(component))
    if "--stats" in sys.argv:
        for key, value in stats().items():
            print(f"{key}: {value}")
    print(f"{len(found)} import cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
