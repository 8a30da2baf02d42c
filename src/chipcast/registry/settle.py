"""Which published figure settles a threshold or value claim (a pure data query)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from chipcast.data import as_of
from chipcast.schema import Claim


def _covering(claim: Claim, obs: pd.DataFrame) -> pd.DataFrame:
    """Rows of the resolution source whose period is the claim's target period."""
    assert claim.resolution is not None and claim.target_period is not None
    df = obs[obs["indicator"] == claim.indicator]
    if claim.resolution.source != "any":
        df = df[df["source"] == claim.resolution.source]
    target = pd.Timestamp(claim.target_period)
    df = df[df["period_end"] == target]
    if claim.aggregate is not None:
        assert claim.window_start is not None
        df = df[df["period_start"] == pd.Timestamp(claim.window_start)]
    return df


def _aggregate_from_parts(claim: Claim, obs: pd.DataFrame) -> pd.DataFrame:
    """Point figures tiling the claim's window exactly, summed into one pseudo-row."""
    assert claim.resolution is not None and claim.window_start is not None
    df = obs[obs["indicator"] == claim.indicator]
    if claim.resolution.source != "any":
        df = df[df["source"] == claim.resolution.source]
    start, end = pd.Timestamp(claim.window_start), pd.Timestamp(claim.target_period)
    df = df[(df["period_start"] >= start) & (df["period_end"] <= end) & (df["censor"] == "point")]
    if df.empty:
        return df
    df = (
        df.sort_values(["period_start", "published"])
        .groupby(["period_start", "period_end"])
        .tail(1)
    )
    cursor = start
    parts = []
    for _, row in df.sort_values("period_start").iterrows():
        if row["period_start"] == cursor:
            parts.append(row)
            cursor = row["period_end"] + pd.Timedelta(days=1)
    if not parts or cursor != end + pd.Timedelta(days=1):
        return df.iloc[0:0]
    total = float(sum(p["value"] for p in parts))
    row = parts[-1].copy()
    row["value"] = row["lower"] = row["upper"] = total
    row["published"] = max(p["published"] for p in parts)
    row["period_start"] = start
    row["note"] = f"sum of {len(parts)} figures tiling {start.date()}..{end.date()}"
    return pd.DataFrame([row])


def decide(claim: Claim, row: pd.Series) -> bool | None:
    """Whether the figure settles a threshold claim (a bound may leave it open)."""
    lo, hi = row["lower"], row["upper"]
    lo = -np.inf if pd.isna(lo) else float(lo)
    hi = np.inf if pd.isna(hi) else float(hi)
    if claim.holds(lo) and claim.holds(hi):
        return True
    if not claim.holds(lo) and not claim.holds(hi):
        return False
    return None


def settling_observation(
    claim: Claim, observations: pd.DataFrame, today: dt.date | None = None
) -> pd.Series | None:
    """The latest-vintage figure that settles the claim as of `today` (all data when None)."""
    if claim.kind == "event" or claim.indicator is None or claim.resolution is None:
        return None
    obs = observations if today is None else as_of(observations, today)
    rows = _covering(claim, obs)
    if rows.empty and claim.aggregate == "sum":
        rows = _aggregate_from_parts(claim, obs)
    if rows.empty:
        return None
    rows = rows.sort_values("published")
    if claim.kind == "value":
        rows = rows[rows["censor"] == "point"]
        return None if rows.empty else rows.iloc[-1]
    decided = [(r, decide(claim, r)) for _, r in rows.iterrows()]
    decided = [(r, d) for r, d in decided if d is not None]
    return decided[-1][0] if decided else None
