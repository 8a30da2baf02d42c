"""What would move a claim next, and who runs hot: the summaries written beside a trajectory.

Value of information. A fit's joint posterior predictive draws hold, sample by sample, both the
next figure the settling source will publish and the figure that settles the claim. Conditioning
the second on the first (by counting draws) answers "what would change it":

- P(claim | the next figure falls in the lower, middle or upper third of its predictive);
- the next figure's value at which P(claim) crosses 50% (or none inside its 90% interval);
- the expected absolute change in P(claim) once that figure is in: E|P(claim | next) - P(claim)|
  over the next figure's predictive.

P(claim | next = x) is estimated on equal-count bins of the next figure's draws, made monotone
in x (isotonic regression, scipy) in the direction the draws say; the terciles are plain counts.
When the next figure IS the settling figure (its source's next period is the target), P(claim |
next) is 0 or 1 and everything is exact: the crossing is the threshold, the expected change
2p(1 - p).

Who runs hot. The share and growth families estimate an offset and a noise scale per source
(`Trajectory.sources`); their posterior medians and 90% intervals, on the model's scale and in
the indicator's terms (a share's points, a flow's percent), are summarised per source.

`indicator_summary` assembles both into the dict that `chipcast.store.write_summary` writes as
forecasts/trajectories/<indicator>.summary.json (docs/outputs.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from chipcast.evaluate.probability import holds, target_draws, window_draws
from chipcast.models import grid_frequency
from chipcast.models.base import Trajectory
from chipcast.schema import Claim

SUMMARY_VERSION = 1
BINS = 20  # equal-count bins of the next figure's draws for P(claim | next = x)
INTERVAL = (0.05, 0.95)  # the 90% intervals: of the next figure, and of the posteriors
SIGNIFICANT = 4  # significant digits kept in the summary file (small diffs in git)


@dataclass(frozen=True)
class NextFigure:
    """The next figure a source will publish on an indicator: its source and span."""

    source: str
    period_start: dt.date
    period_end: dt.date
    settles: bool  # it is the figure that settles the claim


@dataclass(frozen=True)
class VoiTable:
    """What the next figure would do to P(claim)."""

    probability: float
    tercile_edges: tuple[float, float]  # the next figure's 1/3 and 2/3 quantiles
    p_lower: float
    p_middle: float
    p_upper: float
    interval: tuple[float, float]  # the next figure's 90% predictive interval
    crossing: float | None  # where P(claim | next) crosses 0.5 inside `interval`, else None
    crossing_note: str  # "", or why there is no crossing
    expected_change: float
    increasing: bool  # P(claim | next = x) rises with x


def _pava(y: np.ndarray, increasing: bool) -> np.ndarray:
    from scipy.optimize import isotonic_regression  # ~1 s to import: not on the warm refresh's path

    return np.asarray(isotonic_regression(y, increasing=increasing).x, dtype=float)


def conditional_curve(
    outcome: np.ndarray, nxt: np.ndarray, bins: int = BINS
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(bin centres, monotone P(claim | next in bin), increasing?) over equal-count bins of the
    next figure's draws; the direction is that of the draws' rank correlation."""
    order = np.argsort(nxt, kind="stable")
    chunks = [c for c in np.array_split(order, min(bins, len(nxt))) if len(c)]
    centres = np.array([np.median(nxt[c]) for c in chunks])
    means = np.array([outcome[c].mean() for c in chunks])
    ranks = np.empty(len(nxt))
    ranks[order] = np.arange(len(nxt))
    y = outcome.astype(float)
    increasing = True
    if y.std() > 0 and ranks.std() > 0:
        increasing = bool(np.corrcoef(ranks, y)[0, 1] >= 0)
    return centres, _pava(means, increasing), increasing


def _crossing(centres: np.ndarray, curve: np.ndarray, lo: float, hi: float) -> float | None:
    """The first x in [lo, hi] where the piecewise-linear curve through (centres, curve) meets
    0.5 (None when it stays on one side)."""
    d = curve - 0.5
    for i in range(len(d) - 1):
        a, b = d[i], d[i + 1]
        if a == 0:
            x = centres[i]
        elif a * b < 0:
            x = centres[i] + (centres[i + 1] - centres[i]) * a / (a - b)
        else:
            continue
        if lo <= x <= hi:
            return float(x)
    if len(d) and d[-1] == 0 and lo <= centres[-1] <= hi:
        return float(centres[-1])
    return None


