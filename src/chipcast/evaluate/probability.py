"""From an indicator's trajectory to a forecast for each claim that it settles.

- threshold claims: P(claim) is the share of posterior predictive draws of the resolution
  source's figure at the target period (or its sum over the claim's window) that satisfy the
  claim;
- value claims: predictive quantiles of that figure, and where the claimant's value falls in
  the predictive distribution (its PIT);
- event claims: the researcher's judgmental probability, recorded as such;
- a threshold or value claim's `judgment` (a researcher's probability or quantiles, with its
  rationale and sources): a forecast of its own, `forecaster=judgment, model=researcher`,
  beside the model's (`judgment_forecast`).

Who issued the forecast a claim shows (`ISSUERS`): the model when it published one, else the
researcher's judgment, else the claimant's own stated probability.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.models import covered, grid_frequency
from chipcast.models.base import Trajectory
from chipcast.schema import Claim
from chipcast.store import QUANTILE_COLUMNS, QUANTILES


def indicator_seed(base_seed: int, indicator: str) -> int:
    """A per-indicator seed that is stable across runs, machines and Python hash salts."""
    return (base_seed + zlib.crc32(indicator.encode())) % (2**32)


ISSUERS: dict[str, str] = {"model": "model", "judgment": "researcher", "claimant": "claimant"}
"""Forecaster -> who a reader is told issued the forecast."""


@dataclass
class ClaimForecast:
    """The forecast issued for one claim at one as-of date."""

    claim_id: str
    kind: str
    forecaster: str  # model | judgment | claimant (shown only, never written to the history)
    model: str
    model_version: str
    probability: float | None
    quantiles: dict[str, float] = field(default_factory=dict)
    mean: float | None = None
    claimant_pit: float | None = None
    gated: bool = False
    note: str = ""


def window_draws(
    series: xr.DataArray, start: pd.Timestamp, end: pd.Timestamp, frequency: str, how: str
) -> np.ndarray:
    """Draws of a figure for start..end from per-period draws, on the grid periods it covers by
    the snapping rule the models were fitted with (`chipcast.models.covered`, fiscal periods
    included): "sum" for a flow (scaled by the fraction of a period a shorter figure covers),
    "mean" for a share, "last" for a level in force at the end."""
    idx, frac = covered(pd.DatetimeIndex(series["period"].values), start, end, frequency)
    if how == "sum":
        return frac * np.asarray(series.isel(period=idx).sum("period").values, dtype=float)
    if how == "mean":
        return np.asarray(series.isel(period=idx).mean("period").values, dtype=float)
    return np.asarray(series.isel(period=idx[-1]).values, dtype=float)


def target_draws(claim: Claim, trajectory: Trajectory) -> np.ndarray:
    """Draws of the figure that settles `claim`: the resolution source's report at the target."""
    assert claim.resolution is not None and claim.target_period is not None
    series = trajectory.series(claim.resolution.source)
    periods = trajectory.periods
    target = pd.Timestamp(claim.target_period)
    if claim.aggregate is not None:
        start = pd.Timestamp(claim.window_start)
        inside = (periods >= start) & (periods <= target)
        if not inside.any():
            raise ValueError(
                f"claim {claim.id}: no modelled period in {start.date()}..{target.date()}"
            )
        if periods[inside].max() < target - pd.Timedelta(days=31):
            raise ValueError(f"claim {claim.id}: the trajectory ends before {target.date()}")
        return window_draws(series, start, target, grid_frequency(periods), claim.aggregate)
    # the modelled period containing the target (fiscal periods snap to the grid)
    idx = int(np.searchsorted(periods.values, target.to_datetime64(), side="left"))
    if idx >= len(periods):
        raise ValueError(
            f"claim {claim.id}: the trajectory ends ({periods[-1].date()}) before {target.date()}"
        )
    return np.asarray(series.isel(period=idx).values, dtype=float)


def holds(claim: Claim, x: np.ndarray) -> np.ndarray:
    """Whether each draw of the settling figure satisfies the threshold claim."""
    t = claim.threshold
    return {">": x > t, ">=": x >= t, "<": x < t, "<=": x <= t}[claim.operator]


def forecast_claim(claim: Claim, trajectory: Trajectory | None) -> ClaimForecast | None:
    """The forecast for one claim, or None when nothing can be said (no model, not checkable)."""
    if claim.status == "not_checkable":
        return None
    if claim.kind == "event":
        if claim.probability is None:
            return None
        return ClaimForecast(
            claim.id,
            "event",
            "judgment",
            "researcher",
            "",
            float(claim.probability),
            note=claim.probability_note or "",
        )
    if trajectory is None:
        return None
    f = forecast_from_draws(
        claim, target_draws(claim, trajectory), "model", trajectory.family, trajectory.model_version
    )
    f.gated = not trajectory.published
    f.note = "; ".join(trajectory.diagnostics.reasons) if not trajectory.published else ""
    return f


def forecast_from_draws(
    claim: Claim, draws: np.ndarray, forecaster: str, model: str, model_version: str = ""
) -> ClaimForecast:
    """A threshold or value claim's forecast from draws of its settling figure: P(claim) as the
    share of draws that satisfy it, or the quantiles and the claimant's PIT (the model's and
    the reference forecasters' alike)."""
    draws = np.asarray(draws, dtype=float)
    qs = np.quantile(draws, QUANTILES)
    quantiles = dict(zip(QUANTILE_COLUMNS, (float(q) for q in qs), strict=True))
    probability = float(np.mean(holds(claim, draws))) if claim.kind == "threshold" else None
    pit = float(np.mean(draws <= claim.value)) if claim.kind == "value" else None
    return ClaimForecast(
        claim_id=claim.id,
        kind=claim.kind,
        forecaster=forecaster,
        model=model,
        model_version=model_version,
        probability=probability,
        quantiles=quantiles,
        mean=float(np.mean(draws)),
        claimant_pit=pit,
    )


def judgment_forecast(claim: Claim) -> ClaimForecast | None:
    """The researcher's judgment of a claim as a forecast (None when it carries none).

    Events: `probability` (with `probability_note`); threshold and value claims: `judgment`
    (a probability, or quantiles at the stored levels it gives, with its rationale).
    """
    if claim.status == "not_checkable":
        return None
    if claim.kind == "event":
        return forecast_claim(claim, None)
    j = claim.judgment
    if j is None:
        return None
    return ClaimForecast(
        claim.id,
        claim.kind,
        "judgment",
        "researcher",
        "",
        j.probability,
        quantiles=j.quantile_columns(),
        note=j.rationale,
    )


def claimant_forecast(claim: Claim) -> ClaimForecast | None:
    """The claimant's own stated probability, when they gave one (shown, not issued)."""
    if claim.stated_probability is None or claim.kind == "value":
        return None
    return ClaimForecast(
        claim.id, claim.kind, "claimant", "stated", "", float(claim.stated_probability)
    )


def current_forecast(model: ClaimForecast | None, claim: Claim) -> ClaimForecast | None:
    """What a claim shows now: a published model forecast, else the researcher's judgment,
    else the claimant's stated probability (a gated model forecast gives way to a judgment)."""
    if model is not None and model.forecaster == "model" and not model.gated:
        return model
    return judgment_forecast(claim) or (model if model is not None else claimant_forecast(claim))


def horizon_for(claims: list[Claim], today: dt.date, years_ahead: int = 2) -> dt.date:
    """How far an indicator's trajectory must reach: its latest target, and two years on."""
    dates = [c.target_period for c in claims if c.target_period is not None]
    dates.append(dt.date(today.year + years_ahead, 12, 31))
    return max(dates)
