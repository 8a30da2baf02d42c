"""Shared machinery of the model families: period grids, observation design, sampling, output.

Nothing here is specific to one family. A family module builds its PyMC model from a `Design`
(observations snapped onto a period grid), samples it with `sample()` (pinned chains, cores and
seed), and packs numpy draws into a `Trajectory` with `make_trajectory()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.models.base import (
    DEFAULT_SETTINGS,
    NEW_SOURCE,
    Diagnostics,
    SamplerSettings,
    Trajectory,
    check_gate,
)
from chipcast.schema import FREQUENCY_MONTHS as FREQ_MONTHS
from chipcast.schema import Indicator

# --- quiet at the source ---------------------------------------------------------------------
# pytensor warns once per process that it could not link a BLAS; PyMC logs its sampler chatter
# at INFO. Neither is news to a reader of a report or notebook.
warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
warnings.filterwarnings("ignore", message=".*Using NumPy C-API based implementation for BLAS.*")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"pymc.*")
warnings.filterwarnings("ignore", category=UserWarning, module=r"pymc.*")
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"arviz.*")
warnings.filterwarnings(
    "ignore", category=FutureWarning, module=r"arviz.*"
)  # "ArviZ is undergoing a major refactor"
for _name in (
    "pymc",
    "pymc.sampling",
    "pymc.sampling.mcmc",
    "pytensor",
    "pytensor.tensor.blas",
    "pytensor.configdefaults",
):
    logging.getLogger(_name).setLevel(logging.ERROR)


def model_frequency(frequency: str) -> str:
    """The grid a family models on: the indicator's frequency, quarterly for 'irregular'."""
    return frequency if frequency in FREQ_MONTHS else "quarterly"


def period_years(frequency: str) -> float:
    return FREQ_MONTHS[model_frequency(frequency)] / 12.0