def value_of_information(
    outcome: np.ndarray, nxt: np.ndarray, settles_at: float | None = None, bins: int = BINS
) -> VoiTable:
    """The value-of-information table from joint draws: `outcome` (bool, the claim holds) and
    `nxt` (the next figure), sample by sample. `settles_at`: the claim's threshold when the next
    figure is the settling figure itself (then P(claim | next) is exactly 0 or 1)."""
    outcome = np.asarray(outcome, dtype=bool)
    nxt = np.asarray(nxt, dtype=float)
    if outcome.shape != nxt.shape or outcome.ndim != 1 or len(nxt) == 0:
        raise ValueError("outcome and next-figure draws must be 1-d and of one length")
    p = float(outcome.mean())
    t1, t2 = (float(v) for v in np.quantile(nxt, [1 / 3, 2 / 3]))
    lower, upper = nxt <= t1, nxt > t2
    middle = ~lower & ~upper

    def cond(m: np.ndarray) -> float:
        return float(outcome[m].mean()) if m.any() else float("nan")

    lo, hi = (float(v) for v in np.quantile(nxt, INTERVAL))
    centres, curve, increasing = conditional_curve(outcome, nxt, bins)
    if settles_at is not None:
        change = 2.0 * p * (1.0 - p)
        crossing = float(settles_at) if lo <= settles_at <= hi and 0 < p < 1 else None
    else:
        change = float(np.mean(np.abs(curve - p)))  # equal-count bins: equal weights
        crossing = _crossing(centres, curve, lo, hi)
    note = ""
    if crossing is None:
        side = "above" if curve.min() > 0.5 else "below" if curve.max() < 0.5 else "near"
        note = f"P(claim) stays {side} 50% for every value in the figure's 90% interval"
        if side == "near":
            note = "P(claim) crosses 50% only outside the figure's 90% interval"
    return VoiTable(
        probability=p,
        tercile_edges=(t1, t2),
        p_lower=cond(lower),
        p_middle=cond(middle),
        p_upper=cond(upper),
        interval=(lo, hi),
        crossing=crossing,
        crossing_note=note,
        expected_change=float(change),
        increasing=increasing,
    )


# --- the next figure ----------------------------------------------------------------------


def _span_months(start: pd.Timestamp, end: pd.Timestamp) -> int:
    return max(1, round(((end + pd.Timedelta(days=1)) - start).days / 30.44))


def _shift(end: pd.Timestamp, months: int) -> pd.Timestamp:
    if end.is_month_end:
        return end + pd.offsets.MonthEnd(months)
    return end + pd.DateOffset(months=months)


def next_figure(claim: Claim, observations: pd.DataFrame) -> NextFigure | None:
    """The next figure the claim's settling source will publish on its indicator: the period
    after its latest figure in `observations` (an as-of view), of the same length (the shortest
    when two of its figures end on that day). For "any" source: the source whose latest figure
    ends last. None when the source has no figure yet or has reported past the target."""
    if claim.resolution is None or claim.target_period is None:
        return None
    obs = observations[observations["indicator"] == claim.indicator]
    src = claim.resolution.source
    if src not in (None, "any"):
        obs = obs[obs["source"] == src]
    if obs.empty:
        return None
    obs = obs.assign(
        months=[
            _span_months(s, e) for s, e in zip(obs["period_start"], obs["period_end"], strict=True)
        ]
    )
    last = obs.sort_values(["period_end", "months", "published"], ascending=[True, False, True])
    row = last.iloc[-1]
    end = _shift(pd.Timestamp(row["period_end"]), int(row["months"]))
    start = pd.Timestamp(row["period_end"]) + pd.Timedelta(days=1)
    target = pd.Timestamp(claim.target_period)
    if end > target + pd.Timedelta(days=31):
        return None
    window = pd.Timestamp(claim.window_start) if claim.aggregate else None
    same_span = end.to_period("M") == target.to_period("M") and (
        window is None or start.to_period("M") == window.to_period("M")
    )
    settles = src not in (None, "any") and same_span
    return NextFigure(str(row["source"]), start.date(), end.date(), bool(settles))


def next_draws(traj: Trajectory, nf: NextFigure, how: str) -> np.ndarray:
    """Draws of the next figure, joint with the trajectory's other draws sample by sample: the
    source's second report (its own reporting error, the same offset and path)."""
    series = traj.next_series(nf.source)
    return window_draws(
        series,
        pd.Timestamp(nf.period_start),
        pd.Timestamp(nf.period_end),
        grid_frequency(traj.periods),
        how,
    )


