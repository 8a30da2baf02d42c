"""Scoring rules for chipcast forecasts: pure functions, numpy/pandas in, floats/frames out.

Conventions (every function here follows them):

- **Orientation.** Every score is *negatively oriented*: lower is better. Brier and log score
  for binary outcomes; CRPS, weighted interval score (WIS) for numeric ones.
- **Binary outcomes** are 0/1 (or bool): 1 means the claim came true. ``p`` is the probability
  issued for the claim being true.
- **Draws.** Predictive draws carry the sample on ``axis`` (default 0, matching the models'
  ``(sample, period)`` arrays); an ``xarray.DataArray`` with a ``sample`` dimension is
  recognised by name.
- **CRPS estimator.** Draws are scored with the *fair* CRPS estimator, computed through
  scoringrules' ``"pwm"`` (probability-weighted-moment) estimator, which is algebraically the
  same number in O(m log m). See `crps_from_draws` for why.
- **Censored outcomes** (a later figure ">0.30", "<5", "4..6") have no point value: see
  `score_against_observation` for the rule (skip by default; threshold-weighted CRPS on
  request).
- Natural logarithms throughout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

CRPS_ESTIMATOR = "pwm"
"""scoringrules estimator used for draws: "pwm" (= the fair, unbiased estimator)."""

LOG_SCORE_EPS = 1e-6
"""Probabilities are clipped to [eps, 1 - eps] before the log score (max penalty ~13.8)."""

COVERAGE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)


# --------------------------------------------------------------------------------------------
# helpers


def _scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    """A Python float for 0-d results, the array otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def _draws_last(draws: Any, axis: int = 0) -> np.ndarray:
    """Draws as a float array with the sample axis moved last."""
    if hasattr(draws, "dims") and "sample" in getattr(draws, "dims", ()):
        axis = list(draws.dims).index("sample")
        draws = draws.values
    arr = np.asarray(draws, dtype=float)
    if arr.ndim == 0:
        raise ValueError("draws must have a sample axis")
    return np.moveaxis(arr, axis, -1)


def _outcome01(outcome: ArrayLike) -> np.ndarray:
    o = np.asarray(outcome, dtype=float)
    if np.any((o != 0) & (o != 1) & ~np.isnan(o)):
        raise ValueError("binary outcomes must be 0 or 1 (or bool)")
    return o


def _probability(p: ArrayLike) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    return arr


# --------------------------------------------------------------------------------------------
# binary outcomes


def brier(p: ArrayLike, outcome: ArrayLike) -> float | np.ndarray:
    """Brier score ``(p - outcome)**2`` (lower is better; 0 perfect, 0.25 for p=0.5).

    Example: p=0.7 for a claim that came true scores (0.7 - 1)^2 = 0.09.
    """
    return _scalar_or_array((_probability(p) - _outcome01(outcome)) ** 2)


def log_score(p: ArrayLike, outcome: ArrayLike, eps: float = LOG_SCORE_EPS) -> float | np.ndarray:
    """Negatively oriented log score: ``-ln p(outcome)``, i.e. ``-ln p`` if true, ``-ln(1-p)`` if not.

    ``p`` is clipped to ``[eps, 1 - eps]`` first (default eps = 1e-6), so a forecast of 0 or 1
    that turns out wrong costs ``-ln(eps)`` (~13.8) instead of infinity. Lower is better;
    ln 2 ~ 0.693 for p = 0.5.
    """
    q = np.clip(_probability(p), eps, 1 - eps)
    o = _outcome01(outcome)
    return _scalar_or_array(-np.where(o == 1, np.log(q), np.log1p(-q)))


RULES: dict[str, Callable[[ArrayLike, ArrayLike], float | np.ndarray]] = {
    "brier": brier,
    "log": log_score,
}


class TimeAveragedScore(NamedTuple):
    """A time-weighted mean score and the number of days it covers."""

    score: float
    days: int


