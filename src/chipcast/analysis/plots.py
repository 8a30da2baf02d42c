"""The notebooks' charts: the site's charts (`chipcast.report.charts`), drawn from a notebook's
context, so a researcher in JupyterLab and a reader of the site see the same picture.

In JupyterLab each chart is live (tooltips give a figure's source and publication date); the
executed notebook also keeps it as SVG, which the site's notebook pages show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipcast import models
from chipcast.analysis.claim import ClaimContext
from chipcast.analysis.indicator import IndicatorContext
from chipcast.analysis.scoreboard import Scoreboard
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.scoreboard import reliability
from chipcast.models.base import Trajectory
from chipcast.registry import Registry
from chipcast.report import charts
from chipcast.store import QUANTILES, quantile_column, read_backtest_detail

PALETTE = (charts.BLUE, *charts.SOURCE_COLOURS)


def publishers(reg: Registry) -> dict[str, str]:
    """Source id -> publisher, as the charts name sources."""
    return {s.id: s.publisher for s in reg.sources.values()}


def plot_observations(ctx: IndicatorContext) -> charts.Chart:
    """The figures by source and vintage; bounds as triangles, superseded vintages hollow."""
    return charts.figures_chart(
        ctx.indicator,
        ctx.all_vintages,
        ctx.as_of,
        publishers(ctx.registry),
        title=f"{ctx.indicator.name}: figures public on {ctx.as_of}",
    )


def draw_quantiles(arr, period: str = "period") -> pd.DataFrame:  # noqa: ANN001 - xarray
    """Stored-style quantiles (q025 … q975 by period_end) of draws with dims (sample, period)."""
    q = np.quantile(np.asarray(arr.values, dtype=float), QUANTILES, axis=0)
    out = pd.DataFrame({quantile_column(lv): q[i] for i, lv in enumerate(QUANTILES)})
    out.insert(0, "period_end", pd.DatetimeIndex(arr[period].values))
    return out


def plot_prior_predictive(
    ctx: IndicatorContext, seed: int | None = None, samples: int = 300
) -> charts.Chart:
    """Prior predictive bands of the latent path: are the priors weakly informative and sane?

    An indicator that is not modelled (family `none`, or no figures yet) gets its figures alone.
    """
    quantiles = None
    if ctx.indicator.family != "none" and not ctx.observations.empty:
        fam = models.get_family(ctx.indicator.family)
        seed = DEFAULT_SEED if seed is None else seed
        prior = fam.prior_predictive(ctx.observations, ctx.indicator, ctx.horizon, seed, samples)
        quantiles = draw_quantiles(prior)
    return charts.fan(
        quantiles=quantiles,
        observations=ctx.observations,
        indicator=ctx.indicator,
        title=f"{ctx.indicator.name}: prior predictive of the latent path",
        today=ctx.as_of,
        publishers=publishers(ctx.registry),
        series_label="prior",
    )


def plot_fan(ctx: IndicatorContext, traj: Trajectory | None) -> charts.Chart:
    """The indicator page's chart: the latent fan (none when not modelled) and every figure."""
    return charts.indicator_fan(
        ctx.indicator,
        traj.quantile_frame() if traj is not None else None,
        ctx.all_vintages,
        ctx.as_of,
        publishers(ctx.registry),
    )


def plot_claim(ctx: ClaimContext) -> charts.Chart | None:
    """The claim page's chart: the settling source's fan against the threshold and target."""
    c = ctx.claim
    if c.indicator is None:
        return None
    reg = ctx.registry
    return charts.claim_fan(
        c,
        reg.indicators[c.indicator],
        ctx.trajectory,
        reg.indicator_observations(c.indicator),
        ctx.today,
        publishers(reg),
    )


def plot_probability_history(ctx: ClaimContext) -> charts.Chart | None:
    """The claim page's history chart: each forecast, the days new figures were published."""
    c = ctx.claim
    col = "q500" if c.kind == "value" else "probability"
    h = ctx.history.dropna(subset=[col])
    if h.empty:
        return None
    reg = ctx.registry
    dates = (
        sorted(
            pd.to_datetime(reg.indicator_observations(c.indicator)["published"]).dropna().unique()
        )
        if c.indicator
        else []
    )
    return charts.history_chart(
        h,
        kind=c.kind,
        today=ctx.today,
        data_dates=dates,
        stated=c.stated_probability,
        claimed=c.value if c.kind == "value" else None,
        indicator=reg.indicators.get(c.indicator) if c.indicator else None,
    )


def plot_claim_path(ctx: ClaimContext) -> charts.Chart | None:
    """The claim page's chart when the claim has hindcasts: the hindcast path (labelled
    "hindcast: today's model on the data public then"), then the forecasts issued, with each
    figure published marked by its value and source (None without hindcasts)."""
    from chipcast.analysis.claim import claim_figures, claim_timeline_frame
    from chipcast.evaluate.resolution import resolve
    from chipcast.store import HINDCAST_LABEL

    if ctx.hindcasts.empty:
        return None
    c = ctx.claim
    return charts.claim_path_chart(
        claim_timeline_frame(ctx),
        claim_figures(ctx),
        kind=c.kind,
        today=ctx.today,
        hindcast_label=HINDCAST_LABEL,
        stated=c.stated_probability,
        claimed=c.value if c.kind == "value" else None,
        indicator=ctx.registry.indicators.get(c.indicator) if c.indicator else None,
        title="What the model would have said, then what it issued",
        until=resolve(c, ctx.registry.observations, ctx.today).resolved_on,
    )


def plot_backtest_events(sb: Scoreboard) -> charts.Chart:
    """Reliability of P(the next figure comes in above the last one public), over the backtest
    targets (the scoreboard's calibration with the most outcomes)."""
    from chipcast.evaluate.backtest import event_reliability

    table, _n = event_reliability(read_backtest_detail(sb.registry.paths))
    return charts.reliability_chart(
        table, "Backtest: P(the next figure comes in above the last one public)"
    )


def plot_reliability(sb: Scoreboard) -> charts.Chart:
    """The scoreboard's reliability diagram (last forecast before each binary claim resolved)."""
    return charts.reliability_chart(reliability(sb.history, sb.registry, sb.today))


def plot_pit(sb: Scoreboard) -> charts.Chart:
    """The scoreboard's PIT histogram of the Bayesian models' backtest forecasts."""
    return charts.pit_histogram(charts.backtest_pit(read_backtest_detail(sb.registry.paths)))
