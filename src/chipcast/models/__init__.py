"""Model families, their registry, and `fit_indicator` (fit + convergence gate + one retry).

Families: share (logistic local linear trend, logit-normal, source offsets), growth (log-scale
local linear trend, Student-t, flows summed over the periods a figure spans), count
(negative-binomial, random-walk log rate), level (jump process; exact Monte Carlo, no MCMC).
`none` is not modelled. A new family plugs in with `register(module_or_object)`: anything with
`name`, `version`, `fit(...)` and `prior_predictive(...)` (see `base.ModelFamily`).

Sampler choice, measured on this 2-core machine (Python 3.11.7, pymc 5.28.5, pytensor 2.38.3,
nutpie 0.16.8; share model on the 6-figure domestic-share fixture, 2 chains x 1000 draws after
1000 tuning steps, cores=1, while other jobs loaded the machine, load average ~4-5):

    PyMC NUTS, C backend, warm ~/.pytensor:   logp+dlogp compile 7.7 s (20 s cold), sampling
                                              218 s and 224 s (tree depth 6-7, ~0.1 ms/gradient
                                              plus PyMC's per-leapfrog Python overhead)
    nutpie, numba backend:                    compile 15-40 s per process (numba's JIT is not
                                              cached on disk), sampling 4-7 s

and unloaded (benchmarks/models.py, DEFAULT settings, 4 chains): nutpie compile 16-33 s, sampling
1.6-7 s, ESS/s 80-800. The posteriors of 3-10 figures are correlated enough that NUTS needs
64-128 leapfrog steps per draw, so PyMC's per-step overhead dominates and nutpie wins by ~30x on
sampling; its compile cost is paid once per family and size class per process (`_sampling`'s
compiled-model cache pads every design to a size class and swaps only its pm.Data). nutpie is
therefore pinned; if it is not installed, `_sampling.sample` falls back to PyMC NUTS and the diagnostics say so (sampler field).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from chipcast.models import count, growth, level, share
from chipcast.models._grid import SizeClass, covered, grid_frequency, period_grid, snap
from chipcast.models._sampling import COMPILED, CompileStats, compile_stats
from chipcast.models.base import (
    DEFAULT_SETTINGS,
    NEW_SOURCE,
    TEST_SETTINGS,
    Diagnostics,
    ModelFamily,
    SamplerSettings,
    Trajectory,
    retry_settings,
)
from chipcast.schema import Indicator

__all__ = [
    "COMPILED",
    "DEFAULT_SETTINGS",
    "FAMILIES",
    "NEW_SOURCE",
    "TEST_SETTINGS",
    "Diagnostics",
    "ModelFamily",
    "CompileStats",
    "SamplerSettings",
    "SizeClass",
    "Trajectory",
    "compile_stats",
    "covered",
    "fit_indicator",
    "get_family",
    "grid_frequency",
    "period_grid",
    "register",
    "size_class",
    "snap",
]

FAMILIES: dict[str, ModelFamily] = {}


def register(family: ModelFamily) -> ModelFamily:
    """Add (or replace) a family under its `name`; returns it so it can decorate."""
    if (
        not getattr(family, "name", None)
        or not hasattr(family, "fit")
        or not hasattr(family, "prior_predictive")
    ):
        raise TypeError("a model family needs name, version, fit() and prior_predictive()")
    FAMILIES[family.name] = family
    return family


for _m in (share, growth, count, level):
    register(_m)  # type: ignore[arg-type]


def get_family(name: str) -> ModelFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(
            f"no model family {name!r} (known: {', '.join(sorted(FAMILIES))}; 'none' is not modelled)"
        ) from None


def _as_of_view(observations: pd.DataFrame, indicator: Indicator, as_of: dt.date) -> pd.DataFrame:
    obs = observations
    if "indicator" in obs.columns:
        obs = obs[obs["indicator"].isna() | (obs["indicator"] == indicator.id)]
    obs = obs.assign(indicator=indicator.id)  # as_of groups by indicator: no NaN keys
    if "published" in obs.columns and obs["published"].notna().all() and len(obs):
        from chipcast.data import as_of as _as_of

        obs = _as_of(obs, as_of)  # idempotent on an as-of view; drops superseded vintages
    return obs.reset_index(drop=True)


def fit_indicator(
    observations: pd.DataFrame,
    indicator: Indicator,
    as_of: dt.date,
    horizon: dt.date,
    seed: int,
    settings: SamplerSettings = DEFAULT_SETTINGS,
) -> Trajectory | None:
    """Fit `indicator`'s family, gate it, retry once with more tuning if it fails.

    Returns None for family 'none' or when no usable observation is public on `as_of`. A fit
    that fails the gate twice is returned with `diagnostics.passed = False` and its reasons (a
    gated fit: kept for inspection, never published). `diagnostics.retried` says whether the
    retry ran.
    """
    if indicator.family == "none":
        return None
    from chipcast.models._grid import modelled

    obs = modelled(_as_of_view(observations, indicator, as_of))
    if obs.empty:
        return None
    fam = get_family(indicator.family)
    traj = fam.fit(obs, indicator, as_of, horizon, seed, settings)
    if traj.diagnostics.passed:
        return traj
    first_reasons = list(traj.diagnostics.reasons)
    retry = retry_settings(settings, traj.diagnostics)
    traj2 = fam.fit(obs, indicator, as_of, horizon, seed, retry)
    first = traj.diagnostics
    traj2.diagnostics = replace(
        traj2.diagnostics,
        retried=True,
        compiles=first.compiles + traj2.diagnostics.compiles,
        compile_cache_hits=first.compile_cache_hits + traj2.diagnostics.compile_cache_hits,
        compile_seconds=round(first.compile_seconds + traj2.diagnostics.compile_seconds, 3),
        reasons=list(traj2.diagnostics.reasons),
        notes=[
            *traj2.diagnostics.notes,
            "first attempt failed: " + "; ".join(first_reasons),
            f"retry: tune {retry.tune}, draws {retry.draws}, target_accept {retry.target_accept}",
        ],
    )
    return traj2


def size_class(
    observations: pd.DataFrame, indicator: Indicator, as_of: dt.date, horizon: dt.date
) -> str:
    """The compile group of a fit: family and padded size class ("share/T8-N4-S2"), "" when no
    model is compiled (family none or level, or no usable figure). Fits of one group reuse one
    compiled model, so a scheduler that keeps a group on one worker compiles it once; no PyMC
    import."""
    if indicator.family == "none" or not hasattr(get_family(indicator.family), "build_model"):
        return ""
    from chipcast.models._grid import modelled

    obs = modelled(_as_of_view(observations, indicator, as_of))
    if obs.empty:
        return ""
    design = snap(obs, indicator.frequency, horizon)
    return f"{indicator.family}/{SizeClass.of(design).label}"