def _how(claim: Claim, family: str) -> str:
    if claim.aggregate:
        return claim.aggregate
    return {"share": "mean", "growth": "sum", "count": "sum"}.get(family, "last")


def claim_voi(
    claim: Claim, traj: Trajectory, observations: pd.DataFrame
) -> tuple[NextFigure, VoiTable] | None:
    """The next figure and its value-of-information table for one open threshold claim (None
    when there is no next figure, or the trajectory does not reach it)."""
    if claim.kind != "threshold" or claim.status != "open":
        return None
    nf = next_figure(claim, observations)
    if nf is None:
        return None
    try:
        outcome = holds(claim, target_draws(claim, traj))
        if nf.settles:
            nxt = target_draws(claim, traj)
        else:
            nxt = next_draws(traj, nf, _how(claim, traj.family))
    except (ValueError, IndexError):
        return None
    if len(nxt) != len(outcome):
        return None
    return nf, value_of_information(outcome, nxt, claim.threshold if nf.settles else None)


def expected_figure(
    period_end: dt.date, lag_days: int | None, today: dt.date
) -> tuple[dt.date | None, int]:
    """When a next figure is expected (its period's end plus the series' publication lag, as
    `chipcast.evaluate.staleness` measures it) and how many days late it is on `today`."""
    if lag_days is None:
        return None, 0
    expected = period_end + dt.timedelta(days=int(lag_days))
    return expected, max(0, (today - expected).days)


# --- who runs hot -------------------------------------------------------------------------


def interval(draws: np.ndarray) -> dict[str, float]:
    """Posterior median and 90% interval."""
    lo, med, hi = np.quantile(np.asarray(draws, dtype=float), [INTERVAL[0], 0.5, INTERVAL[1]])
    return {"median": float(med), "lo": float(lo), "hi": float(hi)}


def source_offsets(traj: Trajectory, observations: pd.DataFrame | None = None) -> list[dict]:
    """Each fitted source's offset and noise (median and 90% interval), on the model's scale
    and in the indicator's terms (`base.source_effects`), with its number of figures."""
    if traj.sources is None:
        return []
    src = traj.sources
    lone = src.sizes["source"] == 1
    rows = []
    for s in src["source"].values:
        one = src.sel(source=s)
        n = None
        if observations is not None and "source" in observations:
            n = int((observations["source"] == s).sum())
        rows.append(
            {
                "source": str(s),
                "figures": n,
                "reference": bool(lone),  # a lone source's offset is 0 by construction
                "offset": interval(one["offset_units"].values),
                "noise": interval(one["noise_units"].values),
                "offset_link": interval(one["offset"].values),
                "noise_link": interval(one["noise"].values),
            }
        )
    return rows


# --- the summary file ---------------------------------------------------------------------


def _round(x: object) -> object:
    if isinstance(x, float):
        if not np.isfinite(x):
            return None
        return float(f"{x:.{SIGNIFICANT}g}")
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    return x


def indicator_summary(
    traj: Trajectory, claims: list[Claim], observations: pd.DataFrame
) -> dict[str, object]:
    """The summary of one fit: source offsets and noise, and each open threshold claim's value
    of information (`observations`: the as-of view the fit saw)."""
    sources = source_offsets(traj, observations)
    effect = traj.sources.attrs.get("effect") if traj.sources is not None else None
    at_period = traj.sources.attrs.get("at_period") if traj.sources is not None else None
    latent_at = None
    if at_period is not None:
        latent_at = interval(traj.latent.sel(period=pd.Timestamp(at_period)).values)
    out_claims = []
    for c in sorted(claims, key=lambda c: c.id):
        if c.indicator != traj.indicator:
            continue
        res = claim_voi(c, traj, observations)
        if res is None:
            continue
        nf, t = res
        out_claims.append(
            {
                "claim_id": c.id,
                "next": {
                    "source": nf.source,
                    "period_start": nf.period_start.isoformat(),
                    "period_end": nf.period_end.isoformat(),
                    "settles": nf.settles,
                },
                **{k: v for k, v in asdict(t).items()},
            }
        )
    return _round(
        {
            "version": SUMMARY_VERSION,
            "indicator": traj.indicator,
            "family": traj.family,
            "model_version": traj.model_version,
            "as_of": traj.as_of.isoformat(),
            "seed": traj.seed,
            "samples": int(traj.latent.sizes["sample"]),
            "effect": effect,
            "at_period": at_period,
            "latent_at": latent_at,
            "sources": sources,
            "claims": sorted(out_claims, key=lambda r: -r["expected_change"]),
        }
    )  # type: ignore[return-value]
