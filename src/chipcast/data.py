"""Observations as tidy pandas frames, and as-of views of them.

Everything downstream (models, backtests, resolution) reads observations through `as_of`, so
no computation can see a figure before the date it became public.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from chipcast.schema import FREQUENCY_MONTHS, Indicator, ObservationRow

FIGURE_COLUMNS: tuple[str, ...] = (
    "indicator",
    "period_start",
    "period_end",
    "value",
    "lower",
    "upper",
    "censor",
    "source",
    "published",
)
"""What a figure is (a fit sees these and nothing else); the rest say where it came from."""
OBS_FRAME_COLUMNS: tuple[str, ...] = (
    "indicator",
    "line",
    *FIGURE_COLUMNS[1:],
    "published_estimated",
    "via",
    "url",
    "title",
    "note",
)


def period_start_for(period_end: dt.date, frequency: str) -> dt.date:
    """First day of the period named by its last day, for the indicator's frequency."""
    months = FREQUENCY_MONTHS.get(frequency)
    if months is None:
        return period_end
    start = pd.Timestamp(period_end) + pd.Timedelta(days=1) - pd.DateOffset(months=months)
    return start.date()


def empty_observations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OBS_FRAME_COLUMNS})


def observation_record(indicator: Indicator, line: int, row: ObservationRow) -> dict[str, object]:
    """One validated CSV row as a record of the observation frame (its line kept for messages)."""
    v = row.value
    start = row.period_start or period_start_for(row.period_end, indicator.frequency)
    return {
        "indicator": indicator.id,
        "line": line,
        "period_start": pd.Timestamp(start),
        "period_end": pd.Timestamp(row.period_end),
        "value": v.value,
        "lower": v.lower,
        "upper": v.upper,
        "censor": v.censor,
        "source": row.source,
        "published": pd.Timestamp(row.published),
        "published_estimated": row.published_estimated,
        "via": row.via,
        "url": row.url,
        "title": row.title,
        "note": row.note,
    }


def frame_from_records(records: list[dict[str, object]]) -> pd.DataFrame:
    """The observation frame, sorted by indicator, period, source and vintage."""
    if not records:
        return empty_observations()
    df = pd.DataFrame.from_records(records, columns=list(OBS_FRAME_COLUMNS))
    for col in ("value", "lower", "upper"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df.sort_values(["indicator", "period_end", "source", "published"]).reset_index(drop=True)


def as_of(observations: pd.DataFrame, date: dt.date | str | pd.Timestamp) -> pd.DataFrame:
    """The figures public on `date`: latest vintage per indicator, source and period.

    A revision published after `date` is invisible; one published on or before it replaces the
    earlier figure for the same source and period.
    """
    cutoff = pd.Timestamp(date)
    visible = observations[observations["published"] <= cutoff]
    if visible.empty:
        return visible.reset_index(drop=True)
    key = ["indicator", "source", "period_start", "period_end"]
    latest = visible.sort_values([*key, "published", "line"]).groupby(key, sort=False).tail(1)
    return latest.sort_values(["indicator", "period_end", "source"]).reset_index(drop=True)
