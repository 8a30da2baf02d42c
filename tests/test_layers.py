"""The package's imports point one way: files -> schema -> data -> registry -> models ->
evaluate -> report -> pipeline/ingest -> cli, with no circle among modules (lazy imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Each module's layer, by the longest matching prefix; a module may import its own layer or
# any layer below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("chipcast", "chipcast.fileio", "chipcast.paths", "chipcast.exitcodes"),
    ("chipcast.schema",),
    ("chipcast.data", "chipcast.store"),
    ("chipcast.registry", "chipcast.record"),
    ("chipcast.models",),
    ("chipcast.evaluate",),
    ("chipcast.report", "chipcast.analysis"),
    ("chipcast.pipeline", "chipcast.ingest"),
    ("chipcast.cli",),
)


def modules(root: Path = SRC) -> dict[str, Path]:
    out = {}
    for p in root.rglob("*.py"):
        name = ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        out[name] = p
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The package modules `path` imports anywhere in its body (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):
                found.add(t)
    return found


def layer(name: str) -> int:
    best, depth = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or (prefix != "chipcast" and name.startswith(prefix + "."))
            if matches and len(prefix) > depth:
                best, depth = i, len(prefix)
    return best


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(p, m, set(mods)) for m, p in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer() -> None:
    assert [m for m in modules() if layer(m) < 0] == []


def test_imports_point_down_the_layers() -> None:
    upward = sorted(
        f"{m} imports {t}" for m, targets in graph().items() for t in targets if layer(t) > layer(m)
    )
    assert upward == []


def test_no_import_circles() -> None:
    assert cycles(graph()) == []


def test_report_never_imports_the_pipeline() -> None:
    bad = [
        (m, t)
        for m, ts in graph().items()
        if m.startswith("chipcast.report")
        for t in ts
        if t.startswith("chipcast.pipeline")
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from chipcast.models import fit_indicator\n", {"chipcast.models"}),
        ("def f():\n    from chipcast.cli import main\n", {"chipcast.cli"}),
        ("from . import scores\n", {"chipcast.evaluate.scores"}),
        ("import chipcast.report.charts as c\n", {"chipcast.report.charts"}),
    ],
)
def test_the_checker_sees_every_import(tmp_path: Path, source: str, expected: set[str]) -> None:
    """The checker itself: lazy, relative and dotted imports all count."""
    pkg = tmp_path / "chipcast" / "evaluate"
    pkg.mkdir(parents=True)
    for rel in ("__init__.py", "evaluate/__init__.py", "evaluate/scores.py", "evaluate/x.py"):
        (tmp_path / "chipcast" / rel).touch()
    (pkg / "x.py").write_text(source)
    known = set(modules(tmp_path)) | {"chipcast.models", "chipcast.cli", "chipcast.report.charts"}
    assert imports(pkg / "x.py", "chipcast.evaluate.x", known) == expected


def test_the_checker_finds_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
