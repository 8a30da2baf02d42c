"""What the notebooks call: load one indicator's context, fit it, plot it, write its outputs.

Notebooks stay thin (markdown and calls); everything they compute lives here so that the
refresh, the command line and a researcher in JupyterLab all get the same numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from chipcast import models
from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate import scoreboard as sb_eval
from chipcast.evaluate.calibration import RELIABILITY_BINS
from chipcast.evaluate.probability import forecast_claim, horizon_for, indicator_seed
from chipcast.evaluate.resolution import resolve
from chipcast.evaluate.scoreboard import claim_scores, score_claim, score_summary
from chipcast.models.base import Trajectory, settings_for
from chipcast.paths import find_root
from chipcast.registry import Registry, load
from chipcast.schema import Claim, Indicator, bounded_text, today_utc
from chipcast.store import read_backtest, read_history, read_quantiles

warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass
class IndicatorContext:
    """One indicator as of one date: its definition, visible data and the claims it settles."""

    registry: Registry
    indicator: Indicator
    as_of: dt.date
    observations: pd.DataFrame  # as-of view, this indicator only
    all_vintages: pd.DataFrame  # every vintage public by as_of (revisions included)
    claims: list[Claim]

    @property
    def horizon(self) -> dt.date:
        return horizon_for(self.claims, self.as_of)


def indicator_context(
    root: str | Path, indicator_id: str, as_of_date: str | dt.date | None = None
) -> IndicatorContext:
    """Load the project and cut the indicator's data at `as_of_date` (default: today, UTC)."""
    reg = load(find_root(root))
    if indicator_id not in reg.indicators:
        raise KeyError(
            f"unknown indicator {indicator_id!r}; known: {', '.join(sorted(reg.indicators))}"
        )
    date = _date(as_of_date)
    obs = reg.indicator_observations(indicator_id)
    return IndicatorContext(
        registry=reg,
        indicator=reg.indicators[indicator_id],
        as_of=date,
        observations=as_of(obs, date),
        all_vintages=obs[obs["published"] <= pd.Timestamp(date)].reset_index(drop=True),
        claims=reg.indicator_claims(indicator_id),
    )


def _date(value: str | dt.date | None) -> dt.date:
    if value in (None, ""):
        return today_utc()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


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
            "in as-of view": df.index.isin(_current_index(ctx)),
        }
    )
    return out.sort_values(["period", "source", "published"]).reset_index(drop=True)


def _current_index(ctx: IndicatorContext) -> list[int]:
    cur = set(
        map(tuple, ctx.observations[["source", "period_end", "published"]].astype(str).values)
    )
    keys = ctx.all_vintages[["source", "period_end", "published"]].astype(str).values
    return [i for i, k in enumerate(map(tuple, keys)) if k in cur]


def _setup_axes(ax: plt.Axes, ind: Indicator, title: str) -> None:
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("period end")
    ax.set_ylabel(ind.label)
    ax.grid(alpha=0.3)


def plot_observations(ctx: IndicatorContext) -> plt.Figure:
    """The figures by source and vintage; bounds drawn as arrows, revisions as hollow points."""
    fig, ax = plt.subplots(figsize=(8, 4))
    scale = ctx.indicator.display_scale
    current = set(_current_index(ctx))
    for i, (src, df) in enumerate(ctx.all_vintages.groupby("source")):
        colour = PALETTE[i % len(PALETTE)]
        for j, r in df.iterrows():
            hollow = j not in current
            kw = dict(color=colour, markerfacecolor="none" if hollow else colour)
            x = r["period_end"]
            if r["censor"] == "point":
                ax.plot([x], [r["value"] * scale], "o", **kw)
            elif r["censor"] == "lower":
                ax.plot([x], [r["lower"] * scale], "^", **kw)
            elif r["censor"] == "upper":
                ax.plot([x], [r["upper"] * scale], "v", **kw)
            else:
                ax.vlines(x, r["lower"] * scale, r["upper"] * scale, color=colour, lw=3)
        ax.plot([], [], "o", color=colour, label=src)
    ax.plot([], [], "^", color="grey", label="lower bound (>)")
    ax.plot([], [], "o", color="grey", markerfacecolor="none", label="superseded vintage")
    ax.legend(fontsize=8, loc="best")
    _setup_axes(ax, ctx.indicator, f"{ctx.indicator.name}: figures public on {ctx.as_of}")
    fig.tight_layout()
    return fig


