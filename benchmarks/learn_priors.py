"""Learn the growth family's trend priors by empirical Bayes on the development half.

    .venv/bin/python benchmarks/learn_priors.py            # writes src/chipcast/models/priors/growth.json
    .venv/bin/python benchmarks/learn_priors.py --dry-run  # prints the estimate only
    make priors                                            # the same as the first line

Reference class: the development half of the skill benchmark's sample
(benchmarks/data/skill-sample.csv, half "dev"): each economy's longest run of GDP in current
US$ (benchmarks/data/wdi-gdp-economies.csv, World Bank WDI, CC BY 4.0), cut from its end
backwards into non-overlapping windows of 16 years (the benchmark's longest history, 10, plus
its 6 horizons). The test half is never read. Method: `chipcast.models.empirical_bayes` (the
family's trend as a Kalman filter, per-series scales integrated on a grid, the marginal
likelihood summed over windows and maximised). The result, with its provenance, is the small
committed file the growth family reads (`chipcast.models._priors.learned`); CI never refits it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from skill import DATA, SAMPLE, load_gdp  # noqa: E402

WINDOW = 16
OUT = REPO / "src" / "chipcast" / "models" / "priors" / "growth.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def windows(gdp: pd.DataFrame, economies: list[str], length: int = WINDOW) -> np.ndarray:
    """(windows, length) non-overlapping windows from the end of each economy's longest run."""
    from chipcast.evaluate.skill import runs

    series = runs(gdp)
    out = []
    for code in economies:
        v = series[code].to_numpy(dtype=float)
        for end in range(len(v), length - 1, -length):
            out.append(v[end - length : end])
    return np.array(out)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--maxiter", type=int, default=150)
    args = ap.parse_args(argv)

    from chipcast.models import empirical_bayes as EB
    from chipcast.models import growth

    gdp = load_gdp(DATA)
    sample = pd.read_csv(SAMPLE)
    dev = sorted(sample.loc[sample["half"] == "dev", "economy"].unique())
    values = windows(gdp, dev)
    H = growth.HANDSET_PRIORS
    noise = EB.Noise.of(H.noise_floor.value, H.sigma_pop.median, H.sigma_pop.log_sd)
    handset = EB.Hyper(
        sig_level_median=H.sig_level.median,
        sig_level_log_sd=H.sig_level.log_sd,
        sig_slope_sigma=H.sig_slope.sigma,
        rho=H.slope_reversion.rho_per_year,
        mu_mean=H.slope_reversion.mu_mean,
        mu_sigma=H.slope_reversion.mu_sigma,
    )
    fit = EB.fit_hyper(values, noise, H.level0.sigma, handset, maxiter=args.maxiter)
    lm_hand = EB.log_marginal_at(values, handset, noise, H.level0.sigma)
    h = fit.hyper
    print(f"{len(dev)} dev economies, {len(values)} windows of {WINDOW} years")
    print(f"{fit.evaluations} filter evaluations")
    print(f"log marginal likelihood: learned {fit.log_marginal:.1f}, hand-set {lm_hand:.1f}")
    for k, v in vars(h).items():
        print(f"  {k:18} {v:.4f}   (hand-set {getattr(handset, k):.4f})")
    doc = {
        "family": "growth",
        "priors": {
            "sig_level": {
                "median": round(h.sig_level_median, 4),
                "log_sd": round(h.sig_level_log_sd, 3),
            },
            "sig_slope": {"sigma": round(h.sig_slope_sigma, 4)},
            "slope_reversion": {
                "rho_per_year": round(h.rho, 3),
                "mu_mean": round(h.mu_mean, 4),
                "mu_sigma": round(h.mu_sigma, 4),
            },
        },
        "provenance": {
            "data": "benchmarks/data/wdi-gdp-economies.csv (World Bank WDI NY.GDP.MKTP.CD, CC BY 4.0)",
            "data_sha256": sha256(DATA),
            "sample": "benchmarks/data/skill-sample.csv, half dev",
            "sample_sha256": sha256(SAMPLE),
            "economies": len(dev),
            "windows": int(len(values)),
            "window_years": WINDOW,
            "method": (
                "empirical Bayes: the growth family's damped local linear trend as a Kalman "
                "filter (Gaussian noise: floor 0.03 and the hand-set sigma_pop prior, 5 "
                f"quadrature nodes; level0 sd {H.level0.sigma}), sig_level ~ LogNormal and "
                "sig_slope ~ HalfNormal integrated per window on a grid, rho and mu_slope's "
                "Normal shared; marginal likelihood summed over windows, maximised by Nelder-Mead"
            ),
            "code": "benchmarks/learn_priors.py, src/chipcast/models/empirical_bayes.py",
            "code_sha256": sha256(REPO / "src" / "chipcast" / "models" / "empirical_bayes.py"),
            "git_commit": git_commit(),
            "computed_on": dt.date.today().isoformat(),
            "log_marginal_learned": round(fit.log_marginal, 2),
            "log_marginal_handset": round(lm_hand, 2),
        },
    }
    if args.dry_run:
        print(json.dumps(doc, indent=2))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