def _period_end_containing(date: pd.Timestamp, frequency: str) -> pd.Timestamp:
    months = FREQ_MONTHS[model_frequency(frequency)]
    date = pd.Timestamp(date).normalize()
    end_month = ((date.month - 1) // months + 1) * months  # 3, 6, 9, 12 for quarterly, ...
    return pd.Timestamp(year=date.year, month=end_month, day=1) + pd.offsets.MonthEnd(0)


def period_grid(
    first_period_end: dt.date | pd.Timestamp, horizon: dt.date | pd.Timestamp, frequency: str
) -> pd.DatetimeIndex:
    """Period ends from the period containing `first_period_end` to the one containing `horizon`.

    annual -> Dec 31s; semiannual -> Jun 30 and Dec 31; quarterly -> calendar quarter ends;
    monthly -> month ends; 'irregular' is modelled quarterly. Dates that are not period ends
    (a fiscal quarter ending 2025-04-27) belong to the calendar period that contains them
    (here 2025-06-30): see `snap`.
    """
    months = FREQ_MONTHS[model_frequency(frequency)]
    start = _period_end_containing(pd.Timestamp(first_period_end), frequency)
    stop = _period_end_containing(pd.Timestamp(horizon), frequency)
    if stop < start:
        stop = start
    out = [start]
    while out[-1] < stop:
        out.append(out[-1] + pd.offsets.MonthEnd(months))
    return pd.DatetimeIndex(out, name="period")


@dataclass
class Design:
    """Observations of one indicator mapped onto a period grid.

    `first`/`last` are the grid indices an observation covers (inclusive): a figure whose span is
    n grid periods long (rounded, at least one) covers the n periods ending with the period that
    contains its period_end. So a fiscal quarter ending 2025-04-27 is the calendar quarter ending
    2025-06-30, a nine-month total Jan-Sep covers Q1..Q3, and an annual total on a quarterly grid
    covers four quarters. `frac` < 1 marks a figure shorter than one grid period (a quarterly
    figure on an annual grid): flow families scale it by that fraction. A figure without a span
    (period_start equal to period_end, as for irregular indicators) is one grid period.
    """

    grid: pd.DatetimeIndex
    n_fit: int  # periods up to the last observed one (the rest are forecast by simulation)
    sources: list[str]
    source_idx: np.ndarray
    first: np.ndarray
    last: np.ndarray
    frac: np.ndarray
    censor: np.ndarray  # point / lower / upper / interval
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    frequency: str

    @property
    def n_obs(self) -> int:
        return len(self.value)

    def weights(self) -> np.ndarray:
        """(n_obs, n_fit) coverage matrix: 1 for each covered period (frac for short figures)."""
        w = np.zeros((self.n_obs, self.n_fit))
        for i, (a, b) in enumerate(zip(self.first, self.last, strict=True)):
            w[i, a : b + 1] = 1.0
        return w * self.frac[:, None]

    def mask(self, kind: str) -> np.ndarray:
        return self.censor == kind


def span_cover(
    starts: pd.Series | pd.DatetimeIndex, ends: pd.Series | pd.DatetimeIndex, frequency: str
) -> tuple[list[pd.Timestamp], np.ndarray, np.ndarray]:
    """How figures spanning `starts`..`ends` sit on the grid: (the grid period end containing
    each end, how many grid periods each covers, the fraction of one period a shorter figure
    covers, else 1). The one snapping rule for fitting, claims and backtest targets alike."""
    freq = model_frequency(frequency)
    ends = pd.DatetimeIndex(ends)
    starts = pd.DatetimeIndex(starts)
    end_periods = [_period_end_containing(e, freq) for e in ends]
    span_days = np.asarray((ends - starts).days, dtype=float) + 1
    n_periods = span_days / (FREQ_MONTHS[freq] * 30.4375)
    # a one-day span (period_start missing or equal to period_end, as for 'irregular'
    # indicators) says nothing about the span: it is one grid period
    n_periods = np.where(span_days <= 1, 1.0, n_periods)
    n_cover = np.maximum(1, np.round(n_periods)).astype(int)
    frac = np.where(n_periods < 0.75, np.clip(n_periods, 1e-3, 1.0), 1.0).astype(float)
    return end_periods, n_cover, frac


def grid_frequency(periods: pd.DatetimeIndex) -> str:
    """The frequency of a model grid, read off its period ends (quarterly for a single one)."""
    if len(periods) < 2:
        return "quarterly"
    a, b = pd.Timestamp(periods[0]), pd.Timestamp(periods[1])
    months = (b.year - a.year) * 12 + b.month - a.month
    return {v: k for k, v in FREQ_MONTHS.items()}.get(months, "quarterly")


def covered(
    grid: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, frequency: str
) -> tuple[np.ndarray, float]:
    """(indices of the grid periods a figure for start..end covers, its fraction of a period),
    by `span_cover`'s rule: a fiscal quarter ending 27 April is the calendar quarter ending
    30 June, not the two calendar quarters its dates touch."""
    (end_period,), (n,), (frac,) = span_cover([start], [end], frequency)
    last = int(np.searchsorted(pd.DatetimeIndex(grid).values, end_period.to_datetime64()))
    if last >= len(grid) or pd.DatetimeIndex(grid)[last] != end_period:
        raise ValueError(
            f"the grid ({grid[0].date()}..{grid[-1].date()}) has no period for {end.date()}"
        )
    return np.arange(max(last - int(n) + 1, 0), last + 1), float(frac)


def snap(observations: pd.DataFrame, frequency: str, horizon: dt.date | pd.Timestamp) -> Design:
    """Map observations onto the model grid (see `Design` for the snapping rule)."""
    obs = observations.reset_index(drop=True)
    freq = model_frequency(frequency)
    months = FREQ_MONTHS[freq]
    ends = pd.to_datetime(obs["period_end"])
    starts = pd.to_datetime(obs["period_start"]).fillna(ends) if "period_start" in obs else ends
    end_periods, n_cover, frac = span_cover(starts, ends, freq)
    first_end = min(
        min(end_periods),
        min(
            e - pd.offsets.MonthEnd(months * (n - 1)) if n > 1 else e
            for e, n in zip(end_periods, n_cover, strict=True)
        ),
    )
    last_obs = max(end_periods)
    grid = period_grid(first_end, max(pd.Timestamp(horizon), last_obs), freq)
    pos = {p: i for i, p in enumerate(grid)}
    last = np.array([pos[e] for e in end_periods], dtype=int)
    first = last - n_cover + 1
    sources = sorted(obs["source"].astype(str).unique())
    sidx = np.array([sources.index(s) for s in obs["source"].astype(str)], dtype=int)
    censor = obs["censor"].astype(str).to_numpy() if "censor" in obs else np.full(len(obs), "point")
    value = pd.to_numeric(obs["value"], errors="coerce").to_numpy(float)
    lower = (
        pd.to_numeric(obs["lower"], errors="coerce").to_numpy(float)
        if "lower" in obs
        else value.copy()
    )
    upper = (
        pd.to_numeric(obs["upper"], errors="coerce").to_numpy(float)
        if "upper" in obs
        else value.copy()
    )
    return Design(
        grid=grid,
        n_fit=int(last.max()) + 1,
        sources=sources,
        source_idx=sidx,
        first=first,
        last=last,
        frac=frac.astype(float),
        censor=censor,
        value=value,
        lower=lower,
        upper=upper,
        frequency=freq,
    )


def modelled(observations: pd.DataFrame) -> pd.DataFrame:
    """Rows a model can use: a point with a value, or a bound/interval with its ends."""
    ok = []
    for _, r in observations.iterrows():
        c = r.get("censor", "point")
        if c == "point":
            ok.append(np.isfinite(r["value"]))
        elif c == "lower":
            ok.append(np.isfinite(r["lower"]))
        elif c == "upper":
            ok.append(np.isfinite(r["upper"]))
        else:
            ok.append(np.isfinite(r["lower"]) and np.isfinite(r["upper"]))
    return (
        observations[np.array(ok, dtype=bool)].reset_index(drop=True)
        if len(observations)
        else observations
    )


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


SAMPLER = "nutpie-numba"  # pinned by measurement, see chipcast.models' docstring
LOW_RANK = (
    os.environ.get("CHIPCAST_LOW_RANK", "0") == "1"
)  # nutpie low-rank mass matrix: off (measured: 1-2 divergences on 3-figure shares)


_COMPILED: dict[tuple, object] = {}
_COMPILED_MAX = 64


def structure_key(family: str, design: Design) -> tuple:
    """What fixes a model's graph (everything but the figures themselves, which are pm.Data)."""
    return (
        family,
        design.n_fit,
        design.frequency,
        len(design.sources),
        tuple(design.first),
        tuple(design.last),
        tuple(design.source_idx),
        tuple(design.censor),
        tuple(np.round(design.frac, 6)),
        # value-dependent masks the families use (a bound at 0 or 1 carries no information)
        tuple(np.nan_to_num(design.value) > 0),
        tuple(np.nan_to_num(design.lower, nan=-1) > 0),
        tuple(np.nan_to_num(design.lower, nan=-1) >= 0),
        tuple(np.nan_to_num(design.upper, nan=2) < 1),
        tuple(np.nan_to_num(design.upper) > 0),
    )


def sample(
    model, seed: int, settings: SamplerSettings = DEFAULT_SETTINGS, key: tuple | None = None
):
    """NUTS with chains, cores and seed pinned; returns (idata, sampling seconds, sampler, notes).

    nutpie (numba backend) when installed, as measured; PyMC's own NUTS (C backend) otherwise,
    and the diagnostics name which one made the draws (their draws differ for the same seed).
    """
    t0 = time.perf_counter()
    try:
        import nutpie
    except ImportError:
        nutpie = None
    if nutpie is not None:
        with _quiet():
            # nutpie's numba compile is not cached on disk; within a process, a model whose graph
            # was compiled before (same structure_key) only swaps its pm.Data (the figures).
            cached = _COMPILED.get(key) if key is not None else None
            if cached is not None:
                compiled = cached.with_data(**{v.name: v.get_value() for v in model.data_vars})
            else:
                compiled = nutpie.compile_pymc_model(model, backend="numba")
                if key is not None:
                    if len(_COMPILED) >= _COMPILED_MAX:
                        _COMPILED.pop(next(iter(_COMPILED)))
                    _COMPILED[key] = compiled
            t1 = time.perf_counter()
            idata = nutpie.sample(
                compiled,
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                cores=settings.cores,
                seed=seed,
                target_accept=settings.target_accept,
                progress_bar=False,
                low_rank_modified_mass_matrix=LOW_RANK,
            )
        t2 = time.perf_counter()
        return (
            idata,
            t2 - t1,
            SAMPLER,
            [f"nutpie compile {t1 - t0:.1f} s" + (" (cached graph)" if cached is not None else "")],
        )
    import pymc as pm

    with model, _quiet():
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=settings.cores,
            random_seed=seed,
            target_accept=settings.target_accept,
            progressbar=False,
            compute_convergence_checks=False,
            return_inferencedata=True,
        )
    return (
        idata,
        time.perf_counter() - t0,
        "pymc-nuts",
        ["nutpie not installed: PyMC NUTS fallback"],
    )


