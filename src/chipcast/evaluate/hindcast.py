"""Hindcasts: what chipcast would have said about a claim on each date its data changed.

A hindcast is today's model on the data public then: for a threshold or value claim on a
modelled indicator, on the day the claim was made and on every later date on which a figure
of its indicator was published (a new figure or a revision), until the claim resolved (or
today), fit the indicator on the as-of view of that date and turn the fit into P(claim), or
the predictive quantiles and the claimant's PIT. The naive and statsmodels references get
forecasts on the same dates. The dates are the backtest's origins (every vintage date), and
the fit at a date is the one a refresh on that date would have made (same horizon, seed and
settings), so a refresh's fit can add its date's rows.

This module decides the dates and the reference forecasts; `chipcast.pipeline.hindcast` fits,
fingerprints and writes `forecasts/hindcasts/<claim id>.csv`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chipcast.data import as_of
from chipcast.evaluate.baselines import BASELINES
from chipcast.evaluate.probability import ClaimForecast, forecast_from_draws, indicator_seed
from chipcast.evaluate.resolution import resolve
from chipcast.models import period_grid
from chipcast.registry import Registry
from chipcast.schema import Claim

N_BASELINE_SAMPLES = 2000
REFERENCES: tuple[str, ...] = tuple(BASELINES)
"""The reference forecasters that get hindcasts beside the model (naive, statsmodels)."""


@dataclass(frozen=True)
class Window:
    """The dates a claim is hindcast over: from `start` (made_on) to `end`.

    `end` is the day its settling figure was published (exclusive: a forecast issued that day
    already knew the answer) or, for an open claim, today (inclusive).
    """

    start: dt.date
    end: dt.date
    resolved: bool

    def contains(self, d: dt.date) -> bool:
        return self.start <= d and (d < self.end if self.resolved else d <= self.end)


def hindcastable(reg: Registry, claim: Claim) -> bool:
    """A threshold or value claim, checkable, on an indicator with a model family."""
    if claim.kind not in ("threshold", "value") or claim.status in ("not_checkable", "annulled"):
        return False
    ind = reg.indicators.get(claim.indicator or "")
    return ind is not None and ind.family != "none" and claim.target_period is not None


def window(reg: Registry, claim: Claim, today: dt.date) -> Window | None:
    """The claim's hindcast window on `today` (None when it is empty or was annulled)."""
    res = resolve(claim, reg.observations, today)
    if res.status in ("annulled", "not_checkable"):
        return None
    if res.status == "resolved" and res.resolved_on is not None:
        w = Window(claim.made_on, res.resolved_on, True)
        return w if w.end > w.start else None
    return Window(claim.made_on, today, False) if claim.made_on <= today else None


def hindcast_dates(reg: Registry, claim: Claim, today: dt.date) -> list[dt.date]:
    """The as-of dates of a claim's hindcasts: the day it was made, then every date a figure of
    its indicator was published inside its window; dates with no figure public yet are left
    out (nothing to fit), so the first row is at made_on whenever any data was public then."""
    if not hindcastable(reg, claim):
        return []
    w = window(reg, claim, today)
    if w is None:
        return []
    obs = reg.indicator_observations(claim.indicator)
    published = sorted({pd.Timestamp(p).date() for p in obs["published"].dropna()})
    dates = [w.start] + [d for d in published if d > w.start and w.contains(d)]
    first_public = published[0] if published else None
    return [d for d in dates if first_public is not None and d >= first_public]


def indicator_dates(reg: Registry, claims: list[Claim], today: dt.date) -> dict[dt.date, list[str]]:
    """For one indicator: each hindcast date and the claims that need a forecast on it."""
    out: dict[dt.date, list[str]] = {}
    for c in sorted(claims, key=lambda c: c.id):
        for d in hindcast_dates(reg, c, today):
            out.setdefault(d, []).append(c.id)
    return dict(sorted(out.items()))


def _window_periods(claim: Claim, frequency: str) -> pd.DatetimeIndex:
    if claim.aggregate:
        return period_grid(claim.window_start, claim.target_period, frequency)
    return pd.DatetimeIndex([pd.Timestamp(claim.target_period)])


def baseline_draws(
    reg: Registry, claim: Claim, name: str, date: dt.date | pd.Timestamp, seed: int
) -> np.ndarray | None:
    """Draws of the claim's settling figure from reference forecaster `name`, on the data public
    on `date` (None when nothing is public). A window claim sums (or averages) its periods."""
    ind = reg.indicators[claim.indicator]
    obs = as_of(reg.indicator_observations(claim.indicator), pd.Timestamp(date))
    if obs.empty:
        return None
    periods = _window_periods(claim, ind.frequency)
    source = None if claim.resolution.source == "any" else claim.resolution.source
    arr = BASELINES[name].forecast(
        obs, ind, periods, source, N_BASELINE_SAMPLES, indicator_seed(seed, claim.id)
    )
    values = np.asarray(arr.values, dtype=float)
    if claim.aggregate == "sum":
        return values.sum(axis=1)
    if claim.aggregate == "mean":
        return values.mean(axis=1)
    return values[:, -1]


def baseline_forecast(
    reg: Registry, claim: Claim, name: str, date: dt.date, seed: int
) -> tuple[ClaimForecast | None, str]:
    """Reference forecaster `name`'s forecast for `claim` on `date`, or None and why not."""
    try:
        draws = baseline_draws(reg, claim, name, date, seed)
    except ValueError as exc:  # too few usable figures for this forecaster
        return None, f"no {name} forecast: {exc}"
    if draws is None:
        return None, f"no {name} forecast: no figure public on {date}"
    return forecast_from_draws(claim, draws, name, name), ""


__all__ = [
    "REFERENCES",
    "Window",
    "baseline_draws",
    "baseline_forecast",
    "hindcast_dates",
    "hindcastable",
    "indicator_dates",
    "window",
]
