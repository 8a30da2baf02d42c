"""How the cold refresh's cost grows with the registry: 1x, 3x and 10x the shipped indicators.

On a copy of the project (never the real one), with no history and no fingerprint cache:
1. 1x: a fixed sample of the shipped registry, `chipcast refresh --force`: `--base` modelled
   indicators with figures (default 6, every modelled family among them, drawn with the seed),
   their claims and the claims that name no indicator; the other indicators and their claims
   are removed from the copy. A fixed size keeps the 10x run inside half an hour however the
   registry grows (`--base 0` keeps the whole registry);
2. 3x and 10x: that sample plus 2 (9) synthetic indicators per modelled one, each
   drawn from that indicator's model as fitted in step 1 (its trajectory's quantiles: one
   quantile level per synthetic series, jittered per figure, so a synthetic series is one
   plausible path of the fitted model plus reporting noise), with its own series length (the
   last k of the indicator's figures, k at random from half to all of them) and its own sources
   (a random subset of the indicator's, at least one); figures keep their censoring, spans and
   publication dates. Each size runs on a fresh copy.
For each size it prints the cold-refresh seconds, the models compiled (summed over workers,
from the run log) and the seconds per indicator, and ends with the line fixed in the design's
contracts:

    n1=… s1=… c1=… n3=… s3=… c3=… n10=… s10=… c10=… per_indicator_ratio=…

    python benchmarks/scale.py [--root PATH] [--today YYYY-MM-DD] [--base N] [--profile test-small]

`--factors 1,3` runs only those sizes (the contract line needs all three) and `--keep DIR`
keeps each size's forecasts under DIR/x<f>: run once with the local pool and once with
`--scheduler` to compare their outputs (`--compare A B`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from refresh import BIN, IGNORE, REPO, compile_counts, modelled, run  # noqa: E402

FACTORS = (1, 3, 10)
QCOLS = ["q025", "q050", "q100", "q250", "q500", "q750", "q900", "q950", "q975"]
QLEVELS = np.array([0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975])


def fresh_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=IGNORE)
    history = dest / "forecasts" / "history"
    shutil.rmtree(history, ignore_errors=True)
    history.mkdir(parents=True)
    return dest


def keep_sample(root: Path, today: dt.date, base: int, rng: np.random.Generator) -> list[str]:
    """Cut the copy at `root` to `base` modelled indicators with figures (at least one of each
    modelled family, the rest drawn at random), their claims and the claims that name no
    indicator; returns the kept indicator ids (all of them when `base` is 0 or not smaller)."""
    ids = modelled(root, today)[0]
    if base <= 0 or base >= len(ids):
        return ids
    specs = {
        p.stem: yaml.safe_load(p.read_text()) for p in (root / "data" / "indicators").glob("*.yaml")
    }
    by_family: dict[str, list[str]] = {}
    for i in ids:
        by_family.setdefault(specs[i]["family"], []).append(i)
    keep = {str(rng.choice(sorted(v))) for _, v in sorted(by_family.items())}
    rest = sorted(set(ids) - keep)
    keep |= set(rng.choice(rest, size=max(base - len(keep), 0), replace=False).tolist())
    for iid in set(specs) - keep:
        (root / "data" / "indicators" / f"{iid}.yaml").unlink()
        (root / "data" / "observations" / f"{iid}.csv").unlink(missing_ok=True)
        (root / "forecasts" / "trajectories" / f"{iid}.csv").unlink(missing_ok=True)
    for claim in (root / "forecasts" / "claims").glob("*.yaml"):
        named = yaml.safe_load(claim.read_text()).get("indicator")
        if named is not None and named not in keep:
            claim.unlink()
            (root / "forecasts" / "hindcasts" / f"{claim.stem}.csv").unlink(missing_ok=True)
    return sorted(keep)


def _value(traj: pd.DataFrame, series: str, start, end, how: str, u: float) -> float | None:
    """What `series` reports for start..end at quantile level u of each covered grid period:
    their sum (flows, scaled for a figure shorter than a period) or mean (shares)."""
    sys.path.insert(0, str(REPO / "src"))
    from chipcast.models import covered, grid_frequency

    rows = traj[traj["series"] == series].sort_values("period_end")
    grid = pd.DatetimeIndex(rows["period_end"])
    try:
        idx, frac = covered(grid, start, end, grid_frequency(grid))
    except ValueError:
        return None
    vals = [float(np.interp(u, QLEVELS, rows[QCOLS].iloc[i].to_numpy(float))) for i in idx]
    return float(np.sum(vals) * frac if how == "sum" else np.mean(vals))


def synthesize(root: Path, fitted: Path, copies: int, rng: np.random.Generator) -> int:
    """Add `copies` synthetic indicators per modelled indicator of `root` that has a fitted
    trajectory in `fitted`; returns how many were added."""
    added = 0
    for ind_path in sorted((root / "data" / "indicators").glob("*.yaml")):
        spec = yaml.safe_load(ind_path.read_text())
        family, iid = spec.get("family"), spec["id"]
        obs_path = root / "data" / "observations" / f"{iid}.csv"
        traj_path = fitted / f"{iid}.csv"
        if family in (None, "none") or not obs_path.exists() or not traj_path.exists():
            continue
        obs = pd.read_csv(obs_path, dtype=str, keep_default_na=False)
        traj = pd.read_csv(traj_path, parse_dates=["period_end"])
        how = {"growth": "sum", "count": "sum", "share": "mean"}.get(family, "last")
        for k in range(1, copies + 1):
            new_id = f"{iid[:56]}-s{k:02d}"
            n = len(obs)
            keep = obs.iloc[n - int(rng.integers(min(max(2, n // 2), n), n + 1)) :].copy()
            sources = sorted(keep["source"].unique())
            chosen = set(
                rng.choice(sources, size=int(rng.integers(1, len(sources) + 1)), replace=False)
            )
            keep = keep[keep["source"].isin(chosen)]
            if len(keep) < 2:
                keep = obs.iloc[-2:].copy()
            z = rng.standard_normal()
            rows = []
            for _, r in keep.iterrows():
                end = pd.Timestamp(r["period_end"])
                start = pd.Timestamp(r["period_start"]) if r["period_start"] else end
                series = r["source"] if (traj["series"] == r["source"]).any() else "latent"
                u = float(norm.cdf(z + 0.3 * rng.standard_normal()))
                u = min(max(u, 0.03), 0.97)
                # policy levels are copied: their model has no sampler to scale
                v = None if family == "level" else _value(traj, series, start, end, how, u)
                text = r["value"]
                if v is not None and np.isfinite(v):
                    if family == "count":
                        v = float(max(round(v), 0))
                    if family == "share":
                        v = min(max(v, 1e-3), 1 - 1e-3)
                    lead = text[:1] if text[:1] in "<>" else ""
                    text = f"{lead}{v:.6g}" if ".." not in text else f"{v * 0.9:.6g}..{v * 1.1:.6g}"
                rows.append({**r, "value": text, "note": "synthetic (benchmarks/scale.py)"})
            pd.DataFrame(rows, columns=obs.columns).to_csv(
                root / "data" / "observations" / f"{new_id}.csv", index=False
            )
            (root / "data" / "indicators" / f"{new_id}.yaml").write_text(
                yaml.safe_dump(
                    {**spec, "id": new_id, "name": f"{spec['name']} (synthetic {k})"},
                    sort_keys=False,
                )
            )
            added += 1
    return added


def cold_refresh(root: Path, today: str, profile: str, jobs: int | None, scheduler: str | None):
    cmd = [str(BIN / "chipcast"), "refresh", "--root", str(root), "--today", today]
    cmd += ["--no-progress", "--force", "--profile", profile]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    seconds = run(cmd, root)
    compiles, _, _, per_worker = compile_counts(root)
    return seconds, compiles, per_worker


def _history(d: Path) -> pd.DataFrame:
    """Every forecast a run issued, without the run's id (it names the run, not the forecast)."""
    files = sorted((d / "history").glob("*.csv"))
    if not files:
        return pd.DataFrame()
    h = pd.concat([pd.read_csv(f, dtype=str) for f in files]).drop(columns="run_id")
    return h.sort_values(list(h.columns)).reset_index(drop=True)


