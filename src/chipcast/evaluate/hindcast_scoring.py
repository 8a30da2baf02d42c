"""The model scored on its hindcasts: every resolved claim on its common window.

A hindcast is what the model would have said on a past date from the data public then
(`chipcast.evaluate.hindcast` makes them). Each resolved claim with hindcasts is scored for the
model, the naive and statsmodels references, the researchers' judgments and the claimant, all
on the claim's common window (from the latest first forecast among them until it closed), so
that they compare on the same days; `hindcast_verdict` says in words how the model did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from chipcast.evaluate.resolution import Resolution, resolution_on
from chipcast.evaluate.scoreboard import common_window_start
from chipcast.evaluate.scores import crps_from_quantiles, time_averaged
from chipcast.registry import Registry
from chipcast.schema import Claim
from chipcast.store import QUANTILE_COLUMNS, QUANTILES

HINDCAST_FORECASTERS: tuple[str, ...] = ("model", "naive", "statsmodels", "judgment", "claimant")
HINDCAST_SCORE_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "kind",
    "forecaster",
    "brier",
    "log_score",
    "crps",
    "crps_rel_naive",
    "days",
    "n_forecasts",
    "window_start",
    "window_end",
    "last_probability",
    "outcome",
)


def _valid(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Rows that say something: a probability (threshold) or every stored quantile (value)."""
    if kind == "threshold":
        return rows.dropna(subset=["probability"])
    return rows.dropna(subset=list(QUANTILE_COLUMNS))


def _in_force(issued: pd.Series, start: pd.Timestamp) -> int:
    """How many forecasts were in force during a window from `start`: those issued inside it,
    and the last one issued before it."""
    return int((issued >= start).sum()) + int((issued < start).any())


def hindcast_claim_scores(
    claim: Claim, res: Resolution, hindcasts: pd.DataFrame, history: pd.DataFrame | None = None
) -> list[dict[str, object]]:
    """One resolved claim scored on its hindcasts, every forecaster on the common window.

    The window opens on the first date on which the model and every reference forecaster with
    hindcasts all had a forecast in force (the common window's rule: nobody is scored on days
    another forecaster sat out) and closes when the settling figure was published. Each
    forecaster's score is time-averaged over it by the same rule as the history's. The
    claimant is scored over the same window (their claim is in force from made_on); their
    score over the whole life stays in `claim_scores`. Value claims: CRPS from the stored
    quantiles for the model and the references alike (the same levels, so comparable), the
    claimant's as the absolute error; `crps_rel_naive` divides by naive's on the same window.
    A researcher's judgment in `history` (forecaster "judgment") is scored on the same window
    when it was in force from the window's start (like the claimant, it does not move it).
    """
    if (
        res.status != "resolved"
        or res.resolved_on is None
        or claim.kind not in ("threshold", "value")
    ):
        return []
    if claim.kind == "threshold" and res.outcome is None:
        return []
    if claim.kind == "value" and (res.value is None or np.isnan(res.value)):
        return []
    end = pd.Timestamp(res.resolved_on)
    h = hindcasts[(hindcasts["claim_id"] == claim.id) & (hindcasts["issued_on"] < end)]
    per = {
        f: _valid(h[h["forecaster"] == f], claim.kind).sort_values("issued_on")
        for f in ("model", "naive", "statsmodels")
    }
    per = {f: df for f, df in per.items() if len(df)}
    if "model" not in per:
        return []
    start = common_window_start(list(per.values()), claim.made_on)
    if start >= end:
        return []
    base = {
        "claim_id": claim.id,
        "kind": claim.kind,
        "window_start": start.date(),
        "window_end": end.date(),
    }
    rows: list[dict[str, object]] = []
    if history is not None and len(history):
        j = history[(history["claim_id"] == claim.id) & (history["forecaster"] == "judgment")]
        j = _valid(j[j["issued_on"] < end], claim.kind).sort_values("issued_on")
        if len(j) and j["issued_on"].min() <= start:
            per["judgment"] = j
    if claim.kind == "threshold":
        outcome = bool(res.outcome)
        claimant_p = claim.stated_probability if claim.stated_probability is not None else 1.0
        series = {f: df[["issued_on", "probability"]] for f, df in per.items()}
        series["claimant"] = pd.DataFrame(
            {"issued_on": [pd.Timestamp(claim.made_on)], "probability": [claimant_p]}
        )
        for f, fc in series.items():
            b = time_averaged(fc, outcome, start, end, "brier")
            lg = time_averaged(fc, outcome, start, end, "log")
            inside = fc[fc["issued_on"] < end]
            rows.append(
                {
                    **base,
                    "forecaster": f,
                    "brier": b.score,
                    "log_score": lg.score,
                    "days": b.days,
                    "n_forecasts": _in_force(inside["issued_on"], start),
                    "last_probability": float(inside["probability"].iloc[-1]),
                    "outcome": outcome,
                }
            )
    else:
        y = float(res.value)
        levels = np.asarray(QUANTILES)
        crps_series = {}
        for f, df in per.items():
            qv = df[list(QUANTILE_COLUMNS)].to_numpy(dtype=float)
            crps_series[f] = pd.DataFrame(
                {
                    "issued_on": df["issued_on"].to_numpy(),
                    "probability": [float(crps_from_quantiles(levels, q, y)) for q in qv],
                }
            )
        crps_series["claimant"] = pd.DataFrame(
            {
                "issued_on": [pd.Timestamp(claim.made_on)],
                "probability": [abs(float(claim.value) - y)],
            }
        )
        for f, fc in crps_series.items():
            t = time_averaged(fc, 0, start, end, lambda s, _o: s)
            rows.append(
                {
                    **base,
                    "forecaster": f,
                    "crps": t.score,
                    "days": t.days,
                    "n_forecasts": _in_force(fc[fc["issued_on"] < end]["issued_on"], start),
                    "outcome": y,
                }
            )
        naive = next((r["crps"] for r in rows if r["forecaster"] == "naive"), np.nan)
        for r in rows:
            r["crps_rel_naive"] = r["crps"] / naive if naive and naive > 0 else np.nan
    return rows