def sampler_settings(profile: str = "default", draws: int | None = None, tune: int | None = None):
    """The pinned settings of a profile, with draws/tune overridden when given."""
    s = settings_for(profile)
    return replace(s, draws=draws or s.draws, tune=tune or s.tune)


def plot_prior_predictive(
    ctx: IndicatorContext, seed: int | None = None, samples: int = 300
) -> plt.Figure:
    """Prior predictive bands of the latent path: are the priors weakly informative and sane?"""
    fam = models.get_family(ctx.indicator.family)
    seed = DEFAULT_SEED if seed is None else seed
    prior = fam.prior_predictive(ctx.observations, ctx.indicator, ctx.horizon, seed, samples)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _fan(ax, prior, ctx.indicator.display_scale, "#999999", "prior")
    _setup_axes(ax, ctx.indicator, "Prior predictive: latent path (50% and 90% bands)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fit(
    ctx: IndicatorContext,
    seed: int | None = None,
    profile: str = "default",
    draws: int | None = None,
    tune: int | None = None,
) -> Trajectory | None:
    """Fit the indicator's family on the as-of view (None for family `none` or no data)."""
    seed = DEFAULT_SEED if seed is None else seed
    if ctx.indicator.family == "none" or ctx.observations.empty:
        return None
    return models.fit_indicator(
        ctx.observations,
        ctx.indicator,
        ctx.as_of,
        ctx.horizon,
        indicator_seed(seed, ctx.indicator.id),
        sampler_settings(profile, draws, tune),
    )


def diagnostics_table(traj: Trajectory) -> pd.DataFrame:
    """Convergence diagnostics and the gate's verdict, one row."""
    d = traj.diagnostics.to_dict()
    d["reasons"] = "; ".join(d.get("reasons") or []) or "-"
    return pd.DataFrame([d]).T.rename(columns={0: traj.indicator})


def _fan(ax: plt.Axes, arr, scale: float, colour: str, label: str) -> None:
    q = np.quantile(arr.values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0) * scale
    x = pd.DatetimeIndex(arr["period"].values)
    ax.fill_between(x, q[0], q[4], color=colour, alpha=0.18, lw=0, label=f"{label}: 90%")
    ax.fill_between(x, q[1], q[3], color=colour, alpha=0.35, lw=0, label=f"{label}: 50%")
    ax.plot(x, q[2], color=colour, lw=1.5, label=f"{label}: median")


def plot_fan(ctx: IndicatorContext, traj: Trajectory) -> plt.Figure:
    """Fan chart of the latent path, figures by source, and each claim's threshold and target."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    scale = ctx.indicator.display_scale
    _fan(ax, traj.latent, scale, PALETTE[0], "model")
    for i, (src, df) in enumerate(ctx.observations.groupby("source")):
        pts = df[df["censor"] == "point"]
        ax.plot(
            pts["period_end"],
            pts["value"] * scale,
            "o",
            color=PALETTE[(i + 1) % len(PALETTE)],
            label=src,
        )
        lows = df[df["censor"] == "lower"]
        ax.plot(
            lows["period_end"], lows["lower"] * scale, "^", color=PALETTE[(i + 1) % len(PALETTE)]
        )
    for c in ctx.claims:
        level = c.threshold if c.kind == "threshold" else c.value
        if level is None or c.aggregate is not None:
            continue
        ax.axhline(level * scale, color="#D55E00", ls="--", lw=0.8)
        ax.plot([pd.Timestamp(c.target_period)], [level * scale], "x", color="#D55E00", ms=9)
        ax.annotate(
            c.id,
            (pd.Timestamp(c.target_period), level * scale),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.axvline(pd.Timestamp(ctx.as_of), color="black", lw=0.8, ls=":", label=f"as of {ctx.as_of}")
    ax.legend(fontsize=7, loc="upper left")
    _setup_axes(ax, ctx.indicator, f"{ctx.indicator.name}: trajectory")
    fig.tight_layout()
    return fig


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


def write_outputs(traj: Trajectory | None, output_dir: str | Path, ctx: IndicatorContext) -> Path:
    """Write the trajectory and diagnostics for the refresh to collect."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if traj is None:
        (out / "diagnostics.json").write_text(
            json.dumps({"family": "none", "passed": True, "modelled": False})
        )
        return out
    traj.save(out)
    return out


