"""The period grid and the observation design: where each figure sits on a model's grid.

`snap` maps an indicator's observations onto a grid of period ends (`Design`); `SizeClass` and
`pad` lay a design out in the fixed shapes of a size class, so that every design of that class
gives a model the same graph and its compiled form can be reused (see `_sampling`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chipcast.models.base import NEW_SOURCE
from chipcast.schema import FREQUENCY_MONTHS as FREQ_MONTHS


def model_frequency(frequency: str) -> str:
    """The grid a family models on: the indicator's frequency, quarterly for 'irregular'."""
    return frequency if frequency in FREQ_MONTHS else "quarterly"


def period_years(frequency: str) -> float:
    return FREQ_MONTHS[model_frequency(frequency)] / 12.0


def _period_end_containing(date: pd.Timestamp, frequency: str) -> pd.Timestamp:
    months = FREQ_MONTHS[model_frequency(frequency)]
    date = pd.Timestamp(date).normalize()
    end_month = ((date.month - 1) // months + 1) * months  # 3, 6, 9, 12 for quarterly, ...
    return pd.Timestamp(year=date.year, month=end_month, day=1) + pd.offsets.MonthEnd(0)


def period_grid(
    first_period_end: dt.date | pd.Timestamp, horizon: dt.date | pd.Timestamp, frequency: str
) -> pd.DatetimeIndex:
    """Period ends from the period containing `first_period_end` to the one containing `horizon`.

    annual -> Dec 31s; semiannual -> Jun 30 and Dec 31; quarterly -> calendar quarter ends;
    monthly -> month ends; 'irregular' is modelled quarterly. Dates that are not period ends
    (a fiscal quarter ending 2025-04-27) belong to the calendar period that contains them
    (here 2025-06-30): see `snap`.
    """
    months = FREQ_MONTHS[model_frequency(frequency)]
    start = _period_end_containing(pd.Timestamp(first_period_end), frequency)
    stop = _period_end_containing(pd.Timestamp(horizon), frequency)
    if stop < start:
        stop = start
    out = [start]
    while out[-1] < stop:
        out.append(out[-1] + pd.offsets.MonthEnd(months))
    return pd.DatetimeIndex(out, name="period")


@dataclass
class Design:
    """Observations of one indicator mapped onto a period grid.

    `first`/`last` are the grid indices an observation covers (inclusive): a figure whose span is
    n grid periods long (rounded, at least one) covers the n periods ending with the period that
    contains its period_end. So a fiscal quarter ending 2025-04-27 is the calendar quarter ending
    2025-06-30, a nine-month total Jan-Sep covers Q1..Q3, and an annual total on a quarterly grid
    covers four quarters. `frac` < 1 marks a figure shorter than one grid period (a quarterly
    figure on an annual grid): flow families scale it by that fraction. A figure without a span
    (period_start equal to period_end, as for irregular indicators) is one grid period.
    """

    grid: pd.DatetimeIndex
    n_fit: int  # periods up to the last observed one (the rest are forecast by simulation)
    sources: list[str]
    source_idx: np.ndarray
    first: np.ndarray
    last: np.ndarray
    frac: np.ndarray
    censor: np.ndarray  # point / lower / upper / interval
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    frequency: str

    @property
    def n_obs(self) -> int:
        return len(self.value)

    def weights(self) -> np.ndarray:
        """(n_obs, n_fit) coverage matrix: 1 for each covered period (frac for short figures)."""
        w = np.zeros((self.n_obs, self.n_fit))
        for i, (a, b) in enumerate(zip(self.first, self.last, strict=True)):
            w[i, a : b + 1] = 1.0
        return w * self.frac[:, None]

    def mask(self, kind: str) -> np.ndarray:
        return self.censor == kind


def span_cover(
    starts: pd.Series | pd.DatetimeIndex, ends: pd.Series | pd.DatetimeIndex, frequency: str
) -> tuple[list[pd.Timestamp], np.ndarray, np.ndarray]:
    """How figures spanning `starts`..`ends` sit on the grid: (the grid period end containing
    each end, how many grid periods each covers, the fraction of one period a shorter figure
    covers, else 1). The one snapping rule for fitting, claims and backtest targets alike."""
    freq = model_frequency(frequency)
    ends = pd.DatetimeIndex(ends)
    starts = pd.DatetimeIndex(starts)
    end_periods = [_period_end_containing(e, freq) for e in ends]
    span_days = np.asarray((ends - starts).days, dtype=float) + 1
    n_periods = span_days / (FREQ_MONTHS[freq] * 30.4375)
    # a one-day span (period_start missing or equal to period_end, as for 'irregular'
    # indicators) says nothing about the span: it is one grid period
    n_periods = np.where(span_days <= 1, 1.0, n_periods)
    n_cover = np.maximum(1, np.round(n_periods)).astype(int)
    frac = np.where(n_periods < 0.75, np.clip(n_periods, 1e-3, 1.0), 1.0).astype(float)
    return end_periods, n_cover, frac


def grid_frequency(periods: pd.DatetimeIndex) -> str:
    """The frequency of a model grid, read off its period ends (quarterly for a single one)."""
    if len(periods) < 2:
        return "quarterly"
    a, b = pd.Timestamp(periods[0]), pd.Timestamp(periods[1])
    months = (b.year - a.year) * 12 + b.month - a.month
    return {v: k for k, v in FREQ_MONTHS.items()}.get(months, "quarterly")


def covered(
    grid: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, frequency: str
) -> tuple[np.ndarray, float]:
    """(indices of the grid periods a figure for start..end covers, its fraction of a period),
    by `span_cover`'s rule: a fiscal quarter ending 27 April is the calendar quarter ending
    30 June, not the two calendar quarters its dates touch."""
    (end_period,), (n,), (frac,) = span_cover([start], [end], frequency)
    last = int(np.searchsorted(pd.DatetimeIndex(grid).values, end_period.to_datetime64()))
    if last >= len(grid) or pd.DatetimeIndex(grid)[last] != end_period:
        raise ValueError(
            f"the grid ({grid[0].date()}..{grid[-1].date()}) has no period for {end.date()}"
        )
    return np.arange(max(last - int(n) + 1, 0), last + 1), float(frac)


def snap(observations: pd.DataFrame, frequency: str, horizon: dt.date | pd.Timestamp) -> Design:
    """Map observations onto the model grid (see `Design` for the snapping rule)."""
    obs = observations.reset_index(drop=True)
    freq = model_frequency(frequency)
    months = FREQ_MONTHS[freq]
    ends = pd.to_datetime(obs["period_end"])
    starts = pd.to_datetime(obs["period_start"]).fillna(ends) if "period_start" in obs else ends
    end_periods, n_cover, frac = span_cover(starts, ends, freq)
    first_end = min(
        min(end_periods),
        min(
            e - pd.offsets.MonthEnd(months * (n - 1)) if n > 1 else e
            for e, n in zip(end_periods, n_cover, strict=True)
        ),
    )
    last_obs = max(end_periods)
    grid = period_grid(first_end, max(pd.Timestamp(horizon), last_obs), freq)
    pos = {p: i for i, p in enumerate(grid)}
    last = np.array([pos[e] for e in end_periods], dtype=int)
    first = last - n_cover + 1
    sources = sorted(obs["source"].astype(str).unique())
    sidx = np.array([sources.index(s) for s in obs["source"].astype(str)], dtype=int)
    censor = obs["censor"].astype(str).to_numpy() if "censor" in obs else np.full(len(obs), "point")
    value = pd.to_numeric(obs["value"], errors="coerce").to_numpy(float)
    lower = (
        pd.to_numeric(obs["lower"], errors="coerce").to_numpy(float)
        if "lower" in obs
        else value.copy()
    )
    upper = (
        pd.to_numeric(obs["upper"], errors="coerce").to_numpy(float)
        if "upper" in obs
        else value.copy()
    )
    return Design(
        grid=grid,
        n_fit=int(last.max()) + 1,
        sources=sources,
        source_idx=sidx,
        first=first,
        last=last,
        frac=frac.astype(float),
        censor=censor,
        value=value,
        lower=lower,
        upper=upper,
        frequency=freq,
    )


def modelled(observations: pd.DataFrame) -> pd.DataFrame:
    """Rows a model can use: a point with a value, or a bound/interval with its ends."""
    ok = []
    for _, r in observations.iterrows():
        c = r.get("censor", "point")
        if c == "point":
            ok.append(np.isfinite(r["value"]))
        elif c == "lower":
            ok.append(np.isfinite(r["lower"]))
        elif c == "upper":
            ok.append(np.isfinite(r["upper"]))
        else:
            ok.append(np.isfinite(r["lower"]) and np.isfinite(r["upper"]))
    return (
        observations[np.array(ok, dtype=bool)].reset_index(drop=True)
        if len(observations)
        else observations
    )


def new_source_names(sources: list[str]) -> list[str]:
    return [*sources, NEW_SOURCE]


# --- size classes -----------------------------------------------------------------------------
# A model's graph is fixed by the shapes of its parameters and data. Designs are padded to the
# next power of two of their fitted periods, point figures, bounds and sources (with these
# floors; no bound block at all without bounds), so that the registry's indicators, every
# backtest origin and the seeds of a retry fall into a handful of classes, each compiled once
# per process. Bounds have their own block because their censored terms (a CDF: for Student-t
# and negative-binomial noise an incomplete beta function and its gradient) cost many times a
# density: padding every figure with them made a gradient evaluation several times dearer.
# Padding changes no posterior: padded figures are masked out of the likelihood, padded
# periods lie after the last fitted one (their shocks have no figure to answer to) and padded
# sources report nothing.
# Floors of 8 periods and 8 points: the shipped registry's 33 sampled fits fell into 12 classes
# with floors of 4, most of them short series split between 4 and 8 periods or points.
MIN_PERIODS, MIN_POINTS, MIN_BOUNDS, MIN_SOURCES = 8, 8, 2, 2


def _pow2(n: int, floor: int) -> int:
    return max(floor, 1 << max(int(n) - 1, 0).bit_length())


@dataclass(frozen=True, order=True)
class SizeClass:
    """The padded shape of a design: fitted periods, point figures, bounds, sources."""

    periods: int
    points: int
    bounds: int
    sources: int

    @classmethod
    def of(cls, design: Design) -> SizeClass:
        n_bounds = int((design.censor != "point").sum())
        return cls(
            _pow2(design.n_fit, MIN_PERIODS),
            _pow2(design.n_obs - n_bounds, MIN_POINTS),
            _pow2(n_bounds, MIN_BOUNDS) if n_bounds else 0,
            _pow2(len(design.sources), MIN_SOURCES),
        )

    @property
    def label(self) -> str:
        return f"T{self.periods}-P{self.points}-B{self.bounds}-S{self.sources}"


@dataclass(frozen=True)
class Block:
    """Figures of one kind (points, or bounds) padded to a fixed count; padded rows have every
    mask False, NaN values and cover period 0 (no row is empty).

    `weights` is the (figures, periods) coverage matrix; `one_period`: the figure covers one grid
    period, `whole`: and the whole of it (frac 1)."""

    n: int  # real figures
    last: np.ndarray
    source_idx: np.ndarray
    weights: np.ndarray
    one_period: np.ndarray
    whole: np.ndarray
    point: np.ndarray
    lower_bound: np.ndarray
    upper_bound: np.ndarray
    interval: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Padded:
    """A design laid out in its size class's shapes: a block of point figures and one of bounds;
    `free_source` is 1 for a source whose offset and noise are parameters (0 for a lone source,
    the reference, and for padding)."""

    size: SizeClass
    n_fit: int
    n_obs: int
    n_sources: int
    dt_years: float
    points: Block
    bounds: Block
    free_source: np.ndarray

    @property
    def fitted_steps(self) -> np.ndarray:
        """(periods - 1,) 1.0 for the steps between fitted periods, 0.0 for padded ones."""
        return (np.arange(self.size.periods - 1) < self.n_fit - 1).astype(float)


def _block(design: Design, rows: np.ndarray, n: int, periods: int) -> Block:
    k = len(rows)

    def col(a: np.ndarray, fill: float | int | bool, dtype) -> np.ndarray:
        out = np.full(n, fill, dtype=dtype)
        out[:k] = a[rows]
        return out

    W = np.zeros((n, periods))
    W[:k, : design.n_fit] = design.weights()[rows]
    W[k:, 0] = 1.0
    one = design.first == design.last
    return Block(
        n=k,
        last=col(design.last, 0, np.int64),
        source_idx=col(design.source_idx, 0, np.int64),
        weights=W,
        one_period=col(one, True, bool),
        whole=col(one & (design.frac == 1.0), True, bool),
        point=col(design.mask("point"), False, bool),
        lower_bound=col(design.mask("lower"), False, bool),
        upper_bound=col(design.mask("upper"), False, bool),
        interval=col(design.mask("interval"), False, bool),
        value=col(design.value, np.nan, float),
        lower=col(design.lower, np.nan, float),
        upper=col(design.upper, np.nan, float),
    )


def pad(design: Design, size: SizeClass | None = None) -> Padded:
    """Lay `design` out in `size` (its own class by default)."""
    size = size or SizeClass.of(design)
    points = np.flatnonzero(design.censor == "point")
    bounds = np.flatnonzero(design.censor != "point")
    s = len(design.sources)
    if (
        design.n_fit > size.periods
        or len(points) > size.points
        or len(bounds) > size.bounds
        or s > size.sources
    ):
        raise ValueError(
            f"a design of {design.n_fit} periods, {len(points)} points, {len(bounds)} bounds "
            f"and {s} sources does not fit size {size.label}"
        )
    return Padded(
        size=size,
        n_fit=design.n_fit,
        n_obs=design.n_obs,
        n_sources=s,
        dt_years=period_years(design.frequency),
        points=_block(design, points, size.points, size.periods),
        bounds=_block(design, bounds, size.bounds, size.periods),
        free_source=(np.arange(size.sources) < s).astype(float) * (s > 1),
    )
