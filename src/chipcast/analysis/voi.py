"""What would move a claim next, and who runs hot: the tables the notebooks show.

The indicator notebook computes them from the fit in memory (`evaluate.voi.indicator_summary`,
the same function the refresh writes the summary file with); the claim and scoreboard notebooks
read the tracked summary files, as the site does, and fit nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chipcast.analysis.claim import ClaimContext
from chipcast.analysis.indicator import IndicatorContext
from chipcast.evaluate.voi import indicator_summary
from chipcast.models.base import Trajectory
from chipcast.registry import Registry
from chipcast.report.watch import claim_entry, figure_name, offsets_rows, voi_sentences
from chipcast.store import read_summary


def fit_summary(ctx: IndicatorContext, traj: Trajectory | None) -> dict[str, Any] | None:
    """The summary the refresh writes beside this fit (None when nothing was fitted)."""
    if traj is None:
        return None
    claims = [c for c in ctx.claims if c.status == "open"]
    return indicator_summary(traj, claims, ctx.observations)


def _publishers(reg: Registry) -> dict[str, str]:
    return {s.id: s.publisher for s in reg.sources.values()}


def voi_table(summary: dict[str, Any] | None, reg: Registry) -> pd.DataFrame:
    """Per open threshold claim: its next figure, P(claim) now and given the figure's tercile,
    the crossing value and the expected change, largest first."""
    rows = []
    pubs = _publishers(reg)
    ind = reg.indicators.get(summary["indicator"]) if summary else None
    scale = ind.display_scale if ind else 1.0
    for e in (summary or {}).get("claims") or []:
        t1, t2 = e["tercile_edges"]
        rows.append(
            {
                "claim": e["claim_id"],
                "next figure": figure_name(e, pubs)
                + (" (settles it)" if e["next"]["settles"] else ""),
                "P(claim)": e["probability"],
                "P | lower third": e["p_lower"],
                "P | middle third": e["p_middle"],
                "P | upper third": e["p_upper"],
                f"thirds at ({ind.label if ind else ''})": f"{t1 * scale:.3g}, {t2 * scale:.3g}",
                f"crosses 50% at ({ind.label if ind else ''})": (
                    e["crossing"] * scale if e["crossing"] is not None else e["crossing_note"]
                ),
                "expected change": e["expected_change"],
            }
        )
    return pd.DataFrame(rows)


def value_of_information(ctx: IndicatorContext, traj: Trajectory | None) -> pd.DataFrame:
    """The value-of-information table of this fit's open claims."""
    return voi_table(fit_summary(ctx, traj), ctx.registry)


def offsets_table(summary: dict[str, Any] | None, reg: Registry) -> pd.DataFrame:
    """Who runs hot on one indicator: each source's offset and noise with 90% intervals, in the
    indicator's terms (points of share, percent of a flow), and the sentence the site shows."""
    if not summary:
        return pd.DataFrame()
    ind = reg.indicators.get(summary["indicator"])
    rows = offsets_rows(summary, ind, _publishers(reg))
    return pd.DataFrame(
        [
            {
                "indicator": summary["indicator"],
                "source": r["source"],
                "figures": r["figures"],
                "offset": "0 (only source)" if r["reference"] else r["offset"],
                "offset 90%": "" if r["reference"] else r["offset_interval"],
                "noise": r["noise"],
                "noise 90%": r["noise_interval"],
                "units": r["units"],
                "reads": r["sentence"],
            }
            for r in rows
        ]
    )


def source_offsets(ctx: IndicatorContext, traj: Trajectory | None) -> pd.DataFrame:
    """Who runs hot, from this fit's posterior."""
    return offsets_table(fit_summary(ctx, traj), ctx.registry)


def claim_what_would_move(ctx: ClaimContext) -> str:
    """The claim page's "What would move it", from the tracked summary of its indicator."""
    c = ctx.claim
    if not c.indicator:
        return "An event claim: no figure settles it, so no figure moves it."
    summary = read_summary(ctx.registry.paths.summary_file(c.indicator))
    entry = claim_entry(summary, c.id)
    if entry is None:
        return (
            "No value-of-information table: only open threshold claims with a model forecast "
            "and a next figure from their settling source have one (run chipcast refresh)."
        )
    ind = ctx.registry.indicators.get(c.indicator)
    text = " ".join(voi_sentences(entry, ind, _publishers(ctx.registry)))
    return f"{text} (fit as of {summary.get('as_of')})" if summary else text


def claim_voi_table(ctx: ClaimContext) -> pd.DataFrame:
    """The claim's row of its indicator's value-of-information table (tracked summary)."""
    c = ctx.claim
    if not c.indicator:
        return pd.DataFrame()
    t = voi_table(read_summary(ctx.registry.paths.summary_file(c.indicator)), ctx.registry)
    return t[t["claim"] == c.id].reset_index(drop=True) if len(t) else t


def who_runs_hot(reg: Registry) -> pd.DataFrame:
    """Every fitted source's offset and noise across the share and growth indicators."""
    frames = [
        offsets_table(read_summary(reg.paths.summary_file(i)), reg) for i in sorted(reg.indicators)
    ]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