# --- claim notebook -----------------------------------------------------------------------


@dataclass
class ClaimContext:
    """One claim with what the project knows about it (no fitting: files only)."""

    registry: Registry
    claim: Claim
    today: dt.date
    history: pd.DataFrame
    trajectory: pd.DataFrame  # tracked quantiles of the claim's indicator (may be empty)


def claim_context(
    root: str | Path, claim_id: str, today: str | dt.date | None = None
) -> ClaimContext:
    reg = load(find_root(root))
    if claim_id not in reg.claims:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(sorted(reg.claims))}")
    claim = reg.claims[claim_id]
    hist = read_history(reg.paths)
    hist = hist[hist["claim_id"] == claim_id].reset_index(drop=True)
    traj = read_quantiles(reg.paths.trajectory_file(claim.indicator)) if claim.indicator else None
    return ClaimContext(reg, claim, _date(today), hist, pd.DataFrame() if traj is None else traj)


def claim_card(ctx: ClaimContext) -> pd.Series:
    """Who said what, when, and how it is operationalised."""
    c = ctx.claim
    r = resolve(c, ctx.registry.observations, ctx.today)
    fields = {
        "statement": c.statement,
        "quote": c.quote,
        "claimant": f"{c.claimant} ({c.claimant_type}), {c.made_on}",
        "source": f"{ctx.registry.sources[c.source].publisher}"
        + (f" via {c.via}" if c.via else ""),
        "url": c.url or "",
        "kind": c.kind,
        "operationalisation": _operationalisation(c),
        "interpretation": "; ".join(c.interpretation) or "-",
        "resolution source / due": f"{c.resolution.source} / {c.resolution.expected_by}"
        if c.resolution
        else (str(c.deadline) if c.deadline else "-"),
        "stated probability": c.stated_probability if c.stated_probability is not None else "-",
        "status": r.status + (f" ({r.note})" if r.note else ""),
    }
    return pd.Series(fields, name=c.id)


def _operationalisation(c: Claim) -> str:
    if c.kind == "threshold":
        agg = f" ({c.aggregate} over {c.window_start}..{c.target_period})" if c.aggregate else ""
        return f"{c.indicator} {c.operator} {c.threshold:g} at {c.target_period}{agg}"
    if c.kind == "value":
        return f"{c.indicator} = {c.value:g} at {c.target_period}"
    return f"event by {c.deadline}"


def plot_claim(ctx: ClaimContext) -> plt.Figure | None:
    """The tracked trajectory of the settling source against the claim's threshold."""
    c = ctx.claim
    if ctx.trajectory.empty or c.indicator is None:
        return None
    ind = ctx.registry.indicators[c.indicator]
    series = (
        c.resolution.source
        if c.resolution and c.resolution.source in set(ctx.trajectory["series"])
        else "latent"
    )
    q = ctx.trajectory[ctx.trajectory["series"] == series].sort_values("period_end")
    s = ind.display_scale
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.fill_between(
        q["period_end"],
        q["q050"] * s,
        q["q950"] * s,
        color=PALETTE[0],
        alpha=0.2,
        lw=0,
        label="90%",
    )
    ax.fill_between(
        q["period_end"],
        q["q250"] * s,
        q["q750"] * s,
        color=PALETTE[0],
        alpha=0.35,
        lw=0,
        label="50%",
    )
    ax.plot(q["period_end"], q["q500"] * s, color=PALETTE[0], label=f"median ({series})")
    obs = ctx.registry.indicator_observations(c.indicator)
    pts = obs[obs["censor"] == "point"]
    ax.plot(pts["period_end"], pts["value"] * s, "o", color=PALETTE[1], label="figures")
    level = c.threshold if c.kind == "threshold" else c.value
    if level is not None and not c.aggregate:
        ax.axhline(level * s, color=PALETTE[5], ls="--", lw=1, label=f"claim: {level * s:g}")
    if c.target_period:
        ax.axvline(
            pd.Timestamp(c.target_period), color=PALETTE[5], ls=":", lw=1, label="target period"
        )
    ax.axvline(pd.Timestamp(ctx.today), color="black", ls=":", lw=0.8, label="today")
    ax.legend(fontsize=7)
    _setup_axes(ax, ind, f"{c.id}: trajectory against the claim")
    fig.tight_layout()
    return fig


