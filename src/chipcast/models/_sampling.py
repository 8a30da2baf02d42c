"""Sampling: the per-process compiled-model cache, NUTS with pinned settings, the gate's inputs.

A family builds its PyMC model on a padded design (`_grid.pad`), whose graph depends only on the
family, its priors and the size class; every figure, mask and index is a `pm.Data`. `sample`
compiles such a graph once per process (nutpie, numba backend) and reuses it for every later
design of the same key by swapping its data (`with_data`): refresh workers, the backtest and
`chipcast forecast` all go through `COMPILED`, whose counters say how many models were compiled,
how many fits reused one, and how many compiles found pytensor's numba functions in its disk
cache (`compile_stats`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from chipcast.models.base import DEFAULT_SETTINGS, Diagnostics, SamplerSettings, check_gate

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


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


SAMPLER = "nutpie-numba"  # pinned by measurement, see chipcast.models' docstring
LOW_RANK = (
    os.environ.get("CHIPCAST_LOW_RANK", "0") == "1"
)  # nutpie low-rank mass matrix: off (measured: 1-2 divergences on 3-figure shares)


@dataclass
class CompileStats:
    """What the compiled-model cache of this process did: models compiled, fits that reused a
    compiled model, compiles whose numba functions all came from pytensor's disk cache."""

    compiles: int = 0
    reuses: int = 0
    disk_cache_hits: int = 0
    compile_seconds: float = 0.0


def _numba_cache_files() -> int | None:
    """How many index files pytensor's numba disk cache holds (None: no cache directory)."""
    try:
        from pytensor.link.numba.cache import NUMBA_CACHE_PATH
    except Exception:  # noqa: BLE001 - an older pytensor without the disk cache
        return None
    try:
        return sum(1 for _ in NUMBA_CACHE_PATH.rglob("*.nbi"))
    except OSError:
        return None


class CompiledModels:
    """The compiled models of this process, by graph key, least recently used dropped first."""

    def __init__(self, max_size: int = 64):
        self.max_size = max_size
        self._models: OrderedDict[tuple, object] = OrderedDict()
        self.stats = CompileStats()

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        self._models.clear()

    def get(self, key: tuple, model) -> tuple[object, dict[str, float]]:
        """The compiled form of `model` with its data; compiled now unless `key` was seen.
        Returns it with what this call did ({"compiles", "disk_cache_hits", "seconds"})."""
        import nutpie

        t0 = time.perf_counter()
        cached = self._models.get(key)
        if cached is not None:
            self._models.move_to_end(key)
            self.stats.reuses += 1
            shared = cached.shared_data  # type: ignore[attr-defined]
            data = {v.name: v.get_value() for v in model.data_vars if v.name in shared}
            for k, v in data.items():
                if np.shape(v) != shared[k].shape:
                    raise ValueError(f"compiled graph {key}: {k} has shape {np.shape(v)}")
            return cached.with_data(**data), {  # type: ignore[attr-defined]
                "compiles": 0,
                "disk_cache_hits": 0,
                "seconds": time.perf_counter() - t0,
            }
        before = _numba_cache_files()
        compiled = nutpie.compile_pymc_model(model, backend="numba")
        after = _numba_cache_files()
        hit = int(before is not None and after == before)
        seconds = time.perf_counter() - t0
        self.stats.compiles += 1
        self.stats.disk_cache_hits += hit
        self.stats.compile_seconds += seconds
        self._models[key] = compiled
        while len(self._models) > self.max_size:
            self._models.popitem(last=False)
        return compiled, {"compiles": 1, "disk_cache_hits": hit, "seconds": seconds}


COMPILED = CompiledModels()


def compile_stats() -> CompileStats:
    """A copy of this process's compile counters."""
    return replace(COMPILED.stats)


@dataclass
class SampleInfo:
    """How one call of `sample` went, for the diagnostics."""

    seconds: float
    sampler: str
    notes: list[str] = field(default_factory=list)
    compiles: int = 0
    compile_cache_hits: int = 0
    compile_seconds: float = 0.0
    gradient_evaluations: int = 0
    warmup_gradient_evaluations: int = 0
    step_size: float = float("nan")
    tree_depth_max: int = 0


