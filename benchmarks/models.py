"""Model benchmarks: compile and sampling time per family, cold and warm, and ESS per second.

    .venv/bin/python benchmarks/models.py                 # every family, DEFAULT settings
    .venv/bin/python benchmarks/models.py --families share --pymc   # also PyMC's own NUTS
    .venv/bin/python benchmarks/models.py --data /work/main          # fit every shipped indicator

Each measurement runs in a fresh subprocess so "cold" is honest: a new temporary pytensor
compile directory (PYTENSOR_FLAGS=compiledir=...) and a new numba JIT; "warm" is a second
process on the same compile directory; "repeat" is a second fit of the same graph in the same
process (the compiled model is reused and only its data swapped).
"""

from __future__ import annotations

import argparse
import datetime as dt
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

    from chipcast.models import _common as C
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
    design = C.snap(C.modelled(obs), ind.frequency, dt.date(2027, 12, 31))
    for seed in (1, 2):
        model = (
            fam.build_model(design, fam.data_scale(design))
            if family == "growth"
            else fam.build_model(design)
        )
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
            idata, ts, _, notes = C.sample(
                model, seed, DEFAULT_SETTINGS, key=C.structure_key(family, design)
            )
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
    a = p.parse_args()
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
