"""Step-like policy levels (tariff rates, thresholds): a level that stays until it jumps.

Model: jumps arrive as a Poisson process with rate lam per year. A jump from a level x > 0
revokes the measure (the level falls to 0: a court strikes a tariff down, a rule is withdrawn)
with probability q; otherwise, with probability r, it RETURNS to a level held before (a pause,
a truce or an injunction restores an earlier rate; a collapsed truce snaps back to one: chosen
uniformly among the distinct positive levels on record other than the current one); otherwise
it moves the level by a factor, pulled towards a reference level:

    log y = log x + kappa (log ref - log x) + d,    d ~ N(0, s^2)

ref is the geometric mean of the positive levels seen; from 0, a jump re-imposes the measure at
ref exp(d). Moves are proportional because policy levels move in proportion to their size (a
10% tariff goes to 20%, a 145% one to 30% or 245%): additive jumps learnt from the rises of
early 2025 gave a 145% rate an 80% interval of 100-192% for the quarter in which it was cut to
30%. The pull kappa (0: a random walk in log terms, 1: every jump lands around ref) is learnt:
escalations get bargained back (the 2025 tariff war went 10 -> 125 -> 10), so the log level is
an autoregression at jump times whose spread stops growing with the horizon (stationary sd
s / sqrt(kappa (2 - kappa))). With kappa = 0, as before, a series that jumped fivefold in a
month had a 95% upper bound of 1,300% two years out and a mean of 160,000%. The direction of
the next change is not read off the last ones, only its pull towards the usual level.

The posterior is drawn EXACTLY by Monte Carlo, no MCMC. The rate and the revocation probability
are conjugate; kappa has a one-dimensional posterior, evaluated on a grid with s^2 integrated
out (an inverse-gamma-normal), and s^2 given kappa is conjugate again:

    lam | history     ~ Gamma(a0 + n_jumps, b0 + years observed)
    q | history       ~ Beta(qa + n_revocations, qb + n_jumps - n_revocations)
    r | history       ~ Beta(ra + n_returns, rb + n_new)   (n_new: moves to a new level made
                                                           when a return was possible)
    kappa | moves     ∝ Beta(ka, kb) (c0 s0^2 + sum(r^2) / 2)^-(c0 + n_moves / 2)
    s^2 | kappa, moves ~ InvGamma(c0 + n_moves / 2, c0 s0^2 + sum(r^2) / 2)

with r = d - kappa g the residuals of the log moves d given their log gaps g = log(ref / x), over
the moves to a new level (a return is the other component of the mixture, exact, and says
nothing about the size of a new move).

Levels must be >= 0; they are clipped to the indicator's bounds. The history is the dated
sequence of figures (the median across sources for one date; a bound counts as its bound, a
range as its midpoint); every change between consecutive figures is one jump, and the exposure
is the time from the first figure to the date the level is known until (the later of the as-of
date and the last dated figure, which may be a change announced ahead): continuous time, not the
grid, and a quiet spell since the last change counts. A grid period's level is the level in
force at its end. Period ends up to the known-until date carry the level in force then; later
ones are simulated from it with a seeded numpy Generator, the first over the part of its period
still to come (a claim about the current quarter is not settled just because a figure was
recorded in it), the rest over whole periods. Because there is no sampler, the diagnostics
report `sampler="exact-monte-carlo"` and pass the gate trivially (a note says so). `reported` is
the same as `latent` for every source: policy levels are official, sources do not disagree on
them by design.

Against plain persistence this model has the same median whenever jumps are rare (lam*h small)
and only widens the intervals by the chance of a jump, which is the point for threshold claims.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.models import _grid as C
from chipcast.models.base import (
    DEFAULT_SETTINGS,
    NEW_SOURCE,
    Diagnostics,
    SamplerSettings,
    Trajectory,
    make_trajectory,
)
from chipcast.schema import Indicator

name = "level"
version = "level-jump-returning-6"

PRIORS: dict[str, float] = {
    # Jump rate prior Gamma(a0, b0) per year: mean 2 (US-China tariffs and export controls
    # changed several times a year from 2018 on), worth one year of observation.
    "rate_a0": 2.0,
    "rate_b0": 1.0,
    # Revocation: Beta(1, 9), one change in ten ends the measure, worth ten changes. (In the
    # shipped data the IEEPA tariffs were struck down in February 2026; before that no series
    # had been revoked, so in the backtest this is the prior's doing.)
    "revoke_a0": 1.0,
    "revoke_b0": 9.0,
    # Log jump size: s^2 ~ InvGamma(c0, c0 s0^2), prior scale s0 = 0.5 (a change moves the level
    # by a factor of about e^0.5 = 1.6), worth two changes.
    "size_a0": 2.0,
    "size_log_sd": 0.5,
    # Pull towards the reference level per jump: Beta(1, 1), no opinion between a random walk
    # (0) and a reset to the usual level (1); the shipped tariff series put it at 0.57-0.69.
    "revert_a0": 1.0,
    "revert_b0": 1.0,
    # Return to a level held before, per change that is not a revocation: Beta(1, 2), one in
    # three, worth three changes. Trade and export-control levels are bargained: a pause, a
    # truce or a court order restores an earlier rate rather than a new one, and a truce that
    # collapses snaps back to one (snapback clauses name the old rate). Without this component
    # a move back to the old rate was only the lower tail of a proportional move.
    "return_a0": 1.0,
    "return_b0": 2.0,
}

# The grid kappa's posterior is evaluated on (draws are jittered within a cell).
KAPPA_GRID = np.linspace(0.0, 1.0, 201)


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
    if (levels < 0).any():
        raise ValueError(
            f"indicator {indicator.id}: the level family models levels >= 0 (proportional "
            f"jumps), got {float(levels.min())}"
        )
    lo, hi = indicator.bounds
    return max(0.0, float(lo or 0.0)), float(np.inf if hi is None else hi)


def reference_level(seq: pd.Series) -> float:
    """The level a re-imposed measure starts from: the geometric mean of the positive levels."""
    pos = seq.to_numpy(float)
    pos = pos[pos > 0]
    return float(np.exp(np.log(pos).mean())) if len(pos) else 1.0


def returns_history(seq: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(at risk, returned) masks over the changes of a dated sequence of levels: a change from a
    positive level to a positive one was AT RISK of being a return when some other positive
    level had been held before; it RETURNED when it went to one of them."""
    levels = seq.to_numpy(float)
    x, y = levels[:-1], levels[1:]
    at_risk = np.zeros(len(y), dtype=bool)
    returned = np.zeros(len(y), dtype=bool)
    for i in range(len(y)):
        if y[i] == x[i] or x[i] <= 0 or y[i] <= 0:
            continue
        before = {float(v) for v in levels[: i + 1] if v > 0} - {float(x[i])}
        at_risk[i] = bool(before)
        returned[i] = float(y[i]) in before
    return at_risk, returned


