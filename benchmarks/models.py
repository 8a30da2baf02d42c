"""Model benchmarks: compile and sampling time per family, cold and warm, and ESS per second.

    .venv/bin/python benchmarks/models.py                 # every family, DEFAULT settings
    .venv/bin/python benchmarks/models.py --families share --pymc   # also PyMC's own NUTS
    .venv/bin/python benchmarks/models.py --data /work/main          # fit every shipped indicator
    .venv/bin/python benchmarks/models.py --data . --sweep 0.8 0.9 0.99 --tune 300 1000 --seeds 1 2
                         # sampler geometry: ESS per gradient evaluation by target_accept and tune
    .venv/bin/python benchmarks/models.py --disk-cache   # compile: empty vs filled numba disk cache

Each measurement runs in a fresh subprocess so "cold" is honest: a new temporary pytensor
compile directory (PYTENSOR_FLAGS=compiledir=...) and a new numba JIT; "warm" is a second
process on the same compile directory; "repeat" is a second fit of the same graph in the same
process (the compiled model is reused and only its data swapped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _fixture(family: str):
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from test_models_helpers import frame, indicator

    if family == "share":
        rows = [
            {"period_end": "2021-12-31", "value": 0.12, "source": "idc"},
            {"period_end": "2022-12-31", "value": 0.16, "source": "idc"},
            {"period_end": "2023-12-31", "value": 0.21, "source": "idc"},
            {"period_end": "2023-12-31", "value": 0.17, "source": "bernstein"},
            {"period_end": "2024-12-31", "value": 0.27, "source": "bernstein"},
            {"period_end": "2024-12-31", "censor": "lower", "lower": 0.30, "source": "idc"},
        ]
        return frame(rows), indicator("share", "annual")
    q = [d.strftime("%Y-%m-%d") for d in pd.date_range("2023-03-31", periods=9, freq="QE")]
    if family == "growth":
        vals = [100, 115, 130, 150, None, None, 210, 240, 260]
        rows = [{"period_end": q[i], "value": v, "source": "acme"} for i, v in enumerate(vals) if v]
        rows.append(
            {"period_end": q[5], "period_start": "2024-01-01", "value": 370, "source": "acme"}
        )
        rows.append({"period_end": q[7], "value": 250, "source": "analyst"})
        return frame(rows), indicator("growth", "quarterly")
    if family == "count":
        y = np.random.default_rng(1).poisson(20, 9)
        return frame(
            [{"period_end": q[i], "value": int(v), "source": "fr"} for i, v in enumerate(y)]
        ), indicator("count", "quarterly")
    vals = [10, 10, 25, 25, 25]
    return frame(
        [{"period_end": q[2 * i], "value": v, "source": "ustr"} for i, v in enumerate(vals)]
    ), indicator("level", "quarterly")


def worker(family: str, sampler: str) -> dict:
    t0 = time.perf_counter()
    import arviz as az

    from chipcast.models import _grid as G
    from chipcast.models import _sampling as C
    from chipcast.models import get_family
    from chipcast.models.base import DEFAULT_SETTINGS

    t_import = time.perf_counter() - t0
    obs, ind = _fixture(family)
    fam = get_family(family)
    out = {"family": family, "sampler": sampler, "import_s": round(t_import, 1), "runs": []}
    if family == "level":
        for seed in (1, 2):
            t = time.perf_counter()
            tr = fam.fit(obs, ind, dt.date(2025, 8, 1), dt.date(2027, 12, 31), seed)
            out["runs"].append(
                {
                    "compile_s": 0.0,
                    "sample_s": round(time.perf_counter() - t, 3),
                    "ess_bulk_min": tr.diagnostics.ess_bulk_min,
                }
            )
        return out
    design = G.snap(G.modelled(obs), ind.frequency, dt.date(2027, 12, 31))
    size = G.SizeClass.of(design)
    for seed in (1, 2):
        model = fam.build_model(design, size)
        if sampler == "pymc":
            import pymc as pm

            t = time.perf_counter()
            with model:
                fn = model.compile_logp(), model.compile_dlogp()  # what pm.sample compiles first
            tc = time.perf_counter() - t
            del fn
            t = time.perf_counter()
            with model:
                idata = pm.sample(
                    DEFAULT_SETTINGS.draws,
                    tune=DEFAULT_SETTINGS.tune,
                    chains=2,
                    cores=1,
                    random_seed=seed,
                    target_accept=DEFAULT_SETTINGS.target_accept,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
            ts = time.perf_counter() - t
        else:
            t = time.perf_counter()
            idata, info = C.sample(model, seed, DEFAULT_SETTINGS, key=(family, size))
            ts = info.seconds
            tc = time.perf_counter() - t - ts
        s = az.summary(
            idata, var_names=[v for v in fam.GATE_VARS if v in idata.posterior], kind="diagnostics"
        )
        ess = float(s["ess_bulk"].min())
        out["runs"].append(
            {
                "compile_s": round(tc, 1),
                "sample_s": round(ts, 1),
                "ess_bulk_min": ess,
                "ess_per_s": round(ess / ts, 1),
                "rhat_max": float(s["r_hat"].max()),
                "divergences": int(idata.sample_stats["diverging"].sum()),
            }
        )
    return out


def compile_worker(family: str, cache: bool) -> dict:
    """One compile of the family's fixture model in this (fresh) process: seconds, and whether
    pytensor's numba disk cache supplied every function (no new index file)."""
    t0 = time.perf_counter()
    import nutpie

    from chipcast.models import _grid as G
    from chipcast.models import _sampling as S
    from chipcast.models import get_family

    t_import = time.perf_counter() - t0
    obs, ind = _fixture(family)
    design = G.snap(G.modelled(obs), ind.frequency, dt.date(2027, 12, 31))
    model = get_family(family).build_model(design, G.SizeClass.of(design))
    before = S._numba_cache_files()
    t = time.perf_counter()
    with S.quiet():
        nutpie.compile_pymc_model(model, backend="numba", **({"cache": True} if cache else {}))
    return {
        "import_s": round(t_import, 1),
        "compile_s": round(time.perf_counter() - t, 1),
        "new_cache_files": (S._numba_cache_files() or 0) - (before or 0),
    }


