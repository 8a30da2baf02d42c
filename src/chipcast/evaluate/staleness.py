"""Staleness: when each indicator's next figure is expected, and whether it is late.

A pure function of the data and `today`, like the claim statuses:

- **next period**: the period after the latest one on record (its frequency on from the last
  `period_end`; month ends stay month ends, fiscal period ends keep their day). A series with no
  figure yet awaits the earliest target period of its open claims. An `irregular` series has no
  schedule, so it is never due.
- **publication lag**: the median, over the series' own figures, of `published - period_end`
  in days, each figure's first vintage only (revisions are not first publications), and only
  the figures whose publication date was seen (not `published_estimated`) when there are any.
  Where no lag was observed, the default for the kind of source that publishes the series
  (`DEFAULT_LAG_DAYS`, stated below). A lag is never negative (a policy level announced ahead
  counts as published when its period ends).
- **expected**: next period end + lag. The state is `current` until the next period ends, `due`
  from then until the expected date, and `overdue` after it, with the days since it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import pandas as pd

from chipcast.evaluate.resolution import Resolution, resolve_claims
from chipcast.registry import Registry
from chipcast.schema import FREQUENCY_MONTHS, Indicator

DEFAULT_LAG_DAYS: dict[str, int] = {
    "official": 60,  # statistical offices and agencies: about two months (GACC, MIIT yearbooks)
    "company": 45,  # quarterly filings: 10-Qs within 40-45 days of the quarter's end
    "analyst": 120,  # analyst houses' annual market sizing: a quarter or more after the year
    "press": 90,
    "aggregator": 60,
    "academic": 180,
    "other": 120,
}
"""Publication lag assumed where a series shows none of its own, by the kind of its source."""
FALLBACK_LAG_DAYS = 90
STATES: tuple[str, ...] = ("overdue", "due", "current")


@dataclass(frozen=True)
class SeriesStatus:
    """One indicator's staleness on one date (`chipcast status`'s line)."""

    indicator: str
    frequency: str
    last_period: dt.date | None
    last_published: dt.date | None
    next_period: dt.date | None
    next_expected: dt.date | None
    lag_days: int | None
    lag_basis: str  # "observed (n figures)" or "default for <kind> sources" or why none
    state: str  # current | due | overdue
    days_overdue: int
    claims: tuple[str, ...] = field(default_factory=tuple)  # open or overdue claims waiting

    def as_row(self) -> dict[str, object]:
        row = asdict(self)
        row["claims"] = " ".join(self.claims)
        return row


def next_period_end(period_end: dt.date, frequency: str) -> dt.date | None:
    """The end of the period after the one ending `period_end` (None for `irregular`)."""
    months = FREQUENCY_MONTHS.get(frequency)
    if months is None:
        return None
    ts = pd.Timestamp(period_end)
    if ts.is_month_end:
        return (ts + pd.offsets.MonthEnd(months)).date()
    return (ts + pd.DateOffset(months=months)).date()


def observed_lag(observations: pd.DataFrame) -> tuple[int | None, int]:
    """(median first-publication lag in days, how many figures it rests on) of one series."""
    if observations.empty:
        return None, 0
    first = (
        observations.sort_values("published")
        .groupby(["source", "period_start", "period_end"], sort=False)
        .head(1)
    )
    seen = first[~first["published_estimated"].fillna(False).astype(bool)]
    use = seen if len(seen) else first
    days = (pd.to_datetime(use["published"]) - pd.to_datetime(use["period_end"])).dt.days
    return max(0, int(round(float(days.median())))), len(use)


def _default_lag(reg: Registry, sources: list[str]) -> tuple[int, str]:
    kinds = [reg.sources[s].kind for s in sources if s in reg.sources]
    if not kinds:
        return FALLBACK_LAG_DAYS, "default (no source known)"
    kind = max(set(kinds), key=kinds.count)
    return DEFAULT_LAG_DAYS.get(kind, FALLBACK_LAG_DAYS), f"default for {kind} sources"


def series_status(
    reg: Registry,
    ind: Indicator,
    today: dt.date,
    resolutions: dict[str, Resolution] | None = None,
) -> SeriesStatus:
    """One indicator's last figure, next expected figure and state on `today`."""
    obs = reg.indicator_observations(ind.id)
    obs = obs[obs["published"] <= pd.Timestamp(today)]
    resolutions = resolutions or resolve_claims(reg.claims, reg.observations, today)
    waiting = [
        c
        for c in sorted(reg.claims.values(), key=lambda c: c.id)
        if c.indicator == ind.id
        and resolutions.get(c.id) is not None
        and resolutions[c.id].status in ("open", "overdue")
    ]
    claims = tuple(c.id for c in waiting)
    last_period = pd.Timestamp(obs["period_end"].max()).date() if len(obs) else None
    last_published = pd.Timestamp(obs["published"].max()).date() if len(obs) else None
    lag, n = observed_lag(obs)
    if lag is not None:
        basis = f"observed ({n} figure{'s' if n != 1 else ''})"
    else:
        sources = [c.resolution.source for c in waiting if c.resolution is not None]
        lag, basis = _default_lag(reg, sources or list(obs["source"].astype(str)))
    if ind.frequency not in FREQUENCY_MONTHS:
        return SeriesStatus(
            ind.id, ind.frequency, last_period, last_published, None, None, lag,
            "irregular: no schedule", "current", 0, claims,
        )  # fmt: skip
    if last_period is not None:
        nxt = next_period_end(last_period, ind.frequency)
    else:
        targets = [c.target_period for c in waiting if c.target_period is not None]
        nxt = min(targets) if targets else None
        if nxt is None:
            return SeriesStatus(
                ind.id, ind.frequency, None, None, None, None, lag,
                "no figure yet and no claim waiting", "current", 0, claims,
            )  # fmt: skip
    assert nxt is not None
    expected = nxt + dt.timedelta(days=lag)
    if today <= nxt:
        state, late = "current", 0
    elif today <= expected:
        state, late = "due", 0
    else:
        state, late = "overdue", (today - expected).days
    return SeriesStatus(
        ind.id, ind.frequency, last_period, last_published, nxt, expected, lag, basis, state,
        late, claims,
    )  # fmt: skip


