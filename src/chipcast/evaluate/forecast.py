"""Fit what the requested claims need, in-process, and tabulate their forecasts.

Each claim shows one current forecast and who issued it (`probability.current_forecast`): the
model's when its fit passed the convergence gate, else the researcher's judgment, else the
claimant's stated probability. A claim on a series that is not modelled says why.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from chipcast import models
from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.probability import (
    ISSUERS,
    current_forecast,
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
        model = forecast_claim(c, trajectories.get(c.indicator) if c.indicator else None)
        f = current_forecast(model, c) if r.status in ("open", "overdue") else model
        row = {"claim": c.id, "kind": c.kind, "status": r.status, "outcome": r.outcome}
        ind = reg.indicators.get(c.indicator) if c.indicator else None
        if ind is not None and ind.not_modelled:
            row["not_modelled"] = ind.not_modelled
        if f is not None:
            row.update(
                probability=f.probability,
                median=f.quantiles.get("q500"),
                q050=f.quantiles.get("q050"),
                q950=f.quantiles.get("q950"),
                q100=f.quantiles.get("q100"),
                q900=f.quantiles.get("q900"),
                claimant_pit=f.claimant_pit,
                issued_by=ISSUERS.get(f.forecaster, f.forecaster),
                model=f"{f.model} {f.model_version}".strip(),
                gated=f.gated,
            )
        if model is not None and model.gated and f is not model:
            row["model_gated"] = True
        rows.append(row)
    table = pd.DataFrame(rows)
    gated = any(bool(table[col].eq(True).any()) for col in ("gated", "model_gated") if col in table)
    return table, gated


def _interval_text(r: pd.Series) -> str:
    """Median [90% interval], or [80%] when only 10/50/90% are given (a judgment)."""
    if pd.isna(r.get("median")):
        return ""
    if pd.notna(r.get("q050")) and pd.notna(r.get("q950")):
        return f"{r['median']:.4g} [{r['q050']:.4g}, {r['q950']:.4g}]"
    if pd.notna(r.get("q100")) and pd.notna(r.get("q900")):
        return f"{r['median']:.4g} [{r['q100']:.4g}, {r['q900']:.4g}] 80%"
    return f"{r['median']:.4g}"


def format_forecasts(table: pd.DataFrame) -> str:
    """A plain-text table for the terminal: each claim's forecast and who issued it."""
    lines = [
        f"{'claim':40} {'status':13} {'P(claim)':>8} {'median [90% interval]':>30}  "
        "issued by: model"
    ]
    for _, r in table.iterrows():
        p = r.get("probability")
        p_text = f"{p:8.2f}" if pd.notna(p) else " " * 8
        q_text = _interval_text(r)
        status = r["status"] + (
            "" if pd.isna(r.get("outcome")) else f" ({'true' if r['outcome'] else 'false'})"
        )
        by = r.get("issued_by") if isinstance(r.get("issued_by"), str) else ""
        model = r.get("model") if isinstance(r.get("model"), str) else ""
        who = f"{by}: {model}" if by and by != model else by or model
        if r.get("gated") is True:
            who += " GATED (failed convergence checks; not published)"
        elif r.get("model_gated") is True:
            who += " (the model's fit was gated)"
        if not who and isinstance(r.get("not_modelled"), str):
            who = f"not modelled: {r['not_modelled']}"
        elif not who and r["status"] in ("open", "overdue"):
            who = "no forecast: no figure yet and no judgment"
        lines.append(f"{r['claim']:40} {status:13} {p_text} {q_text:>30}  {who}".rstrip())
    return "\n".join(lines)


__all__ = ["fit_for_claims", "forecast_claims", "format_forecasts"]