def time_averaged(
    forecasts: pd.DataFrame,
    outcome: bool | int | float,
    open_from: Any,
    closes_on: Any,
    rule: str | Callable[[ArrayLike, ArrayLike], Any] = "brier",
) -> TimeAveragedScore:
    """Time-weighted mean score of a claim's forecasts over its open life.

    ``forecasts`` has columns ``issued_on`` (dates) and ``probability``. Each forecast counts
    from its issue date (or ``open_from``, whichever is later) until the next forecast's issue
    date, or until ``closes_on`` (the resolution date, or the date the data was due) for the
    last one; intervals are half-open ``[start, end)`` and measured in whole days. Days before
    the first forecast are not counted (no forecast, no score), nor are forecasts issued on or
    after ``closes_on``. When two forecasts share an issue date the later row wins. If an
    earlier forecast was issued before ``open_from`` it is the one in force on ``open_from``.

    ``rule`` is ``"brier"``, ``"log"`` or a callable ``(p, outcome) -> score``.
    Returns ``(score, days)``; ``(nan, 0)`` when no day is covered.
    """
    fn = RULES[rule] if isinstance(rule, str) else rule
    start = pd.Timestamp(open_from).normalize()
    end = pd.Timestamp(closes_on).normalize()
    if forecasts.empty or end <= start:
        return TimeAveragedScore(float("nan"), 0)
    df = forecasts[["issued_on", "probability"]].copy()
    df["issued_on"] = pd.to_datetime(df["issued_on"]).dt.normalize()
    df = df.reset_index(drop=True).sort_values("issued_on", kind="stable")
    df = df.drop_duplicates("issued_on", keep="last")
    df = df[df["issued_on"] < end]
    # the forecast in force on open_from: the last one issued on or before it
    before = df[df["issued_on"] <= start]
    if not before.empty:
        after = df[df["issued_on"] > start]
        first = before.tail(1).assign(issued_on=start)
        df = first if after.empty else pd.concat([first, after])
    if df.empty:
        return TimeAveragedScore(float("nan"), 0)
    starts = df["issued_on"].to_numpy()
    ends = np.append(starts[1:], np.datetime64(end))
    days = ((ends - starts) / np.timedelta64(1, "D")).astype(float)
    total = float(days.sum())
    if total <= 0:
        return TimeAveragedScore(float("nan"), 0)
    scores = np.asarray(
        fn(df["probability"].to_numpy(dtype=float), np.full(len(df), float(outcome)))
    )
    return TimeAveragedScore(float(np.sum(scores * days) / total), int(total))


# --------------------------------------------------------------------------------------------
# numeric outcomes: CRPS


def crps_from_draws(draws: ArrayLike, y: ArrayLike, axis: int = 0) -> float | np.ndarray:
    """CRPS of predictive draws at the outcome ``y``, by the fair (unbiased) estimator.

    CRPS(F, y) = E|X - y| - 1/2 E|X - X'|. The draws are Monte Carlo samples *from* a
    predictive distribution F (posterior predictive or a baseline's), not an ensemble that *is*
    the forecast, so we want an unbiased estimate of CRPS(F, y). The "fair" estimator (the
    U-statistic, dividing sum|x_i - x_j| by m(m-1)) is unbiased for it; the energy form "nrg"
    (dividing by m^2) and "qd" score the empirical step function, which is larger by
    E|X - X'|/(2m): an upward bias that depends on m and would penalise a model for storing
    fewer draws (~10% with 20 draws, per STACK-NOTES). We call scoringrules with
    ``estimator="pwm"`` (CRPS_ESTIMATOR), the probability-weighted-moment form, which equals
    the fair estimator exactly but costs O(m log m) instead of O(m^2); ``backend="numpy"``
    avoids numba JIT at call time and is bit-for-bit reproducible.

    ``draws``: the sample on ``axis`` (default 0, as in the models' ``(sample, period)``
    arrays); an ``xarray.DataArray`` with a ``sample`` dim is handled by name. ``y``
    broadcasts against the remaining axes. Returns a float for a single forecast.
    """
    import scoringrules as sr  # lazy: importing scoringrules JIT-compiles its gufuncs (~5 s)

    x = _draws_last(draws, axis)
    if x.shape[-1] < 2:
        raise ValueError("need at least 2 draws for the fair CRPS")
    obs = np.asarray(y, dtype=float)
    out = sr.crps_ensemble(obs, x, m_axis=-1, estimator=CRPS_ESTIMATOR, backend="numpy")
    return _scalar_or_array(out)


