"""Step-like policy levels (tariff rates, thresholds): a level that stays until it jumps.

Model: jumps arrive as a Poisson process with rate lam per year; each jump adds a size
d ~ Normal(m, s^2); the level is clipped to the indicator's bounds (lower bound 0 when none is
given and every observed level is >= 0). Both parts are conjugate, so the posterior is drawn
EXACTLY by Monte Carlo, no MCMC:

    lam | history ~ Gamma(a0 + n_jumps, b0 + years observed)
    (m, s^2) | jumps ~ Normal-Inverse-Gamma(m_n, k_n, a_n, b_n)

The history is the dated sequence of figures (the median across sources for one date; a bound
counts as its bound, a range as its midpoint); every change between consecutive figures is one
jump, and the exposure is the time the sequence spans (continuous time, not the grid). A grid
period's level is the level in force at its end (the last figure dated in it). Past periods
carry the last observed level forward; future periods are simulated from the last observed level
with a seeded numpy Generator. Because there is no sampler, the diagnostics report
`sampler="exact-monte-carlo"` and pass the gate trivially (a note says so). `reported` is the
same as `latent` for every source: policy levels are official, sources do not disagree on them
by design.

Against plain persistence this model has the same median whenever jumps are rare (lam*h small)
and only widens the intervals by the chance of a jump, which is the point for threshold claims.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.models import _common as C
from chipcast.models.base import (
    DEFAULT_SETTINGS,
    NEW_SOURCE,
    Diagnostics,
    SamplerSettings,
    Trajectory,
)
from chipcast.schema import Indicator

name = "level"
version = "level-jump-conjugate-2"

PRIORS: dict[str, float] = {
    # Jump rate prior Gamma(a0, b0) per year: mean 0.5 (one change every two years), weak
    # (worth two years of observation).
    "rate_a0": 1.0,
    "rate_b0": 2.0,
    # Jump size prior: mean 0 (up or down), k0 = 1 pseudo-jump; s^2 ~ InvGamma(2, (f*scale)^2)
    # so the prior jump sd is about f = 50% of the typical observed level.
    "size_m0": 0.0,
    "size_k0": 1.0,
    "size_a0": 2.0,
    "size_frac": 0.5,
}


def _figure_levels(censor, value, lower, upper) -> np.ndarray:
    """The level a figure states: a point, a range's midpoint, or a bound's bound."""
    return np.where(
        censor == "point",
        value,
        np.where(
            censor == "interval",
            (lower + upper) / 2,
            np.where(censor == "lower", lower, upper),
        ),
    )


def history(design: C.Design, observations: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(grid index, level) of each observed period, in order: the level IN FORCE at the period's
    end, i.e. the last dated figure in it (the median across sources for one date)."""
    seq = changes(observations)
    t = np.searchsorted(design.grid.values, seq.index.values, side="left")
    per = pd.Series(seq.to_numpy(float), index=np.minimum(t, len(design.grid) - 1))
    per = per.groupby(level=0).last().sort_index()
    return per.index.to_numpy(int), per.to_numpy(float)


def changes(observations: pd.DataFrame) -> pd.Series:
    """The dated sequence of levels (median across sources per date), in date order."""
    o = observations
    v = _figure_levels(
        o["censor"].to_numpy(),
        o["value"].to_numpy(float),
        o["lower"].to_numpy(float),
        o["upper"].to_numpy(float),
    )
    df = pd.DataFrame({"d": pd.to_datetime(o["period_end"]).to_numpy(), "v": v}).dropna()
    return df.groupby("d")["v"].median().sort_index()


def _bounds(indicator: Indicator, levels: np.ndarray) -> tuple[float, float]:
    lo, hi = indicator.bounds
    if lo is None:
        lo = 0.0 if (levels >= 0).all() else -np.inf
    return float(lo), float(np.inf if hi is None else hi)