def disk_cache(families: list[str]) -> None:
    """Compile in fresh processes: on an empty compile directory, again on the same one
    (pytensor's numba disk cache filled), and again with nutpie's cache=True."""
    print(f"{'family':7} {'run':22} {'import s':>8} {'compile s':>9} {'new cache files':>15}")
    for fam in families:
        if fam == "level":
            continue
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={d}")
            for label, cache in (
                ("empty dir", False),
                ("disk cache", False),
                ("disk + cache=True", True),
            ):
                cmd = [sys.executable, str(HERE), "--compile-worker", fam]
                res = subprocess.run(
                    cmd + (["--cache"] if cache else []), env=env, capture_output=True, text=True
                )
                if res.returncode != 0:  # nutpie 0.16's cache=True: numba cannot pickle its cfunc
                    last = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "?"
                    print(f"{fam:7} {label:22} failed: {last}", flush=True)
                    continue
                r = json.loads(res.stdout.strip().splitlines()[-1])
                print(
                    f"{fam:7} {label:22} {r['import_s']:>8} {r['compile_s']:>9} {r['new_cache_files']:>15}",
                    flush=True,
                )


def run_worker(family: str, sampler: str, compiledir: str) -> dict:
    env = dict(
        os.environ,
        PYTENSOR_FLAGS=f"compiledir={compiledir}",
        NUMBA_CACHE_DIR=os.path.join(compiledir, "numba"),
    )
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, str(HERE), "--worker", family, "--sampler", sampler],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_s"] = round(time.perf_counter() - t, 1)
    return out


def bench(families: list[str], samplers: list[str]) -> None:
    print(
        f"{'family':7} {'sampler':6} {'cache':5} {'process':>8} {'import':>7} {'compile':>8} {'sample':>7} {'ESS':>6} {'ESS/s':>7} {'rhat':>5} {'div':>4}"
    )
    for sampler in samplers:
        for fam in families:
            with tempfile.TemporaryDirectory() as d:
                for label in ("cold", "warm"):
                    r = run_worker(fam, sampler, d)
                    for i, run in enumerate(r["runs"]):
                        tag = label if i == 0 else "rept"
                        print(
                            f"{fam:7} {sampler:6} {tag:5} {r['process_s'] if i == 0 else '':>8} {r['import_s'] if i == 0 else '':>7} "
                            f"{run['compile_s']:>8} {run['sample_s']:>7} {run['ess_bulk_min']:>6.0f} {run.get('ess_per_s', ''):>7} "
                            f"{run.get('rhat_max', 1.0):>5.2f} {run.get('divergences', 0):>4}",
                            flush=True,
                        )


