"""Forecast skill on real series: the growth family beside naive, ETS and Theta on World Bank GDP.

    .venv/bin/python benchmarks/skill.py                      # both halves, every forecaster
    .venv/bin/python benchmarks/skill.py --half test          # the half the README quotes
    .venv/bin/python benchmarks/skill.py --priors handset     # the growth family's old priors
    .venv/bin/python benchmarks/skill.py --economies 4 --models naive,ets   # a quick look
    .venv/bin/python benchmarks/skill.py --draw-sample        # (once) draw and write the sample

The sample (benchmarks/data/skill-sample.csv, drawn once with `--draw-sample`, committed before
any forecast was scored) holds 100 economies, split by economy into a development and a test
half, with two origin years each; every origin is forecast from its last 6 and its last 10
years, 1-6 years ahead. Data: benchmarks/data/wdi-gdp-economies.csv (World Bank WDI, CC BY 4.0;
see its README). Scoring: `chipcast.evaluate.skill`. The growth family is fitted with nutpie
through the compile-once cache (one compile per size class), with the sampler settings below
(smaller than a refresh's: 2 chains x 500 draws), every fit scored and its gate recorded.

Prints a table per half and ends with DESIGN's line for the growth family on the test half (on
the last half run when the test half is not run):
`series=… crps_rel_naive=… crps_rel_ets=… cov80=… cov80_lo=… cov80_hi=…`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "wdi-gdp-economies.csv"
SAMPLE = HERE / "data" / "skill-sample.csv"
SAMPLE_SEED = 20261203
ECONOMIES, ORIGINS, HISTORIES, HORIZONS = 100, 2, (6, 10), 6
N_SAMPLES = 1000  # draws per forecast for the baselines (the growth family: chains x draws)
SEED = 20250717


def load_gdp(path: Path = DATA) -> pd.DataFrame:
    """economy, year, value: GDP in current US$ (aggregates were removed from the file)."""
    df = pd.read_csv(path, usecols=["code", "year", "gdp_current_usd"])
    return df.rename(columns={"code": "economy", "gdp_current_usd": "value"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draw-sample", action="store_true", help="draw the sample and write it")
    ap.add_argument("--half", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--models", default="growth,naive,ets,theta")
    ap.add_argument("--priors", choices=("learned", "handset"), default="learned")
    ap.add_argument("--economies", type=int, default=None, help="first N economies of a half")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--out", type=Path, default=None, help="write every scored row (CSV)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="start no new economy after this many minutes (a prefix of the fixed sample)",
    )
    args = ap.parse_args(argv)

    from chipcast.evaluate import skill as SK

    gdp = load_gdp(args.data)
    if args.draw_sample:
        sample = SK.draw_sample(gdp, ECONOMIES, ORIGINS, SAMPLE_SEED, max(HISTORIES), HORIZONS)
        args.sample.parent.mkdir(parents=True, exist_ok=True)
        sample.to_csv(args.sample, index=False)
        print(
            f"wrote {args.sample}: {sample['economy'].nunique()} economies, {len(sample)} origins"
        )
        return 0

    sample = pd.read_csv(args.sample)
    halves = ("dev", "test") if args.half == "both" else (args.half,)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    forecasters: dict[str, SK.Forecaster] = {}
    growth_fc = None
    for m in models:
        if m in SK.BASELINE_FORECASTERS:
            forecasters[m] = SK.BASELINE_FORECASTERS[m]
        elif m == "growth":
            from chipcast.models import growth
            from chipcast.models.base import GateSettings, SamplerSettings

            priors = growth.LEARNED_PRIORS if args.priors == "learned" else growth.HANDSET_PRIORS
            fam = growth.Growth(growth.name, growth.version, priors, growth.TARGET_ACCEPT)
            settings = SamplerSettings(
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                cores=min(args.chains, 2),
                profile="skill-bench",
                gate=GateSettings(rhat_max=1.05, ess_bulk_min=100.0, divergences_max=0),
            )
            growth_fc = SK.FamilyForecaster(fam, settings)
            forecasters["growth"] = growth_fc
        else:
            ap.error(f"unknown model {m!r}")
    if "naive" not in forecasters or "ets" not in forecasters:
        print("note: relative CRPS needs naive and ets among --models", file=sys.stderr)

    t0 = time.perf_counter()
    t0_mono = time.monotonic()
    frames = []
    summaries = {}
    for half in halves:
        part = sample[sample["half"] == half]
        if args.economies is not None:
            keep = part.drop_duplicates("economy").sort_values("order")["economy"][: args.economies]
            part = part[part["economy"].isin(keep)]
        tasks = SK.tasks_from_sample(gdp, part, HISTORIES, HORIZONS)
        say = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
        deadline = None if args.minutes is None else t0_mono + 60 * args.minutes
        scores = SK.run_tasks(tasks, forecasters, N_SAMPLES, SEED, say, deadline)
        frames.append(scores)
        summary = SK.summarise(scores, seed=SEED)
        summaries[half] = summary
        n_series = scores.groupby(["economy", "origin", "history"]).ngroups
        print(f"\n{half} half: {scores['economy'].nunique()} economies, {n_series} series")
        print(SK.format_table(summary))
        if growth_fc is not None:
            diag = [
                v for (e, _, _), v in growth_fc.diagnostics.items() if e in set(part["economy"])
            ]
            failed = sum(not d["passed"] for d in diag)
            secs = sum(d["seconds"] for d in diag)
            print(
                f"growth ({args.priors} priors): {failed} of {len(diag)} fits failed the gate "
                f"(r_hat <= 1.05, bulk ESS >= 100, no divergences); sampling {secs:.0f} s"
            )
    print(f"\n{time.perf_counter() - t0:.0f} s")
    if args.out is not None:
        pd.concat(frames, ignore_index=True).to_csv(args.out, index=False, float_format="%.6g")
    last = summaries.get("test", summaries[halves[-1]])
    model = "growth" if "growth" in set(last["model"]) else str(last["model"].iloc[0])
    print(SK.contract_line(last, model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
