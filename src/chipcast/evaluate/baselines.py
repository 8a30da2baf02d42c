"""Reference forecasters every model is scored beside: a naive random walk and a statsmodels trend.

All baselines share one signature, the one the backtest loops over::

    forecast(observations, indicator, periods, source, n_samples, seed) -> xr.DataArray

``observations`` is the as-of observation frame (`chipcast.data.as_of`; rows of other
indicators are ignored), ``periods`` the target period ends, ``source`` the source whose report
is predicted (None = any source). The result has dims ``(sample, period)``: draws of what that
source would report for each target period, in the indicator's own units, clipped to its
bounds. Same inputs and seed, same draws.

Shared conventions:

- **Scale.** Models work on a transformed scale (`transform`): logit for shares (after
  rescaling the indicator's bounds to [0, 1], clipped to [1e-4, 1 - 1e-4]), log for growth
  series and for level/count series whose figures are all positive, identity otherwise.
- **Which figures.** Point figures as published; a range "a..b" at its midpoint. One-sided
  bounds (">0.30", "<5") are *dropped*: a bound used as a point biases the series toward the
  bound. Only when an indicator has no point or range figure at all are bounds used as points
  (the one stated exception, so a forecast still exists). For flows (growth, count), figures
  spanning a different period than the indicator's (an "H1 total" in a quarterly series) are
  dropped.
- **Which series.** The requested source's own figures when it has enough of them (2 periods
  for the naive walk, 3 points for the trend), else every source's figures pooled.
- **Time** is counted in the indicator's periods (a year, half-year, quarter or month, from
  ``frequency``); an ``irregular`` indicator counts in years of 365.25 days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.schema import FREQUENCY_MONTHS, Indicator

SHARE_CLIP = 1e-4
FLOW_FAMILIES = ("growth", "count")

# Default random-walk sd when a series has fewer than 2 usable changes, per YEAR on the
# transformed scale (converted to the indicator's period by sqrt(period length in years)):
# logit 0.5 (a share near 50% moves about +-12 points a year, 1 sd), log 0.3 (about +-35% a
# year), identity 10% of the last figure's magnitude a year.
DEFAULT_SD_PER_YEAR = {"logit": 0.5, "log": 0.3}
DEFAULT_IDENTITY_SD_FRACTION = 0.1


# --------------------------------------------------------------------------------------------
# transforms


@dataclass(frozen=True)
class Transform:
    """A forward map to the modelling scale and its inverse (both elementwise, numpy)."""

    name: str  # "logit" | "log" | "identity"
    forward: Callable[[Any], np.ndarray]
    backward: Callable[[Any], np.ndarray]


def transform(
    indicator: Indicator, values: Sequence[float] | np.ndarray | None = None
) -> Transform:
    """The modelling scale of an indicator (the one place transforms are defined).

    - family ``share``: logit of (x - lo)/(hi - lo), clipped to [1e-4, 1 - 1e-4]; backward
      maps back into [lo, hi].
    - family ``growth``, and ``count`` series: log, when every figure in ``values`` is positive
      (and, with no values given, when the indicator's lower bound is >= 0); non-positive
      inputs are floored at the smallest positive float.
    - otherwise (``level``: policy levels move in additive steps, 10 -> 145 -> 30 percentage
      points, and may be 0; ``none``; a series with zeros/negatives): identity.
    """
    vals = None if values is None else np.asarray(values, dtype=float)
    vals = None if vals is None else vals[~np.isnan(vals)]
    if indicator.family == "share":
        lo, hi = indicator.bounds
        assert lo is not None and hi is not None
        width = hi - lo

        def fwd(x: Any) -> np.ndarray:
            p = np.clip((np.asarray(x, dtype=float) - lo) / width, SHARE_CLIP, 1 - SHARE_CLIP)
            return np.log(p) - np.log1p(-p)

        def bwd(z: Any) -> np.ndarray:
            return lo + width / (1 + np.exp(-np.asarray(z, dtype=float)))

        return Transform("logit", fwd, bwd)
    if indicator.family in ("growth", "count"):
        if vals is not None and vals.size:
            positive = bool(np.all(vals > 0))
        else:
            lo = indicator.bounds[0]
            positive = indicator.family == "growth" or (lo is not None and lo >= 0)
        if positive:
            tiny = np.finfo(float).tiny

            def fwd_log(x: Any) -> np.ndarray:
                return np.log(np.maximum(np.asarray(x, dtype=float), tiny))

            def bwd_log(z: Any) -> np.ndarray:
                return np.exp(np.asarray(z, dtype=float))

            return Transform("log", fwd_log, bwd_log)

    def ident(x: Any) -> np.ndarray:
        return np.asarray(x, dtype=float)

    return Transform("identity", ident, ident)


# --------------------------------------------------------------------------------------------
# shared helpers


def period_index(periods: Sequence[Any] | pd.DatetimeIndex, frequency: str) -> np.ndarray:
    """Period ends as a float count of the indicator's periods (years if irregular)."""
    ts = pd.DatetimeIndex(pd.to_datetime(periods))
    months = FREQUENCY_MONTHS.get(frequency)
    if months is None:
        return ((ts - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(
            dtype=float
        ) / 365.25
    frac = (ts.day.to_numpy(dtype=float) / ts.days_in_month.to_numpy(dtype=float)) - 1.0
    return (ts.year.to_numpy(dtype=float) * 12 + ts.month.to_numpy(dtype=float) + frac) / months


def periods_per_year(frequency: str) -> float:
    months = FREQUENCY_MONTHS.get(frequency)
    return 1.0 if months is None else 12.0 / months


def usable_points(observations: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    """The figures a baseline fits: columns period_end, source, value (raw units).

    Points as published; ranges at their midpoint; one-sided bounds dropped, unless the
    indicator has no point or range figure at all, in which case each bound is used as a point.
    For flows (families ``growth`` and ``count``, which add up over time) a figure covering a
    span other than the indicator's period (an "H1 total" in a quarterly series) is dropped:
    it is not on the series' scale. Shares and levels keep such figures.
    """
    df = observations
    if "indicator" in df.columns:
        df = df[df["indicator"] == indicator.id]
    if (
        indicator.family in FLOW_FAMILIES
        and indicator.frequency in FREQUENCY_MONTHS
        and "period_start" in df.columns
        and not df.empty
    ):
        # span in months, rounded (tolerant of a day either way in how starts were derived)
        span_days = (
            pd.to_datetime(df["period_end"]) - pd.to_datetime(df["period_start"])
        ).dt.days + 1
        months = np.round(span_days.to_numpy(dtype=float) / (365.25 / 12))
        keep = np.isnan(months) | (months == FREQUENCY_MONTHS[indicator.frequency])
        df = df[keep]
    if df.empty:
        return pd.DataFrame(
            {"period_end": pd.Series(dtype="datetime64[ns]"), "source": [], "value": []}
        )
    censor = (
        df["censor"].fillna("point")
        if "censor" in df.columns
        else pd.Series("point", index=df.index)
    )
    lower = df["lower"] if "lower" in df.columns else pd.Series(np.nan, index=df.index)
    upper = df["upper"] if "upper" in df.columns else pd.Series(np.nan, index=df.index)
    value = pd.to_numeric(df["value"], errors="coerce").astype(float)
    lower = pd.to_numeric(lower, errors="coerce").astype(float)
    upper = pd.to_numeric(upper, errors="coerce").astype(float)
    mid = (lower + upper) / 2
    v = np.where(censor == "point", value, np.where(censor == "interval", mid, np.nan))
    if np.all(np.isnan(v)):  # bounds only: the stated last resort
        v = np.where(censor == "lower", lower, np.where(censor == "upper", upper, np.nan))
    out = pd.DataFrame(
        {
            "period_end": pd.to_datetime(df["period_end"]).to_numpy(),
            "source": df["source"].to_numpy(),
            "value": v,
        }
    )
    return out.dropna(subset=["value"]).sort_values(["period_end", "source"]).reset_index(drop=True)


def _select_series(
    points: pd.DataFrame, source: str | None, enough: Callable[[pd.DataFrame], bool]
) -> tuple[pd.DataFrame, str]:
    if source is not None and source != "any":
        own = points[points["source"] == source]
        if enough(own):
            return own, f"source:{source}"
    return points, "all"


def _wrap(
    draws: np.ndarray, periods: pd.DatetimeIndex, indicator: Indicator, attrs: dict[str, Any]
) -> xr.DataArray:
    lo, hi = indicator.bounds
    draws = np.clip(draws, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    return xr.DataArray(
        draws,
        dims=("sample", "period"),
        coords={"sample": np.arange(draws.shape[0]), "period": periods},
        name=indicator.id,
        attrs={k: v for k, v in attrs.items() if v is not None},
    )


class Forecaster(Protocol):
    """What the backtest loops over: a name, a version and one forecast signature."""

    name: str
    version: str

    def forecast(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        periods: pd.DatetimeIndex,
        source: str | None,
        n_samples: int,
        seed: int,
    ) -> xr.DataArray: ...


# --------------------------------------------------------------------------------------------
# naive random walk


class NaiveForecaster:
    """Persistence: a driftless random walk from the latest figure, spread from past changes.

    On the transformed scale, with the series chosen as in the module docstring (the source's
    own series when it covers >= 2 periods, else all sources; several figures for one period
    are merged by their median on the transformed scale):

    - **centre**: the latest figure at or before each target period (the first figure for
      targets before the series starts), so the median is that figure;
    - **spread**: sd = the root mean square of per-period changes,
      (z_i - z_{i-1}) / sqrt(gap_i in periods), the innovation scale of a walk *without drift*
      (the sd around the mean change would be a drifting walk's: a steady climb would get a
      spread near 0 while the centre assumes no climb at all); with fewer than 2 changes, the
      default ``DEFAULT_SD_PER_YEAR`` (logit 0.5, log 0.3; identity 10% of |last figure|)
      scaled to one period. A constant series gives sd 0 and so a point forecast;
    - the draw at horizon h (in periods from the anchor figure) is N(anchor, sd^2 max(h, 1)):
      the spread grows like sqrt(h); a period already reported gets one period's spread, for
      what a revision or another source might say. Draws beyond an anchor form random-walk
      paths (cumulative increments), so windows of periods are coherent.
    """

    name = "naive"
    version = "2"

    def forecast(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        periods: pd.DatetimeIndex,
        source: str | None,
        n_samples: int,
        seed: int,
    ) -> xr.DataArray:
        periods = pd.DatetimeIndex(pd.to_datetime(periods))
        points = usable_points(observations, indicator)
        if points.empty:
            raise ValueError(f"{indicator.id}: no usable observations to forecast from")
        tr = transform(indicator, points["value"].to_numpy())
        series, used = _select_series(points, source, lambda d: d["period_end"].nunique() >= 2)
        z = (
            series.assign(z=tr.forward(series["value"].to_numpy()))
            .groupby("period_end")["z"]
            .median()
            .sort_index()
        )
        t_obs = period_index(z.index, indicator.frequency)
        zv = z.to_numpy()
        changes = np.diff(zv) / np.sqrt(np.diff(t_obs)) if zv.size >= 2 else np.empty(0)
        if changes.size >= 2:
            sd = float(np.sqrt(np.mean(np.square(changes))))
            sd_note = "empirical"
        else:
            sd = self.default_sd(tr, float(series["value"].iloc[-1]), indicator.frequency)
            sd_note = "default"
        draws = _random_walk_draws(
            zv, t_obs, period_index(periods, indicator.frequency), sd, n_samples, seed
        )
        attrs = {
            "model": self.name,
            "version": self.version,
            "transform": tr.name,
            "series": used,
            "sd_per_period": sd,
            "sd_source": sd_note,
            "seed": seed,
        }
        return _wrap(tr.backward(draws), periods, indicator, attrs)

    @staticmethod
    def default_sd(tr: Transform, last_value: float, frequency: str) -> float:
        """The stated per-period sd used when a series has fewer than 2 changes."""
        per = 1.0 / math.sqrt(periods_per_year(frequency))
        if tr.name in DEFAULT_SD_PER_YEAR:
            return DEFAULT_SD_PER_YEAR[tr.name] * per
        return DEFAULT_IDENTITY_SD_FRACTION * abs(last_value) * per


def _random_walk_draws(
    z_obs: np.ndarray, t_obs: np.ndarray, t_target: np.ndarray, sd: float, n_samples: int, seed: int
) -> np.ndarray:
    """(n_samples, len(t_target)) random-walk draws anchored on the observed series."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_samples, t_target.size))
    # anchor: latest observed period at or before the target (first one for earlier targets)
    anchor = np.searchsorted(t_obs, t_target + 1e-9, side="right") - 1
    before = anchor < 0
    anchor = np.maximum(anchor, 0)
    h = np.maximum(np.abs(t_target - t_obs[anchor]), 1.0)
    for key in sorted(set(zip(anchor.tolist(), before.tolist(), strict=True))):
        cols = np.flatnonzero((anchor == key[0]) & (before == key[1]))
        cols = cols[np.argsort(h[cols], kind="stable")]
        incr = np.diff(np.concatenate([[0.0], h[cols]]))
        steps = rng.standard_normal((n_samples, cols.size)) * np.sqrt(incr) * sd
        out[:, cols] = z_obs[key[0]] + np.cumsum(steps, axis=1)
    return out


# --------------------------------------------------------------------------------------------
# statsmodels trend regression


class StatsmodelsForecaster:
    """A linear trend in time by OLS (statsmodels) on the transformed scale.

    With >= 4 usable figures spanning >= 2 periods (the source's own when it has that many,
    else all sources pooled, every figure a row), fit ``z = a + b t`` by
    statsmodels' ``OLS``; ``get_prediction`` gives each target period's predictive mean and
    ``se_obs`` (parameter uncertainty plus residual variance), and the draws are
    ``mean + se_obs * T`` with T ~ Student-t(df_resid): the OLS prediction interval's
    distribution. Draws are independent across periods (marginals only; for windowed claims
    use a path model). A perfectly linear series has se_obs 0 and gives its line exactly.
    With fewer figures it falls back to `NaiveForecaster` (attrs ``fallback="naive"``): three
    points leave one residual degree of freedom, a Cauchy predictive whose exponential on the
    log scale overflows.
    """

    name = "statsmodels"
    version = "2"
    min_points = 4

    def forecast(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        periods: pd.DatetimeIndex,
        source: str | None,
        n_samples: int,
        seed: int,
    ) -> xr.DataArray:
        from statsmodels.regression.linear_model import OLS  # lazy: ~0.6 s to import
        from statsmodels.tools.tools import add_constant

        periods = pd.DatetimeIndex(pd.to_datetime(periods))
        points = usable_points(observations, indicator)

        def enough(d: pd.DataFrame) -> bool:
            return len(d) >= self.min_points and d["period_end"].nunique() >= 2

        series, used = _select_series(points, source, enough)
        if not enough(series):
            out = NaiveForecaster().forecast(
                observations, indicator, periods, source, n_samples, seed
            )
            out.attrs.update(
                model=self.name,
                version=self.version,
                fallback="naive",
                fallback_reason=f"{len(series)} usable figures (< {self.min_points})",
            )
            return out
        tr = transform(indicator, points["value"].to_numpy())
        t = period_index(series["period_end"], indicator.frequency)
        centre = float(t.mean())
        z = tr.forward(series["value"].to_numpy())
        fit = OLS(z, add_constant(t - centre)).fit()
        x_new = add_constant(
            period_index(periods, indicator.frequency) - centre, has_constant="add"
        )
        pred = fit.get_prediction(x_new)
        mean = np.asarray(pred.predicted_mean, dtype=float)
        se = np.nan_to_num(np.asarray(pred.se_obs, dtype=float), nan=0.0)
        rng = np.random.default_rng(seed)
        tdraw = rng.standard_t(fit.df_resid, size=(n_samples, periods.size))
        draws = mean[None, :] + se[None, :] * tdraw
        attrs = {
            "model": self.name,
            "version": self.version,
            "transform": tr.name,
            "series": used,
            "method": "ols_trend",
            "slope_per_period": float(fit.params[1]),
            "df_resid": float(fit.df_resid),
            "seed": seed,
        }
        return _wrap(tr.backward(draws), periods, indicator, attrs)


BASELINES: dict[str, Forecaster] = {
    "naive": NaiveForecaster(),
    "statsmodels": StatsmodelsForecaster(),
}
"""The reference forecasters by name (the names the backtest CSV uses)."""

__all__ = [
    "BASELINES",
    "DEFAULT_SD_PER_YEAR",
    "Forecaster",
    "NaiveForecaster",
    "StatsmodelsForecaster",
    "Transform",
    "period_index",
    "transform",
    "usable_points",
]