def flat(idata, name: str) -> np.ndarray:
    """Posterior draws of `name` with (chain, draw) flattened to one leading sample axis."""
    a = idata.posterior[name].values
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])


def gate_diagnostics(
    idata, family: str, settings: SamplerSettings, var_names: list[str], sampled: tuple, n_obs: int
) -> Diagnostics:
    """Gate a fit; `sampled` is what `sample()` returned after the idata: (seconds, sampler, notes)."""
    seconds, sampler, notes = sampled
    with _quiet():
        rhat, ess, div, reasons = check_gate(idata, settings.gate, var_names=var_names)
    return Diagnostics(
        family=family,
        passed=not reasons,
        rhat_max=rhat,
        ess_bulk_min=ess,
        divergences=div,
        reasons=reasons,
        profile=settings.profile,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        sampling_seconds=round(seconds, 3),
        n_observations=n_obs,
        sampler=sampler,
        notes=list(notes),
    )


def make_trajectory(
    indicator: Indicator,
    family: str,
    version: str,
    as_of: dt.date,
    seed: int,
    grid: pd.DatetimeIndex,
    latent: np.ndarray,
    reported: dict[str, np.ndarray],
    diagnostics: Diagnostics,
) -> Trajectory:
    periods = pd.DatetimeIndex(grid, name="period")
    n = latent.shape[0]
    lat = xr.DataArray(
        latent,
        dims=("sample", "period"),
        coords={"sample": np.arange(n), "period": periods},
        name="latent",
    )
    names = list(reported)
    rep = xr.DataArray(
        np.stack([reported[s] for s in names]),
        dims=("source", "sample", "period"),
        coords={"source": names, "sample": np.arange(n), "period": periods},
        name="reported",
    )
    return Trajectory(
        indicator=indicator.id,
        family=family,
        model_version=version,
        as_of=as_of if isinstance(as_of, dt.date) else pd.Timestamp(as_of).date(),
        seed=int(seed),
        latent=lat,
        reported=rep,
        diagnostics=diagnostics,
    )


