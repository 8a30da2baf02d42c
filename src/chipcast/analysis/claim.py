"""One claim with what the project knows about it, for the claim notebook (files only, no fit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chipcast.analysis.indicator import as_date
from chipcast.evaluate.resolution import resolve
from chipcast.evaluate.scoreboard import score_claim
from chipcast.paths import find_root
from chipcast.registry import Registry, load
from chipcast.report.views import claim_timeline, figure_marks
from chipcast.schema import Claim
from chipcast.store import read_hindcasts, read_history, read_quantiles


@dataclass
class ClaimContext:
    """One claim with what the project knows about it (no fitting: files only)."""

    registry: Registry
    claim: Claim
    today: dt.date
    history: pd.DataFrame
    trajectory: pd.DataFrame  # tracked quantiles of the claim's indicator (may be empty)
    hindcasts: pd.DataFrame  # forecasts/hindcasts/<claim>.csv (labelled wherever shown)


def claim_context(
    root: str | Path, claim_id: str, today: str | dt.date | None = None
) -> ClaimContext:
    reg = load(find_root(root))
    if claim_id not in reg.claims:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(sorted(reg.claims))}")
    claim = reg.claims[claim_id]
    hist = read_history(reg.paths)
    hist = hist[hist["claim_id"] == claim_id].reset_index(drop=True)
    traj = read_quantiles(reg.paths.trajectory_file(claim.indicator)) if claim.indicator else None
    return ClaimContext(
        reg,
        claim,
        as_date(today),
        hist,
        pd.DataFrame() if traj is None else traj,
        read_hindcasts(reg.paths, claim_id),
    )


def claim_timeline_frame(ctx: ClaimContext) -> pd.DataFrame:
    """The probability (or median) over time: the hindcast path, labelled "hindcast: today's
    model on the data public then", followed by the forecasts issued."""
    return claim_timeline(ctx.claim, ctx.hindcasts, ctx.history)


def claim_figures(ctx: ClaimContext) -> pd.DataFrame:
    """Each figure of the claim's indicator published since the claim was made (the marks on
    the probability chart: which figure moved it)."""
    if not ctx.claim.indicator:
        return figure_marks(ctx.registry.observations.iloc[0:0], None, {})
    publishers = {s.id: s.publisher for s in ctx.registry.sources.values()}
    return figure_marks(
        ctx.registry.indicator_observations(ctx.claim.indicator),
        ctx.registry.indicators.get(ctx.claim.indicator),
        publishers,
        since=ctx.claim.made_on,
    )


def claim_hindcast_scores(ctx: ClaimContext) -> pd.DataFrame:
    """The claim scored on its hindcasts, every forecaster on the common window (once resolved)."""
    from chipcast.evaluate.hindcast_scoring import hindcast_claim_scores

    res = resolve(ctx.claim, ctx.registry.observations, ctx.today)
    return pd.DataFrame(hindcast_claim_scores(ctx.claim, res, ctx.hindcasts))


def claim_card(ctx: ClaimContext) -> pd.Series:
    """Who said what, when, and how it is operationalised."""
    c = ctx.claim
    r = resolve(c, ctx.registry.observations, ctx.today)
    fields = {
        "statement": c.statement,
        "quote": c.quote,
        "claimant": f"{c.claimant} ({c.claimant_type}), {c.made_on}",
        "source": f"{ctx.registry.sources[c.source].publisher}"
        + (f" via {c.via}" if c.via else ""),
        "url": c.url or "",
        "kind": c.kind,
        "operationalisation": _operationalisation(c),
        "interpretation": "; ".join(c.interpretation) or "-",
        "resolution source / due": f"{c.resolution.source} / {c.resolution.expected_by}"
        if c.resolution
        else (str(c.deadline) if c.deadline else "-"),
        "stated probability": c.stated_probability if c.stated_probability is not None else "-",
        "status": r.status + (f" ({r.note})" if r.note else ""),
    }
    return pd.Series(fields, name=c.id)


def _operationalisation(c: Claim) -> str:
    if c.kind == "threshold":
        agg = f" ({c.aggregate} over {c.window_start}..{c.target_period})" if c.aggregate else ""
        return f"{c.indicator} {c.operator} {c.threshold:g} at {c.target_period}{agg}"
    if c.kind == "value":
        return f"{c.indicator} = {c.value:g} at {c.target_period}"
    return f"event by {c.deadline}"


def claim_scores_table(ctx: ClaimContext) -> pd.DataFrame:
    """The claim's scores beside the reference forecasters (empty until it resolves)."""
    res = resolve(ctx.claim, ctx.registry.observations, ctx.today)
    rows = score_claim(ctx.registry, ctx.claim, res, read_history(ctx.registry.paths))
    return pd.DataFrame(rows)
