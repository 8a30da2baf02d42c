"""Scores of every resolved claim, for the model and its reference forecasters.

Recomputed from the history and the data alone, so a revised resolution re-scores.

- Binary claims (threshold, event): Brier and log score, time-averaged over the claim's open
  life, from the day it was made until the day its settling figure was published; each forecast
  counts from its issue date until the next one.
- Value claims: CRPS of the settling figure, time-averaged the same way (the model's CRPS from
  its stored quantiles; the baselines' from their draws), and the coverage of the model's
  central intervals in force when the claim closed.
- The history's forecasters are scored apart: the `model` and the researcher's `judgment`
  (event probabilities; threshold probabilities and value quantiles from a claim's `judgment`),
  each over the part of the claim's open life its forecasts cover (`days`). A judgment's CRPS
  uses the quantile levels it gives. Because forecasters cover different spans, each row also
  carries its scores on the claim's **common window** (`common_*`: from the latest first
  forecast among the claim's forecasters until the claim closed), where forecasters compare on
  the same days; `common_summary` averages those.
- Reference forecasters, on the same claims and issue dates: `naive` (persistence) and
  `statsmodels` (trend regression) from `chipcast.evaluate.baselines`, and the `claimant`:
  their stated probability when they gave one; otherwise the point they made, i.e. probability 1
  that a threshold claim holds (the claim as asserted), and the claimed number as a point
  forecast for a value claim (its CRPS is the absolute error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.baselines import BASELINES
from chipcast.evaluate.calibration import RELIABILITY_BINS, reliability_table
from chipcast.evaluate.hindcast import baseline_draws
from chipcast.evaluate.resolution import Resolution, resolution_on
from chipcast.evaluate.scores import (
    COVERAGE_COLUMNS,
    COVERAGE_LEVELS,
    crps_from_draws,
    crps_from_quantiles,
    interval_coverage,
    time_averaged,
)
from chipcast.registry import Registry
from chipcast.schema import Claim
from chipcast.store import QUANTILE_COLUMNS, QUANTILES

SCORE_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "forecaster",
    "brier",
    "log_score",
    "crps",
    "days",
    "n_forecasts",
    "last_probability",
    *COVERAGE_COLUMNS,
    "common_from",
    "common_days",
    "common_brier",
    "common_log_score",
    "common_crps",
)
HISTORY_FORECASTERS: tuple[str, ...] = ("model", "judgment")
"""The forecasters whose forecasts the history holds (the references are recomputed)."""
FORECASTERS: tuple[str, ...] = ("model", "naive", "statsmodels", "claimant", "judgment")
"""Every forecaster a claim can be scored for, in the order tables list them."""


def _binary_row(
    cid: str, forecaster: str, fc: pd.DataFrame, res: Resolution, open_from: dt.date
) -> dict[str, object]:
    b = time_averaged(fc, bool(res.outcome), open_from, res.resolved_on, "brier")
    lg = time_averaged(fc, bool(res.outcome), open_from, res.resolved_on, "log")
    return {
        "claim_id": cid,
        "forecaster": forecaster,
        "brier": b.score,
        "log_score": lg.score,
        "days": b.days,
        "n_forecasts": len(fc),
        "last_probability": float(fc["probability"].iloc[-1]),
        "_forecasts": fc,
    }


def _numeric_row(
    cid: str, forecaster: str, issued: list, crps: list[float], res: Resolution, open_from: dt.date
) -> dict[str, object]:
    fc = pd.DataFrame({"issued_on": issued, "probability": crps})
    t = time_averaged(fc, 0, open_from, res.resolved_on, lambda s, _o: s)
    return {
        "claim_id": cid,
        "forecaster": forecaster,
        "crps": t.score,
        "days": t.days,
        "n_forecasts": len(fc),
        "_forecasts": fc,
    }


def _by_forecaster(hist: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The history's rows per forecaster (model, judgment), in table order."""
    if hist.empty:
        return []
    names = sorted(set(hist["forecaster"].astype(str)), key=_forecaster_order)
    return [(n, hist[hist["forecaster"].astype(str) == n]) for n in names]


