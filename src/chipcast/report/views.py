"""What a page says about a claim, in readers' words: its condition, forecast, change and status.

A `ClaimView` gathers one claim with its resolution and history and the texts the index and the
claim page show; it computes nothing but differences of the issued forecasts.

The forecast a claim shows is the latest of one forecaster, named with it (`ISSUERS`): the
model's; else (no model forecast, or the model's trajectory is stale) the researcher's judgment,
from the history or, before a refresh has issued it, from the claim file; else the claimant's
own stated probability. Changes and the sparkline follow that forecaster's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from chipcast.evaluate.probability import ISSUERS, claimant_forecast, judgment_forecast
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
    issuer: str = ""  # model | researcher | claimant | "" (nothing to show)
    series_overdue: int | None = None  # days the claim's indicator is overdue (staleness)
    row: dict[str, Any] = field(default_factory=dict)
    hindcasts: pd.DataFrame = field(default_factory=pd.DataFrame)  # labelled wherever shown


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
    """The current forecast as shown in the index (text, sort key); who issued it is shown
    beside it (`ClaimView.issuer`). Value claims: the median and 90% interval, or the 80% one
    (marked) when only 10/50/90% are given, as a judgment may."""
    if row is None:
        return "–", -1.0
    if c.kind == "value":
        med = row.get("q500")
        if isnan(med):
            return "–", -1.0
        scale = ind.display_scale if ind else 1.0
        band = ""
        for lo_c, hi_c, mark in (("q050", "q950", ""), ("q100", "q900", " 80%")):
            lo, hi = row.get(lo_c), row.get(hi_c)
            if not isnan(lo) and not isnan(hi):
                band = f" [{fmt_num(lo * scale)}–{fmt_num(hi * scale)}{mark}]"
                break
        return f"{ind_value(med, ind)}{band}", float(med)
    p = row.get("probability")
    if isnan(p):
        return "–", -1.0
    return fmt_prob(p), float(p)


def _file_row(c: Claim) -> tuple[dict[str, Any] | None, str]:
    """The claim file's own forecast (a judgment not yet issued, or the claimant's stated
    probability) as a history-like row, and who issued it."""
    f = judgment_forecast(c) or claimant_forecast(c)
    if f is None:
        return None, ""
    issued = c.judgment.judged_on if c.judgment is not None else c.made_on
    row = {"forecaster": f.forecaster, "probability": f.probability, "issued_on": issued}
    row.update(f.quantiles)
    return row, ISSUERS[f.forecaster]


def current_rows(
    c: Claim, history: pd.DataFrame, stale: bool, open_: bool
) -> tuple[pd.DataFrame, dict[str, Any] | None, str]:
    """(the shown forecaster's rows, the forecast shown now, who issued it): see the module.
    `open_`: the claim is open or overdue (only then may the claim file's own forecast stand
    in for an issued one)."""
    by = {
        n: history[history["forecaster"].astype(str) == n] if len(history) else history
        for n in ("model", "judgment")
    }
    file_row, file_issuer = _file_row(c) if open_ else (None, "")
    has_judgment = len(by["judgment"]) > 0 or file_issuer == "researcher"
    if len(by["model"]) and not (stale and has_judgment):
        return by["model"], by["model"].iloc[-1].to_dict(), ISSUERS["model"]
    if len(by["judgment"]):
        return by["judgment"], by["judgment"].iloc[-1].to_dict(), ISSUERS["judgment"]
    if file_row is not None:
        return history.iloc[0:0], file_row, file_issuer
    if len(history):
        return (
            history,
            history.iloc[-1].to_dict(),
            ISSUERS.get(str(history.iloc[-1]["forecaster"]), ""),
        )
    return history, None, ""


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
    v.stale = bool(meta and meta.get("stale"))
    open_ = resolution.status in ("open", "overdue")
    shown, v.latest, v.issuer = current_rows(c, history, v.stale, open_)
    if len(shown) > 1:
        v.previous = shown.iloc[-2].to_dict()
    ftxt, fsort = forecast_text(c, ind, v.latest)
    if ftxt == "–":
        v.issuer = ""
    ctxt, csort, ccls = change_text(c, ind, v.latest, v.previous)
    col = "q500" if c.kind == "value" else "probability"
    spark_vals = list(shown[col]) if len(shown) else []
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
        "issuer": v.issuer,
    }
    return v


# --- the claim's story over time: hindcasts, then the issued forecasts, and the figures -------

TIMELINE_COLUMNS = ("date", "basis", "forecaster", "value", "lo", "hi", "label", "note")
MARK_COLUMNS = ("published", "value", "shown", "source", "publisher", "period_end", "text")


def claim_timeline(
    c: Claim, hindcasts: pd.DataFrame, history: pd.DataFrame, forecaster: str = "model"
) -> pd.DataFrame:
    """One claim's forecast path as a tidy frame for the probability-over-time chart.

    Rows: the model's hindcasts (``basis`` "hindcast", labelled `HINDCAST_LABEL`), then the
    forecasts the system actually issued (``basis`` "issued"), oldest first; ``value`` is
    P(claim) for a threshold claim and the median for a value claim (``lo``/``hi`` its 90%
    interval). A gated hindcast keeps its row with no value and its note. Hindcasts dated on or
    after the first issued forecast are left out: from then on the record is what was issued.
    """
    from chipcast.store import HINDCAST_LABEL

    col = "q500" if c.kind == "value" else "probability"
    rows = []
    first_issued = history["issued_on"].min() if len(history) else None
    h = hindcasts[hindcasts["forecaster"] == forecaster] if len(hindcasts) else hindcasts
    for r in h.sort_values("issued_on").to_dict("records") if len(h) else []:
        if first_issued is not None and r["issued_on"] >= first_issued:
            continue
        rows.append(
            {
                "date": r["issued_on"],
                "basis": "hindcast",
                "forecaster": forecaster,
                "value": r[col],
                "lo": r.get("q050") if c.kind == "value" else None,
                "hi": r.get("q950") if c.kind == "value" else None,
                "label": HINDCAST_LABEL,
                "note": r.get("note") or "",
            }
        )
    for r in history.sort_values("issued_on").to_dict("records") if len(history) else []:
        rows.append(
            {
                "date": r["issued_on"],
                "basis": "issued",
                "forecaster": r.get("forecaster", "model"),
                "value": r[col],
                "lo": r.get("q050") if c.kind == "value" else None,
                "hi": r.get("q950") if c.kind == "value" else None,
                "label": "issued forecast",
                "note": "",
            }
        )
    df = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    df["date"] = pd.to_datetime(df["date"])
    for k in ("value", "lo", "hi"):
        df[k] = pd.to_numeric(df[k], errors="coerce")
    return df


def figure_marks(
    observations: pd.DataFrame,
    ind: Indicator | None,
    publishers: dict[str, str],
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> pd.DataFrame:
    """Each date a figure of the indicator was published, with that figure (value and source):
    the marks that show which figure moved the probability. ``text`` reads like
    "2025-03-15: IDC, 33% for 2024-12-31"."""
    rows = []
    obs = (
        observations.sort_values(["published", "period_end", "source"])
        if len(observations)
        else observations
    )
    for r in obs.to_dict("records") if len(obs) else []:
        pub = pd.Timestamp(r["published"])
        if since is not None and pub < pd.Timestamp(since):
            continue
        if until is not None and pub > pd.Timestamp(until):
            continue
        who = publishers.get(r["source"], r["source"])
        censor = str(r.get("censor") or "point")
        if censor == "lower":
            shown = ">" + ind_value(r["lower"], ind)
        elif censor == "upper":
            shown = "<" + ind_value(r["upper"], ind)
        elif censor == "interval":
            shown = f"{ind_value(r['lower'], ind)}–{ind_value(r['upper'], ind)}"
        else:
            shown = ind_value(r["value"], ind)
        period = pd.Timestamp(r["period_end"]).date()
        rows.append(
            {
                "published": pub,
                "value": r["value"],
                "shown": shown,
                "source": r["source"],
                "publisher": who,
                "period_end": period,
                "text": f"{pub.date()}: {who}, {shown} for {period}",
            }
        )
    return pd.DataFrame(rows, columns=list(MARK_COLUMNS))
