"""Rolling-origin backtest over vintages.

At each origin date (a date on which the indicator's data changed), every forecaster sees only
the as-of view of that date and forecasts the figures published later: each new figure (a
source and period not yet visible at the origin) is a target, and the forecaster predicts what
*that source* will report. Policy levels (family `level`) are the exception: their targets are
the levels in force at the grid's period ends after the origin (see `in_force_targets`).
Points are scored with CRPS (scoringrules' fair/pwm estimator) and
central-interval coverage; bounds ("more than 30%") are skipped for CRPS (CRPS is undefined on
a bound), so every forecaster is scored on the same targets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chipcast import models
from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.baselines import BASELINES
from chipcast.evaluate.calibration import binomial_interval
from chipcast.evaluate.probability import indicator_seed, window_draws
from chipcast.evaluate.scores import COVERAGE_COLUMNS, score_against_observation
from chipcast.models import period_grid
from chipcast.models.base import settings_for
from chipcast.registry import Registry
from chipcast.schema import Indicator

MIN_POINTS = 2  # an origin needs at least this many visible figures
N_BASELINE_SAMPLES = 2000
# Per-target rows (`chipcast backtest --detail`): the outcome beside the predictive's central
# 80% interval and median, and its PIT, so a miss can be read, not just counted.
DETAIL_QUANTILES = (0.1, 0.5, 0.9)
DETAIL_COLUMNS = [
    "indicator",
    "origin",
    "source",
    "period_start",
    "period_end",
    "model",
    "value",
    "q10",
    "q50",
    "q90",
    "pit",
    "crps",
    *COVERAGE_COLUMNS,
    "gated",
    "last_value",
    "p_above_last",
]
# The table `chipcast backtest --out` writes (fixed by the design's Contracts).
SUMMARY_COLUMNS = ["indicator", "model", "n", "crps", "crps_rel_naive", *COVERAGE_COLUMNS]


@dataclass(frozen=True)
class Origin:
    indicator: str
    date: dt.date
    targets: pd.DataFrame  # later figures to forecast


def origins_for(
    obs: pd.DataFrame, max_origins: int | None = None, today: dt.date | None = None
) -> list[Origin]:
    """Every vintage date with enough data before it and new figures after it (latest last);
    a later figure for a period before every visible one is not a target (a backcast)."""
    if obs.empty:
        return []
    out = []
    for date in sorted(obs["published"].unique()):
        d = pd.Timestamp(date)
        if today is not None and d.date() > today:
            continue
        visible = as_of(obs, d)
        if len(visible) < MIN_POINTS:
            continue
        later = obs[obs["published"] > d]
        if today is not None:
            later = later[later["published"] <= pd.Timestamp(today)]
        seen = set(
            zip(visible["source"], visible["period_start"], visible["period_end"], strict=True)
        )
        keys = zip(later["source"], later["period_start"], later["period_end"], strict=True)
        new = later.loc[np.array([k not in seen for k in keys], dtype=bool)]
        # the first publication of each new figure is the forecast target
        new = new.sort_values("published").groupby(["source", "period_start", "period_end"]).head(1)
        # a figure for a period before every public one (an old figure published late) is a
        # backcast, not a forecast: the model's grid starts at the first public figure
        new = new[new["period_end"] >= visible["period_start"].min()]
        if new.empty:
            continue
        out.append(Origin(str(obs["indicator"].iloc[0]), d.date(), new.reset_index(drop=True)))
    if max_origins is not None:
        out = out[-max_origins:]
    return out


def _target_draws(arr, indicator: Indicator, row: pd.Series) -> np.ndarray:
    """Draws for a target figure (see `window_draws`): flows sum the periods it covers, shares
    average them, levels take the end."""
    how = {"growth": "sum", "count": "sum", "share": "mean"}.get(indicator.family, "last")
    start = row["period_start"] if pd.notna(row["period_start"]) else row["period_end"]
    return window_draws(arr, start, row["period_end"], indicator.frequency, how)


def in_force_targets(
    obs: pd.DataFrame, indicator: Indicator, origin: Origin, today: dt.date | None = None
) -> pd.DataFrame:
    """Policy levels: the level in force at each grid period end after the origin, as known now.

    A level figure is recorded when the level changes, so every later figure is a jump: scoring
    only those would ask "what will the next change be" of a model that answers "what will the
    level be on a date", the question a claim asks. The targets are therefore the period ends of
    the model's grid after the origin, up to the last new figure, each with the level in force
    then (the latest figure dated on or before it, in the vintage known `today`).
    """
    known = as_of(obs, today or pd.Timestamp(obs["published"].max()).date())
    known = known[known["censor"] == "point"].sort_values(["period_end", "published"])
    until = origin.targets["period_end"].max()
    ends = [
        d
        for d in period_grid(pd.Timestamp(origin.date), until, indicator.frequency)
        if d > pd.Timestamp(origin.date)
    ]
    rows = []
    for d in ends:
        before = known[known["period_end"] <= d]
        if before.empty:
            continue
        row = before.iloc[-1].copy()
        row["period_start"], row["period_end"] = d, d
        rows.append(row)
    return pd.DataFrame(rows).reset_index(drop=True) if rows else origin.targets.iloc[0:0]


def last_public(visible: pd.DataFrame, indicator: Indicator, source: str) -> pd.Series | None:
    """The last figure public at an origin that a target from `source` is compared with, for
    the calibration event "the figure comes in above the last one public": that source's
    latest point figure (any source's for a policy level, which has one level in force)."""
    pts = visible[visible["censor"] == "point"].dropna(subset=["value"])
    if indicator.family != "level":
        pts = pts[pts["source"] == source]
    if pts.empty:
        return None
    return pts.sort_values(["period_end", "published"]).iloc[-1]


def above_last(
    draws: np.ndarray | None, target: pd.Series, last: pd.Series | None, same_span: bool = True
) -> dict[str, float]:
    """The calibration event's inputs: the last public figure and P(target > it) from draws.

    Only where the target is a point (a bound does not say which side it is on) and, with
    `same_span`, spans as long a period as that figure (a quarter against a quarter, not a
    year's total; a policy level is a level on a date, so its targets skip the check).
    """
    out = {"last_value": np.nan, "p_above_last": np.nan}
    if draws is None or last is None or str(target.get("censor", "point")) != "point":
        return out
    span = (
        (target["period_end"] - target["period_start"]).days
        if pd.notna(target["period_start"])
        else 0
    )
    last_span = (
        (last["period_end"] - last["period_start"]).days if pd.notna(last["period_start"]) else 0
    )
    if same_span and abs(span - last_span) > 7:
        return out
    out["last_value"] = float(last["value"])
    out["p_above_last"] = float(np.mean(np.asarray(draws, dtype=float) > float(last["value"])))
    return out


def _grid(indicator: Indicator, visible: pd.DataFrame, targets: pd.DataFrame) -> pd.DatetimeIndex:
    first = min(visible["period_end"].min(), targets["period_start"].min())
    return period_grid(first, targets["period_end"].max(), indicator.frequency)


def backtest_indicator(
    reg: Registry,
    indicator_id: str,
    profile: str = "default",
    seed: int = DEFAULT_SEED,
    max_origins: int | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """One row per origin, target and forecaster, with CRPS and coverage."""
    ind = reg.indicators[indicator_id]
    obs = reg.indicator_observations(indicator_id)
    settings = settings_for(profile)
    rows = []
    for k, origin in enumerate(origins_for(obs, max_origins, today)):
        if ind.family == "level":
            origin = Origin(
                origin.indicator, origin.date, in_force_targets(obs, ind, origin, today)
            )
            if origin.targets.empty:
                continue
        visible = as_of(obs, origin.date)
        horizon = origin.targets["period_end"].max().date()
        s = indicator_seed(seed, indicator_id) + k
        grid = _grid(ind, visible, origin.targets)
        # Every forecaster is scored on the same targets: an origin where a reference forecaster
        # has nothing to go on (e.g. only annual totals of a quarterly series are public yet) is
        # skipped for all of them, before the model is fitted.
        try:
            baseline_paths = {
                (name, src): baseline.forecast(visible, ind, grid, src, N_BASELINE_SAMPLES, s)
                for name, baseline in BASELINES.items()
                for src in origin.targets["source"].unique()
            }
        except ValueError:
            continue
        last = {src: last_public(visible, ind, src) for src in origin.targets["source"].unique()}
        traj = models.fit_indicator(visible, ind, origin.date, horizon, s, settings)
        gated = traj is not None and not traj.published
        for _, row in origin.targets.iterrows():
            draws: dict[str, np.ndarray | None] = {}
            if traj is not None:
                # a gated fit publishes nothing, so it is not scored; its row says so
                series = traj.series(row["source"])
                draws[ind.family] = None if gated else _target_draws(series, ind, row)
            for name in BASELINES:
                draws[name] = _target_draws(baseline_paths[(name, row["source"])], ind, row)
            for model, d in draws.items():
                sc = score_against_observation(d, row, rng=s) if d is not None else {}
                q = np.quantile(d, DETAIL_QUANTILES) if d is not None else [np.nan] * 3
                rows.append(
                    {
                        "indicator": indicator_id,
                        "origin": origin.date,
                        "source": row["source"],
                        "period_start": row["period_start"].date()
                        if pd.notna(row["period_start"])
                        else None,
                        "period_end": row["period_end"].date(),
                        "model": model,
                        "value": row["value"],
                        "q10": q[0],
                        "q50": q[1],
                        "q90": q[2],
                        "pit": sc.get("pit", np.nan),
                        "crps": sc.get("crps", np.nan),
                        **{c: sc.get(c, np.nan) for c in COVERAGE_COLUMNS},
                        "gated": gated and model == ind.family,
                        **above_last(d, row, last[row["source"]], ind.family != "level"),
                    }
                )
    return pd.DataFrame(rows, columns=DETAIL_COLUMNS)


def run_backtest(
    reg: Registry,
    indicators: list[str] | None = None,
    profile: str = "default",
    seed: int = DEFAULT_SEED,
    max_origins: int | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Backtest every modelled indicator (or the ones named)."""
    ids = indicators or sorted(i for i, ind in reg.indicators.items() if ind.family != "none")
    frames = [backtest_indicator(reg, i, profile, seed, max_origins, today) for i in ids]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=DETAIL_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def summary_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Indicator x model: n, mean CRPS, CRPS relative to naive (same targets), coverage."""
    cols = SUMMARY_COLUMNS
    if scores.empty:
        return pd.DataFrame(columns=cols)
    scored = scores.dropna(subset=["crps"])
    out = []
    for (ind, model), df in scored.groupby(["indicator", "model"], sort=True):
        key = ["origin", "source", "period_end"]
        naive = scored[(scored["indicator"] == ind) & (scored["model"] == "naive")].set_index(key)[
            "crps"
        ]
        mine = df.set_index(key)["crps"]
        common = mine.index.intersection(naive.index)
        rel = (
            float(mine.loc[common].mean() / naive.loc[common].mean())
            if len(common) and naive.loc[common].mean() > 0
            else np.nan
        )
        out.append(
            {
                "indicator": ind,
                "model": model,
                "n": len(df),
                "crps": float(df["crps"].mean()),
                "crps_rel_naive": rel,
                **{c: float(df[c].mean()) for c in COVERAGE_COLUMNS},
            }
        )
    table = pd.DataFrame(out, columns=cols)
    return table[table["n"] > 0].reset_index(drop=True)


def family_summary(table: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Per model across indicators: geometric mean of crps_rel_naive, pooled coverage with a 90% interval."""
    rows = []
    groups = [(m, [m]) for m in sorted(table["model"].unique())]
    bayesian = sorted(m for m in table["model"].unique() if m not in BASELINES)
    if len(bayesian) > 1:
        groups.append(("bayesian", bayesian))
    for model, members in groups:
        df = table[table["model"].isin(members)]
        rel = df["crps_rel_naive"].dropna()
        rel = rel[rel > 0]
        sub = scores[scores["model"].isin(members)].dropna(subset=["coverage_80"])
        k, n = int(sub["coverage_80"].sum()), len(sub)
        lo, hi = binomial_interval(k, n, 0.9) if n else (np.nan, np.nan)
        rows.append(
            {
                "model": model,
                "indicators": len(df),
                "gmean_crps_rel_naive": float(np.exp(np.log(rel).mean())) if len(rel) else np.nan,
                "n": n,
                "coverage_80": k / n if n else np.nan,
                "coverage_80_lo": lo,
                "coverage_80_hi": hi,
            }
        )
    return pd.DataFrame(rows)


def format_backtest(table: pd.DataFrame, scores: pd.DataFrame | None = None) -> str:
    """The table a terminal shows: coverage with n and its 90% binomial interval."""
    lines = [
        f"{'indicator':40} {'model':12} {'n':>4} {'CRPS':>10} {'rel.naive':>9} {'cov50':>6} {'cov80 [90% CI]':>20} {'cov95':>6}"
    ]
    for _, r in table.iterrows():
        n = int(r["n"])
        k = round(r["coverage_80"] * n) if pd.notna(r["coverage_80"]) else 0
        lo, hi = binomial_interval(k, n, 0.9) if n else (np.nan, np.nan)
        lines.append(
            f"{r['indicator']:40} {r['model']:12} {n:4d} {r['crps']:10.4g} {r['crps_rel_naive']:9.3f} "
            f"{r['coverage_50']:6.2f} {r['coverage_80']:6.2f} [{lo:.2f}, {hi:.2f}]     {r['coverage_95']:6.2f}"
        )
    if scores is not None and "gated" in scores and scores["gated"].astype(bool).any():
        g = scores[scores["gated"].astype(bool)]
        where = ", ".join(f"{i} {o}" for (i, o), _ in g.groupby(["indicator", "origin"], sort=True))
        lines.append("")
        lines.append(
            f"not scored: {len(g)} target(s) whose fit failed the convergence gate ({where})"
        )
    if scores is not None and not scores.empty:
        lines.append("")
        lines.append(
            "per model, over indicators: geometric mean of CRPS relative to naive; pooled 80% coverage [90% CI]"
        )
        for _, r in family_summary(table, scores).iterrows():
            # three decimals: whether the interval contains 0.8 must be readable (0.797 is not)
            lines.append(
                f"  {r['model']:12} gmean rel.naive {r['gmean_crps_rel_naive']:.3f}  cov80 {r['coverage_80']:.3f} "
                f"[{r['coverage_80_lo']:.3f}, {r['coverage_80_hi']:.3f}] (n={r['n']})"
            )
    return "\n".join(lines)


def bayesian_rows(detail: pd.DataFrame) -> pd.DataFrame:
    """The backtest detail's rows of the Bayesian families (not the reference forecasters),
    scored (a gated fit's rows are not)."""
    if detail is None or detail.empty:
        return pd.DataFrame(columns=DETAIL_COLUMNS)
    d = detail[~detail["model"].isin(list(BASELINES))]
    if "gated" in d:
        d = d[~d["gated"].astype(str).str.lower().isin(["true", "1"])]
    return d


def event_reliability(
    detail: pd.DataFrame, model: str | None = None, bins: int = 5
) -> tuple[pd.DataFrame, int]:
    """Calibration from the backtest's targets: for each target the binary event "the figure
    comes in above the last one public at the origin", the forecaster's P(event) from its
    draws (`p_above_last`), and the reliability table with Jeffreys intervals. `model` None
    pools the Bayesian families; else one forecaster ("naive", "share", ...). Returns the table
    and n (0 when the detail predates the event columns: re-run `chipcast backtest --detail`)."""
    from chipcast.evaluate.calibration import reliability_table

    if detail is None or detail.empty or "p_above_last" not in detail:
        return reliability_table([], [], bins), 0
    d = bayesian_rows(detail) if model is None else detail[detail["model"] == model]
    d = d.dropna(subset=["p_above_last", "last_value", "value"])
    p = pd.to_numeric(d["p_above_last"]).to_numpy(dtype=float)
    o = (pd.to_numeric(d["value"]) > pd.to_numeric(d["last_value"])).to_numpy(dtype=float)
    return reliability_table(p, o, bins), len(d)