def level_shocks(priors: dict[str, dict[str, float]], centred: bool = False):
    """Gaussian level shocks of a local linear trend (inside a PyMC model context).

    The scale is zero-avoiding (LogNormal), so shocks and scale form no funnel. Returns
    (sig_level, z) for `llt_path`, z the standardised shocks; z is None when `centred` (the
    levels themselves are then the parameters, see `trend_and_sources`).
    """
    import pymc as pm

    p = priors["sig_level"]
    sig_level = pm.LogNormal("sig_level", np.log(p["median"]), p["log_sd"])
    return sig_level, None if centred else pm.Normal("z_level", 0, 1, dims="step")


def sig_level_prior(priors: dict[str, dict[str, float]], rng: np.random.Generator, n: int):
    """Draws of the level-shock scale from its prior (the LogNormal `level_shocks` uses)."""
    p = priors["sig_level"]
    return rng.lognormal(np.log(p["median"]), p["log_sd"], n)


def sig_level_draws(idata, priors: dict[str, dict[str, float]], rng: np.random.Generator, n: int):
    """Posterior level-shock scale; prior draws when a single period was fitted (no shocks)."""
    if "sig_level" in idata.posterior:
        return flat(idata, "sig_level")
    return sig_level_prior(priors, rng, n)


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
    rho: float = 1.0,
    mu_slope=0.0,
):
    """Local linear trend (level + a slope that reverts to mu_slope), non-centred; rates per year.

    level_t = level_{t-1} + slope_{t-1}*dt + sig_level*sqrt(dt)*z_level_t
    slope_t = mu_slope + rho*(slope_{t-1} - mu_slope) + sig_slope*sqrt(dt)*z_slope_t
    `rho` is the reversion factor per grid step (1: a random-walk slope, the classic trend);
    `backend` is pytensor.tensor or numpy (same arithmetic for the model and the forecast);
    `n_steps` is T - 1, the length of z_slope.
    """
    sq = np.sqrt(dt_years)
    slope_steps = sig_slope * sq * z_slope  # (T-1,)
    # slope_t - mu = rho^t * (slope0 - mu + sum_{s<=t} rho^-s e_s): a cumsum, like the classic
    # trend's (a dense rho^(t-s) matrix product compiled twice as slowly under numba)
    t = np.arange(1, n_steps + 1, dtype=float)
    decay = float(rho) ** t
    rest = mu_slope + decay * (slope0 - mu_slope + backend.cumsum(slope_steps / decay))
    slope = backend.concatenate([backend.reshape(slope0, (1,)), rest])
    steps = slope[:-1] * dt_years + sig_level * sq * z_level
    level = backend.concatenate([backend.reshape(level0, (1,)), level0 + backend.cumsum(steps)])
    return level, slope


