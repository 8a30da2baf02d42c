"""Forecast skill on real annual series: the forecasters and scores of `benchmarks/skill.py`.

The backtest (`evaluate.backtest`) scores the models on the registry's own figures, which the
people who tuned the models had read. This module scores them on series nobody here chose: a
forecast *task* is one positive annual series (an economy's GDP in current US dollars) cut at an
origin year to its last `history` points and forecast 1..H years ahead, against what came next.

Forecasters (each: task -> draws of shape (n_samples, H), in the series' units):

- ``naive``: `baselines.NaiveForecaster`, the backtest's random walk on the log scale (spread:
  the root mean square of past log changes);
- ``ets``: statsmodels' ETS(A,Ad,N) on the log scale (additive errors, additive damped trend),
  simulated from the fitted state; ETS(A,N,N) if the damped fit fails;
- ``theta``: statsmodels' Theta method on the log scale (no seasonality), draws Normal on the
  log scale with the sd its 80% prediction interval implies;
- a Bayesian family (``growth``): `models._trend_family.TrendFamily.fit` on the series as one
  source's annual figures, no policy shocks; the draws are that source's reported figures.

Scores (lower is better unless stated; `summarise`):

- ``smape``: the symmetric MAPE of the predictive median, 200 |m - y| / (|m| + |y|), averaged
  over every (task, horizon);
- ``crps_rel_naive`` (and ``_rel_ets``): per task, the forecaster's mean CRPS over its horizons
  divided by naive's (ETS's) on the same horizons, then the geometric mean over tasks (a
  "series" in the contract line is one task): GDPs differ by five orders of magnitude, so CRPS
  is only comparable as a ratio within a task; CRPS by scoringrules' fair estimator
  (`scores.crps_from_draws`);
- ``cov50/80/95``: the share of outcomes inside the central 50/80/95% predictive intervals,
  with a percentile interval from a bootstrap that resamples *economies* (clusters: the two
  origins, two histories and six horizons of one economy share its shocks, so treating its
  outcomes as independent would make the interval falsely narrow).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chipcast.evaluate.baselines import NaiveForecaster
from chipcast.evaluate.scores import crps_from_draws
from chipcast.schema import Indicator

LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
COVERAGE = tuple(f"cov{round(lv * 100)}" for lv in LEVELS)
BOOTSTRAP_LEVEL = 0.9  # the coverage interval's level (as the backtest's Jeffreys intervals)
BOOTSTRAP_DRAWS = 2000
SOURCE = "wdi"

# The indicator a benchmark series is fitted as: an annual positive flow, one source, not
# exposed to export-control policy shocks (a national GDP is not moved by one licence rule).
BENCH_INDICATOR = Indicator(
    id="skill_series",
    name="benchmark series",
    description="one real annual series of the skill benchmark (GDP, current US$)",
    unit="USD",
    bounds=(0, None),
    measures="value",
    frequency="annual",
    family="growth",
    policy_shocks=False,
)


@dataclass(frozen=True)
class Task:
    """One forecast: `values` observed in `years` (consecutive, ending at the origin year),
    `actual` the next H years' values (the outcomes)."""

    economy: str
    origin: int
    years: np.ndarray
    values: np.ndarray
    actual: np.ndarray
    half: str = ""

    @property
    def history(self) -> int:
        return len(self.values)

    @property
    def horizons(self) -> int:
        return len(self.actual)


def frame(task: Task) -> pd.DataFrame:
    """The task's history as an observation frame (one source, calendar-year figures, each
    public 180 days after its year ended)."""
    ends = pd.to_datetime([f"{y}-12-31" for y in task.years])
    starts = pd.to_datetime([f"{y}-01-01" for y in task.years])
    v = np.asarray(task.values, dtype=float)
    return pd.DataFrame(
        {
            "indicator": BENCH_INDICATOR.id,
            "line": np.arange(len(v)) + 2,
            "period_start": starts,
            "period_end": ends,
            "value": v,
            "lower": v,
            "upper": v,
            "censor": "point",
            "source": SOURCE,
            "published": ends + pd.Timedelta(days=180),
        }
    )


def target_periods(task: Task) -> pd.DatetimeIndex:
    return pd.to_datetime([f"{task.origin + h}-12-31" for h in range(1, task.horizons + 1)])