def posterior_draws(seq: pd.Series, dty: float, n: int, rng: np.random.Generator):
    """Exact posterior draws of (lam per year, m, s) from the dated sequence of levels.

    Every change counts as one jump and the exposure is the time the sequence spans, in
    continuous time: on the model's quarterly grid, April 2025's five tariff changes would
    count as one and the rate would come out several times too low.
    """
    P = PRIORS
    levels = seq.to_numpy(float)
    jumps = np.diff(levels)
    jumps = jumps[jumps != 0]
    span = (seq.index[-1] - seq.index[0]).days / 365.25 if len(seq) else 0.0
    years = max(span, dty)
    lam = rng.gamma(P["rate_a0"] + len(jumps), 1.0 / (P["rate_b0"] + years), n)
    scale = max(np.mean(np.abs(levels)) if len(levels) else 1.0, 1e-6)
    b0 = (P["size_frac"] * scale) ** 2
    k0, m0, a0 = P["size_k0"], P["size_m0"], P["size_a0"]
    k = len(jumps)
    dbar = jumps.mean() if k else 0.0
    kn = k0 + k
    mn = (k0 * m0 + k * dbar) / kn
    an = a0 + k / 2
    bn = b0 + 0.5 * ((jumps - dbar) ** 2).sum() + k0 * k * (dbar - m0) ** 2 / (2 * kn)
    s2 = 1.0 / rng.gamma(an, 1.0 / bn, n)
    m = rng.normal(mn, np.sqrt(s2 / kn))
    return lam, m, np.sqrt(s2)


def simulate(
    rng, start: np.ndarray, lam, m, s, n_future: int, dty: float, lo: float, hi: float
) -> np.ndarray:
    n = start.shape[0]
    out = np.empty((n, n_future))
    cur = start.astype(float).copy()
    for h in range(n_future):
        k = rng.poisson(lam * dty)
        cur = np.clip(cur + k * m + np.sqrt(k) * s * rng.standard_normal(n), lo, hi)
        out[:, h] = cur
    return out


def fit(
    observations: pd.DataFrame,
    indicator: Indicator,
    as_of: dt.date,
    horizon: dt.date,
    seed: int,
    settings: SamplerSettings = DEFAULT_SETTINGS,
) -> Trajectory:
    t0 = time.perf_counter()
    obs = C.modelled(observations)
    design = C.snap(obs, indicator.frequency, horizon)
    idx, levels = history(design, obs)
    lo, hi = _bounds(indicator, levels)
    dty = C.period_years(design.frequency)
    n = settings.chains * settings.draws
    rng = np.random.default_rng([seed, 1])
    lam, m, s = posterior_draws(changes(obs), dty, n, rng)
    past = pd.Series(levels, index=idx).reindex(range(design.n_fit)).ffill().bfill().to_numpy()
    past = np.clip(past, lo, hi)
    latent = np.tile(past, (n, 1))
    n_future = len(design.grid) - design.n_fit
    if n_future > 0:
        latent = np.concatenate(
            [latent, simulate(rng, latent[:, -1], lam, m, s, n_future, dty, lo, hi)], axis=1
        )
    diag = Diagnostics(
        family=name,
        passed=True,
        rhat_max=1.0,
        ess_bulk_min=float(n),
        divergences=0,
        profile=settings.profile,
        draws=settings.draws,
        tune=0,
        chains=settings.chains,
        sampling_seconds=round(time.perf_counter() - t0, 3),
        n_observations=design.n_obs,
        sampler="exact-monte-carlo",
        notes=[
            "exact conjugate Monte Carlo draws (Gamma-Poisson jump rate, Normal-Inverse-Gamma jump size); no MCMC, so the gate passes trivially"
        ],
    )
    reported = {s_: latent for s_ in [*design.sources, NEW_SOURCE]}
    return C.make_trajectory(
        indicator, name, version, as_of, seed, design.grid, latent, reported, diag
    )


def prior_predictive(
    observations: pd.DataFrame,
    indicator: Indicator,
    horizon: dt.date,
    seed: int,
    samples: int = 500,
) -> xr.DataArray:
    """Level paths from the first observed level under the priors alone, dims (sample, period)."""
    design = C.snap(C.modelled(observations), indicator.frequency, horizon)
    obs = C.modelled(observations)
    idx, levels = history(design, obs)
    lo, hi = _bounds(indicator, levels)
    rng = np.random.default_rng([seed, 2])
    lam, m, s = posterior_draws(
        changes(obs).iloc[:1], C.period_years(design.frequency), samples, rng
    )
    start = np.full(samples, levels[0])
    T = len(design.grid)
    path = np.concatenate(
        [
            start[:, None],
            simulate(rng, start, lam, m, s, T - 1, C.period_years(design.frequency), lo, hi),
        ],
        axis=1,
    )
    return xr.DataArray(
        path, dims=("sample", "period"), coords={"period": design.grid}, name="latent"
    )