def _quantile_weights(levels: np.ndarray) -> np.ndarray:
    """Quadrature weights over (0, 1): each level owns the cell halfway to its neighbours."""
    edges = np.concatenate([[0.0], (levels[1:] + levels[:-1]) / 2, [1.0]])
    return np.diff(edges)


def pinball(level: ArrayLike, quantile: ArrayLike, y: ArrayLike) -> float | np.ndarray:
    """Pinball (quantile) loss ``level*(y-q)`` if ``y >= q`` else ``(1-level)*(q-y)``."""
    a = np.asarray(level, dtype=float)
    q = np.asarray(quantile, dtype=float)
    d = np.asarray(y, dtype=float) - q
    return _scalar_or_array(np.where(d >= 0, a * d, (a - 1) * d))


def crps_from_quantiles(
    quantile_levels: Sequence[float] | np.ndarray,
    quantile_values: ArrayLike,
    y: ArrayLike,
    weighting: str = "cells",
) -> float | np.ndarray:
    """CRPS approximated from stored quantiles via the pinball loss.

    CRPS(F, y) = 2 * integral_0^1 PB_a(y, F^-1(a)) da. We approximate the integral with one
    weight per stored level: ``weighting="cells"`` (default) gives each level the width of its
    cell on (0, 1) (halfway to its neighbours, the first cell reaching 0 and the last 1); for
    equally spaced levels (i - 1/2)/K this is exactly scoringrules' ``crps_quantile``
    (2 * mean pinball, ``weighting="mean"``), and for the unevenly spaced levels chipcast
    stores (0.025 ... 0.975) it does not overweight the tails as the plain mean does. The
    approximation converges to the CRPS as the levels fill (0, 1). With chipcast's 9 stored
    levels it runs low (for a normal: ~12% at the median, ~4% a sd or more away; the plain
    mean is 20-40% low), so compare models only on the same stored levels.

    ``quantile_values`` has the levels on its last axis; ``y`` broadcasts against the rest.
    """
    levels = np.asarray(quantile_levels, dtype=float)
    vals = np.asarray(quantile_values, dtype=float)
    if vals.shape[-1] != levels.size:
        raise ValueError("quantile_values' last axis must match quantile_levels")
    order = np.argsort(levels)
    levels, vals = levels[order], vals[..., order]
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError("quantile levels must lie strictly inside (0, 1)")
    if weighting == "cells":
        w = _quantile_weights(levels)
    elif weighting == "mean":
        w = np.full(levels.size, 1.0 / levels.size)
    else:
        raise ValueError("weighting must be 'cells' or 'mean'")
    obs = np.asarray(y, dtype=float)[..., None]
    pb = np.asarray(pinball(levels, vals, obs))
    return _scalar_or_array(2.0 * np.sum(pb * w, axis=-1))


def crps_normal(mu: ArrayLike, sigma: ArrayLike, y: ArrayLike) -> float | np.ndarray:
    """Closed-form CRPS of N(mu, sigma^2) at y: sigma*(z(2Phi(z)-1) + 2phi(z) - 1/sqrt(pi))."""
    mu, sigma, y = (np.asarray(a, dtype=float) for a in (mu, sigma, y))
    z = (y - mu) / sigma
    out = sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    return _scalar_or_array(out)


# --------------------------------------------------------------------------------------------
# intervals, WIS, PIT


