"""Scoring rules for chipcast forecasts: pure functions, numpy/pandas in, floats/frames out.

The standard rules come from scoringrules (Brier, log score, the CRPS of draws, the pinball
loss); chipcast adds what its forecasts need around them: the time-average of a claim's scores
over its open life, the CRPS of stored quantiles (quantile cells), coverage hits and the
randomised PIT. The claimant rule lives with the scoreboard (`chipcast.evaluate.scoreboard`).

Conventions (every function here follows them):

- **Orientation.** Every score is *negatively oriented*: lower is better.
- **Binary outcomes** are 0/1 (or bool): 1 means the claim came true. ``p`` is the probability
  issued for the claim being true.
- **Draws.** Predictive draws carry the sample on ``axis`` (default 0, matching the models'
  ``(sample, period)`` arrays); an ``xarray.DataArray`` with a ``sample`` dimension is
  recognised by name.
- **CRPS estimator.** Draws are scored with scoringrules' ``"pwm"`` (probability-weighted
  moment) estimator, which equals the *fair* (unbiased) estimator: see `crps_from_draws`.
- **Censored outcomes** (a later figure ">0.30", "<5", "4..6") are not scored: see
  `score_against_observation`.
- Natural logarithms throughout.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


@functools.cache
def _scoringrules() -> ModuleType:
    """scoringrules, imported on first use and without its numba backend.

    Every call here names ``backend="numpy"``, but scoringrules 0.10 JIT-compiles all its numba
    gufuncs when it is imported (3-8 s in every process that scores, the site's build
    included). Hiding numba for the import takes the library's own path for a machine without
    numba, so the import costs ~0.4 s. A process that imported scoringrules before keeps its
    module, numba backend and all; the numpy backend's scores are the same either way. While
    numba is hidden, another thread's first `import numba` would fail: the background imports
    of `chipcast.pipeline.kernel` therefore import scoringrules plainly. If such a thread is
    still importing it, this waits for that import to finish rather than take the half-built
    module from ``sys.modules``.
    """
    if "scoringrules" in sys.modules:
        return importlib.import_module("scoringrules")
    saved = sys.modules.get("numba")
    sys.modules["numba"] = None  # type: ignore[assignment]  # `import numba` raises ImportError
    try:
        import scoringrules
    finally:
        if saved is None:
            del sys.modules["numba"]
        else:
            sys.modules["numba"] = saved
    return scoringrules


CRPS_ESTIMATOR = "pwm"
"""scoringrules estimator used for draws: "pwm" (= the fair, unbiased estimator)."""

LOG_SCORE_EPS = 1e-6
"""Probabilities are clipped to [eps, 1 - eps] before the log score (max penalty ~13.8)."""

COVERAGE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
COVERAGE_COLUMNS: tuple[str, ...] = tuple(f"coverage_{round(lv * 100)}" for lv in COVERAGE_LEVELS)


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


# --------------------------------------------------------------------------------------------
# binary outcomes


def brier(p: ArrayLike, outcome: ArrayLike) -> float | np.ndarray:
    """Brier score ``(p - outcome)**2`` (scoringrules; 0 perfect, 0.25 for p = 0.5)."""
    sr = _scoringrules()

    obs = np.asarray(outcome, dtype=float)
    return _scalar_or_array(sr.brier_score(obs, np.asarray(p, dtype=float), backend="numpy"))


def log_score(p: ArrayLike, outcome: ArrayLike, eps: float = LOG_SCORE_EPS) -> float | np.ndarray:
    """Log score ``-ln p(outcome)`` (scoringrules), ``p`` clipped to ``[eps, 1 - eps]`` first.

    The clip (default eps = 1e-6) makes a forecast of 0 or 1 that turns out wrong cost
    ``-ln(eps)`` (~13.8) instead of infinity; ln 2 ~ 0.693 for p = 0.5.
    """
    sr = _scoringrules()

    q = np.asarray(p, dtype=float)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    obs = np.asarray(outcome, dtype=float)
    return _scalar_or_array(sr.log_score(obs, np.clip(q, eps, 1 - eps), backend="numpy"))


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
    sr = _scoringrules()

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


def crps_from_quantiles(
    quantile_levels: Sequence[float] | np.ndarray,
    quantile_values: ArrayLike,
    y: ArrayLike,
) -> float | np.ndarray:
    """CRPS approximated from stored quantiles: chipcast's quantile-cell rule.

    CRPS(F, y) = 2 * integral_0^1 PB_a(y, F^-1(a)) da, PB the pinball loss (scoringrules'
    ``quantile_score``). We approximate the integral with one weight per stored level, the
    width of its cell on (0, 1) (halfway to its neighbours, the first cell reaching 0 and the
    last 1); for equally spaced levels (i - 1/2)/K this is exactly scoringrules'
    ``crps_quantile`` (2 * mean pinball), and for the unevenly spaced levels chipcast stores
    (0.025 ... 0.975) it does not overweight the tails as the plain mean does. The
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
    sr = _scoringrules()

    obs = np.asarray(y, dtype=float)[..., None]
    pb = np.asarray(sr.quantile_score(obs, vals, levels, backend="numpy"))
    return _scalar_or_array(2.0 * np.sum(pb * _quantile_weights(levels), axis=-1))


# --------------------------------------------------------------------------------------------
# intervals and PIT


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


# --------------------------------------------------------------------------------------------
# one forecast against one observation


def score_against_observation(
    draws: ArrayLike,
    observation: Mapping[str, Any] | pd.Series,
    levels: Iterable[float] = COVERAGE_LEVELS,
    rng: np.random.Generator | int | None = None,
    axis: int = 0,
) -> dict[str, Any]:
    """Score 1-D predictive draws against one row of the observation frame.

    ``observation`` carries ``censor`` (point | lower | upper | interval), ``value``, ``lower``
    and ``upper`` as in `chipcast.data`. The rule:

    - **point**: CRPS (fair), coverage hits per level, randomised PIT.
    - **bound or range**: every score is NaN and ``reason`` says why. CRPS is not defined on a
      bound, and counting only the coverage hits that a bound happens to decide would bias
      coverage, so the row is dropped from means (keeping every CRPS mean on one scale).

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
    out.update(method="skipped", reason=f"censored outcome ({censor}): CRPS undefined on a bound")
    return out
