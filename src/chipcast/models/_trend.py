"""Building blocks of a local linear trend: the latent path in PyMC and its numpy forecast.

Share and growth share one trend (`trend_and_sources`: a level with Gaussian shocks, a damped
drifting slope, per-source offsets and noise), built on a padded design (`_grid.pad`) whose
every figure, mask and index is `pm.Data`; `extend_llt` simulates the same trend forward, with
the forecast's policy shocks. Rates are per year; dt is years per grid period.
"""

from __future__ import annotations

import numpy as np

from chipcast.models._grid import Design, period_years
from chipcast.models._priors import PolicyShocks, TrendPriors
from chipcast.models._sampling import flat
from chipcast.schema import Indicator

# Policy shocks, in the share and growth forecasts only: an export-control rule, a licence ban or
# a purchase guidance moves an exposed series by a large factor at a date no trend foresees
# (Nvidia's China revenue after the October 2023 rule and the April 2025 H20 licence requirement:
# roughly halved each time). Future periods get compound-Poisson jumps, rate per year and sd on
# the family's scale (log or logit): 0.5 a year (the field saw such an action every year or so
# since 2022, not every one hitting every series) and sd 0.7 (a factor of 2 at one sd). Not
# fitted: three to twenty figures cannot identify a rare jump beside the Gaussian shocks (heavy-
# tailed shocks made the fit multimodal, see the growth family's sig_level), so this is the
# field's prior, in the forecast as in the prior predictive.
POLICY_SHOCKS = PolicyShocks(rate_per_year=0.5, sd=0.7)

# The parameters of `trend_and_sources` that the convergence gate checks (families filter by
# what the posterior holds: slope0 is a Deterministic of a stationary start).
TREND_GATE_VARS = [
    *("level0", "slope0", "mu_slope", "sig_slope", "sig_level"),
    *("tau_offset", "sigma_pop", "omega", "a_offset", "b_noise", "latent"),
]


def llt_path(
    level0,
    slope0,
    sig_level,
    sig_slope,
    z_level,
    z_slope,
    dt_years,
    backend,
    n_steps: int,
    rho=1.0,
    mu_slope=0.0,
):
    """Local linear trend (level + a slope that reverts to mu_slope), non-centred; rates per year.

    level_t = level_{t-1} + slope_{t-1}*dt + sig_level*sqrt(dt)*z_level_t
    slope_t = mu_slope + rho*(slope_{t-1} - mu_slope) + sig_slope*sqrt(dt)*z_slope_t
    `rho` is the reversion factor per grid step (1: a random-walk slope, the classic trend);
    `backend` is pytensor.tensor or numpy (same arithmetic for the model and the forecast);
    `n_steps` is T - 1, the length of z_slope.
    """
    sq = dt_years**0.5
    slope_steps = sig_slope * sq * z_slope  # (T-1,)
    # slope_t - mu = rho^t * (slope0 - mu + sum_{s<=t} rho^-s e_s): a cumsum, like the classic
    # trend's (a dense rho^(t-s) matrix product compiled twice as slowly under numba)
    t = np.arange(1, n_steps + 1, dtype=float)
    decay = rho**t
    rest = mu_slope + decay * (slope0 - mu_slope + backend.cumsum(slope_steps / decay))
    slope = backend.concatenate([backend.reshape(slope0, (1,)), rest])
    steps = slope[:-1] * dt_years + sig_level * sq * z_level
    level = backend.concatenate([backend.reshape(level0, (1,)), level0 + backend.cumsum(steps)])
    return level, slope


def beyond_bound(d, weight, priors: TrendPriors, smooth: float = 0.05):
    """How far latent values lie beyond the bounds reported for them, as a log-likelihood cost.

    `d` is the distance past the bound on the family's scale (latent minus a lower bound, upper
    bound minus latent), `weight` 1 for a real bound and 0 for padding; the cost is
    sum(weight * max(d, 0)) / bound_distance.scale, smoothed at 0 (softplus) so NUTS sees a
    gradient. See the families' `bound_distance` prior for why.
    """
    import pytensor.tensor as pt

    return pt.sum(weight * smooth * pt.softplus(d / smooth)) / priors.bound_distance.scale


def stationary_start(priors: TrendPriors) -> bool:
    """Whether the family's damped slope starts from its stationary law (`stationary_slope_sd`)
    rather than from the independent `slope0` prior."""
    return bool(priors.slope_reversion.stationary_start)


def stationary_slope_sd(sig_slope, rho, dt_years):
    """The sd of a damped slope's excess over its long-run rate in the stationary state:
    sig_slope sqrt(dt) / sqrt(1 - rho^2), rho per grid step.

    The excess is an AR(1), so a series first observed at an arbitrary date meets it in that
    state, and the first period's slope is its long-run rate plus a draw of this spread. An
    independent wide prior on the first slope (N(0, 1) a year, as before) let two figures set a
    growth rate that the damped trend then extrapolated (Nvidia's China revenue, 2.49 -> 3.67bn:
    forecast at 10.6bn five quarters on; the next figures were 5.4-5.5 and then 2.8).
    """
    return sig_slope * dt_years**0.5 / (1.0 - rho**2) ** 0.5


