"""What a page says about a claim, in readers' words: its condition, forecast, change and status.

A `ClaimView` gathers one claim with its resolution and history and the texts the index and the
claim page show; it computes nothing but differences of the issued forecasts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from chipcast.evaluate.resolution import Resolution
from chipcast.report import charts
from chipcast.report.formats import (
    OPERATOR_TEXT,
    fmt_date,
    fmt_num,
    fmt_prob,
    ind_value,
    isnan,
    with_unit,
)
from chipcast.schema import Claim, Indicator


@dataclass
class ClaimView:
    claim: Claim
    indicator: Indicator | None
    resolution: Resolution
    history: pd.DataFrame
    latest: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    stale: bool = False
    row: dict[str, Any] = field(default_factory=dict)


def _target(c: Claim) -> dt.date | None:
    return c.target_period or c.deadline


def condition_text(c: Claim, ind: Indicator | None) -> str:
    """What must hold, in readers' units: 'Domestic share ≥ 55% in 2027-12-31'."""
    if c.kind == "threshold" and c.operator and c.threshold is not None:
        agg = f"{c.aggregate} over {c.window_start} – {c.target_period} of " if c.aggregate else ""
        name = ind.name if ind else (c.indicator or "")
        return f"{agg}{name} {OPERATOR_TEXT[c.operator]} {ind_value(c.threshold, ind)} (period ending {c.target_period})"
    if c.kind == "value" and c.value is not None:
        name = ind.name if ind else (c.indicator or "")
        return f"{name} = {ind_value(c.value, ind)} (period ending {c.target_period})"
    if c.kind == "event" and c.deadline:
        return f"the event happens by {c.deadline}"
    return ""


def forecast_text(c: Claim, ind: Indicator | None, row: dict[str, Any] | None) -> tuple[str, float]:
    """The current forecast as shown in the index (text, sort key)."""
    if row is None:
        if c.kind == "event" and c.probability is not None and c.status in ("open", "overdue"):
            return f"{fmt_prob(c.probability)} (judgment)", float(c.probability)
        return "–", -1.0
    if c.kind == "value":
        med = row.get("q500")
        if isnan(med):
            return "–", -1.0
        scale = ind.display_scale if ind else 1.0
        lo, hi = row.get("q050"), row.get("q950")
        band = "" if isnan(lo) or isnan(hi) else f" [{fmt_num(lo * scale)}–{fmt_num(hi * scale)}]"
        return f"{ind_value(med, ind)}{band}", float(med)
    p = row.get("probability")
    if isnan(p):
        return "–", -1.0
    suffix = " (judgment)" if row.get("forecaster") == "judgment" else ""
    return fmt_prob(p) + suffix, float(p)


def change_text(
    c: Claim, ind: Indicator | None, latest: dict[str, Any] | None, previous: dict[str, Any] | None
) -> tuple[str, float, str]:
    """Change since the previous forecast: (text, sort key, direction class)."""
    if latest is None or previous is None:
        return "–", 0.0, ""
    col = "q500" if c.kind == "value" else "probability"
    a, b = previous.get(col), latest.get(col)
    if isnan(a) or isnan(b):
        return "–", 0.0, ""
    d = float(b) - float(a)
    cls = "up" if d > 0 else "down" if d < 0 else ""
    if c.kind == "value":
        scale = ind.display_scale if ind else 1.0
        txt = ("+" if d > 0 else "−" if d < 0 else "±") + fmt_num(abs(d) * scale)
        return with_unit(txt, ind.label if ind else ""), d, cls
    pp = d * 100
    if abs(pp) < 0.5:
        return "±0 pp", d, ""
    return f"{'+' if pp > 0 else '−'}{abs(pp):.0f} pp", d, cls


def status_text(res: Resolution, c: Claim, ind: Indicator | None) -> str:
    s = res.status
    if s != "resolved":
        return s.replace("_", " ")
    if c.kind == "value":
        return f"resolved: {ind_value(res.value, ind)}"
    out = res.outcome
    return "resolved: " + ("true" if out is True else "false" if out is False else "?")


def claim_view(
    c: Claim,
    ind: Indicator | None,
    resolution: Resolution,
    history: pd.DataFrame,
    meta: dict[str, Any] | None,
) -> ClaimView:
    """One claim as the index and its page show it; `history` holds its forecasts, oldest first."""
    v = ClaimView(claim=c, indicator=ind, resolution=resolution, history=history)
    if len(history):
        v.latest = history.iloc[-1].to_dict()
        if len(history) > 1:
            v.previous = history.iloc[-2].to_dict()
    v.stale = bool(meta and meta.get("stale"))
    ftxt, fsort = forecast_text(c, ind, v.latest)
    ctxt, csort, ccls = change_text(c, ind, v.latest, v.previous)
    col = "q500" if c.kind == "value" else "probability"
    spark_vals = list(history[col]) if len(history) else []
    if c.kind == "value":
        spark = charts.sparkline(
            spark_vals, f"median forecast over {len(spark_vals)} forecast(s)", lo=None, hi=None
        )
    else:
        spark = charts.sparkline(
            spark_vals,
            "probability over time: " + " → ".join(fmt_prob(p) for p in spark_vals[-6:]),
        )
    target = _target(c)
    v.row = {
        "forecast": ftxt,
        "forecast_sort": fsort,
        "change": ctxt,
        "change_sort": csort,
        "change_class": ccls,
        "spark": Markup(spark) if spark else "",  # built from numbers and escaped text only
        "stated": fmt_prob(c.stated_probability) if c.stated_probability is not None else "–",
        "stated_sort": c.stated_probability if c.stated_probability is not None else -1,
        "status": status_text(resolution, c, ind),
        "status_key": resolution.status,
        "target": target.isoformat() if target else "–",
        "updated": fmt_date(v.latest["issued_on"]) if v.latest else "–",
    }
    return v