def central_interval(
    forecast: ArrayLike, level: float, quantile_levels: Sequence[float] | None = None, axis: int = 0
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """The central ``level`` interval: quantiles (1-level)/2 and (1+level)/2.

    From draws (``quantile_levels`` None; sample on ``axis``; numpy's default linear
    interpolation) or from stored quantiles (``quantile_levels`` given, values on the last
    axis; the two levels must be stored, within 1e-9).
    """
    lo_a, hi_a = (1 - level) / 2, (1 + level) / 2
    if quantile_levels is None:
        x = _draws_last(forecast, axis)
        lo, hi = np.quantile(x, [lo_a, hi_a], axis=-1)
        return _scalar_or_array(lo), _scalar_or_array(hi)
    levels = np.asarray(quantile_levels, dtype=float)
    vals = np.asarray(forecast, dtype=float)

    def pick(a: float) -> np.ndarray:
        idx = np.flatnonzero(np.isclose(levels, a, atol=1e-9, rtol=0))
        if idx.size == 0:
            raise ValueError(
                f"quantile level {a:g} is not stored (needed for a {level:g} interval)"
            )
        return vals[..., idx[0]]

    return _scalar_or_array(pick(lo_a)), _scalar_or_array(pick(hi_a))


def interval_coverage(
    forecast: ArrayLike,
    y: float,
    levels: Iterable[float] = COVERAGE_LEVELS,
    quantile_levels: Sequence[float] | None = None,
    axis: int = 0,
) -> dict[float, int]:
    """0/1 hits: whether ``y`` lies in each central interval (closed: ends count as hits).

    ``forecast`` is 1-D draws, or stored quantile values when ``quantile_levels`` is given.
    Returns ``{level: 0 or 1}``; averaging hits over forecasts gives the coverage fraction.
    """
    out: dict[float, int] = {}
    for lv in levels:
        lo, hi = central_interval(forecast, lv, quantile_levels, axis)
        out[float(lv)] = int(float(lo) <= y <= float(hi))
    return out


def interval_score(
    lower: ArrayLike, upper: ArrayLike, y: ArrayLike, alpha: ArrayLike
) -> float | np.ndarray:
    """Interval score of the central (1-alpha) interval [l, u] (Gneiting & Raftery 2007):
    ``(u - l) + 2/alpha (l - y) 1{y < l} + 2/alpha (y - u) 1{y > u}``."""
    lo, hi, obs, a = (np.asarray(v, dtype=float) for v in (lower, upper, y, alpha))
    out = (hi - lo) + (2 / a) * np.maximum(lo - obs, 0) + (2 / a) * np.maximum(obs - hi, 0)
    return _scalar_or_array(out)


def weighted_interval_score(
    median: float,
    lowers: Sequence[float],
    uppers: Sequence[float],
    alphas: Sequence[float],
    y: float,
) -> float:
    """Weighted interval score (Bracher et al. 2021), computed here (not by scoringrules).

    ``WIS = (w0 |y - m| + sum_k w_k IS_{alpha_k}) / (K + 1/2)`` with ``w0 = 1/2`` and
    ``w_k = alpha_k / 2``; interval k is the central (1 - alpha_k) interval
    ``[lowers[k], uppers[k]]``. It approximates the CRPS as K grows. Lower is better.
    """
    a = np.asarray(alphas, dtype=float)
    lo, hi = np.asarray(lowers, dtype=float), np.asarray(uppers, dtype=float)
    if not (a.size == lo.size == hi.size):
        raise ValueError("lowers, uppers and alphas must have the same length")
    is_k = np.asarray(interval_score(lo, hi, y, a))
    total = 0.5 * abs(y - median) + float(np.sum(a / 2 * is_k))
    return total / (a.size + 0.5)


def wis_from_quantiles(
    quantile_levels: Sequence[float], quantile_values: Sequence[float], y: float
) -> float:
    """WIS from stored quantiles: the 0.5 level is the median, symmetric pairs the intervals."""
    levels = np.asarray(quantile_levels, dtype=float)
    vals = np.asarray(quantile_values, dtype=float)
    med = np.flatnonzero(np.isclose(levels, 0.5))
    if med.size == 0:
        raise ValueError("WIS needs the 0.5 quantile")
    alphas, lowers, uppers = [], [], []
    for i, a in enumerate(levels):
        if a < 0.5:
            j = np.flatnonzero(np.isclose(levels, 1 - a))
            if j.size:
                alphas.append(2 * a)
                lowers.append(vals[i])
                uppers.append(vals[j[0]])
    return weighted_interval_score(float(vals[med[0]]), lowers, uppers, alphas, y)


def pit(
    draws: ArrayLike, y: float, rng: np.random.Generator | int | None = None, axis: int = 0
) -> float:
    """Randomised probability integral transform of ``y`` under the draws.

    ``(#{x < y} + U * (#{x == y} + 1)) / (m + 1)`` with U ~ Uniform(0, 1): the randomised rank
    of y among the m draws, rescaled. Under a calibrated forecast it is exactly Uniform(0, 1),
    ties (a degenerate or discrete forecast) included. Pass ``rng`` (a Generator or a seed) for
    reproducible values.
    """
    x = _draws_last(draws, axis)
    if x.ndim != 1:
        raise ValueError("pit takes the draws of one forecast (1-D)")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    m = x.size
    below = int(np.sum(x < y))
    ties = int(np.sum(x == y))
    return (below + gen.uniform() * (ties + 1)) / (m + 1)


def _ecdf_randomised(x: np.ndarray, lo: float, hi: float, gen: np.random.Generator) -> float:
    """A PIT for an outcome known only to lie in [lo, hi]: uniform between the two CDF values."""
    m = x.size
    a = np.sum(x < lo) / (m + 1) if np.isfinite(lo) else 0.0
    b = (np.sum(x <= hi) + 1) / (m + 1) if np.isfinite(hi) else 1.0
    return float(a + gen.uniform() * (b - a))


# --------------------------------------------------------------------------------------------
# censored outcomes


def _chain(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Chaining function v of the weight w(z) = 1 - 1{lo < z < hi}: flat on [lo, hi]."""
    out = np.asarray(x, dtype=float).copy()
    if np.isfinite(lo) and np.isfinite(hi):
        return np.where(out < lo, out, np.where(out > hi, out - (hi - lo), lo))
    if np.isfinite(lo):  # y > lo: weight on z <= lo
        return np.minimum(out, lo)
    return np.maximum(out, hi)  # y < hi: weight on z >= hi


def twcrps_censored(
    draws: ArrayLike, lower: float | None, upper: float | None, axis: int = 0
) -> float:
    """Threshold-weighted CRPS for an outcome known only to lie in ``[lower, upper]``.

    The weight is 1 outside the region the outcome is known to lie in and 0 inside it, so the
    score depends only on what was observed: for ">c" it is ``int_{-inf}^{c} F(z)^2 dz`` (the
    forecast's mass below the bound), for "<c" ``int_c^{inf} (1 - F(z))^2 dz``, for "a..b" the
    sum of both tails. Computed as the fair CRPS of the chained draws v(X) at v(y) (Allen et
    al. 2023), ``v`` being flat on the region. Smaller than a point CRPS: compare models on the
    same censored observation only, never pool it with point CRPS values.
    """
    lo = -np.inf if lower is None or pd.isna(lower) else float(lower)
    hi = np.inf if upper is None or pd.isna(upper) else float(upper)
    if not (np.isfinite(lo) or np.isfinite(hi)):
        raise ValueError("a censored outcome needs at least one finite bound")
    x = _draws_last(draws, axis)
    anchor = lo if np.isfinite(lo) else hi
    return float(crps_from_draws(_chain(x, lo, hi), anchor, axis=-1))


def score_against_observation(
    draws: ArrayLike,
    observation: Mapping[str, Any] | pd.Series,
    levels: Iterable[float] = COVERAGE_LEVELS,
    censored: str = "skip",
    rng: np.random.Generator | int | None = None,
    axis: int = 0,
) -> dict[str, Any]:
    """Score 1-D predictive draws against one row of the observation frame.

    ``observation`` carries ``censor`` (point | lower | upper | interval), ``value``, ``lower``
    and ``upper`` as in `chipcast.data`. The rule:

    - **point**: CRPS (fair), coverage hits per level, randomised PIT.
    - **bound or range**, ``censored="skip"`` (default, what the backtest uses): every score is
      NaN and ``reason`` says why. CRPS is not defined on a bound, and counting only the
      coverage hits that a bound happens to decide would bias coverage, so the row is dropped
      from means (keeping every CRPS mean on one scale).
    - **bound or range**, ``censored="weighted"``: ``crps`` is the threshold-weighted CRPS
      (`twcrps_censored`), coverage is recorded only where the bound decides it (the interval
      lies inside the known region: hit; outside it: miss; otherwise NaN), and PIT is drawn
      uniformly between F(lower) and F(upper). ``method`` says which was used.

    Returns ``{"crps", "coverage_50", "coverage_80", "coverage_95", "pit", "method", "reason"}``
    (coverage keys follow ``levels``).
    """
    x = _draws_last(draws, axis)
    if x.ndim != 1:
        raise ValueError("score_against_observation takes the draws of one forecast (1-D)")
    levels = tuple(float(lv) for lv in levels)
    keys = [f"coverage_{round(lv * 100)}" for lv in levels]
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    out: dict[str, Any] = {
        "crps": float("nan"),
        **{k: float("nan") for k in keys},
        "pit": float("nan"),
    }
    censor = str(observation.get("censor", "point") or "point")
    value = observation.get("value")
    if censor == "point" and value is not None and not pd.isna(value):
        y = float(value)
        out["crps"] = float(crps_from_draws(x, y, axis=-1))
        hits = interval_coverage(x, y, levels, axis=-1)
        out.update({k: float(hits[lv]) for k, lv in zip(keys, levels, strict=True)})
        out["pit"] = pit(x, y, gen, axis=-1)
        out.update(method="crps_fair", reason="")
        return out
    if censor == "point":
        out.update(method="skipped", reason="point observation without a value")
        return out
    lo_v, hi_v = observation.get("lower"), observation.get("upper")
    lo = -np.inf if lo_v is None or pd.isna(lo_v) else float(lo_v)
    hi = np.inf if hi_v is None or pd.isna(hi_v) else float(hi_v)
    if censored == "skip":
        out.update(
            method="skipped", reason=f"censored outcome ({censor}): CRPS undefined on a bound"
        )
        return out
    if censored != "weighted":
        raise ValueError("censored must be 'skip' or 'weighted'")
    out["crps"] = twcrps_censored(
        x, None if np.isinf(lo) else lo, None if np.isinf(hi) else hi, axis=-1
    )
    for k, lv in zip(keys, levels, strict=True):
        a, b = central_interval(x, lv, axis=-1)
        if lo >= float(a) and hi <= float(b):
            out[k] = 1.0
        elif hi < float(a) or lo > float(b):
            out[k] = 0.0
    out["pit"] = _ecdf_randomised(x, lo, hi, gen)
    out.update(method="twcrps_fair", reason=f"censored outcome ({censor}): threshold-weighted CRPS")
    return out


# --------------------------------------------------------------------------------------------
# calibration


def binomial_interval(
    k: int, n: int, level: float = 0.9, method: str = "jeffreys"
) -> tuple[float, float]:
    """Two-sided interval for a binomial proportion k/n.

    ``method="jeffreys"`` (default): the equal-tailed Beta(k + 1/2, n - k + 1/2) posterior
    interval, with the lower end set to 0 when k = 0 and the upper to 1 when k = n (Brown, Cai
    & DasGupta 2001); close to nominal coverage on average, which suits the small bins of a
    reliability table. ``method="clopper-pearson"``: the exact, conservative interval
    (Beta(k, n-k+1) and Beta(k+1, n-k) quantiles). ``(nan, nan)`` when n = 0.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError("need 0 <= k <= n")
    if n == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    if method == "jeffreys":
        lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k + 0.5, n - k + 0.5))
        hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 0.5, n - k + 0.5))
    elif method == "clopper-pearson":
        lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
        hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    else:
        raise ValueError("method must be 'jeffreys' or 'clopper-pearson'")
    return lo, hi


