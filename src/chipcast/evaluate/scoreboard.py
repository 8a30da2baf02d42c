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
from chipcast.evaluate.resolution import Resolution, resolve
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


def _resolved(
    claim: Claim, reg: Registry, today: dt.date, resolutions: Mapping[str, Resolution] | None
) -> Resolution:
    """The claim's resolution on `today`: from `resolutions` when the caller has them."""
    if resolutions is not None and claim.id in resolutions:
        return resolutions[claim.id]
    return resolve(claim, reg.observations, today)


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
        res = _resolved(claim, reg, today, resolutions)
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
        res = _resolved(claim, reg, today, resolutions)
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


# --- the model scored on its hindcasts ------------------------------------------------------

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
            res = _resolved(claim, reg, today, resolutions)
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