# The parameters of `trend_and_sources` that the convergence gate checks ("sig_level" only
# exists with shocks; families filter by what the posterior holds).
TREND_GATE_VARS = [
    *("level0", "slope0", "mu_slope", "sig_slope", "sig_level"),
    *("tau_offset", "sigma_pop", "omega", "a_offset", "b_noise", "latent"),
]


def beyond_bound(d, priors: dict[str, dict[str, float]], smooth: float = 0.05):
    """How far latent values lie beyond the bounds reported for them, as a log-likelihood cost.

    `d` is the distance past the bound on the family's scale (latent minus a lower bound, upper
    bound minus latent); the cost is sum(max(d, 0)) / priors["bound_distance"]["scale"], smoothed
    at 0 (softplus) so NUTS sees a gradient. See the families' `bound_distance` prior for why.
    """
    import pytensor.tensor as pt

    return pt.sum(smooth * pt.softplus(d / smooth)) / priors["bound_distance"]["scale"]


def slope_reversion(priors: dict[str, dict[str, float]], dt_years: float):
    """(rho per grid step, mu_slope) of a reverting slope, inside a PyMC model context; (1, 0)
    when the family has no `slope_reversion` prior (a random-walk slope)."""
    import pymc as pm

    p = priors.get("slope_reversion")
    if p is None:
        return 1.0, 0.0
    return p["rho_per_year"] ** dt_years, pm.Normal("mu_slope", 0.0, p["mu_sigma"])


def stationary_start(priors: dict[str, dict[str, float]]) -> bool:
    """Whether the family's damped slope starts from its stationary law (`stationary_slope_sd`)
    rather than from the independent `slope0` prior."""
    return bool(priors.get("slope_reversion", {}).get("stationary_start", False))


def stationary_slope_sd(sig_slope, rho, dt_years: float):
    """The sd of a damped slope's excess over its long-run rate in the stationary state:
    sig_slope sqrt(dt) / sqrt(1 - rho^2), rho per grid step.

    The excess is an AR(1), so a series first observed at an arbitrary date meets it in that
    state, and the first period's slope is its long-run rate plus a draw of this spread. An
    independent wide prior on the first slope (N(0, 1) a year, as before) let two figures set a
    growth rate that the damped trend then extrapolated (Nvidia's China revenue, 2.49 -> 3.67bn:
    forecast at 10.6bn five quarters on; the next figures were 5.4-5.5 and then 2.8).
    """
    return sig_slope * np.sqrt(dt_years) / np.sqrt(1.0 - rho**2)