def _stored_quantiles(row: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(levels, values) of the quantiles a history row stores (a judgment may give a few)."""
    vals = row[list(QUANTILE_COLUMNS)].to_numpy(dtype=float)
    keep = np.isfinite(vals)
    return np.asarray(QUANTILES)[keep], vals[keep]


def _coverage(row: pd.Series, y: float) -> dict[str, float]:
    """Hits of the central intervals whose two ends the row stores."""
    levels, vals = _stored_quantiles(row)
    out = {}
    for lv in COVERAGE_LEVELS:
        lo, hi = (1 - lv) / 2, (1 + lv) / 2
        if np.isclose(levels, lo).any() and np.isclose(levels, hi).any():
            hit = interval_coverage(vals, y, (lv,), quantile_levels=levels)[lv]
            out[f"coverage_{round(lv * 100)}"] = float(hit)
    return out


def common_window_start(frames: list[pd.DataFrame], made_on: dt.date) -> pd.Timestamp:
    """The common window's rule, for the history's scores and the hindcasts' alike: it opens on
    the latest first forecast among the forecasters (`issued_on` of each frame), never before
    the claim was made, so nobody is scored on days another forecaster sat out."""
    firsts = [pd.Timestamp(f["issued_on"].min()).normalize() for f in frames if len(f)]
    return max([pd.Timestamp(made_on), *firsts])


def _common_window(rows: list[dict[str, object]], res: Resolution, claim: Claim) -> None:
    """Add each row's scores on the window every forecaster of the claim covers: from the
    latest first forecast (not before the claim was made) until the claim closed."""
    frames = [r["_forecasts"] for r in rows if len(r.get("_forecasts", ()))]  # type: ignore[arg-type]
    if not frames:
        for r in rows:
            r.pop("_forecasts", None)
        return
    start = common_window_start(frames, claim.made_on)  # type: ignore[arg-type]
    for r in rows:
        fc = r.pop("_forecasts")
        if not len(fc):  # type: ignore[arg-type]
            continue
        r["common_from"] = start.date().isoformat()
        if claim.kind == "value":
            t = time_averaged(fc, 0, start, res.resolved_on, lambda s, _o: s)  # type: ignore[arg-type]
            r.update(common_crps=t.score, common_days=t.days)
        else:
            outcome = bool(res.outcome)
            b = time_averaged(fc, outcome, start, res.resolved_on, "brier")  # type: ignore[arg-type]
            lg = time_averaged(fc, outcome, start, res.resolved_on, "log")  # type: ignore[arg-type]
            r.update(common_brier=b.score, common_log_score=lg.score, common_days=b.days)


def score_claim(
    reg: Registry, claim: Claim, res: Resolution, history: pd.DataFrame, seed: int = DEFAULT_SEED
) -> list[dict[str, object]]:
    """Rows for one resolved claim: the system's forecasts and each reference forecaster."""
    if res.status != "resolved" or res.resolved_on is None:
        return []
    hist = (
        history[history["claim_id"] == claim.id].sort_values("issued_on")
        if not history.empty
        else history
    )
    open_from = claim.made_on
    rows: list[dict[str, object]] = []
    issue_dates = list(hist["issued_on"]) if len(hist) else [pd.Timestamp(open_from)]
    if claim.kind in ("threshold", "event"):
        if res.outcome is None:
            return []
        for name, fc in _by_forecaster(hist):
            fc = fc[["issued_on", "probability"]].dropna()
            if len(fc):
                rows.append(_binary_row(claim.id, name, fc, res, open_from))
        if claim.kind == "threshold":
            for name in BASELINES:
                ps = []
                for d in issue_dates:
                    draws = baseline_draws(reg, claim, name, pd.Timestamp(d), seed)
                    ps.append(
                        np.nan if draws is None else float(np.mean([claim.holds(x) for x in draws]))
                    )
                fc = pd.DataFrame({"issued_on": issue_dates, "probability": ps}).dropna()
                if len(fc):
                    rows.append(_binary_row(claim.id, name, fc, res, open_from))
        p = claim.stated_probability if claim.stated_probability is not None else 1.0
        rows.append(
            _binary_row(
                claim.id,
                "claimant",
                pd.DataFrame({"issued_on": [pd.Timestamp(open_from)], "probability": [p]}),
                res,
                open_from,
            )
        )
    elif claim.kind == "value" and res.value is not None:
        y = float(res.value)
        for name, fc in _by_forecaster(hist):
            issued, crps = [], []
            for _, r in fc.iterrows():
                lv, qv = _stored_quantiles(r)
                if len(lv):
                    issued.append(r["issued_on"])
                    crps.append(float(crps_from_quantiles(lv, qv, y)))
            if not crps:
                continue
            row = _numeric_row(claim.id, name, issued, crps, res, open_from)
            last = fc[fc["issued_on"] < pd.Timestamp(res.resolved_on)]
            if len(last):
                row.update(_coverage(last.iloc[-1], y))
            rows.append(row)
        for name in BASELINES:
            crps, dates = [], []
            for d in issue_dates:
                draws = baseline_draws(reg, claim, name, pd.Timestamp(d), seed)
                if draws is not None:
                    crps.append(float(crps_from_draws(draws, y)))
                    dates.append(d)
            if crps:
                rows.append(_numeric_row(claim.id, name, dates, crps, res, open_from))
        rows.append(
            _numeric_row(
                claim.id,
                "claimant",
                [pd.Timestamp(open_from)],
                [abs(float(claim.value) - y)],
                res,
                open_from,
            )
        )
    _common_window(rows, res, claim)
    return rows


def claim_scores(
    reg: Registry,
    history: pd.DataFrame,
    today: dt.date,
    seed: int = DEFAULT_SEED,
    resolutions: Mapping[str, Resolution] | None = None,
) -> pd.DataFrame:
    """Scores of every resolved claim, one row per claim and forecaster (`resolutions`: the
    claims' resolutions on `today`, when already computed)."""
    rows = []
    for claim in sorted(reg.claims.values(), key=lambda c: c.id):
        res = resolution_on(claim, reg.observations, today, resolutions)
        if res.status == "resolved":
            rows += score_claim(reg, claim, res, history, seed)
    df = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    return df


def reliability_inputs(
    history: pd.DataFrame,
    reg: Registry,
    today: dt.date,
    resolutions: Mapping[str, Resolution] | None = None,
) -> pd.DataFrame:
    """(probability, outcome) of the last forecast before each binary claim resolved: the
    model's where it issued one, else the researcher's judgment."""
    rows = []
    for claim in reg.claims.values():
        if claim.kind not in ("threshold", "event"):
            continue
        res = resolution_on(claim, reg.observations, today, resolutions)
        if res.status != "resolved" or res.outcome is None or history.empty:
            continue
        h = history[
            (history["claim_id"] == claim.id)
            & (history["issued_on"] < pd.Timestamp(res.resolved_on))
        ]
        if (h["forecaster"] == "model").any():  # the system's forecast, where it issued one
            h = h[h["forecaster"] == "model"]
        if len(h):
            rows.append(
                {
                    "claim_id": claim.id,
                    "probability": float(h["probability"].iloc[-1]),
                    "outcome": bool(res.outcome),
                }
            )
    return pd.DataFrame(rows, columns=["claim_id", "probability", "outcome"])


def _forecaster_order(name: str) -> int:
    return FORECASTERS.index(name) if name in FORECASTERS else len(FORECASTERS)


def score_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per forecaster over the resolved claims each one was scored on."""
    cols = ["forecaster", "claims", "brier", "log_score", "crps"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    g = scores.groupby("forecaster")
    out = pd.DataFrame(
        {
            "claims": g["claim_id"].nunique(),
            "brier": g["brier"].mean(),
            "log_score": g["log_score"].mean(),
            "crps": g["crps"].mean(),
        }
    ).reset_index()
    order = out["forecaster"].map(_forecaster_order)
    return out.iloc[order.argsort(kind="stable")].reset_index(drop=True)[cols]


def common_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per forecaster on the common windows of the claims that had more than one
    forecaster: the comparison on the same days (`claims` is the n of each mean)."""
    cols = ["forecaster", "claims", "days", "brier", "log_score", "crps"]
    if scores.empty or "common_days" not in scores:
        return pd.DataFrame(columns=cols)
    s = scores[pd.to_numeric(scores["common_days"], errors="coerce") > 0]
    multi = s.groupby("claim_id")["forecaster"].transform("nunique") > 1
    s = s[multi]
    if s.empty:
        return pd.DataFrame(columns=cols)
    g = s.groupby("forecaster")
    out = pd.DataFrame(
        {
            "claims": g["claim_id"].nunique(),
            "days": g["common_days"].sum(),
            "brier": g["common_brier"].mean(),
            "log_score": g["common_log_score"].mean(),
            "crps": g["common_crps"].mean(),
        }
    ).reset_index()
    order = out["forecaster"].map(_forecaster_order)
    return out.iloc[order.argsort(kind="stable")].reset_index(drop=True)[cols]


def claim_score_rows(scores: pd.DataFrame, claim_id: str) -> list[dict[str, object]]:
    """One claim's score rows, forecasters in table order."""
    rows = scores[scores["claim_id"] == claim_id].to_dict("records") if len(scores) else []
    return sorted(rows, key=lambda r: _forecaster_order(str(r["forecaster"])))


def reliability(
    history: pd.DataFrame,
    reg: Registry,
    today: dt.date,
    bins: int = RELIABILITY_BINS,
    resolutions: Mapping[str, Resolution] | None = None,
) -> pd.DataFrame:
    """The reliability table of the last forecast issued before each binary claim resolved."""
    pairs = reliability_inputs(history, reg, today, resolutions).dropna(subset=["probability"])
    return reliability_table(
        pairs["probability"].to_numpy(dtype=float), pairs["outcome"].to_numpy(dtype=float), bins
    )


def track_record(
    reg: Registry,
    resolutions: dict[str, Resolution],
    scores: pd.DataFrame,
    key: Callable[[Claim], str],
) -> list[dict[str, object]]:
    """Per group of claims (by claimant, by source: `key`): how many came true, and how close
    the claimants' numbers and probabilities were.

    ``value_err`` is the mean relative error of the claimed values of resolved value claims,
    ``brier`` the mean Brier score of the claimant rule (see the module docstring). Groups with
    the most claims come first.
    """
    groups: dict[str, list[Claim]] = {}
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        groups.setdefault(key(c), []).append(c)
    own = scores[scores["forecaster"] == "claimant"] if len(scores) else scores
    out = []
    for name, claims in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].lower())):
        res = [resolutions[c.id] for c in claims]
        status = [r.status for r in res]
        binary = [
            r
            for c, r in zip(claims, res, strict=True)
            if r.status == "resolved" and c.kind != "value"
        ]
        true = sum(1 for r in binary if r.outcome is True)
        errs = [
            abs(float(r.value) - c.value) / abs(c.value)
            for c, r in zip(claims, res, strict=True)
            if r.status == "resolved"
            and c.kind == "value"
            and c.value
            and r.value is not None
            and not np.isnan(r.value)
        ]
        mine = own[own["claim_id"].isin({c.id for c in claims})] if len(own) else own
        out.append(
            {
                "name": name,
                "n": len(claims),
                "open": status.count("open") + status.count("overdue"),
                "resolved": status.count("resolved"),
                "true": true,
                "false": len(binary) - true,
                "annulled": status.count("annulled"),
                "not_checkable": status.count("not_checkable"),
                "value_err": sum(errs) / len(errs) if errs else None,
                "brier": mine["brier"].mean() if len(mine) else None,
            }
        )
    return out
