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

Sampler: nutpie (see `chipcast.models` for the measurement that pinned it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.models import _common as C
from chipcast.models.base import DEFAULT_SETTINGS, NEW_SOURCE, SamplerSettings, Trajectory
from chipcast.schema import Indicator

name = "share"
version = "share-dlt-logitnormal-7"

EPS = 1e-4  # shares are clipped into [EPS, 1-EPS] before the logit

# NUTS target acceptance for this family (the floor under the profile's). Measured on the six
# shipped share series: at 0.95 every one diverged (2-55 of 4000 draws); at 0.999 none did, with
# bulk ESS 690-940 and 1-3 s of sampling. Small steps are cheap here; divergences are not.
TARGET_ACCEPT = 0.999

# All priors of the share family, on the logit scale, rates per YEAR (scaled to the grid).
PRIORS: dict[str, dict[str, float]] = {
    # Starting level: logit 0 +- 2 spans shares of ~2%..98%: weakly informative.
    "level0": {"mu": 0.0, "sigma": 2.0},
    # Starting slope: +-1 logit/yr is fast (12% -> 27% in a year); rarely faster.
    "slope0": {"mu": 0.0, "sigma": 1.0},
    # Slope drift per sqrt(year): 0.3 lets the growth rate change by ~0.5 logit/yr over three
    # years, so a three-year-out forecast is not a straight line's certainty.
    "sig_slope": {"sigma": 0.3},
    # Damped trend (Gardner & McKenzie 1985): the slope reverts to a long-run rate mu_slope, a
    # spurt's excess growth decaying by rho per year. An undamped slope extrapolated Cambricon's
    # tenfold year and Nvidia's pre-ban climb into the quarters after them (full backtest).
    "slope_reversion": {"rho_per_year": 0.7, "mu_sigma": 0.5},
    # Level shocks per sqrt(year): zero-avoiding LogNormal scale, Gaussian. Most years move with
    # the slope; a regime break (Nvidia's China share of revenue halving after the H20 ban) is a
    # level shock. Without them the break had to be a swing of the slope that NUTS fitted only
    # with divergences (measured: 3-180 of 4000 draws on that series). An earlier half-normal
    # scale had a funnel at zero; this one cannot reach zero. Median 0.2, log-sd 0.75 (was 0.1,
    # 0.5), as for growth: the backtest's 80% intervals covered 8 of 19 share outcomes (10 with).
    "sig_level": {"median": 0.2, "log_sd": 0.75},
    # Policy shocks in the forecast (logit scale): see `C.POLICY_SHOCKS`.
    "policy_shocks": C.POLICY_SHOCKS,
    # Spread of source offsets (logit): IDC vs Bernstein style gaps of ~0.2-0.4 are typical;
    # half-normal so a lone source shrinks towards the consensus.
    "tau_offset": {"sigma": 0.3},
    # Typical reporting noise of a source (logit): LogNormal(median 0.1, log-sd 0.5), kept away
    # from zero on purpose (no analyst reports the truth exactly; a zero-avoiding scale removes
    # the funnel that a half-normal gave with six figures). omega: spread across sources.
    "sigma_pop": {"median": 0.1, "log_sd": 0.5},
    "omega": {"sigma": 0.3},
    # Fixed floor under every source's noise, added in quadrature: published figures are rounded
    # (1 pp of a 20% share is 0.06 logit; 3% of a flow); it also removes the zero-noise funnel.
    "noise_floor": {"value": 0.04},
    # A reported bound ("more than 30%") is a round figure just below (above) the share: the
    # latent share's likelihood falls by exp(-d/scale) with its logit distance d beyond it.
    "bound_distance": {"scale": 0.5},
}


def _logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def build_model(design: C.Design):
    """The PyMC model for the fitted periods of `design` (shares as fractions)."""
    import pymc as pm
    import pytensor.tensor as pt

    P = PRIORS
    T = design.n_fit
    dty = C.period_years(design.frequency)
    S = len(design.sources)
    W = design.weights()
    single = design.first == design.last
    Wn = W / W.sum(axis=1, keepdims=True)
    sidx = design.source_idx
    coords = {"source": design.sources, "step": np.arange(max(T - 1, 1))}
    with pm.Model(coords=coords) as model:
        level, slope, offset, sigma_s = C.trend_and_sources(P, S, T, dty, shocks=True)

        if single.all():
            mu_lat = level[design.last]
        else:
            pbar = pt.dot(pt.as_tensor(Wn), pt.sigmoid(level))
            pbar = pt.clip(pbar, EPS, 1 - EPS)
            mu_lat = pt.where(single, level[design.last], pt.log(pbar) - pt.log1p(-pbar))
        mu = mu_lat + offset[sidx]
        sd = sigma_s[sidx]

        pt_mask = design.mask("point")
        if pt_mask.any():
            pm.Normal(
                "y_point",
                mu[pt_mask],
                sd[pt_mask],
                observed=pm.Data("obs_point", _logit(design.value[pt_mask])),
            )
        lo_mask = design.mask("lower") & (design.lower > 0)
        if lo_mask.any():
            d = pm.Normal.dist(mu[lo_mask], sd[lo_mask])
            bound = pm.Data("obs_lower", _logit(design.lower[lo_mask]))
            pm.Potential("y_lower", pm.math.sum(pm.logccdf(d, bound)))
            pm.Potential("y_lower_near", -C.beyond_bound(mu_lat[lo_mask] - bound, P))
        up_mask = design.mask("upper") & (design.upper < 1)
        if up_mask.any():
            d = pm.Normal.dist(mu[up_mask], sd[up_mask])
            bound = pm.Data("obs_upper", _logit(design.upper[up_mask]))
            pm.Potential("y_upper", pm.math.sum(pm.logcdf(d, bound)))
            pm.Potential("y_upper_near", -C.beyond_bound(bound - mu_lat[up_mask], P))
        iv_mask = design.mask("interval")
        if iv_mask.any():
            d = pm.Normal.dist(mu[iv_mask], sd[iv_mask])
            hi = pm.logcdf(d, pm.Data("obs_iv_upper", _logit(design.upper[iv_mask])))
            lo = pm.logcdf(d, pm.Data("obs_iv_lower", _logit(design.lower[iv_mask])))
            pm.Potential("y_interval", pm.math.sum(pm.math.logdiffexp(hi, lo)))
    return model


GATE_VARS = C.TREND_GATE_VARS


def fit(
    observations: pd.DataFrame,
    indicator: Indicator,
    as_of: dt.date,
    horizon: dt.date,
    seed: int,
    settings: SamplerSettings = DEFAULT_SETTINGS,
) -> Trajectory:
    obs = C.modelled(observations)
    design = C.snap(obs, indicator.frequency, horizon)
    model = build_model(design)
    settings = replace(settings, target_accept=max(settings.target_accept, TARGET_ACCEPT))
    idata, *sampled = C.sample(model, seed, settings, key=C.structure_key(name, design))
    gate_vars = [v for v in GATE_VARS if v in idata.posterior]
    diag = C.gate_diagnostics(idata, name, settings, gate_vars, sampled, design.n_obs)

    rng = np.random.default_rng([seed, 1])
    level = C.flat(idata, "latent")
    slope = C.flat(idata, "slope")
    n_future = len(design.grid) - design.n_fit
    if n_future > 0:
        fut = C.extend_llt(
            rng,
            level[:, -1],
            slope[:, -1],
            C.sig_level_draws(idata, PRIORS, rng, level.shape[0]),
            C.flat(idata, "sig_slope"),
            n_future,
            C.period_years(design.frequency),
            *C.reversion_draws(
                idata, PRIORS, C.period_years(design.frequency), level.shape[0], rng
            ),
            C.policy_shocks_for(PRIORS, indicator),
        )
        level = np.concatenate([level, fut], axis=1)
    n = level.shape[0]
    offset = C.flat(idata, "offset")
    sigma_s = C.flat(idata, "sigma_s")
    tau = C.flat(idata, "tau_offset")
    sigma_pop, omega = C.flat(idata, "sigma_pop"), C.flat(idata, "omega")
    # one reporting error per draw, shared by the periods (see the growth family)
    reported = {}
    for j, s in enumerate(design.sources):
        eps = rng.standard_normal((n, 1))
        reported[s] = _expit(level + offset[:, j, None] + sigma_s[:, j, None] * eps)
    off_new = tau * rng.standard_normal(n)
    sig_new = np.sqrt(
        PRIORS["noise_floor"]["value"] ** 2
        + (sigma_pop * np.exp(omega * rng.standard_normal(n))) ** 2
    )
    reported[NEW_SOURCE] = _expit(
        level + off_new[:, None] + sig_new[:, None] * rng.standard_normal((n, 1))
    )
    return C.make_trajectory(
        indicator, name, version, as_of, seed, design.grid, _expit(level), reported, diag
    )


def prior_predictive(
    observations: pd.DataFrame,
    indicator: Indicator,
    horizon: dt.date,
    seed: int,
    samples: int = 500,
) -> xr.DataArray:
    """Draws of the latent share path under the priors alone, dims (sample, period)."""
    obs = C.modelled(observations)
    design = C.snap(obs, indicator.frequency, horizon)
    rng = np.random.default_rng([seed, 2])
    path = C.prior_trend_paths(PRIORS, indicator, design, samples, rng)
    return xr.DataArray(
        _expit(path), dims=("sample", "period"), coords={"period": design.grid}, name="latent"
    )