def trend_and_sources(
    priors: dict[str, dict[str, float]],
    S: int,
    T: int,
    dt_years: float,
    shocks: bool,
    centred: bool = False,
):
    """The latent trend and the per-source terms shared by the share and growth families.

    Creates, inside a PyMC model context, in this order: level0, slope0 (or, for a family whose
    damped slope starts stationary and several periods, its standardised draw slope0_z: slope0 =
    mu_slope + the stationary sd times it, `stationary_slope_sd`), sig_slope, the source hierarchy (tau_offset, sigma_pop,
    omega, a_offset, b_noise), level shocks when `shocks`, and the slope innovations; returns
    (level, slope, offset, sigma_s) with the Deterministics the families read back (latent,
    slope, offset, sigma_s).

    `centred` (with `shocks`) makes the levels after the first free parameters with the shocks
    as their transition density, instead of level0 plus a cumulative sum of standardised shocks:
    the same model, a different geometry. Non-centred suits short, sparsely observed paths;
    centred suits long, well observed ones, where every figure pins a cumulative sum of shocks
    and the sampler needs its longest trajectories (measured on Cambricon's 24 quarters: 53 s of
    sampling at maximum tree depth non-centred, 2 s centred, same posterior).
    """
    import pymc as pm
    import pytensor.tensor as pt

    P = priors
    level0 = pm.Normal("level0", P["level0"]["mu"], P["level0"]["sigma"])
    # a damped slope starts from its stationary law (see `stationary_slope_sd`) when the family
    # says so, found once the reversion exists; otherwise the first slope has the `slope0` prior
    stationary = T > 1 and stationary_start(P)
    slope0 = None if stationary else pm.Normal("slope0", P["slope0"]["mu"], P["slope0"]["sigma"])
    z0 = pm.Normal("slope0_z", 0, 1) if stationary else None
    sig_slope = pm.HalfNormal("sig_slope", P["sig_slope"]["sigma"])
    tau = pm.HalfNormal("tau_offset", P["tau_offset"]["sigma"])
    sigma_pop = pm.LogNormal(
        "sigma_pop", np.log(P["sigma_pop"]["median"]), P["sigma_pop"]["log_sd"]
    )
    omega = pm.HalfNormal("omega", P["omega"]["sigma"])
    # A lone source: its offset is not identified beside the level (a ridge that costs ESS),
    # so it is the reference (offset 0); tau still feeds NEW_SOURCE from its prior.
    a = pm.Normal("a_offset", 0, 1, dims="source") if S > 1 else pt.zeros(1)
    b = pm.Normal("b_noise", 0, 1, dims="source") if S > 1 else pt.zeros(1)
    if T > 1:
        # without shocks: an integrated random walk, all movement goes through the drifting slope
        sig_level, z = level_shocks(P, centred) if shocks else (0.0, 0.0)
        u = pm.Normal("u_slope", 0, 1, dims="step")
        rho, mu = slope_reversion(P, dt_years)
        if stationary:
            sd0 = stationary_slope_sd(sig_slope, rho, dt_years)
            slope0 = pm.Deterministic("slope0", mu + sd0 * z0)
        if z is None:  # centred: free levels, the shocks their transition density
            _, slope = llt_path(
                level0, slope0, 0.0, sig_slope, 0.0, u, dt_years, pt, T - 1, rho, mu
            )
            rest = pm.Flat("level_rest", dims="step")
            level = pt.concatenate([pt.reshape(level0, (1,)), rest])
            step = pm.Normal.dist(level[:-1] + slope[:-1] * dt_years, sig_level * np.sqrt(dt_years))
            pm.Potential("level_steps", pm.logp(step, rest).sum())
        else:
            level, slope = llt_path(
                level0, slope0, sig_level, sig_slope, z, u, dt_years, pt, T - 1, rho, mu
            )
    else:
        level, slope = pt.reshape(level0, (1,)), pt.reshape(slope0, (1,))
    pm.Deterministic("latent", level)
    pm.Deterministic("slope", slope)
    offset = pm.Deterministic("offset", tau * a, dims="source")
    sigma_s = pm.Deterministic(
        "sigma_s",
        pt.sqrt(P["noise_floor"]["value"] ** 2 + pt.square(sigma_pop * pt.exp(omega * b))),
        dims="source",
    )
    return level, slope, offset, sigma_s


