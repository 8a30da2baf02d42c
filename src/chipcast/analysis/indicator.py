"""One indicator as of one date, fitted: what the indicator notebook runs for the refresh.

This is the part of the notebook helpers that decides a forecast (the data the fit sees, its
horizon, seed and sampler settings, the files it writes), so the refresh's fingerprint hashes
this module's code; the tables and plots beside it (`chipcast.analysis.tables`, `.plots`) only
show results and are not hashed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from chipcast import models
from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.probability import horizon_for, indicator_seed
from chipcast.models.base import SamplerSettings, Trajectory, settings_for
from chipcast.paths import find_root
from chipcast.registry import Registry, load
from chipcast.schema import Claim, Indicator, today_utc


@dataclass
class IndicatorContext:
    """One indicator as of one date: its definition, visible data and the claims it settles."""

    registry: Registry
    indicator: Indicator
    as_of: dt.date
    observations: pd.DataFrame  # as-of view, this indicator only
    all_vintages: pd.DataFrame  # every vintage public by as_of (revisions included)
    claims: list[Claim]

    @property
    def horizon(self) -> dt.date:
        return horizon_for(self.claims, self.as_of)

    def current_rows(self) -> list[int]:
        """Rows of `all_vintages` that are in the as-of view (the latest vintage of each)."""
        cur = set(
            map(tuple, self.observations[["source", "period_end", "published"]].astype(str).values)
        )
        keys = self.all_vintages[["source", "period_end", "published"]].astype(str).values
        return [i for i, k in enumerate(map(tuple, keys)) if k in cur]


def indicator_context(
    root: str | Path, indicator_id: str, as_of_date: str | dt.date | None = None
) -> IndicatorContext:
    """Load the project and cut the indicator's data at `as_of_date` (default: today, UTC)."""
    reg = load(find_root(root))
    if indicator_id not in reg.indicators:
        raise KeyError(
            f"unknown indicator {indicator_id!r}; known: {', '.join(sorted(reg.indicators))}"
        )
    date = as_date(as_of_date)
    obs = reg.indicator_observations(indicator_id)
    return IndicatorContext(
        registry=reg,
        indicator=reg.indicators[indicator_id],
        as_of=date,
        observations=as_of(obs, date),
        all_vintages=obs[obs["published"] <= pd.Timestamp(date)].reset_index(drop=True),
        claims=reg.indicator_claims(indicator_id),
    )


def as_date(value: str | dt.date | None) -> dt.date:
    if value in (None, ""):
        return today_utc()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def sampler_settings(
    profile: str = "default", draws: int | None = None, tune: int | None = None
) -> SamplerSettings:
    """The pinned settings of a profile, with draws/tune overridden when given."""
    s = settings_for(profile)
    return replace(s, draws=draws or s.draws, tune=tune or s.tune)


def fit(
    ctx: IndicatorContext,
    seed: int | None = None,
    profile: str = "default",
    draws: int | None = None,
    tune: int | None = None,
) -> Trajectory | None:
    """Fit the indicator's family on the as-of view (None for family `none` or no data)."""
    seed = DEFAULT_SEED if seed is None else seed
    if ctx.indicator.family == "none" or ctx.observations.empty:
        return None
    return models.fit_indicator(
        ctx.observations,
        ctx.indicator,
        ctx.as_of,
        ctx.horizon,
        indicator_seed(seed, ctx.indicator.id),
        sampler_settings(profile, draws, tune),
    )


def write_outputs(traj: Trajectory | None, output_dir: str | Path, ctx: IndicatorContext) -> Path:
    """Write the trajectory and diagnostics for the refresh to collect."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if traj is None:
        (out / "diagnostics.json").write_text(
            json.dumps({"family": "none", "passed": True, "modelled": False})
        )
        return out
    traj.save(out)
    return out