def status_table(
    reg: Registry, today: dt.date, resolutions: dict[str, Resolution] | None = None
) -> list[SeriesStatus]:
    """Every indicator's status, the latest first: overdue by days, then due, then current
    by the date its next figure is expected (`resolutions`: the claims' on `today`, if known)."""
    resolutions = resolutions or resolve_claims(reg.claims, reg.observations, today)
    rows = [series_status(reg, ind, today, resolutions) for ind in reg.indicators.values()]

    def key(s: SeriesStatus) -> tuple:
        far = dt.date.max
        return (STATES.index(s.state), -s.days_overdue, s.next_expected or far, s.indicator)

    return sorted(rows, key=key)


def overdue_days(table: list[SeriesStatus]) -> dict[str, int]:
    """Indicator -> days overdue, for the overdue series only."""
    return {s.indicator: s.days_overdue for s in table if s.state == "overdue"}


def format_status(table: list[SeriesStatus]) -> str:
    """`chipcast status`'s lines: one a series, as DESIGN's contract lists the fields."""
    head = (
        "indicator",
        "last period",
        "last published",
        "next expected",
        "state",
        "days",
        "claims",
    )
    rows = [
        (
            s.indicator,
            str(s.last_period or "–"),
            str(s.last_published or "–"),
            str(s.next_expected or "–"),
            s.state,
            str(s.days_overdue) if s.state == "overdue" else "",
            " ".join(s.claims),
        )
        for s in table
    ]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head[:-1])]
    lines = []
    for r in [head, *rows]:
        cells = [x.ljust(w) for x, w in zip(r[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    return "\n".join(lines)


__all__ = [
    "DEFAULT_LAG_DAYS",
    "SeriesStatus",
    "format_status",
    "next_period_end",
    "observed_lag",
    "overdue_days",
    "series_status",
    "status_table",
]
