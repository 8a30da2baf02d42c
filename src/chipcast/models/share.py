"""Bounded shares: a logistic local linear trend with source offsets, logit-normal, censored.

Model (logit scale, rates per year, dt = years per grid period):

    latent_t = level_t,  level_t = level_{t-1} + slope_{t-1} dt + sig_level sqrt(dt) z_t
    slope_t  = mu + rho^dt (slope_{t-1} - mu) + sig_slope sqrt(dt) u_t   (the slope DRIFTS,
                                               reverting to a long-run rate mu: damped)
    logit(y_i) ~ Normal(mu_i + offset_{s(i)}, sigma_{s(i)})     (censored terms for bounds)
    offset_s = tau_offset * a_s,   sigma_s = sigma_pop * exp(omega * b_s)   (hierarchical)

mu_i is the latent logit of the period the figure covers; a figure spanning several grid periods
is tied to the logit of the mean share over them. Everything is non-centred (z, u, a, b ~ N(0,1)).
A plain straight logistic trend (sig_slope = 0) on six figures gave P(share >= 55% in 2027) = 0.98
(STACK-NOTES): the drifting slope widens the forecast like h^1.5, which is what the backtest's
interval coverage asks for.

`reported[s]` = inv_logit(latent + offset_s + sigma_s * eps), eps one draw shared by every period
(a figure covering several periods carries one error, as in the likelihood), and for NEW_SOURCE
the offset and noise scale are drawn from the hierarchy. Future periods are simulated with a
seeded numpy Generator from each posterior draw's last level and slope.

The model is `_trend_family.TrendFamily` with a logit link and Gaussian noise; growth is the
same trend with a log link and Student-t noise. Sampler: nutpie (see `chipcast.models`).
"""

from __future__ import annotations

import numpy as np

from chipcast.models import _trend as TR
from chipcast.models._grid import Block
from chipcast.models._priors import (
    BoundDistance,
    Fixed,
    HalfNormal,
    LogNormal,
    Normal,
    SlopeReversion,
    TrendPriors,
)
from chipcast.models._trend_family import TrendFamily

name = "share"
version = "share-dlt-logitnormal-7"

EPS = 1e-4  # shares are clipped into [EPS, 1-EPS] before the logit

# NUTS target acceptance for this family (the floor under the profile's). Measured on the six
# shipped share series: at 0.95 every one diverged (2-55 of 4000 draws); at 0.999 none did, with
# bulk ESS 690-940 and 1-3 s of sampling. Small steps are cheap here; divergences are not.
TARGET_ACCEPT = 0.999