def _sampler_stats(idata, info: SampleInfo) -> None:
    st = getattr(idata, "sample_stats", None)
    if st is None or "n_steps" not in st:
        return
    info.gradient_evaluations = int(st["n_steps"].sum())
    if "warmup_sample_stats" in idata and "n_steps" in idata.warmup_sample_stats:
        info.warmup_gradient_evaluations = int(idata.warmup_sample_stats["n_steps"].sum())
    info.step_size = float(np.mean(st["step_size"].values[:, -1]))
    info.tree_depth_max = int(st["depth"].max())


def sample(
    model,
    seed: int,
    settings: SamplerSettings = DEFAULT_SETTINGS,
    key: tuple | None = None,
):
    """NUTS with chains, cores and seed pinned; returns (idata, SampleInfo).

    nutpie (numba backend) when installed, as measured, through the compiled-model cache when
    `key` names the graph; PyMC's own NUTS (C backend) otherwise, and the diagnostics name which
    one made the draws (their draws differ for the same seed).
    """
    t0 = time.perf_counter()
    try:
        import nutpie
    except ImportError:
        nutpie = None
    if nutpie is not None:
        with quiet():
            if key is not None:
                compiled, did = COMPILED.get(key, model)
            else:
                compiled = nutpie.compile_pymc_model(model, backend="numba")
                did = {"compiles": 1, "disk_cache_hits": 0, "seconds": time.perf_counter() - t0}
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
        note = f"nutpie compile {t1 - t0:.1f} s" + ("" if did["compiles"] else " (cached graph)")
        info = SampleInfo(
            seconds=t2 - t1,
            sampler=SAMPLER,
            notes=[note],
            compiles=int(did["compiles"]),
            compile_cache_hits=int(did["disk_cache_hits"]),
            compile_seconds=round(t1 - t0, 3),
        )
        _sampler_stats(idata, info)
        return idata, info
    import pymc as pm

    with model, quiet():
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
    return idata, SampleInfo(
        seconds=time.perf_counter() - t0,
        sampler="pymc-nuts",
        notes=["nutpie not installed: PyMC NUTS fallback"],
    )


def flat(idata, name: str) -> np.ndarray:
    """Posterior draws of `name` with (chain, draw) flattened to one leading sample axis."""
    a = idata.posterior[name].values
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])


def unpadded(idata, var_names: list[str], slices: dict[str, slice]):
    """The gate's view of a padded fit: `var_names` cut to their real entries (`slices` by
    dimension name), with the sampler's stats (divergences)."""
    import arviz as az

    post = idata.posterior[[v for v in var_names if v in idata.posterior]]
    post = post.isel({d: s for d, s in slices.items() if d in post.dims})
    groups = {"posterior": post}
    if hasattr(idata, "sample_stats"):
        groups["sample_stats"] = idata.sample_stats
    return az.InferenceData(**groups)


def gate_diagnostics(
    idata,
    family: str,
    settings: SamplerSettings,
    var_names: list[str],
    info: SampleInfo,
    n_obs: int,
    size_class: str = "",
) -> Diagnostics:
    """Gate a fit (`idata` already cut to its real entries, see `unpadded`)."""
    with quiet():
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
        sampling_seconds=round(info.seconds, 3),
        n_observations=n_obs,
        sampler=info.sampler,
        notes=list(info.notes),
        target_accept=settings.target_accept,
        size_class=size_class,
        compiles=info.compiles,
        compile_cache_hits=info.compile_cache_hits,
        compile_seconds=info.compile_seconds,
        gradient_evaluations=info.gradient_evaluations,
        warmup_gradient_evaluations=info.warmup_gradient_evaluations,
        step_size=round(info.step_size, 5) if np.isfinite(info.step_size) else 0.0,
        tree_depth_max=info.tree_depth_max,
    )
