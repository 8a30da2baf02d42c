"""Step-like policy levels (tariff rates, thresholds): a level that stays until it jumps.

Model: jumps arrive as a Poisson process with rate lam per year; each jump adds a size
d ~ Normal(0, s^2); the level is clipped to the indicator's bounds (lower bound 0 when none is
given and every observed level is >= 0). Jumps have mean zero: a policy level is a martingale,
the direction of the next change is not read off the last ones (in April 2025 five tariff rises
were followed by a cut from 145% to 30%; a jump mean learnt from the rises put no mass on the
cut). Both parts are conjugate, so the posterior is drawn EXACTLY by Monte Carlo, no MCMC:

    lam | history ~ Gamma(a0 + n_jumps, b0 + years observed)
    s^2 | jumps ~ InvGamma(c0 + n_jumps / 2, d0 + sum(d^2) / 2)

The history is the dated sequence of figures (the median across sources for one date; a bound
counts as its bound, a range as its midpoint); every change between consecutive figures is one
jump, and the exposure is the time from the first figure to the date the level is known until
(the later of the as-of date and the last dated figure, which may be a change announced ahead):
continuous time, not the grid, and a quiet spell since the last change counts. A grid period's
level is the level in force at its end. Period ends up to the known-until date carry the level in
force then; later ones are simulated from it with a seeded numpy Generator, the first over the
part of its period still to come (a claim about the current quarter is not settled just because
a figure was recorded in it), the rest over whole periods. Because there is no sampler, the
diagnostics report `sampler="exact-monte-carlo"` and pass the gate trivially (a note says so). `reported` is the
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
version = "level-jump-martingale-3"

PRIORS: dict[str, float] = {
    # Jump rate prior Gamma(a0, b0) per year: mean 2 (US-China tariffs and export controls
    # changed several times a year from 2018 on), worth one year of observation.
    "rate_a0": 2.0,
    "rate_b0": 1.0,
    # Jump size: mean 0; s^2 ~ InvGamma(2, (f*scale)^2), so the prior jump sd is about f = 50%
    # of the typical observed level.
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


def in_force(seq: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    """The level in force on each date: the last figure dated on or before it (the first
    figure's level before the first date)."""
    pos = np.searchsorted(seq.index.values, pd.DatetimeIndex(dates).values, side="right") - 1
    return seq.to_numpy(float)[np.maximum(pos, 0)]


def known_until(seq: pd.Series, as_of: dt.date | pd.Timestamp) -> pd.Timestamp:
    """The date up to which the level is known: the as-of date, or a later dated figure (a
    change announced ahead of its effective date)."""
    return max(pd.Timestamp(as_of), pd.Timestamp(seq.index[-1]))


def exposures(grid: pd.DatetimeIndex, since: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """(mask of grid periods ending after `since`, the years each of them adds to the wait):
    the first from `since` to its end, each later one its whole length."""
    ends = pd.DatetimeIndex(grid)
    future = ends > since
    starts = np.concatenate([[since.to_datetime64()], ends[future].values[:-1]])
    years = (ends[future].values - starts) / np.timedelta64(1, "D") / 365.25
    return future, years.astype(float)


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


def posterior_draws(
    seq: pd.Series,
    dty: float,
    n: int,
    rng: np.random.Generator,
    until: pd.Timestamp | None = None,
):
    """Exact posterior draws of (lam per year, m = 0, s) from the dated sequence of levels.

    Every change counts as one jump and the exposure runs from the first figure to `until`
    (default: the last figure), in continuous time: on the model's quarterly grid, April 2025's
    five tariff changes would count as one and the rate would come out several times too low.
    """
    P = PRIORS
    levels = seq.to_numpy(float)
    jumps = np.diff(levels)
    jumps = jumps[jumps != 0]
    span = 0.0
    if len(seq):
        end = seq.index[-1] if until is None else max(pd.Timestamp(until), seq.index[-1])
        span = (end - seq.index[0]).days / 365.25
    years = max(span, dty)
    lam = rng.gamma(P["rate_a0"] + len(jumps), 1.0 / (P["rate_b0"] + years), n)
    scale = max(np.mean(np.abs(levels)) if len(levels) else 1.0, 1e-6)
    b0 = (P["size_frac"] * scale) ** 2
    s2 = 1.0 / rng.gamma(P["size_a0"] + len(jumps) / 2, 1.0 / (b0 + 0.5 * (jumps**2).sum()), n)
    return lam, np.zeros(n), np.sqrt(s2)


def simulate(
    rng, start: np.ndarray, lam, m, s, years: np.ndarray, lo: float, hi: float
) -> np.ndarray:
    """Level paths from `start`: step h waits `years[h]` for Poisson(lam) jumps of size N(m, s^2)."""
    n = start.shape[0]
    out = np.empty((n, len(years)))
    cur = start.astype(float).copy()
    for h, y in enumerate(years):
        k = rng.poisson(lam * y)
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
    seq = changes(obs)
    lo, hi = _bounds(indicator, seq.to_numpy(float))
    dty = C.period_years(design.frequency)
    n = settings.chains * settings.draws
    rng = np.random.default_rng([seed, 1])
    since = known_until(seq, as_of)
    lam, m, s = posterior_draws(seq, dty, n, rng, until=since)
    future, years = exposures(design.grid, since)
    known = np.clip(in_force(seq, design.grid[~future]), lo, hi)
    latent = np.tile(known, (n, 1))
    if future.any():
        start = np.full(n, np.clip(in_force(seq, pd.DatetimeIndex([since]))[0], lo, hi))
        latent = np.concatenate([latent, simulate(rng, start, lam, m, s, years, lo, hi)], axis=1)
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
            "exact conjugate Monte Carlo draws (Gamma-Poisson jump rate, inverse-gamma jump variance, zero-mean jumps); no MCMC, so the gate passes trivially"
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
    obs = C.modelled(observations)
    design = C.snap(obs, indicator.frequency, horizon)
    seq = changes(obs)
    lo, hi = _bounds(indicator, seq.to_numpy(float))
    rng = np.random.default_rng([seed, 2])
    lam, m, s = posterior_draws(seq.iloc[:1], C.period_years(design.frequency), samples, rng)
    start = np.full(samples, seq.iloc[0])
    _, years = exposures(design.grid[1:], design.grid[0])
    path = np.concatenate([start[:, None], simulate(rng, start, lam, m, s, years, lo, hi)], axis=1)
    return xr.DataArray(
        path, dims=("sample", "period"), coords={"period": design.grid}, name="latent"
    )