def extend_llt(
    rng: np.random.Generator,
    level: np.ndarray,
    slope: np.ndarray,
    sig_level: np.ndarray | float,
    sig_slope: np.ndarray,
    n_future: int,
    dt_years: float,
    rho: float = 1.0,
    mu_slope: np.ndarray | float = 0.0,
    policy_shocks: dict[str, float] | None = None,
) -> np.ndarray:
    """Simulate `n_future` more periods of a local linear trend from each draw's last state.

    level, slope: (S,) last state; rho, mu_slope: the slope's reversion (see `llt_path`);
    `policy_shocks` ({"rate_per_year", "sd"}) adds compound-Poisson jumps to the level: in each
    period a Poisson(rate * dt) number of jumps, each N(0, sd^2) on the family's scale (the
    families' `policy_shocks` prior says why). Returns (S, n_future) levels.
    """
    S = level.shape[0]
    out = np.empty((S, n_future))
    lv, sl = level.copy(), slope.copy()
    sq = np.sqrt(dt_years)
    for h in range(n_future):
        lv = lv + sl * dt_years + sig_level * sq * rng.standard_normal(S)
        if policy_shocks is not None:
            k = rng.poisson(policy_shocks["rate_per_year"] * dt_years, S)
            lv = lv + policy_shocks["sd"] * np.sqrt(k) * rng.standard_normal(S)
        sl = mu_slope + rho * (sl - mu_slope) + sig_slope * sq * rng.standard_normal(S)
        out[:, h] = lv
    return out


# Policy shocks, in the share and growth forecasts only: an export-control rule, a licence ban or
# a purchase guidance moves an exposed series by a large factor at a date no trend foresees
# (Nvidia's China revenue after the October 2023 rule and the April 2025 H20 licence requirement:
# roughly halved each time). Future periods get compound-Poisson jumps, rate per year and sd on
# the family's scale (log or logit): 0.5 a year (the field saw such an action every year or so
# since 2022, not every one hitting every series) and sd 0.7 (a factor of 2 at one sd). Not
# fitted: three to twenty figures cannot identify a rare jump beside the Gaussian shocks (heavy-
# tailed shocks made the fit multimodal, see the growth family's sig_level), so this is the
# field's prior, in the forecast as in the prior predictive.
POLICY_SHOCKS: dict[str, float] = {"rate_per_year": 0.5, "sd": 0.7}


def policy_shocks_for(
    priors: dict[str, dict[str, float]], indicator: Indicator
) -> dict[str, float] | None:
    """The family's policy-shock prior for `extend_llt`, or None when the indicator is not
    exposed to them (`Indicator.policy_shocks`)."""
    return priors["policy_shocks"] if indicator.policy_shocks else None


def prior_trend_paths(
    priors: dict[str, dict[str, float]],
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
    lv = rng.normal(P["level0"]["mu"], P["level0"]["sigma"], samples)
    sl = rng.normal(P["slope0"]["mu"], P["slope0"]["sigma"], samples)
    sig_l = sig_level_prior(P, rng, samples)
    sig_s = np.abs(rng.normal(0, P["sig_slope"]["sigma"], samples))
    dty = period_years(frequency)
    rho, mu = reversion_draws(None, P, dty, samples, rng)
    if n_periods > 1 and stationary_start(P):  # as in `trend_and_sources`
        sl = mu + stationary_slope_sd(sig_s, rho, dty) * rng.standard_normal(samples)
    shocks = policy_shocks_for(P, indicator)
    rest = extend_llt(rng, lv, sl, sig_l, sig_s, n_periods - 1, dty, rho, mu, shocks)
    return np.concatenate([lv[:, None], rest], axis=1)


def reversion_draws(idata, priors: dict[str, dict[str, float]], dt_years: float, n: int, rng):
    """(rho per step, mu_slope draws) for `extend_llt`: the posterior's mu_slope (prior draws when
    `idata` is None or a single period was fitted), or (1, 0) for a family without reversion."""
    p = priors.get("slope_reversion")
    if p is None:
        return 1.0, 0.0
    if idata is not None and "mu_slope" in idata.posterior:
        return p["rho_per_year"] ** dt_years, flat(idata, "mu_slope")
    mu = rng.normal(0.0, p["mu_sigma"], n)
    return p["rho_per_year"] ** dt_years, mu


def new_source_names(sources: list[str]) -> list[str]:
    return [*sources, NEW_SOURCE]
