"""Fit what the requested claims need, in-process, and tabulate their forecasts."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from chipcast import models
from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.probability import (
    forecast_claim,
    horizon_for,
    indicator_seed,
)
from chipcast.evaluate.resolution import resolve
from chipcast.models.base import Trajectory, settings_for
from chipcast.registry import Registry


def fit_for_claims(
    reg: Registry, today: dt.date, indicator_ids: list[str], seed: int, profile: str = "default"
) -> dict[str, Trajectory | None]:
    """One trajectory per indicator, fitted on the data public on `today`."""
    settings = settings_for(profile)
    visible = as_of(reg.observations, today)
    out: dict[str, Trajectory | None] = {}
    for ind_id in indicator_ids:
        ind = reg.indicators[ind_id]
        obs = visible[visible["indicator"] == ind_id].reset_index(drop=True)
        if ind.family == "none" or obs.empty:
            out[ind_id] = None
            continue
        claims = reg.indicator_claims(ind_id)
        out[ind_id] = models.fit_indicator(
            obs, ind, today, horizon_for(claims, today), indicator_seed(seed, ind_id), settings
        )
    return out


def forecast_claims(
    reg: Registry,
    today: dt.date,
    claim_ids: list[str] | None = None,
    seed: int = DEFAULT_SEED,
    profile: str = "default",
) -> tuple[pd.DataFrame, bool]:
    """A table of each claim's status and forecast, and whether any fit was gated out."""
    claims = [reg.claims[c] for c in (claim_ids or sorted(reg.claims))]
    needed = sorted(
        {
            c.indicator
            for c in claims
            if c.indicator and c.kind != "event" and c.status != "not_checkable"
        }
    )
    trajectories = fit_for_claims(reg, today, needed, seed, profile)
    rows = []
    for c in claims:
        r = resolve(c, reg.observations, today)
        f = forecast_claim(c, trajectories.get(c.indicator) if c.indicator else None)
        row = {"claim": c.id, "kind": c.kind, "status": r.status, "outcome": r.outcome}
        if f is not None:
            row.update(
                probability=f.probability,
                median=f.quantiles.get("q500"),
                q050=f.quantiles.get("q050"),
                q950=f.quantiles.get("q950"),
                claimant_pit=f.claimant_pit,
                model=f"{f.model} {f.model_version}".strip(),
                gated=f.gated,
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    gated = bool(table.get("gated", pd.Series(dtype=bool)).fillna(False).any())
    return table, gated


def format_forecasts(table: pd.DataFrame) -> str:
    """A plain-text table for the terminal."""
    lines = [f"{'claim':40} {'status':13} {'P(claim)':>8} {'median [90% interval]':>30}  model"]
    for _, r in table.iterrows():
        p = r.get("probability")
        p_text = f"{p:8.2f}" if pd.notna(p) else " " * 8
        if pd.notna(r.get("median")):
            q_text = f"{r['median']:.4g} [{r['q050']:.4g}, {r['q950']:.4g}]"
        else:
            q_text = ""
        status = r["status"] + (
            "" if pd.isna(r.get("outcome")) else f" ({'true' if r['outcome'] else 'false'})"
        )
        model = r.get("model") if isinstance(r.get("model"), str) else ""
        if r.get("gated") is True:
            model += " GATED (failed convergence checks; not published)"
        lines.append(f"{r['claim']:40} {status:13} {p_text} {q_text:>30}  {model}")
    return "\n".join(lines)


__all__ = ["fit_for_claims", "forecast_claims", "format_forecasts"]
