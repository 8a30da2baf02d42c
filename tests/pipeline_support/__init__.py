"""Stand-in notebooks for fast refresh tests: same parameters and outputs, no PyMC fit."""

from __future__ import annotations

from pathlib import Path

import nbformat

PARAMS = (
    'root = ""\nindicator_id = "dom_share"\nas_of = ""\noutput_dir = ""\n'
    'draws = 100\ntune = 100\nseed = 1\nprofile = "test-small"'
)

# A deterministic fake fit: the last visible figure plus seeded noise, saved as a Trajectory.
FAKE_FIT = """
import numpy as np, pandas as pd, xarray as xr, datetime as dt
from chipcast import analysis
from chipcast.models import period_grid
from chipcast.models.base import Trajectory, Diagnostics, NEW_SOURCE
from chipcast.evaluate.probability import indicator_seed
ctx = analysis.indicator_context(root, indicator_id, as_of)
obs = ctx.observations
last = float(obs["value"].dropna().iloc[-1]) if obs["value"].notna().any() else float(obs["lower"].dropna().iloc[-1])
periods = period_grid(obs["period_end"].min(), ctx.horizon, ctx.indicator.frequency)
rng = np.random.default_rng(indicator_seed(seed, indicator_id) + len(obs))
lo, hi = ctx.indicator.bounds
noise = rng.normal(0, abs(last) * 0.1 + 1e-3, size=(draws, len(periods))).cumsum(axis=1)
latent_values = np.clip(last + noise, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
latent = xr.DataArray(latent_values, dims=("sample", "period"), coords={"period": periods})
sources = sorted(obs["source"].unique()) + [NEW_SOURCE]
reported = xr.concat([latent] * len(sources), dim="source").assign_coords(source=sources).transpose("source", "sample", "period")
traj = Trajectory(indicator_id, ctx.indicator.family, "fake-1", ctx.as_of, seed, latent, reported,
                  Diagnostics(family=ctx.indicator.family, passed=True, rhat_max=1.0, ess_bulk_min=1000.0, profile=profile))
if output_dir:
    analysis.write_outputs(traj, output_dir, ctx)
"""


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook with a tagged parameters cell followed by `cells`."""
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, *(nbformat.v4.new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def fake_indicator_notebook(root: Path, extra: str = "") -> Path:
    """notebooks/indicator.ipynb replaced by the fake fit (and `extra`, e.g. a fault)."""
    cells = [extra, FAKE_FIT] if extra else [FAKE_FIT]
    return write_notebook(root / "notebooks" / "indicator.ipynb", *cells)
