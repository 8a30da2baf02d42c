"""Claim resolution: a pure function of the claim, the observations and today.

Threshold and value claims resolve from observations only: the figures from the claim's
resolution source that cover its target period, as public on `today`. The first such figure
settles the claim; a later revision re-settles it and the resolution says so. Past its due date
with no data a claim is `overdue`; past the grace period it is `annulled`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chipcast.registry.settle import decide as _decide
from chipcast.registry.settle import settling_observation
from chipcast.schema import Claim, bounded_text


@dataclass(frozen=True)
class Resolution:
    """The state of one claim on one date."""

    claim_id: str
    status: str
    outcome: bool | None = None
    value: float | None = None
    resolved_on: dt.date | None = None
    observation: dict[str, object] = field(default_factory=dict)
    revised: bool = False
    note: str = ""

    def as_row(self) -> dict[str, object]:
        return {
            "claim_id": self.claim_id,
            "status": self.status,
            "outcome": self.outcome,
            "value": self.value,
            "resolved_on": self.resolved_on,
            "revised": self.revised,
            "note": self.note,
        }


def resolve(claim: Claim, observations: pd.DataFrame, today: dt.date) -> Resolution:
    """Status, outcome and provenance of `claim` on `today`, from data and hand resolutions."""
    if claim.status == "not_checkable":
        return Resolution(claim.id, "not_checkable", note=claim.not_checkable_reason or "")
    if claim.status == "annulled":
        return Resolution(claim.id, "annulled", note=claim.annulled_reason or "")
    if claim.kind == "event":
        return _resolve_event(claim, today)
    assert claim.resolution is not None
    observations = observations[observations["indicator"] == claim.indicator]
    row = settling_observation(claim, observations, today)
    if row is not None:
        first = _first_settling(claim, observations, today)
        value = float(row["value"]) if not pd.isna(row["value"]) else None
        outcome = None if claim.kind == "value" else _decide(claim, row)
        revised = first is not None and (
            first["published"] != row["published"]
            and (_decide(claim, first) if claim.kind == "threshold" else first["value"])
            != (outcome if claim.kind == "threshold" else row["value"])
        )
        text = bounded_text(
            row["censor"],
            row["value"],
            row["lower"],
            row["upper"],
            lambda x: f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.6g}",
        )
        note = f"{row['source']} reported {text} for {row['period_end'].date()} (published {row['published'].date()})"
        if revised:
            note += f"; revised from the figure published {first['published'].date()}"
        return Resolution(
            claim.id,
            "resolved",
            outcome=outcome,
            value=value,
            resolved_on=row["published"].date(),
            observation={
                "source": row["source"],
                "period_end": row["period_end"].date(),
                "published": row["published"].date(),
                "value": text,
                "line": int(row["line"]) if not pd.isna(row.get("line", np.nan)) else None,
            },
            revised=bool(revised),
            note=note,
        )
    return _by_due_date(
        claim, today, f"no figure from {claim.resolution.source} for {claim.target_period}"
    )


def _first_settling(claim: Claim, observations: pd.DataFrame, today: dt.date) -> pd.Series | None:
    """The settling figure as it first stood (its earliest vintage that settled the claim)."""
    visible = observations[observations["published"] <= pd.Timestamp(today)]
    for date in sorted(visible["published"].unique()):
        row = settling_observation(claim, visible, pd.Timestamp(date).date())
        if row is not None:
            return row
    return None


def _resolve_event(claim: Claim, today: dt.date) -> Resolution:
    out = claim.resolution_outcome
    if out is not None and out.resolved_on <= today:
        return Resolution(
            claim.id,
            "resolved",
            outcome=bool(out.outcome),
            resolved_on=out.resolved_on,
            observation={"source": out.source, "url": out.url},
            note=out.note,
        )
    return _by_due_date(claim, today, "no hand resolution recorded")


def _by_due_date(claim: Claim, today: dt.date, missing: str) -> Resolution:
    due = claim.due
    if due is None or today <= due:
        return Resolution(claim.id, "open")
    annul_on = due + dt.timedelta(days=claim.grace_days)
    if today <= annul_on:
        return Resolution(
            claim.id, "overdue", note=f"{missing}; due {due}, annulled after {annul_on}"
        )
    return Resolution(
        claim.id,
        "annulled",
        note=f"{missing} by {annul_on} ({claim.grace_days} days after it was due on {due})",
    )


def resolution_on(
    claim: Claim,
    observations: pd.DataFrame,
    today: dt.date,
    resolutions: Mapping[str, Resolution] | None = None,
) -> Resolution:
    """The claim's resolution on `today`: from `resolutions` when the caller has them (a site
    build resolves every claim once), else resolved now."""
    if resolutions is not None and claim.id in resolutions:
        return resolutions[claim.id]
    return resolve(claim, observations, today)


def resolve_claims(
    claims: dict[str, Claim], observations: pd.DataFrame, today: dt.date
) -> dict[str, Resolution]:
    """Every claim's resolution on `today`, each claim given only its indicator's figures
    (the same result as `resolve` on all of them; resolution scans every vintage with an as-of
    view, which is cheap on a small frame)."""
    groups = {k: g for k, g in observations.groupby("indicator")} if not observations.empty else {}
    empty = observations.iloc[0:0]
    return {
        cid: resolve(c, groups.get(c.indicator, empty) if c.indicator else empty, today)
        for cid, c in claims.items()
    }


def resolve_all(
    claims: dict[str, Claim], observations: pd.DataFrame, today: dt.date
) -> pd.DataFrame:
    """One row per claim: status, outcome, value, when and why."""
    rows = [r.as_row() for r in resolve_claims(claims, observations, today).values()]
    return pd.DataFrame(rows, columns=list(Resolution("", "").as_row().keys()))