def centring(fitted_steps: np.ndarray, pinned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centred_steps, anchor) for `trend_and_sources`: step t (into period t + 1) is centred
    where `pinned[t + 1]` and it is a fitted step; anchor[j] is the index, in [level0, x...], of
    the free level that period j's level builds on."""
    c = (np.asarray(fitted_steps, float) > 0) & np.asarray(pinned, bool)[1:]
    anchor = np.zeros(len(c) + 1, dtype=np.int64)
    for j in range(1, len(anchor)):
        anchor[j] = j if c[j - 1] else anchor[j - 1]
    return c.astype(float), anchor


def trend_and_sources(priors: TrendPriors, periods: int, data: dict):
    """The latent trend and the per-source terms shared by the share and growth families.

    Creates, inside a PyMC model context whose coords hold "period", "step" and "source" (the
    padded sizes), in this order: level0, slope0 (or, for a family whose damped slope starts
    stationary, its standardised draw slope0_z: slope0 = mu_slope + the stationary sd times it,
    `stationary_slope_sd`), sig_slope, the source hierarchy (tau_offset, sigma_pop, omega,
    a_offset, b_noise), the level shocks' scale, the per-step level parameters, the slope
    innovations and mu_slope; returns (level, slope, offset, sigma_s) with the Deterministics
    the families read back (latent, slope, offset, sigma_s). `data` holds the padded design's
    tensors: dt_years, free_source (a lone source is the reference, offset 0: its offset is not
    identified beside the level, a ridge that costs ESS; tau still feeds NEW_SOURCE from its
    prior), centred_steps and anchor (`centring`).

    A centred step makes the next level a free parameter with the shock as its transition
    density; a non-centred one adds a standardised shock to the level before it: the same
    model, a different geometry. Centred suits a level that a figure pins (non-centred, its
    shock would scale as 1/sig_level: a funnel; measured on Cambricon's 24 quarters: 53 s of
    sampling at maximum tree depth non-centred, 2 s centred, same posterior); non-centred suits
    a level no figure pins (a gap, a quarter inside an annual total, the forecast's padding),
    where a centred level would make the funnel instead.
    """
    import pymc as pm
    import pytensor.tensor as pt

    P = priors
    T = periods
    dt = data["dt_years"]
    sq = pt.sqrt(dt)
    level0 = pm.Normal("level0", P.level0.mu, P.level0.sigma)
    stationary = stationary_start(P)
    slope0 = None if stationary else pm.Normal("slope0", P.slope0.mu, P.slope0.sigma)
    z0 = pm.Normal("slope0_z", 0, 1) if stationary else None
    sig_slope = pm.HalfNormal("sig_slope", P.sig_slope.sigma)
    tau = pm.HalfNormal("tau_offset", P.tau_offset.sigma)
    sigma_pop = pm.LogNormal("sigma_pop", np.log(P.sigma_pop.median), P.sigma_pop.log_sd)
    omega = pm.HalfNormal("omega", P.omega.sigma)
    a = pm.Normal("a_offset", 0, 1, dims="source")
    b = pm.Normal("b_noise", 0, 1, dims="source")
    # Level shocks: a zero-avoiding (LogNormal) scale, so shocks and scale form no funnel.
    sig_level = pm.LogNormal("sig_level", np.log(P.sig_level.median), P.sig_level.log_sd)
    x = pm.Flat("level_x", dims="step")  # per step: the next level (centred) or its shock
    u = pm.Normal("u_slope", 0, 1, dims="step")
    rho = P.slope_reversion.rho_per_year**dt
    mu = pm.Normal("mu_slope", P.slope_reversion.mu_mean, P.slope_reversion.mu_sigma)
    if stationary:
        slope0 = pm.Deterministic("slope0", mu + stationary_slope_sd(sig_slope, rho, dt) * z0)
    _, slope = llt_path(level0, slope0, 0.0, sig_slope, 0.0, u, dt, pt, T - 1, rho, mu)
    # A centred step's level is x itself, with the shock's density as its prior; a non-centred
    # step adds slope * dt + sig_level sqrt(dt) x to the level of the step's anchor (the last
    # centred level before it, or level0), x standard normal. Which steps are centred is data
    # (`centred_steps`, `anchor`): one graph for every regime.
    c = data["centred_steps"]
    anchor = data["anchor"]
    free_levels = pt.concatenate([pt.reshape(level0, (1,)), x])
    inc = slope[:-1] * dt + sig_level * sq * x
    cum = pt.concatenate([pt.zeros(1), pt.cumsum((1.0 - c) * inc)])
    level = free_levels[anchor] + cum - cum[anchor]
    step = pm.Normal.dist(level[:-1] + slope[:-1] * dt, sig_level * sq)
    pm.Potential("level_steps", pt.sum(c * pm.logp(step, x)))
    pm.Potential("level_shocks", pt.sum((1.0 - c) * pm.logp(pm.Normal.dist(0, 1), x)))
    free = data["free_source"]
    pm.Deterministic("latent", level, dims="period")
    pm.Deterministic("slope", slope, dims="period")
    offset = pm.Deterministic("offset", tau * a * free, dims="source")
    sigma_s = pm.Deterministic(
        "sigma_s",
        pt.sqrt(P.noise_floor.value**2 + pt.square(sigma_pop * pt.exp(omega * b * free))),
        dims="source",
    )
    return level, slope, offset, sigma_s