def hindcast_scores(
    reg: Registry,
    hindcasts: pd.DataFrame,
    today: dt.date,
    history: pd.DataFrame | None = None,
    resolutions: Mapping[str, Resolution] | None = None,
) -> pd.DataFrame:
    """Every resolved claim with hindcasts, scored on its common window (one row a forecaster;
    the researcher's judgments from `history` beside them where they cover the window)."""
    rows: list[dict[str, object]] = []
    if not hindcasts.empty:
        for cid in sorted(set(hindcasts["claim_id"])):
            claim = reg.claims.get(cid)
            if claim is None:
                continue
            res = resolution_on(claim, reg.observations, today, resolutions)
            rows += hindcast_claim_scores(claim, res, hindcasts, history)
    return pd.DataFrame(rows, columns=list(HINDCAST_SCORE_COLUMNS))


def hindcast_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Per forecaster over the resolved claims scored on hindcasts: binary claims' mean
    time-averaged Brier and log score (n), value claims' CRPS skill relative to naive as the
    geometric mean of the per-claim ratios (n; never a mean of CRPS across units)."""
    cols = ["forecaster", "binary_n", "brier", "log_score", "value_n", "crps_rel_naive_gmean"]
    scores = scores.reindex(columns=list(HINDCAST_SCORE_COLUMNS))
    out = []
    for f in HINDCAST_FORECASTERS:
        s = scores[scores["forecaster"] == f] if len(scores) else scores
        if s.empty:
            continue
        b = s[s["kind"] == "threshold"].dropna(subset=["brier"])
        v = s[s["kind"] == "value"]
        ratio = pd.to_numeric(v["crps_rel_naive"], errors="coerce")
        ratio = ratio[ratio > 0]
        out.append(
            {
                "forecaster": f,
                "binary_n": len(b),
                "brier": float(b["brier"].mean()) if len(b) else np.nan,
                "log_score": float(b["log_score"].mean()) if len(b) else np.nan,
                "value_n": len(ratio),
                "crps_rel_naive_gmean": float(np.exp(np.log(ratio).mean()))
                if len(ratio)
                else np.nan,
            }
        )
    return pd.DataFrame(out, columns=cols)


def hindcast_reliability_inputs(scores: pd.DataFrame) -> pd.DataFrame:
    """(probability, outcome) of the model's last hindcast before each binary claim resolved."""
    s = (
        scores[(scores["forecaster"] == "model") & (scores["kind"] == "threshold")]
        if len(scores)
        else scores
    )
    return pd.DataFrame(
        {
            "claim_id": s["claim_id"] if len(s) else [],
            "probability": s["last_probability"].astype(float) if len(s) else [],
            "outcome": s["outcome"].astype(bool) if len(s) else [],
        }
    )


WHO = {"claimant": "the claimants", "judgment": "the researchers' judgments"}


def _fmt(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def hindcast_verdict(scores: pd.DataFrame) -> str:
    """A plain-language verdict computed from the hindcast scores, with its caveats."""
    summary = hindcast_summary(scores)
    if summary.empty or "model" not in set(summary["forecaster"]):
        return (
            "No resolved claim has hindcasts yet, so the model's claim probabilities cannot be "
            "scored. (A hindcast is today's model on the data public then.)"
        )
    by = summary.set_index("forecaster")
    m = by.loc["model"]
    parts = []
    nb, nv = int(m["binary_n"]), int(m["value_n"])
    if nb:
        refs = ", ".join(
            f"{_fmt(by.loc[f, 'brier'])} for {WHO.get(f, f)}"
            for f in ("naive", "statsmodels", "judgment", "claimant")
            if f in by.index and by.loc[f, "binary_n"] > 0
        )
        parts.append(
            f"Over {nb} resolved threshold claim{'s' if nb != 1 else ''}, the model's "
            f"time-averaged Brier score was {_fmt(m['brier'])} (lower is better), against {refs}."
        )
    if nv:
        rel = m["crps_rel_naive_gmean"]
        word = "better than" if rel < 1 else "worse than" if rel > 1 else "level with"
        others = ", ".join(
            f"{f} {_fmt(by.loc[f, 'crps_rel_naive_gmean'], 2)}"
            for f in ("statsmodels", "judgment", "claimant")
            if f in by.index and by.loc[f, "value_n"] > 0
        )
        parts.append(
            f"On {nv} resolved value claim{'s' if nv != 1 else ''}, its CRPS was {_fmt(rel, 2)} "
            f"times naive's (geometric mean; {word} naive){'; ' + others if others else ''}."
        )
    n = nb + nv
    parts.append(
        f"Caveats: {n} claim{'s' if n != 1 else ''} is a small sample, so these numbers can move a "
        "lot with the next resolution; and a hindcast is today's model on the data public then, "
        "written after these claims resolved, so it may flatter the model. Each comparison uses "
        "the forecasters' common window, from the first date all of them had a forecast."
    )
    return " ".join(parts)
