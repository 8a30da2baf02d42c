"""The trend family base: share and growth are one model that differs by link and likelihood.

Both fit `_trend.trend_and_sources` on a padded design: figure i reads the latent path through
the family's link (`aggregate`: the logit of the mean share over the periods a figure covers,
or the log of the summed flow), plus its source's offset, with the family's noise (Normal or
Student-t) around it; bounds enter as censored terms plus the bound-distance cost. Every figure,
mask and index is `pm.Data`, and so is which levels are sampled centred, so the graph depends
only on the family, its priors and the size class, and `_sampling.COMPILED` compiles it once
per process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.models import _trend as TR
from chipcast.models._grid import (
    Block,
    Design,
    Padded,
    SizeClass,
    modelled,
    pad,
    period_years,
    snap,
)
from chipcast.models._priors import TrendPriors
from chipcast.models._sampling import flat, gate_diagnostics, sample, unpadded
from chipcast.models.base import (
    DEFAULT_SETTINGS,
    NEW_SOURCE,
    SamplerSettings,
    Trajectory,
    make_trajectory,
    source_effects,
)
from chipcast.schema import Indicator


class TrendFamily:
    """A local-linear-trend family; subclasses give the link, the noise and the data scale."""

    gate_vars: list[str] = TR.TREND_GATE_VARS
    # How a source's offset reads in the indicator's terms: "difference" (points of a share) or
    # "ratio" (a flow's fraction above the latent); see `effects`.
    effect: str = "difference"

    def __init__(
        self,
        name: str,
        version: str,
        priors: TrendPriors,
        target_accept: float,
        centring: str = "series",
    ):
        self.name, self.version = name, version
        self.priors, self.target_accept = priors, target_accept
        self.centring = centring

    # --- what a subclass states ----------------------------------------------------------
    def scale(self, design: Design) -> float:
        """The unit the figures are divided by before the link (1 for shares)."""
        return 1.0

    def centred(self, design: Design) -> bool:
        """Whether every fitted level is sampled centred, under the "series" rule."""
        return False

    def centred_periods(self, design: Design, p: Padded, d: dict[str, np.ndarray]) -> np.ndarray:
        """(periods,) which levels are sampled centred (see `trend_and_sources`), by `centring`:
        "series": all fitted ones when `centred(design)`, else none; "pinned": those a point
        figure of exactly that period pins; "none": no level."""
        T = p.size.periods
        if self.centring == "none":
            return np.zeros(T, bool)
        if self.centring == "series":
            return np.arange(T) < (p.n_fit if self.centred(design) else 0)
        pinned = np.zeros(T, bool)
        own = (d["m_point"] > 0) & (d["p_single"] > 0)
        pinned[p.points.last[own]] = True
        return pinned

    def observed(self, b: Block, scale: float) -> dict[str, np.ndarray]:
        """A block's masks (1.0 where a term applies: m_point, m_lower, m_upper, m_interval)
        and figures on the model scale (obs_point, obs_lower, obs_upper, obs_iv_lower,
        obs_iv_upper; 0 where masked)."""
        raise NotImplementedError

    def links(self, b: Block, prefix: str) -> dict[str, np.ndarray]:
        """The data `aggregate` reads for a block, names starting with `prefix`."""
        raise NotImplementedError

    def aggregate(self, level, data, prefix: str):
        """The latent value each figure of a block reads, on the model scale."""
        raise NotImplementedError

    def noise(self, mu, sd):
        """The reporting-noise distribution (a PyMC .dist)."""
        raise NotImplementedError

    def noise_draws(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def value(self, x: np.ndarray, scale: float) -> np.ndarray:
        """Model scale back to the indicator's units."""
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------
    def graph_key(self, design: Design, size: SizeClass) -> tuple:
        """What fixes the compiled graph: everything but the data."""
        return (self.name, self.version, self.priors, size)

    def data(self, design: Design, size: SizeClass | None = None) -> tuple[Padded, dict, float]:
        """The padded design's arrays, as the model's `pm.Data`: point figures prefixed p_,
        bounds b_ (absent when the size class has no bound block)."""
        p = pad(design, size)
        scale = self.scale(design)
        pts = self.observed(p.points, scale)
        d = {
            "dt_years": np.float64(p.dt_years),
            "free_source": p.free_source,
            "p_last": p.points.last,
            "p_source": p.points.source_idx,
            **self.links(p.points, "p_"),
            "m_point": pts["m_point"],
            "obs_point": pts["obs_point"],
        }
        if p.size.bounds:
            bds = self.observed(p.bounds, scale)
            d |= {"b_last": p.bounds.last, "b_source": p.bounds.source_idx}
            d |= self.links(p.bounds, "b_")
            d |= {k: v for k, v in bds.items() if k not in ("m_point", "obs_point")}
        c, anchor = TR.centring(p.fitted_steps, self.centred_periods(design, p, d))
        d["centred_steps"], d["anchor"] = c, anchor
        return p, d, scale

    def build_model(self, design: Design, size: SizeClass | None = None):
        """The PyMC model of `design` in its size class (or `size`)."""
        import pymc as pm
        import pytensor.tensor as pt

        p, values, _ = self.data(design, size)
        T, S = p.size.periods, p.size.sources
        coords = {"period": np.arange(T), "step": np.arange(T - 1), "source": np.arange(S)}
        with pm.Model(coords=coords) as model:
            d = {k: pm.Data(k, v) for k, v in values.items()}
            level, _, offset, sigma_s = TR.trend_and_sources(self.priors, T, d)
            mu = self.aggregate(level, d, "p_") + offset[d["p_source"]]
            noise = self.noise(mu, sigma_s[d["p_source"]])
            pm.Potential("y_point", pt.sum(d["m_point"] * pm.logp(noise, d["obs_point"])))
            if p.size.bounds:
                self._censored(d, level, offset, sigma_s)
        return model

    def _censored(self, d, level, offset, sigma_s) -> None:
        """The bounds' terms: censored noise plus the bound-distance cost; a masked bound is
        read where the terms are flat and finite (at its mean)."""
        import pymc as pm
        import pytensor.tensor as pt

        mu_lat = self.aggregate(level, d, "b_")
        mu = mu_lat + offset[d["b_source"]]
        noise = self.noise(mu, sigma_s[d["b_source"]])
        lo = pt.switch(d["m_lower"] > 0, d["obs_lower"], mu)
        pm.Potential("y_lower", pt.sum(d["m_lower"] * pm.logccdf(noise, lo)))
        pm.Potential("y_lower_near", -TR.beyond_bound(mu_lat - lo, d["m_lower"], self.priors))
        hi = pt.switch(d["m_upper"] > 0, d["obs_upper"], mu)
        pm.Potential("y_upper", pt.sum(d["m_upper"] * pm.logcdf(noise, hi)))
        pm.Potential("y_upper_near", -TR.beyond_bound(hi - mu_lat, d["m_upper"], self.priors))
        iv_hi = pt.switch(d["m_interval"] > 0, d["obs_iv_upper"], mu)
        iv_lo = pt.switch(d["m_interval"] > 0, d["obs_iv_lower"], mu - 1.0)
        mass = pm.math.logdiffexp(pm.logcdf(noise, iv_hi), pm.logcdf(noise, iv_lo))
        pm.Potential("y_interval", pt.sum(d["m_interval"] * mass))

    def fit(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        as_of: dt.date,
        horizon: dt.date,
        seed: int,
        settings: SamplerSettings = DEFAULT_SETTINGS,
        size: SizeClass | None = None,
    ) -> Trajectory:
        obs = modelled(observations)
        design = snap(obs, indicator.frequency, horizon)
        size = size or SizeClass.of(design)
        model = self.build_model(design, size)
        scale = self.scale(design)
        settings = replace(settings, target_accept=max(settings.target_accept, self.target_accept))
        idata, info = sample(model, seed, settings, key=self.graph_key(design, size))
        n_fit, S = design.n_fit, len(design.sources)
        gate_vars = [
            v for v in self.gate_vars if S > 1 or v not in ("a_offset", "b_noise")
        ]  # a lone source's offset and noise are not parameters
        view = unpadded(idata, gate_vars, {"period": slice(0, n_fit), "source": slice(0, S)})
        diag = gate_diagnostics(
            view, self.name, settings, list(view.posterior.data_vars), info, design.n_obs,
            size.label,
        )  # fmt: skip

        P = self.priors
        rng = np.random.default_rng([seed, 1])
        level = flat(idata, "latent")[:, :n_fit]
        slope = flat(idata, "slope")[:, :n_fit]
        n = level.shape[0]
        if n_fit == 1 and TR.stationary_start(P):
            # one period: no step to start stationary from; the first slope has its own prior
            slope = rng.normal(P.slope0.mu, P.slope0.sigma, (n, 1))
        n_future = len(design.grid) - n_fit
        if n_future > 0:
            dty = period_years(design.frequency)
            fut = TR.extend_llt(
                rng,
                level[:, -1],
                slope[:, -1],
                flat(idata, "sig_level"),
                flat(idata, "sig_slope"),
                n_future,
                dty,
                *TR.reversion_draws(idata, P, dty, n, rng),
                TR.policy_shocks_for(P, indicator),
            )
            level = np.concatenate([level, fut], axis=1)
        offset = flat(idata, "offset")[:, :S]
        sigma_s = flat(idata, "sigma_s")[:, :S]
        tau, sigma_pop, omega = (flat(idata, v) for v in ("tau_offset", "sigma_pop", "omega"))
        # One reporting error per draw, shared by the periods (shape (n, 1)): a figure is one
        # report with one error whatever span it covers (a year's total, a claim's three-year
        # sum), as in the likelihood; an error per quarter would average down in a sum (a
        # four-quarter total with half a quarter's noise). Claims and backtest targets are each
        # one figure; the joint of two figures of one source is not represented.
        reported = {}
        for j, s in enumerate(design.sources):
            eps = self.noise_draws(rng, (n, 1))
            reported[s] = self.value(level + offset[:, j, None] + sigma_s[:, j, None] * eps, scale)
        off_new = tau * rng.standard_normal(n)
        sig_new = np.sqrt(
            P.noise_floor.value**2 + (sigma_pop * np.exp(omega * rng.standard_normal(n))) ** 2
        )
        reported[NEW_SOURCE] = self.value(
            level + off_new[:, None] + sig_new[:, None] * self.noise_draws(rng, (n, 1)), scale
        )
        # A second report of each source with its own error (drawn after the draws above, so
        # they stay what they were for a seed): what its next figure may say beside the one that
        # settles a claim, the joint the value of information reads.
        reported_next = {}
        for j, s in enumerate(design.sources):
            eps = self.noise_draws(rng, (n, 1))
            reported_next[s] = self.value(
                level + offset[:, j, None] + sigma_s[:, j, None] * eps, scale
            )
        reported_next[NEW_SOURCE] = self.value(
            level + off_new[:, None] + sig_new[:, None] * self.noise_draws(rng, (n, 1)), scale
        )
        return make_trajectory(
            indicator,
            self.name,
            self.version,
            as_of,
            seed,
            design.grid,
            self.value(level, scale),
            reported,
            diag,
            reported_next,
            self.effects(design, level[:, n_fit - 1], offset, sigma_s, scale),
        )

    def effects(
        self,
        design: Design,
        level_last: np.ndarray,
        offset: np.ndarray,
        sigma_s: np.ndarray,
        scale: float,
    ) -> xr.Dataset:
        """Each fitted source's offset and noise (`base.source_effects`), in the indicator's
        terms at the latest fitted period: `effect` "difference" (a share's points) or "ratio"
        (a flow's fraction above the latent)."""
        lv = level_last[:, None]
        base = self.value(lv, scale)
        rep = self.value(lv + offset, scale)
        band = self.value(lv + offset + sigma_s, scale) - self.value(lv + offset - sigma_s, scale)
        if self.effect == "ratio":
            off_u, noise_u = rep / base - 1.0, band / (2.0 * rep)
        else:
            off_u, noise_u = rep - base, band / 2.0
        return source_effects(
            list(design.sources),
            offset,
            sigma_s,
            off_u,
            noise_u,
            self.effect,
            design.grid[design.n_fit - 1],
        )

    def prior_predictive(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        horizon: dt.date,
        seed: int,
        samples: int = 500,
    ) -> xr.DataArray:
        """Draws of the latent path under the priors alone (indicator units), (sample, period)."""
        design = snap(modelled(observations), indicator.frequency, horizon)
        rng = np.random.default_rng([seed, 2])
        path = TR.prior_trend_paths(self.priors, indicator, design, samples, rng)
        return xr.DataArray(
            self.value(path, self.scale(design)),
            dims=("sample", "period"),
            coords={"period": design.grid},
            name="latent",
        )
