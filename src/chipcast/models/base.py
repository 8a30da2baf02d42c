"""The contract every model family fulfils, and the convergence gate.

A family takes the as-of view of one indicator's observations (see `chipcast.data.as_of`), the
indicator's definition, a horizon and a seed, and returns a `Trajectory`: posterior predictive
draws for every period from the first observation to the horizon, of the latent truth and of
what each source would report, with diagnostics.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from chipcast.schema import Indicator
from chipcast.store import QUANTILES, quantile_column

NEW_SOURCE = "_new"  # pseudo-source: what a source never seen before would report
# How `Trajectory.sources` is stored in draws.nc: prefixed variables on their own source dim.
SOURCES_PREFIX, SOURCES_DIM = "src_", "fitted_source"


@dataclass(frozen=True)
class GateSettings:
    """Convergence thresholds a fit must meet before its forecasts are published."""

    rhat_max: float = 1.01
    ess_bulk_min: float = 400.0
    divergences_max: int = 0


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample; pinned so the same data and seed give the same draws on any machine."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    cores: int = 1
    target_accept: float = 0.95
    retry_tune_factor: int = 3
    profile: str = "default"
    gate: GateSettings = field(default_factory=GateSettings)


# 4 chains (run 2 at a time on 2 cores; nutpie seeds each chain from the seed, so the draws do
# not depend on `cores`): measured on the shipped indicators, 2 chains x 1000 draws left bulk
# ESS at 250-380 on several 3-7-figure series, while nutpie's sampling is ~1-3 s of a ~15-30 s
# fit (the rest is compilation), so doubling the chains is nearly free.
# 500 tuning steps: nutpie's adaptation had settled by then. Swept on 10 of the slowest and most
# varied shipped series, 2 seeds each (benchmarks/results/tuning-sweep-2026-12-04.txt): the
# posterior moved no more from 1000 steps to 500 (largest 5/50/95% quantile difference 0.13-0.31
# sd) than from one seed to another at 1000 (0.09-0.25 sd), bulk ESS stayed 386-1225, the gate
# failed 3 fits of 20 at 500 against 2 of 20 at 1000 (each a retry in `fit_indicator`), and the
# fits sampled in 28% less time (69 s against 96 s for the ten).
DEFAULT_SETTINGS = SamplerSettings(chains=4, cores=2, tune=500)
# Small draws for tests: the gate is relaxed and the profile says so in every diagnostic.
TEST_SETTINGS = SamplerSettings(
    draws=200,
    tune=300,
    chains=2,
    profile="test-small",
    gate=GateSettings(rhat_max=1.1, ess_bulk_min=50.0, divergences_max=5),
)


def settings_for(profile: str) -> SamplerSettings:
    if profile == "default":
        return DEFAULT_SETTINGS
    if profile == "test-small":
        return TEST_SETTINGS
    raise ValueError(f"unknown sampler profile {profile!r} (expected default or test-small)")


_FLOAT_FIELDS = ("rhat_max", "ess_bulk_min")


@dataclass
class Diagnostics:
    """What the sampler reports and whether the fit passed the convergence gate."""

    family: str
    passed: bool
    rhat_max: float = float("nan")
    ess_bulk_min: float = float("nan")
    divergences: int = 0
    retried: bool = False
    reasons: list[str] = field(default_factory=list)
    profile: str = "default"
    draws: int = 0
    tune: int = 0
    chains: int = 0
    sampling_seconds: float = 0.0
    n_observations: int = 0
    # Added (compatible: defaults, old JSON still loads): how the draws were made, and remarks
    # that are not failures (e.g. "exact Monte Carlo, no MCMC: gate not applicable").
    sampler: str = "pymc-nuts"
    notes: list[str] = field(default_factory=list)
    # What the fit cost, for benchmarks and tuning (defaults: old JSON still loads). compiles and
    # compile_cache_hits count models compiled by this fit (its retry included) and those whose
    # numba functions all came from the disk cache; gradient evaluations are NUTS leapfrog steps
    # summed over chains, after and during tuning; size_class is the padded design's shape.
    target_accept: float = 0.0
    size_class: str = ""
    compiles: int = 0
    compile_cache_hits: int = 0
    compile_seconds: float = 0.0
    gradient_evaluations: int = 0
    warmup_gradient_evaluations: int = 0
    step_size: float = 0.0  # the chains' mean final step size (0: not NUTS)
    tree_depth_max: int = 0

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and not np.isfinite(v):
                d[k] = None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Diagnostics:
        d = {k: (float("nan") if v is None and k in _FLOAT_FIELDS else v) for k, v in d.items()}
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})  # type: ignore[arg-type]


def check_gate(
    idata: object, gate: GateSettings, var_names: list[str] | None = None
) -> tuple[float, float, int, list[str]]:
    """R-hat, bulk ESS and divergences of a fit, and the reasons it fails the gate (if any)."""
    import arviz as az

    summary = az.summary(idata, var_names=var_names, kind="diagnostics")
    rhat = float(summary["r_hat"].max())
    ess = float(summary["ess_bulk"].min())
    div = int(idata.sample_stats["diverging"].sum()) if hasattr(idata, "sample_stats") else 0
    reasons = []
    if not rhat <= gate.rhat_max:
        reasons.append(f"r_hat {rhat:.3f} > {gate.rhat_max}")
    if not ess >= gate.ess_bulk_min:
        reasons.append(f"ess_bulk {ess:.0f} < {gate.ess_bulk_min:.0f}")
    if div > gate.divergences_max:
        reasons.append(f"{div} divergences > {gate.divergences_max}")
    return rhat, ess, div, reasons


@dataclass
class Trajectory:
    """Posterior predictive draws of one indicator over periods, as of one date."""

    indicator: str
    family: str
    model_version: str
    as_of: dt.date
    seed: int
    latent: xr.DataArray  # dims (sample, period); period = period_end timestamps
    reported: xr.DataArray  # dims (source, sample, period); includes NEW_SOURCE
    diagnostics: Diagnostics
    # A second report of each source with its own reporting error (same latent path, offset
    # and noise scale): the joint of two figures of one source, e.g. its next figure beside the
    # one that settles a claim (`reported` carries one error per draw for every period). None:
    # the family's reports are independent across periods already (count) or noiseless (level).
    reported_next: xr.DataArray | None = None
    # Per-source offset and noise posteriors, dims (source, sample), fitted sources only
    # (`source_effects`); None for families without them.
    sources: xr.Dataset | None = None

    @property
    def periods(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.latent["period"].values)

    @property
    def published(self) -> bool:
        """A gated fit is kept for inspection but never issues forecasts."""
        return self.diagnostics.passed

    def series(self, source: str | None) -> xr.DataArray:
        """Draws of what `source` would report (latent truth when None or unknown)."""
        if source is None or source == "any":
            return self.latent
        if source in self.reported["source"].values:
            return self.reported.sel(source=source)
        return self.reported.sel(source=NEW_SOURCE)

    def next_series(self, source: str | None) -> xr.DataArray:
        """Draws of a further report of `source` with its own reporting error, jointly with
        `series(source)` sample by sample (the latent truth when None or "any")."""
        if source is None or source == "any" or self.reported_next is None:
            return self.series(source)
        if source in self.reported_next["source"].values:
            return self.reported_next.sel(source=source)
        return self.reported_next.sel(source=NEW_SOURCE)

    def quantile_frame(self, quantiles: tuple[float, ...] = QUANTILES) -> pd.DataFrame:
        """Tidy quantiles per series (latent and each source) and period."""
        frames = []
        series = {"latent": self.latent}
        for s in self.reported["source"].values:
            series[str(s)] = self.reported.sel(source=s)
        for name, arr in series.items():
            q = arr.quantile(list(quantiles), dim="sample")
            df = q.to_pandas().T
            df.columns = [quantile_column(x) for x in quantiles]
            df["mean"] = arr.mean("sample").to_pandas()
            df.insert(0, "series", name)
            df.index.name = "period_end"
            frames.append(df.reset_index())
        out = pd.concat(frames, ignore_index=True)
        out.insert(0, "as_of", pd.Timestamp(self.as_of))
        out.insert(0, "indicator", self.indicator)
        return out

    def save(self, directory: Path) -> None:
        """Write draws (netCDF), quantiles (CSV) and diagnostics (JSON) into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        ds = xr.Dataset({"latent": self.latent, "reported": self.reported})
        if self.reported_next is not None:
            ds["reported_next"] = self.reported_next
        if self.sources is not None:  # its own dim: its sources exclude NEW_SOURCE
            for k, v in self.sources.data_vars.items():
                ds[f"{SOURCES_PREFIX}{k}"] = v.rename(source=SOURCES_DIM)
            ds.attrs.update({f"{SOURCES_PREFIX}{k}": v for k, v in self.sources.attrs.items()})
        ds.attrs.update(
            indicator=self.indicator,
            family=self.family,
            model_version=self.model_version,
            as_of=self.as_of.isoformat(),
            seed=self.seed,
        )
        ds.to_netcdf(directory / "draws.nc", engine="h5netcdf")
        self.quantile_frame().to_csv(directory / "quantiles.csv", index=False, float_format="%.6g")
        (directory / "diagnostics.json").write_text(
            json.dumps(self.diagnostics.to_dict(), indent=2)
        )

    @classmethod
    def load(cls, directory: Path) -> Trajectory:
        with xr.open_dataset(directory / "draws.nc", engine="h5netcdf") as ds:
            ds = ds.load()
        diag = Diagnostics.from_dict(json.loads((directory / "diagnostics.json").read_text()))
        src = [k for k in ds.data_vars if str(k).startswith(SOURCES_PREFIX)]
        sources = None
        if src:
            sources = xr.Dataset(
                {str(k)[len(SOURCES_PREFIX) :]: ds[k].rename({SOURCES_DIM: "source"}) for k in src},
                attrs={
                    k[len(SOURCES_PREFIX) :]: v
                    for k, v in ds.attrs.items()
                    if k.startswith(SOURCES_PREFIX)
                },
            )
        return cls(
            indicator=ds.attrs["indicator"],
            family=ds.attrs["family"],
            model_version=ds.attrs["model_version"],
            as_of=dt.date.fromisoformat(ds.attrs["as_of"]),
            seed=int(ds.attrs["seed"]),
            latent=ds["latent"],
            reported=ds["reported"],
            diagnostics=diag,
            reported_next=ds.get("reported_next"),
            sources=sources,
        )


