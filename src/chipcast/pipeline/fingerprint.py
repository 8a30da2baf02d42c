"""Fingerprints of refresh jobs, computed without importing PyMC.

A job is stale when any input that could change its output changed: the notebook's code, the
model code it uses, the as-of view of its data, the indicator's definition, the claims' targets
(they set the horizon), its parameters and the pinned package versions.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path

import pandas as pd

PINNED_PACKAGES: tuple[str, ...] = (
    "pymc",
    "pytensor",
    "arviz",
    "numpy",
    "scipy",
    "pandas",
    "xarray",
)
_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
_LIBRARY_FILES = ("analysis.py", "evaluate/probability.py", "data.py", "schema.py")


def _sha(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def package_versions() -> dict[str, str]:
    out = {}
    for name in PINNED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def packages_text() -> str:
    v = package_versions()
    return " ".join(f"{k}={v[k]}" for k in ("pymc", "pytensor", "arviz"))


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
    return "\n# ---\n".join(sources)


@functools.cache
def model_code(family: str) -> str:
    """Hash of the shared model code and the family's own module."""
    files = sorted(
        p for p in _MODELS_DIR.glob("*.py") if p.stem.startswith("_") or p.stem in ("base", family)
    )
    lib = Path(__file__).resolve().parents[1]
    files += [lib / f for f in _LIBRARY_FILES]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def data_fingerprint(view: pd.DataFrame) -> str:
    """Hash of an as-of view: the figures a fit can see, nothing else."""
    cols = [
        "indicator",
        "period_start",
        "period_end",
        "value",
        "lower",
        "upper",
        "censor",
        "source",
        "published",
    ]
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
            "packages": package_versions(),
        }
    )