def compare(a: Path, b: Path) -> int:
    """Print how two `--keep` runs' forecasts differ, size by size (each trajectory file, and
    the issued forecasts); 0 when they are the same, 1 otherwise."""
    differ = 0
    for size in sorted(p.name for p in a.iterdir() if p.is_dir()):
        files = sorted((a / size / "trajectories").glob("*.csv"))
        other = [b / size / "trajectories" / f.name for f in files]
        same = [
            f.name
            for f, g in zip(files, other, strict=True)
            if g.exists() and f.read_bytes() == g.read_bytes()
        ]
        ha, hb = _history(a / size), _history(b / size)
        issued = ha.equals(hb)
        differ += len(files) - len(same) + (not issued)
        print(
            f"{size}: {len(same)} of {len(files)} trajectories byte-identical; "
            f"{len(ha)} forecasts issued, {'the same' if issued else 'DIFFERENT'}"
        )
        for f in sorted({f.name for f in files} - set(same)):
            print(f"  {size}/trajectories/{f}: differs")
    return 1 if differ else 0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--root", default=str(REPO), help="the project to scale (copied)")
    ap.add_argument("--today", default=dt.datetime.now(dt.UTC).date().isoformat())
    ap.add_argument("--profile", default="default", help="sampler profile (tests: test-small)")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    ap.add_argument("--scheduler", default=None, help="a Dask scheduler address")
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument(
        "--base", type=int, default=6, help="modelled indicators at 1x (0: the whole registry)"
    )
    ap.add_argument("--factors", default="1,3,10", help="the sizes to run, e.g. 1,3")
    ap.add_argument("--keep", type=Path, default=None, help="keep each size's forecasts here")
    ap.add_argument("--compare", nargs=2, type=Path, default=None, help="two --keep dirs")
    args = ap.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    factors = tuple(int(f) for f in args.factors.split(","))
    if 1 not in factors:
        ap.error("--factors must include 1: the synthetic indicators are drawn from its fits")
    rng = np.random.default_rng(args.seed)
    src = Path(args.root).resolve()
    today = dt.date.fromisoformat(args.today)
    out: dict[int, tuple[int, float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="chipcast-scale-") as tmp:
        fitted = Path(tmp) / "fitted"
        for f in factors:
            root = fresh_copy(src, Path(tmp) / f"x{f}")
            base = keep_sample(root, today, args.base, np.random.default_rng(args.seed))
            if f == 1:
                print(f"1x sample: {', '.join(base)}", flush=True)
            if f > 1:
                synthesize(root, fitted, f - 1, rng)
            n = len(modelled(root, today)[0])
            seconds, compiles, per_worker = cold_refresh(
                root, args.today, args.profile, args.jobs, args.scheduler
            )
            if f == 1:  # the fitted models the synthetic indicators are drawn from
                shutil.copytree(root / "forecasts" / "trajectories", fitted)
            out[f] = (n, seconds, compiles)
            workers = ", ".join(f"{c} on {w}" for w, c in sorted(per_worker.items()))
            print(
                f"{f}x: {n} indicators, cold refresh {seconds:.2f} s, {compiles} compiles "
                f"({workers}), {seconds / max(n, 1):.2f} s per indicator",
                flush=True,
            )
            if args.keep is not None:
                dest = args.keep / f"x{f}"
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(root / "forecasts", dest)
            shutil.rmtree(root, ignore_errors=True)
    if set(FACTORS) - set(out):
        return
    (n1, s1, c1), (n3, s3, c3), (n10, s10, c10) = (out[f] for f in FACTORS)
    ratio = (s10 / n10) / (s1 / n1)
    print(
        f"n1={n1} s1={s1:.2f} c1={c1} n3={n3} s3={s3:.2f} c3={c3} "
        f"n10={n10} s10={s10:.2f} c10={c10} per_indicator_ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