def fit_data(root: str, as_of: dt.date, horizon: dt.date) -> int:
    """Fit every shipped modelled indicator with DEFAULT settings; print gate results."""
    from chipcast.models import fit_indicator
    from chipcast.registry import load

    reg = load(root)
    failed = 0
    print(
        f"{'indicator':40} {'family':7} {'n':>3} {'pass':>5} {'retry':>5} {'rhat':>5} {'ess':>6} {'div':>4} {'secs':>6}  sampler"
    )
    for iid, ind in sorted(reg.indicators.items()):
        if ind.family == "none":
            continue
        t = time.perf_counter()
        tr = fit_indicator(reg.indicator_observations(iid), ind, as_of, horizon, seed=20250101)
        secs = time.perf_counter() - t
        if tr is None:
            print(f"{iid:40} {ind.family:7}  no observations")
            continue
        d = tr.diagnostics
        failed += not d.passed
        print(
            f"{iid:40} {ind.family:7} {d.n_observations:>3} {str(d.passed):>5} {str(d.retried):>5} {d.rhat_max:>5.3f} "
            f"{d.ess_bulk_min:>6.0f} {d.divergences:>4} {secs:>6.1f}  {d.sampler} {'; '.join(d.reasons)}",
            flush=True,
        )
    return failed


def _model_scale(x):
    """Draws on the scale the family models them: logit for shares, log for positive flows."""
    import numpy as np

    v = np.asarray(x, dtype=float)
    if np.all((v > 0) & (v < 1)):
        return np.log(v / (1 - v))
    return np.log(v) if np.all(v > 0) else np.log1p(np.clip(v, 0, None))


def _moved(reference, latent) -> float:
    """Largest |difference| of the 5/50/95% quantiles over periods, in the reference's sd."""
    import numpy as np

    if reference is None:
        return 0.0
    a = _model_scale(reference.transpose("sample", "period").values)
    b = _model_scale(latent.transpose("sample", "period").values)
    qa, qb = (np.quantile(x, [0.05, 0.5, 0.95], axis=0) for x in (a, b))
    iqr = np.subtract(*np.quantile(a, [0.75, 0.25], axis=0)) / 1.349
    ok = iqr > 0
    return float(np.max(np.abs(qa - qb)[:, ok] / iqr[ok])) if ok.any() else 0.0


