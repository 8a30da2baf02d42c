"""Tables the notebooks show: the figures as published, a fit's diagnostics, its forecasts."""

from __future__ import annotations

import pandas as pd

from chipcast.analysis.indicator import IndicatorContext
from chipcast.evaluate.probability import forecast_claim
from chipcast.models.base import Trajectory
from chipcast.schema import bounded_text


def observations_table(ctx: IndicatorContext) -> pd.DataFrame:
    """Every vintage public by the as-of date, bounds written as bounds, in display units."""
    df = ctx.all_vintages.copy()
    scale = ctx.indicator.display_scale

    def text(r: pd.Series) -> str:
        return bounded_text(
            r["censor"], r["value"], r["lower"], r["upper"], lambda x: f"{x * scale:.4g}"
        )

    out = pd.DataFrame(
        {
            "period": df["period_end"].dt.date,
            f"value ({ctx.indicator.label})": df.apply(text, axis=1) if len(df) else [],
            "source": df["source"],
            "published": df["published"].dt.date,
            "estimated date": df["published_estimated"].map({True: "yes", False: ""}),
            "in as-of view": df.index.isin(ctx.current_rows()),
        }
    )
    return out.sort_values(["period", "source", "published"]).reset_index(drop=True)


def diagnostics_table(traj: Trajectory) -> pd.DataFrame:
    """Convergence diagnostics and the gate's verdict, one row."""
    d = traj.diagnostics.to_dict()
    d["reasons"] = "; ".join(d.get("reasons") or []) or "-"
    return pd.DataFrame([d]).T.rename(columns={0: traj.indicator})


def claim_forecasts(ctx: IndicatorContext, traj: Trajectory | None) -> pd.DataFrame:
    """The forecast this fit implies for each claim on the indicator."""
    rows = []
    for c in ctx.claims:
        f = forecast_claim(c, traj)
        if f is None:
            continue
        rows.append(
            {
                "claim": c.id,
                "kind": c.kind,
                "P(claim)": f.probability,
                "median": f.quantiles.get("q500"),
                "5%": f.quantiles.get("q050"),
                "95%": f.quantiles.get("q950"),
                "claimant PIT": f.claimant_pit,
            }
        )
    return pd.DataFrame(rows)