# All priors of the share family, on the logit scale, rates per YEAR (scaled to the grid).
PRIORS = TrendPriors(
    # Starting level: logit 0 +- 2 spans shares of ~2%..98%: weakly informative.
    level0=Normal(mu=0.0, sigma=2.0),
    # Starting slope: +-1 logit/yr is fast (12% -> 27% in a year); rarely faster.
    slope0=Normal(mu=0.0, sigma=1.0),
    # Slope drift per sqrt(year): 0.3 lets the growth rate change by ~0.5 logit/yr over three
    # years, so a three-year-out forecast is not a straight line's certainty.
    sig_slope=HalfNormal(sigma=0.3),
    # Damped trend (Gardner & McKenzie 1985): the slope reverts to a long-run rate mu_slope, a
    # spurt's excess growth decaying by rho per year. An undamped slope extrapolated Cambricon's
    # tenfold year and Nvidia's pre-ban climb into the quarters after them (full backtest).
    # Shares keep the free start (a stationary one made the long-run rate carry two figures'
    # rise).
    slope_reversion=SlopeReversion(rho_per_year=0.7, mu_sigma=0.5),
    # Level shocks per sqrt(year): zero-avoiding LogNormal scale, Gaussian. Most years move with
    # the slope; a regime break (Nvidia's China share of revenue halving after the H20 ban) is a
    # level shock. Without them the break had to be a swing of the slope that NUTS fitted only
    # with divergences (measured: 3-180 of 4000 draws on that series). An earlier half-normal
    # scale had a funnel at zero; this one cannot reach zero. Median 0.2, log-sd 0.75 (was 0.1,
    # 0.5), as for growth: the backtest's 80% intervals covered 8 of 19 share outcomes (10 with).
    sig_level=LogNormal(median=0.2, log_sd=0.75),
    # Policy shocks in the forecast (logit scale): see `_trend.POLICY_SHOCKS`.
    policy_shocks=TR.POLICY_SHOCKS,
    # Spread of source offsets (logit): IDC vs Bernstein style gaps of ~0.2-0.4 are typical;
    # half-normal so a lone source shrinks towards the consensus.
    tau_offset=HalfNormal(sigma=0.3),
    # Typical reporting noise of a source (logit): LogNormal(median 0.1, log-sd 0.5), kept away
    # from zero on purpose (no analyst reports the truth exactly; a zero-avoiding scale removes
    # the funnel that a half-normal gave with six figures). omega: spread across sources.
    sigma_pop=LogNormal(median=0.1, log_sd=0.5),
    omega=HalfNormal(sigma=0.3),
    # Fixed floor under every source's noise, added in quadrature: published figures are rounded
    # (1 pp of a 20% share is 0.06 logit); it also removes the zero-noise funnel.
    noise_floor=Fixed(value=0.04),
    # A reported bound ("more than 30%") is a round figure just below (above) the share: the
    # latent share's likelihood falls by exp(-d/scale) with its logit distance d beyond it.
    bound_distance=BoundDistance(scale=0.5),
)


def _logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


class Share(TrendFamily):
    """Logit link (a figure spanning several periods reads the logit of their mean share),
    Gaussian noise on the logit scale."""

    def observed(self, b: Block, scale: float) -> dict[str, np.ndarray]:
        masks = {
            "m_point": b.point,
            "m_lower": b.lower_bound & (np.nan_to_num(b.lower, nan=-1.0) > 0),
            "m_upper": b.upper_bound & (np.nan_to_num(b.upper, nan=2.0) < 1),
            "m_interval": b.interval,
        }
        figures = {
            "obs_point": ("m_point", b.value),
            "obs_lower": ("m_lower", b.lower),
            "obs_upper": ("m_upper", b.upper),
            "obs_iv_lower": ("m_interval", b.lower),
            "obs_iv_upper": ("m_interval", b.upper),
        }
        out = {k: m.astype(float) for k, m in masks.items()}
        for k, (m, v) in figures.items():
            out[k] = np.where(masks[m], _logit(np.nan_to_num(v, nan=0.5)), 0.0)
        return out

    def links(self, b: Block, prefix: str) -> dict[str, np.ndarray]:
        W = b.weights
        return {
            prefix + "mean_weights": W / W.sum(axis=1, keepdims=True),
            prefix + "single": b.one_period.astype(float),
        }

    def aggregate(self, level, data, prefix: str):
        import pytensor.tensor as pt

        pbar = pt.clip(pt.dot(data[prefix + "mean_weights"], pt.sigmoid(level)), EPS, 1 - EPS)
        spanned = pt.log(pbar) - pt.log1p(-pbar)
        return pt.switch(data[prefix + "single"] > 0, level[data[prefix + "last"]], spanned)

    def noise(self, mu, sd):
        import pymc as pm

        return pm.Normal.dist(mu, sd)

    def noise_draws(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_normal(shape)

    def value(self, x: np.ndarray, scale: float) -> np.ndarray:
        return _expit(x)


FAMILY = Share(name, version, PRIORS, TARGET_ACCEPT)
GATE_VARS = FAMILY.gate_vars
build_model = FAMILY.build_model
fit = FAMILY.fit
prior_predictive = FAMILY.prior_predictive