def extend_llt(
    rng: np.random.Generator,
    level: np.ndarray,
    slope: np.ndarray,
    sig_level: np.ndarray | float,
    sig_slope: np.ndarray | float,
    n_future: int,
    dt_years: float,
    rho: float = 1.0,
    mu_slope: np.ndarray | float = 0.0,
    policy_shocks: PolicyShocks | None = None,
) -> np.ndarray:
    """Simulate `n_future` more periods of a local linear trend from each draw's last state.

    level, slope: (S,) last state; rho, mu_slope: the slope's reversion (see `llt_path`);
    `policy_shocks` adds compound-Poisson jumps to the level: in each period a Poisson(rate * dt)
    number of jumps, each N(0, sd^2) on the family's scale (the families' `policy_shocks` prior
    says why). Returns (S, n_future) levels.
    """
    S = level.shape[0]
    out = np.empty((S, n_future))
    lv, sl = level.copy(), slope.copy()
    sq = np.sqrt(dt_years)
    for h in range(n_future):
        lv = lv + sl * dt_years + sig_level * sq * rng.standard_normal(S)
        if policy_shocks is not None:
            k = rng.poisson(policy_shocks.rate_per_year * dt_years, S)
            lv = lv + policy_shocks.sd * np.sqrt(k) * rng.standard_normal(S)
        sl = mu_slope + rho * (sl - mu_slope) + sig_slope * sq * rng.standard_normal(S)
        out[:, h] = lv
    return out


def policy_shocks_for(priors: TrendPriors, indicator: Indicator) -> PolicyShocks | None:
    """The family's policy-shock prior for `extend_llt`, or None when the indicator is not
    exposed to them (`Indicator.policy_shocks`)."""
    return priors.policy_shocks if indicator.policy_shocks else None


def sig_level_prior(priors: TrendPriors, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draws of the level-shock scale from its prior (the LogNormal of `trend_and_sources`)."""
    return rng.lognormal(np.log(priors.sig_level.median), priors.sig_level.log_sd, n)


def reversion_draws(
    idata, priors: TrendPriors, dt_years: float, n: int, rng: np.random.Generator
) -> tuple[float, np.ndarray]:
    """(rho per step, mu_slope draws) for `extend_llt`: the posterior's mu_slope, or prior draws
    when `idata` is None."""
    p = priors.slope_reversion
    if idata is not None and "mu_slope" in idata.posterior:
        return p.rho_per_year**dt_years, flat(idata, "mu_slope")
    return p.rho_per_year**dt_years, rng.normal(p.mu_mean, p.mu_sigma, n)


def prior_trend_paths(
    priors: TrendPriors,
    indicator: Indicator,
    design: Design,
    samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Latent trend paths over the design's grid under the priors alone, (samples, periods), on
    the family's scale (logit or log): the prior predictive of `trend_and_sources`' trend with
    level shocks, and of the forecast's policy shocks when the indicator is exposed to them."""
    P = priors
    n_periods, frequency = len(design.grid), design.frequency
    lv = rng.normal(P.level0.mu, P.level0.sigma, samples)
    sl = rng.normal(P.slope0.mu, P.slope0.sigma, samples)
    sig_l = sig_level_prior(P, rng, samples)
    sig_s = np.abs(rng.normal(0, P.sig_slope.sigma, samples))
    dty = period_years(frequency)
    rho, mu = reversion_draws(None, P, dty, samples, rng)
    if n_periods > 1 and stationary_start(P):  # as in `trend_and_sources`
        sl = mu + stationary_slope_sd(sig_s, rho, dty) * rng.standard_normal(samples)
    shocks = policy_shocks_for(P, indicator)
    rest = extend_llt(rng, lv, sl, sig_l, sig_s, n_periods - 1, dty, rho, mu, shocks)
    return np.concatenate([lv[:, None], rest], axis=1)