def plot_probability_history(ctx: ClaimContext) -> plt.Figure | None:
    """P(claim) at each issue date, with the dates new figures for its indicator were published."""
    h = ctx.history.dropna(subset=["probability"])
    if h.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.step(h["issued_on"], h["probability"], where="post", color=PALETTE[0], marker="o")
    if ctx.claim.indicator:
        for d in ctx.registry.indicator_observations(ctx.claim.indicator)["published"].unique():
            ax.axvline(pd.Timestamp(d), color="#999999", lw=0.6, ls=":")
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(claim)")
    ax.set_xlabel("issued on (dotted: new figures published)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def claim_scores_table(ctx: ClaimContext) -> pd.DataFrame:
    """The claim's scores beside the reference forecasters (empty until it resolves)."""
    res = resolve(ctx.claim, ctx.registry.observations, ctx.today)
    rows = score_claim(ctx.registry, ctx.claim, res, read_history(ctx.registry.paths))
    return pd.DataFrame(rows)


# --- scoreboard notebook ------------------------------------------------------------------


@dataclass
class Scoreboard:
    registry: Registry
    today: dt.date
    history: pd.DataFrame
    scores: pd.DataFrame
    backtest: pd.DataFrame


def scoreboard(root: str | Path, today: str | dt.date | None = None) -> Scoreboard:
    """Everything the scoreboard shows, recomputed from history and data."""
    reg = load(find_root(root))
    date = _date(today)
    hist = read_history(reg.paths)
    bt = read_backtest(reg.paths)
    bt = pd.DataFrame() if bt is None else bt
    return Scoreboard(reg, date, hist, claim_scores(reg, hist, date), bt)


def score_comparison(sb: Scoreboard) -> pd.DataFrame:
    """Mean scores per forecaster over the resolved claims each one forecast."""
    return score_summary(sb.scores)


def reliability(sb: Scoreboard, bins: int = RELIABILITY_BINS) -> pd.DataFrame:
    """The calibration table the site draws: last forecast before each binary claim resolved."""
    return sb_eval.reliability(sb.history, sb.registry, sb.today, bins)


def source_bias(sb: Scoreboard) -> pd.DataFrame:
    """Who runs hot: each source's median report minus the latent median, per share indicator."""
    rows = []
    for ind_id, ind in sb.registry.indicators.items():
        q = read_quantiles(sb.registry.paths.trajectory_file(ind_id))
        if ind.family != "share" or q is None:
            continue
        latent = q[q["series"] == "latent"].set_index("period_end")["q500"]
        for src, df in q[~q["series"].isin(["latent", "_new"])].groupby("series"):
            d = (df.set_index("period_end")["q500"] - latent).dropna()
            spread = (df["q950"] - df["q050"]).mean() - (
                q[q["series"] == "latent"]["q950"] - q[q["series"] == "latent"]["q050"]
            ).mean()
            rows.append(
                {
                    "indicator": ind_id,
                    "source": src,
                    "bias (pp)": 100 * d.mean(),
                    "extra 90% width (pp)": 100 * spread,
                }
            )
    return pd.DataFrame(rows)