# --------------------------------------------------------------------------------------------
# the sample: economies, halves, origins


def runs(gdp: pd.DataFrame) -> dict[str, pd.Series]:
    """Each economy's longest run of consecutive years with a positive figure (value by year).

    `gdp` has columns economy, year, value (missing values absent or NaN)."""
    out: dict[str, pd.Series] = {}
    for code, df in gdp.dropna(subset=["value"]).groupby("economy", sort=True):
        df = df[df["value"] > 0].sort_values("year")
        if df.empty:
            continue
        years = df["year"].to_numpy(dtype=int)
        breaks = np.flatnonzero(np.diff(years) != 1) + 1
        pieces = np.split(np.arange(len(years)), breaks)
        best = max(pieces, key=len)
        out[str(code)] = pd.Series(df["value"].to_numpy(dtype=float)[best], index=years[best])
    return out


def draw_sample(
    gdp: pd.DataFrame,
    economies: int,
    origins: int,
    seed: int,
    max_history: int,
    horizons: int,
) -> pd.DataFrame:
    """A fixed random sample: `economies` economies whose longest run holds max_history +
    horizons years, split by economy into halves "dev" and "test" (alternating in the drawn
    order), and `origins` origin years each (at least `horizons` years apart when the run
    allows it). Columns: economy, half, order, origin."""
    rng = np.random.default_rng(seed)
    series = runs(gdp)
    need = max_history + horizons
    eligible = sorted(c for c, s in series.items() if len(s) >= need)
    if len(eligible) < economies:
        raise ValueError(f"only {len(eligible)} economies have {need} consecutive years")
    chosen = [eligible[i] for i in rng.permutation(len(eligible))[:economies]]
    rows = []
    for k, code in enumerate(chosen):
        years = series[code].index.to_numpy(dtype=int)
        candidates = years[max_history - 1 : len(years) - horizons]
        picked: list[int] = []
        for y in rng.permutation(candidates):
            if all(abs(int(y) - p) >= horizons for p in picked):
                picked.append(int(y))
            if len(picked) == origins:
                break
        for o in sorted(picked):
            rows.append({"economy": code, "half": ("dev", "test")[k % 2], "order": k, "origin": o})
    return pd.DataFrame(rows)