def _bin_edges(bins: int | Sequence[float]) -> np.ndarray:
    if isinstance(bins, int | np.integer):
        return np.linspace(0.0, 1.0, int(bins) + 1)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("bin edges must be increasing")
    return edges


def _bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bins are [e_i, e_{i+1}), the last one closed; values outside get -1."""
    idx = np.searchsorted(edges, x, side="right") - 1
    idx = np.where(x == edges[-1], edges.size - 2, idx)
    return np.where((x < edges[0]) | (x > edges[-1]), -1, idx)


def reliability_table(
    probabilities: ArrayLike,
    outcomes: ArrayLike,
    bins: int | Sequence[float] = 10,
    level: float = 0.9,
    method: str = "jeffreys",
) -> pd.DataFrame:
    """Calibration table of binary forecasts.

    ``bins``: a count of equal-width bins on [0, 1] or increasing edges; bins are
    ``[left, right)`` with the last closed. One row per bin, empty bins included (n = 0, NaN
    statistics). Columns: ``bin`` (label "[l, r)"), ``left``, ``right``, ``n``,
    ``mean_forecast``, ``observed_freq``, ``lower``, ``upper`` (the `binomial_interval` of
    observed_freq at ``level``) and ``interval`` (the pair (lower, upper)).
    """
    p = _probability(probabilities).ravel()
    o = _outcome01(outcomes).ravel()
    if p.size != o.size:
        raise ValueError("probabilities and outcomes differ in length")
    edges = _bin_edges(bins)
    idx = _bin_index(p, edges)
    rows = []
    for b in range(edges.size - 1):
        sel = idx == b
        n = int(sel.sum())
        k = int(o[sel].sum()) if n else 0
        lo, hi = binomial_interval(k, n, level, method)
        close = "]" if b == edges.size - 2 else ")"
        rows.append(
            {
                "bin": f"[{edges[b]:g}, {edges[b + 1]:g}{close}",
                "left": float(edges[b]),
                "right": float(edges[b + 1]),
                "n": n,
                "mean_forecast": float(p[sel].mean()) if n else float("nan"),
                "observed_freq": k / n if n else float("nan"),
                "lower": lo,
                "upper": hi,
                "interval": (lo, hi),
            }
        )
    return pd.DataFrame(rows)


def pit_histogram(pits: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Histogram of PIT values on [0, 1] in ``bins`` equal bins ([l, r), last closed).

    Columns: ``left``, ``right``, ``count``, ``frequency`` (count / n) and ``density``
    (frequency * bins: 1 everywhere for a calibrated forecast). NaN PITs are ignored.
    """
    u = np.asarray(pits, dtype=float).ravel()
    u = u[~np.isnan(u)]
    edges = _bin_edges(int(bins))
    idx = _bin_index(u, edges)
    counts = np.bincount(idx[idx >= 0], minlength=edges.size - 1)
    n = int(u.size)
    freq = counts / n if n else np.full(counts.size, np.nan)
    return pd.DataFrame(
        {
            "left": edges[:-1],
            "right": edges[1:],
            "count": counts.astype(int),
            "frequency": freq,
            "density": freq * (edges.size - 1),
        }
    )


__all__ = [
    "CRPS_ESTIMATOR",
    "COVERAGE_LEVELS",
    "LOG_SCORE_EPS",
    "TimeAveragedScore",
    "binomial_interval",
    "brier",
    "central_interval",
    "crps_from_draws",
    "crps_from_quantiles",
    "crps_normal",
    "interval_coverage",
    "interval_score",
    "log_score",
    "pinball",
    "pit",
    "pit_histogram",
    "reliability_table",
    "score_against_observation",
    "time_averaged",
    "twcrps_censored",
    "weighted_interval_score",
    "wis_from_quantiles",
]