def sweep(
    root: str,
    as_of: dt.date,
    horizon: dt.date,
    accepts: list[float],
    tunes: list[int],
    seeds: list[int],
    only: list[str] | None = None,
    centrings: list[str] | None = None,
) -> None:
    """Fit every shipped MCMC indicator at each target acceptance, tuning length and seed (the
    family's floor lifted), in one process (one compile per family and size class), and print
    the evidence for the sampler settings: divergences, the gate's ESS and R-hat, gradient
    evaluations after and during tuning, ESS per 1,000 gradient evaluations (all of them),
    final step size and the deepest tree. `centrings` sweeps the trend families' rule for
    which levels are sampled centred (data, not graph: no extra compile). A target acceptance
    of 0 means the family's own (its floor over the default). The last column, `dq_sd`, is the
    largest difference of the latent path's 5/50/95% quantiles (over periods) from the same
    indicator's first fit of the sweep, in that fit's posterior sd (IQR / 1.349), on the
    model's scale: how far a setting moves the posterior, to read beside what a second seed
    alone moves it."""
    from dataclasses import replace

    from chipcast.data import as_of as visible_on
    from chipcast.models import DEFAULT_SETTINGS, get_family
    from chipcast.registry import load

    reg = load(root)
    print(
        f"{'indicator':38} {'family':6} {'size':11} {'centring':8} {'acc':>5} {'tune':>4} {'seed':>4} {'div':>3} "
        f"{'ess':>5} {'rhat':>5} {'grads':>7} {'warm':>7} {'ess/kgrad':>9} {'step':>6} {'depth':>5} {'secs':>5}"
        f" {'gate':>4} {'dq_sd':>5}"
    )
    for iid, ind in sorted(reg.indicators.items()):
        if only and iid not in only:
            continue
        fam = get_family(ind.family) if ind.family != "none" else None
        if fam is None or not hasattr(fam, "build_model"):
            continue
        obs = visible_on(reg.indicator_observations(iid), as_of)
        if obs.empty:
            continue
        family_object = getattr(fam, "FAMILY", None)
        floor = family_object.target_accept if family_object is not None else fam.TARGET_ACCEPT
        rule = getattr(family_object, "centring", "-")
        reference = None
        for acc, centring, tune, seed in itertools.product(
            accepts, (centrings or [rule]) if family_object else ["-"], tunes, seeds
        ):
            acc = acc if acc > 0 else max(DEFAULT_SETTINGS.target_accept, floor)
            if family_object is not None:
                family_object.target_accept = acc
                family_object.centring = centring
            else:
                fam.TARGET_ACCEPT = acc
            settings = replace(DEFAULT_SETTINGS, target_accept=acc, tune=tune)
            t = time.perf_counter()
            tr = fam.fit(obs, ind, as_of, horizon, seed, settings)
            d = tr.diagnostics
            grads = d.gradient_evaluations + d.warmup_gradient_evaluations
            print(
                f"{iid:38} {ind.family:6} {d.size_class:11} {centring:8} {acc:5.3f} {tune:4d} {seed:4d} "
                f"{d.divergences:3d} {d.ess_bulk_min:5.0f} {d.rhat_max:5.3f} "
                f"{d.gradient_evaluations:7d} {d.warmup_gradient_evaluations:7d} "
                f"{1000 * d.ess_bulk_min / max(grads, 1):9.2f} {d.step_size:6.3f} "
                f"{d.tree_depth_max:5d} {time.perf_counter() - t:5.1f}"
                f" {'pass' if d.passed else 'FAIL':>4} {_moved(reference, tr.latent):5.2f}",
                flush=True,
            )
            reference = tr.latent if reference is None else reference
        if family_object is not None:
            family_object.target_accept, family_object.centring = floor, rule
        else:
            fam.TARGET_ACCEPT = floor


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--families", nargs="*", default=["share", "growth", "count", "level"])
    p.add_argument("--pymc", action="store_true", help="also measure PyMC's own NUTS (C backend)")
    p.add_argument("--worker")
    p.add_argument("--sampler", default="nutpie")
    p.add_argument("--data", help="project root: fit every modelled indicator instead")
    p.add_argument("--as-of", default=dt.date.today().isoformat())
    p.add_argument("--horizon", default="2027-12-31")
    p.add_argument("--sweep", nargs="*", type=float, help="target acceptances to sweep (--data)")
    p.add_argument("--tune", nargs="*", type=int, default=[1000])
    p.add_argument("--seeds", nargs="*", type=int, default=[1])
    p.add_argument("--only", nargs="*", help="indicator ids (with --sweep)")
    p.add_argument("--centring", nargs="*", help="series | pinned | none (with --sweep)")
    p.add_argument("--disk-cache", action="store_true", help="compile cost in fresh processes")
    p.add_argument("--compile-worker")
    p.add_argument("--cache", action="store_true")
    a = p.parse_args()
    if a.compile_worker:
        print(json.dumps(compile_worker(a.compile_worker, a.cache)))
        return 0
    if a.disk_cache:
        disk_cache(a.families)
        return 0
    if a.sweep:
        sweep(
            a.data or ".",
            dt.date.fromisoformat(a.as_of),
            dt.date.fromisoformat(a.horizon),
            a.sweep,
            a.tune,
            a.seeds,
            a.only,
            a.centring,
        )
        return 0
    if a.worker:
        print(json.dumps(worker(a.worker, a.sampler)))
        return 0
    if a.data:
        return (
            1
            if fit_data(a.data, dt.date.fromisoformat(a.as_of), dt.date.fromisoformat(a.horizon))
            else 0
        )
    bench(a.families, ["nutpie", "pymc"] if a.pymc else ["nutpie"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