def jump_history(seq: pd.Series) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(jumps, revocations, log moves, log gaps) of a dated sequence of levels: a change to 0
    from a positive level is a revocation; a return to a level held before is neither (see
    `returns_history`); any other change between positive levels is a move of log(y/x), its gap
    log(ref/x) (how far x was from the reference level, `reference_level`); a change from 0 is a
    move from the reference level (gap 0)."""
    levels = seq.to_numpy(float)
    x, y = levels[:-1], levels[1:]
    changed = y != x
    revoked = changed & (x > 0) & (y == 0)
    moved = changed & (y > 0) & ~returns_history(seq)[1]
    ref = reference_level(seq)
    base = np.where(x > 0, x, ref)
    moves, gaps = np.log(y[moved] / base[moved]), np.log(ref / base[moved])
    return int(changed.sum()), int(revoked.sum()), moves, gaps


def _size_posterior(moves: np.ndarray, gaps: np.ndarray, kappa: np.ndarray):
    """(shape, rate) of s^2's inverse-gamma posterior given each kappa in `kappa`."""
    c0 = PRIORS["size_a0"]
    d0 = c0 * PRIORS["size_log_sd"] ** 2
    ss = ((moves[None, :] - kappa[:, None] * gaps[None, :]) ** 2).sum(axis=1)
    return c0 + len(moves) / 2, d0 + 0.5 * ss