def tasks_from_sample(
    gdp: pd.DataFrame,
    sample: pd.DataFrame,
    histories: Sequence[int],
    horizons: int,
) -> list[Task]:
    """The sample's tasks, in its order: for every economy and origin, one task per history
    length (the last `history` years up to the origin, the next `horizons` years as outcomes)."""
    series = runs(gdp)
    out = []
    for r in sample.sort_values(["order", "origin"]).itertuples(index=False):
        s = series[str(r.economy)]
        for h in histories:
            past = s.loc[int(r.origin) - h + 1 : int(r.origin)]
            future = s.loc[int(r.origin) + 1 : int(r.origin) + horizons]
            if len(past) != h or len(future) != horizons:
                raise ValueError(f"{r.economy} {r.origin}: not {h} + {horizons} years")
            out.append(
                Task(
                    economy=str(r.economy),
                    origin=int(r.origin),
                    years=past.index.to_numpy(dtype=int),
                    values=past.to_numpy(dtype=float),
                    actual=future.to_numpy(dtype=float),
                    half=str(r.half),
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# forecasters


def naive_draws(task: Task, n: int, seed: int) -> np.ndarray:
    """The backtest's naive random walk (`NaiveForecaster`) on the task."""
    out = NaiveForecaster().forecast(
        frame(task), BENCH_INDICATOR, target_periods(task), SOURCE, n, seed
    )
    return np.asarray(out.values, dtype=float)


def ets_draws(task: Task, n: int, seed: int) -> np.ndarray:
    """ETS(A,Ad,N) on log values, simulated `n` times from the end of the fit."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    z = np.log(np.asarray(task.values, dtype=float))
    sims = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in ({"trend": "add", "damped_trend": True}, {"trend": None}):
            try:
                res = ETSModel(z, error="add", **kw).fit(disp=False)
                sims = res.simulate(
                    task.horizons, repetitions=n, anchor="end", rng=np.random.default_rng(seed)
                )
            except Exception:  # noqa: BLE001 - a failed optimiser falls back to the simpler model
                continue
            sims = np.asarray(sims, dtype=float).reshape(task.horizons, n)
            if np.isfinite(sims).all():
                break
            sims = None
    if sims is None:
        raise ValueError(f"{task.economy} {task.origin}: ETS could not be fitted")
    return np.exp(sims.T)


def theta_draws(task: Task, n: int, seed: int) -> np.ndarray:
    """The Theta method on log values; Normal draws with its 80% interval's sd."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    z = pd.Series(
        np.log(np.asarray(task.values, dtype=float)),
        index=pd.period_range(str(int(task.years[0])), periods=task.history, freq="Y"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ThetaModel(z, period=1, deseasonalize=False).fit()
        mean = np.asarray(res.forecast(task.horizons), dtype=float)
        pi = res.prediction_intervals(task.horizons, alpha=0.2)
    sd = (np.asarray(pi["upper"], dtype=float) - np.asarray(pi["lower"], dtype=float)) / (
        2 * 1.2815515655446004
    )
    rng = np.random.default_rng(seed)
    return np.exp(
        mean[None, :] + np.maximum(sd, 0.0)[None, :] * rng.standard_normal((n, len(mean)))
    )


@dataclass
class FamilyForecaster:
    """A Bayesian trend family (e.g. growth with given priors) as a benchmark forecaster; keeps
    each fit's diagnostics (`diagnostics`: task key -> passed, rhat, ess, divergences)."""

    family: object  # a models._trend_family.TrendFamily
    settings: object  # a models.base.SamplerSettings
    diagnostics: dict[tuple, dict] = field(default_factory=dict)

    def __call__(self, task: Task, n: int, seed: int) -> np.ndarray:
        obs = frame(task)
        horizon = dt.date(task.origin + task.horizons, 12, 31)
        as_of = dt.date(task.origin + 1, 6, 29)
        traj = self.family.fit(obs, BENCH_INDICATOR, as_of, horizon, seed, self.settings)  # type: ignore[attr-defined]
        d = traj.diagnostics
        self.diagnostics[(task.economy, task.origin, task.history)] = {
            "passed": d.passed,
            "rhat_max": d.rhat_max,
            "ess_bulk_min": d.ess_bulk_min,
            "divergences": d.divergences,
            "seconds": d.sampling_seconds,
        }
        draws = traj.series(SOURCE).sel(period=target_periods(task)).values
        return np.asarray(draws, dtype=float)


Forecaster = Callable[[Task, int, int], np.ndarray]
BASELINE_FORECASTERS: dict[str, Forecaster] = {
    "naive": naive_draws,
    "ets": ets_draws,
    "theta": theta_draws,
}


# --------------------------------------------------------------------------------------------
# scores


def smape(median: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Symmetric MAPE in percent, 200 |m - y| / (|m| + |y|), elementwise."""
    m, y = np.asarray(median, dtype=float), np.asarray(y, dtype=float)
    return 200.0 * np.abs(m - y) / (np.abs(m) + np.abs(y))


def score_task(task: Task, model: str, draws: np.ndarray) -> pd.DataFrame:
    """One row per horizon: CRPS, sMAPE of the median, and coverage hits (1/0)."""
    draws = np.asarray(draws, dtype=float)
    if draws.shape[1] != task.horizons or not np.isfinite(draws).all():
        raise ValueError(f"{model} {task.economy} {task.origin}: bad draws {draws.shape}")
    y = np.asarray(task.actual, dtype=float)
    rows = {
        "economy": task.economy,
        "half": task.half,
        "origin": task.origin,
        "history": task.history,
        "horizon": np.arange(1, task.horizons + 1),
        "model": model,
        "actual": y,
        "median": np.median(draws, axis=0),
        "crps": np.asarray(crps_from_draws(draws, y), dtype=float),
    }
    rows["smape"] = smape(rows["median"], y)
    for lv, col in zip(LEVELS, COVERAGE, strict=True):
        lo, hi = np.quantile(draws, [(1 - lv) / 2, (1 + lv) / 2], axis=0)
        rows[col] = ((lo <= y) & (y <= hi)).astype(float)
    return pd.DataFrame(rows)


def relative_crps(scores: pd.DataFrame, model: str, reference: str) -> pd.Series:
    """Per task, mean CRPS of `model` over its horizons divided by `reference`'s."""
    key = ["economy", "origin", "history"]
    per = scores.groupby([*key, "model"])["crps"].mean().unstack("model")
    if model not in per or reference not in per:
        return pd.Series(dtype=float)
    ratio = (per[model] / per[reference]).dropna()
    return ratio[np.isfinite(ratio) & (ratio > 0)]


def gmean(x: pd.Series | np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.exp(np.mean(np.log(x)))) if x.size else float("nan")


def cluster_interval(
    scores: pd.DataFrame,
    column: str,
    level: float = BOOTSTRAP_LEVEL,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the mean of `column`, resampling economies with replacement."""
    per = scores.groupby("economy")[column].agg(["sum", "count"])
    if per.empty:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per), size=(draws, len(per)))
    s, c = per["sum"].to_numpy()[idx].sum(axis=1), per["count"].to_numpy()[idx].sum(axis=1)
    lo, hi = np.quantile(s / c, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def summarise(scores: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per model: tasks, economies, CRPS relative to naive and to ETS (geometric means
    over tasks), sMAPE, coverage and the 80% coverage's cluster-bootstrap interval."""
    rows = []
    for model, df in scores.groupby("model", sort=False):
        rel_n = relative_crps(scores, str(model), "naive")
        rel_e = relative_crps(scores, str(model), "ets")
        lo, hi = cluster_interval(df, "cov80", seed=seed)
        rows.append(
            {
                "model": model,
                "series": int(df.groupby(["economy", "origin", "history"]).ngroups),
                "economies": int(df["economy"].nunique()),
                "crps_rel_naive": gmean(rel_n),
                "crps_rel_ets": gmean(rel_e),
                "smape": float(df["smape"].mean()),
                **{c: float(df[c].mean()) for c in COVERAGE},
                "cov80_lo": lo,
                "cov80_hi": hi,
            }
        )
    return pd.DataFrame(rows)


def format_table(summary: pd.DataFrame) -> str:
    """The table the benchmark prints (Markdown, for the README)."""
    head = "| model | series | CRPS rel. naive | CRPS rel. ETS | sMAPE | cov50 | cov80 [90% CI] | cov95 |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---|---:|"]
    for _, r in summary.iterrows():
        lines.append(
            f"| {r['model']} | {r['series']} | {r['crps_rel_naive']:.3f} | {r['crps_rel_ets']:.3f}"
            f" | {r['smape']:.1f} | {r['cov50']:.2f} | {r['cov80']:.3f} [{r['cov80_lo']:.3f},"
            f" {r['cov80_hi']:.3f}] | {r['cov95']:.2f} |"
        )
    return "\n".join(lines)


def contract_line(summary: pd.DataFrame, model: str) -> str:
    """DESIGN's last line of `benchmarks/skill.py`, for `model` (two decimals... three for the
    coverage, whose interval must be readable against 0.8)."""
    r = summary.set_index("model").loc[model]
    return (
        f"series={int(r['series'])} crps_rel_naive={r['crps_rel_naive']:.3f} "
        f"crps_rel_ets={r['crps_rel_ets']:.3f} cov80={r['cov80']:.3f} "
        f"cov80_lo={r['cov80_lo']:.3f} cov80_hi={r['cov80_hi']:.3f}"
    )


def run_tasks(
    tasks: Sequence[Task],
    forecasters: dict[str, Forecaster],
    n_samples: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
    deadline: float | None = None,
) -> pd.DataFrame:
    """Score every forecaster on every task (same seed per task for all forecasters). With a
    `deadline` (a `time.monotonic()` value), no new economy is started after it: the result is
    the sample's first economies, whole (the order is the sample's, fixed before scoring)."""
    import time

    frames = []
    for k, task in enumerate(tasks):
        new_economy = k == 0 or task.economy != tasks[k - 1].economy
        if deadline is not None and new_economy and time.monotonic() > deadline:
            if progress is not None:
                progress(f"deadline: stopped before {task.economy} ({k} of {len(tasks)} tasks)")
            break
        for name, fc in forecasters.items():
            frames.append(score_task(task, name, fc(task, n_samples, seed + k)))
        if progress is not None:
            progress(f"{k + 1}/{len(tasks)} {task.economy} {task.origin} h{task.history}")
    if not frames:
        raise ValueError("no task was scored before the deadline")
    return pd.concat(frames, ignore_index=True)
