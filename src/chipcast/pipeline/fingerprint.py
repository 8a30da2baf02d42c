"""Fingerprints of refresh jobs: a hash of what changes a forecast, computed without PyMC.

A job is stale when any input that could change its output changed: the code that fits it (the
model family and the shared model code, the notebook helpers that cut its data and set its
horizon, seed and sampler settings), the notebook's code cells, the as-of view of its data, the
indicator's definition, the claims' targets (they set the horizon), its parameters and the
versions of the packages that compute it. Code is hashed as its syntax tree without docstrings
(comments are not in the tree), so a comment or docstring edit re-fits nothing; presentation
code (plots, tables, the site) is not hashed at all.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from chipcast.data import FIGURE_COLUMNS
from chipcast.store import QUANTILES

PINNED_PACKAGES: tuple[str, ...] = (
    "pymc",
    "pytensor",
    "nutpie",
    "numba",
    "arviz",
    "numpy",
    "scipy",
    "pandas",
    "xarray",
)
LIBRARY = Path(__file__).resolve().parents[1]  # src/chipcast
# Beside models/, the modules a fit runs through (relative to src/chipcast).
FORECAST_MODULES: tuple[str, ...] = (
    "analysis/indicator.py",
    "evaluate/probability.py",
    "evaluate/voi.py",  # the summary written beside the trajectory
    "data.py",
    "schema.py",
)


def _sha(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def package_versions() -> dict[str, str]:
    out = {"python": "{}.{}.{}".format(*sys.version_info[:3])}
    for name in PINNED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def packages_text() -> str:
    """The versions a history row records (the sampling stack)."""
    v = package_versions()
    return " ".join(f"{k}={v[k]}" for k in ("pymc", "pytensor", "arviz"))


class _NoStrings(ast.NodeTransformer):
    """Drops bare string statements: docstrings, and the attribute docstrings after constants."""

    def visit_Expr(self, node: ast.Expr) -> ast.Expr | None:  # noqa: N802 - ast's naming
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        return node


@functools.cache  # the families share most of their files: each text is parsed once
def code_text(source: str) -> str:
    """Python source as what it does: its syntax tree without docstrings, comments or layout.

    Source that does not parse (an IPython magic in a notebook cell) first has each magic line
    written as a call, which keeps it in the hash without breaking the parse.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        shielded = re.sub(r"(?m)^(\s*)([%!].*)$", lambda m: f"{m[1]}_magic({m[2]!r})", source)
        try:
            tree = ast.parse(shielded)
        except SyntaxError:
            return source
    return ast.dump(_NoStrings().visit(tree), include_attributes=False)


@functools.cache
def notebook_code(path: Path) -> str:
    """The code cells of a notebook: outputs, metadata and markdown don't change results."""
    # plain JSON, not nbformat: importing nbformat's validator costs ~2 s and planning must be quick
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    sources = (
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c.get("cell_type") == "code"
    )
    return "\n# ---\n".join(code_text(s) for s in sources)


def model_files(family: str, library: Path = LIBRARY) -> list[Path]:
    """The shared model code, the family's own module, its learned priors (`priors/<family>.json`,
    read at import), and the other modules a fit runs."""
    models = library / "models"
    files = sorted(
        p for p in models.glob("*.py") if p.stem.startswith("_") or p.stem in ("base", family)
    )
    files += sorted((models / "priors").glob(f"{family}.json"))
    return files + [library / f for f in FORECAST_MODULES]


@functools.cache
def model_code(family: str, library: Path = LIBRARY) -> str:
    """Hash of the code a fit of `family` runs (docstrings and comments left out)."""
    h = hashlib.sha256()
    for f in model_files(family, library):
        h.update(str(f.relative_to(library)).encode())
        h.update(code_text(f.read_text(encoding="utf-8")).encode())
    return h.hexdigest()


def data_fingerprint(view: pd.DataFrame) -> str:
    """Hash of an as-of view: the figures a fit can see, nothing else."""
    cols = list(FIGURE_COLUMNS)
    if view.empty:
        return _sha([])
    rows = view[cols].astype(str).sort_values(cols).values.tolist()
    return _sha(rows)


def job_fingerprint(
    notebook: Path,
    family: str,
    view: pd.DataFrame,
    indicator: dict,
    targets: list,
    parameters: dict,
) -> str:
    return _sha(
        {
            "notebook": notebook_code(notebook),
            "model": model_code(family),
            "data": data_fingerprint(view),
            "indicator": indicator,
            "targets": targets,
            "parameters": parameters,
            "quantiles": QUANTILES,
            "packages": package_versions(),
        }
    )