class ModelFamily(Protocol):
    """What a family module exposes to the registry."""

    name: str
    version: str

    def fit(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        as_of: dt.date,
        horizon: dt.date,
        seed: int,
        settings: SamplerSettings = DEFAULT_SETTINGS,
    ) -> Trajectory: ...

    def prior_predictive(
        self,
        observations: pd.DataFrame,
        indicator: Indicator,
        horizon: dt.date,
        seed: int,
        samples: int = 500,
    ) -> xr.DataArray: ...


def retry_settings(settings: SamplerSettings, failed: Diagnostics | None = None) -> SamplerSettings:
    """The settings for the one retry a failed fit gets: more tuning and draws; smaller steps
    only when the first attempt diverged.

    The treatment follows the diagnosis. Divergences mean the step size is too large for the
    posterior's curvature: measured on the shipped series with a regime break (Nvidia's China
    share of revenue after the H20 ban), target_accept 0.99 left 1-2 divergences in 4000 draws on
    each of three seeds, 0.999 left none. A low ESS or high R-hat without divergences is slow
    mixing, which more tuning and three times the draws cure (Nvidia's China revenue: bulk ESS
    182-245 at the defaults, 605-703 with 3x tune and draws at target_accept 0.95, sampled in
    6 s; adding target_accept 0.999 gave 560-744 but took 19 s). Without a diagnosis (`failed`
    None) both are applied.
    """
    diverged = failed is None or failed.divergences > settings.gate.divergences_max
    return replace(
        settings,
        tune=settings.tune * settings.retry_tune_factor,
        draws=settings.draws * 3,
        target_accept=max(settings.target_accept, 0.999) if diverged else settings.target_accept,
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
    reported_next: dict[str, np.ndarray] | None = None,
    sources: xr.Dataset | None = None,
) -> Trajectory:
    """Pack numpy draws, (samples, periods) for the latent path and each source (and each
    source's second report), into a `Trajectory`."""
    periods = pd.DatetimeIndex(grid, name="period")
    n = latent.shape[0]
    lat = xr.DataArray(
        latent,
        dims=("sample", "period"),
        coords={"sample": np.arange(n), "period": periods},
        name="latent",
    )

    def stack(draws: dict[str, np.ndarray], name: str) -> xr.DataArray:
        names = list(draws)
        return xr.DataArray(
            np.stack([draws[s] for s in names]),
            dims=("source", "sample", "period"),
            coords={"source": names, "sample": np.arange(n), "period": periods},
            name=name,
        )

    return Trajectory(
        indicator=indicator.id,
        family=family,
        model_version=version,
        as_of=as_of if isinstance(as_of, dt.date) else pd.Timestamp(as_of).date(),
        seed=int(seed),
        latent=lat,
        reported=stack(reported, "reported"),
        diagnostics=diagnostics,
        reported_next=stack(reported_next, "reported_next") if reported_next else None,
        sources=sources.assign_coords(sample=np.arange(n)) if sources is not None else None,
    )


def source_effects(
    names: list[str],
    offset: np.ndarray,
    noise: np.ndarray,
    offset_units: np.ndarray,
    noise_units: np.ndarray,
    effect: str,
    at_period: pd.Timestamp,
) -> xr.Dataset:
    """Per-source offset and noise draws, (samples, sources) each, as a Dataset on dims (source,
    sample): on the model's scale (`offset`, `noise`: logit or log) and in the indicator's terms
    (`offset_units`, `noise_units`): with `effect` "difference" in the indicator's unit (a
    share's points) at the latent level of `at_period`, with "ratio" as a fraction of the
    latent (a flow's 0.12 = 12% above). Noise in those terms is half the width of the source's
    +-1 sd band."""
    dims = ("source", "sample")
    coords = {"source": list(names)}
    return xr.Dataset(
        {
            k: xr.DataArray(np.asarray(v, dtype=float).T, dims=dims, coords=coords)
            for k, v in (
                ("offset", offset),
                ("noise", noise),
                ("offset_units", offset_units),
                ("noise_units", noise_units),
            )
        },
        attrs={"effect": effect, "at_period": pd.Timestamp(at_period).date().isoformat()},
    )