def kappa_posterior(moves: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Posterior weights of kappa on `KAPPA_GRID`, s^2 integrated out (see the module)."""
    from scipy import stats

    P = PRIORS
    shape, rate = _size_posterior(moves, gaps, KAPPA_GRID)
    logp = -shape * np.log(rate)
    # the Beta density is infinite at an end when a shape is below 1: cell midpoints avoid it
    mid = np.clip(KAPPA_GRID, 0.5 / len(KAPPA_GRID), 1 - 0.5 / len(KAPPA_GRID))
    logp = logp + stats.beta.logpdf(mid, P["revert_a0"], P["revert_b0"])
    w = np.exp(logp - logp.max())
    return w / w.sum()


def posterior_draws(
    seq: pd.Series,
    dty: float,
    n: int,
    rng: np.random.Generator,
    until: pd.Timestamp | None = None,
):
    """Exact posterior draws of (lam per year, q revocation probability, s log jump sd, kappa
    pull towards the reference level, r return probability).

    Every change counts as one jump and the exposure runs from the first figure to `until`
    (default: the last figure), in continuous time: on the model's quarterly grid, April 2025's
    five tariff changes would count as one and the rate would come out several times too low.
    """
    P = PRIORS
    n_jumps, n_revoked, moves, gaps = jump_history(seq)
    at_risk, returned = returns_history(seq)
    span = 0.0
    if len(seq):
        end = seq.index[-1] if until is None else max(pd.Timestamp(until), seq.index[-1])
        span = (end - seq.index[0]).days / 365.25
    years = max(span, dty)
    lam = rng.gamma(P["rate_a0"] + n_jumps, 1.0 / (P["rate_b0"] + years), n)
    q = rng.beta(P["revoke_a0"] + n_revoked, P["revoke_b0"] + n_jumps - n_revoked, n)
    cell = KAPPA_GRID[1] - KAPPA_GRID[0]
    k = rng.choice(len(KAPPA_GRID), n, p=kappa_posterior(moves, gaps))
    kappa = np.clip(KAPPA_GRID[k] + cell * (rng.random(n) - 0.5), 0.0, 1.0)
    shape, rate = _size_posterior(moves, gaps, kappa)
    s2 = 1.0 / rng.gamma(shape, 1.0 / rate)
    n_ret = int(returned.sum())
    r = rng.beta(P["return_a0"] + n_ret, P["return_b0"] + int(at_risk.sum()) - n_ret, n)
    return lam, q, np.sqrt(s2), kappa, r


def simulate(
    rng,
    start: np.ndarray,
    lam,
    q,
    s,
    kappa,
    ref: float,
    years: np.ndarray,
    lo: float,
    hi: float,
    revoked: bool = False,
    r=0.0,
    held: np.ndarray | None = None,
) -> np.ndarray:
    """Level paths from `start`: step h waits `years[h]` for Poisson(lam) jumps, each a
    revocation with probability q, else with probability r a return to one of the `held`
    levels (the positive levels on record; uniformly among those other than the path's
    current one, and a move when there is none), else a move to x (ref/x)^kappa exp(N(0, s^2))
    (to ref exp(N(0, s^2)) when the path is at 0). A revocation is final within the horizon: a
    revoked measure does not come back at the rate its changes came (a successor measure is a
    new indicator). `revoked`: the measure was revoked before the start (the paths stay at it).
    Levels a path reaches by a move are not added to what it can return to: returns go to
    rates on record."""
    n = start.shape[0]
    out = np.empty((n, len(years)))
    cur = start.astype(float).copy()
    revoked = np.full(n, revoked, dtype=bool)
    lam, q, s, kappa, r = (
        np.broadcast_to(np.asarray(a, float), (n,)) for a in (lam, q, s, kappa, r)
    )
    held = np.unique(np.asarray([] if held is None else held, float))
    held = held[held > 0]
    for h, y in enumerate(years):
        k = rng.poisson(lam * y)
        for j in range(int(k.max(initial=0))):
            act = (k > j) & ~revoked
            z = rng.standard_normal(n)
            revoke = act & (cur > 0) & (rng.random(n) < q)
            base = np.log(np.where(cur > 0, cur, ref))
            target = base + kappa * (np.log(ref) - base) + s * z
            moved = np.clip(np.exp(target), lo, hi)
            if held.size:
                # a uniform choice among the held levels other than the current one
                other = held[None, :] != cur[:, None]
                pick = held[np.argmax(rng.random((n, held.size)) * other, axis=1)]
                back = (cur > 0) & other.any(axis=1) & (rng.random(n) < r)
                moved = np.where(back, np.clip(pick, lo, hi), moved)
            cur = np.where(revoke, lo, np.where(act, moved, cur))
            revoked |= revoke
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
    lam, q, s, kappa, r = posterior_draws(seq, dty, n, rng, until=since)
    future, years = exposures(design.grid, since)
    known = np.clip(in_force(seq, design.grid[~future]), lo, hi)
    latent = np.tile(known, (n, 1))
    if future.any():
        now = in_force(seq, pd.DatetimeIndex([since]))[0]
        start = np.full(n, np.clip(now, lo, hi))
        # revoked before the as-of date (at 0 after a positive level): final, as in `simulate`
        revoked = bool(now == 0 and (seq.to_numpy(float) > 0).any())
        paths = simulate(
            rng,
            start,
            lam,
            q,
            s,
            kappa,
            reference_level(seq),
            years,
            lo,
            hi,
            revoked=revoked,
            r=r,
            held=seq.to_numpy(float),
        )
        latent = np.concatenate([latent, paths], axis=1)
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
            "exact conjugate Monte Carlo draws (Gamma-Poisson jump rate, Beta revocation and return probabilities, log jumps pulled towards the usual level: grid posterior of the pull, inverse-gamma variance); no MCMC, so the gate passes trivially"
        ],
    )
    reported = {s_: latent for s_ in [*design.sources, NEW_SOURCE]}
    return make_trajectory(
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
    first = seq.iloc[:1]
    lam, q, s, kappa, r = posterior_draws(first, C.period_years(design.frequency), samples, rng)
    start = np.full(samples, seq.iloc[0])
    _, years = exposures(design.grid[1:], design.grid[0])
    paths = simulate(
        rng, start, lam, q, s, kappa, reference_level(first), years, lo, hi, r=r, held=first
    )
    path = np.concatenate([start[:, None], paths], axis=1)
    return xr.DataArray(
        path, dims=("sample", "period"), coords={"period": design.grid}, name="latent"
    )
