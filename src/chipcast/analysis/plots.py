"""The notebooks' charts (matplotlib): figures by vintage, prior and posterior fans, a claim's
trajectory and its probability over time."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from chipcast import models
from chipcast.analysis.claim import ClaimContext
from chipcast.analysis.indicator import IndicatorContext
from chipcast.evaluate import DEFAULT_SEED
from chipcast.models.base import Trajectory
from chipcast.schema import Indicator

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _setup_axes(ax: plt.Axes, ind: Indicator, title: str) -> None:
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("period end")
    ax.set_ylabel(ind.label)
    ax.grid(alpha=0.3)


def plot_observations(ctx: IndicatorContext) -> plt.Figure:
    """The figures by source and vintage; bounds drawn as arrows, revisions as hollow points."""
    fig, ax = plt.subplots(figsize=(8, 4))
    scale = ctx.indicator.display_scale
    current = set(ctx.current_rows())
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
