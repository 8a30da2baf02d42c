"""Benchmark the refresh on the shipped data, on a copy of the project (never the real history).

Prints, in one run:
1. plain: every notebook run one after another with the `papermill` command (each indicator
   notebook, each claim notebook, the scoreboard), as a researcher would by hand;
2. cold: `chipcast refresh --force` (no fingerprint cache);
3. warm: `chipcast refresh` again with nothing changed;
4. incremental: `chipcast refresh` after one new observation;
5. floor: (one `import pymc` + every indicator's fit, in one process) / cores.
All runs share one warm pytensor compile cache (it is warmed first, and not timed). The cold
refresh's run log gives the models compiled (summed over workers, and per worker), the compiles
that found pytensor's numba functions in its disk cache, and the fits' sampling seconds. The
last line is the one fixed in the design's contracts.

    python benchmarks/refresh.py [--today YYYY-MM-DD] [--skip-plain]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "reports",
    ".chipcast",
    "__pycache__",
    "*.egg-info",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
)


def run(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        sys.stderr.write(res.stdout[-2000:] + res.stderr[-4000:])
        raise SystemExit(f"command failed ({res.returncode}): {' '.join(cmd)}")
    return time.perf_counter() - t0


def modelled(root: Path, today: dt.date) -> tuple[list[str], list[str]]:
    sys.path.insert(0, str(REPO / "src"))
    from chipcast.data import as_of
    from chipcast.registry import load

    reg = load(root)
    visible = as_of(reg.observations, today)
    inds = sorted(
        i
        for i, ind in reg.indicators.items()
        if ind.family != "none" and (visible["indicator"] == i).any()
    )
    return inds, sorted(reg.claims)


def floor_seconds(root: Path, today: str) -> float:
    """One process: import pymc, then fit every indicator, as the notebooks would."""
    code = (
        "import time, sys; t0 = time.perf_counter(); import pymc\n"
        "from chipcast import analysis\n"
        "from chipcast.evaluate import DEFAULT_SEED\n"
        f"for i in {modelled(root, dt.date.fromisoformat(today))[0]!r}:\n"
        f"    ctx = analysis.indicator_context({str(root)!r}, i, {today!r})\n"
        "    analysis.fit(ctx, seed=DEFAULT_SEED)\n"
        "print(time.perf_counter() - t0)\n"
    )
    res = subprocess.run(
        [str(BIN / "python"), "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return float(res.stdout.strip().splitlines()[-1])


def compile_counts(root: Path) -> tuple[int, int, float, dict[str, int]]:
    """(models compiled, disk-cache hits, sampling seconds, compiles per worker) of the newest
    refresh run under `root`, from its run log's per-job diagnostics."""
    runs = sorted((root / "reports" / "runs").glob("*/run.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise SystemExit(f"no refresh run log under {root / 'reports' / 'runs'}")
    log = json.loads(runs[-1].read_text())
    compiles = hits = 0
    sampling = 0.0
    per_worker: dict[str, int] = {}
    for job in log["jobs"]:
        d = job.get("diagnostics") or {}
        compiles += int(d.get("compiles", 0))
        hits += int(d.get("compile_cache_hits", 0))
        sampling += float(d.get("sampling_seconds") or 0.0)
        if "worker" in job:
            per_worker[job["worker"]] = per_worker.get(job["worker"], 0) + int(d.get("compiles", 0))
    return compiles, hits, sampling, per_worker


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--today", default=dt.datetime.now(dt.UTC).date().isoformat())
    ap.add_argument(
        "--skip-plain", action="store_true", help="skip the (slow) plain papermill pass"
    )
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="chipcast-bench-") as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(REPO, root, ignore=IGNORE)
        shutil.rmtree(root / "forecasts" / "history")
        (root / "forecasts" / "history").mkdir()
        chipcast = [str(BIN / "chipcast")]
        common = ["--root", str(root), "--today", args.today, "--no-progress"]
        indicators, claims = modelled(root, dt.date.fromisoformat(args.today))
        print(
            f"machine: {cores} cores; {len(indicators)} modelled indicators, {len(claims)} claims",
            flush=True,
        )

        # warm the shared compile cache (not timed): one refresh of everything
        run([*chipcast[:1], "refresh", *common, "--force"], root)
        print("compile cache warmed", flush=True)

        plain = float("nan")
        if not args.skip_plain:
            out = Path(tmp) / "plain"
            out.mkdir()
            papermill = str(BIN / "papermill")
            t0 = time.perf_counter()
            for i in indicators:
                run(
                    [
                        papermill,
                        "notebooks/indicator.ipynb",
                        str(out / f"ind-{i}.ipynb"),
                        "-p",
                        "indicator_id",
                        i,
                        "-p",
                        "as_of",
                        args.today,
                        "-p",
                        "output_dir",
                        str(out / i),
                        "-p",
                        "root",
                        str(root),
                    ],
                    root,
                )
            for c in claims:
                run(
                    [
                        papermill,
                        "notebooks/claim.ipynb",
                        str(out / f"claim-{c}.ipynb"),
                        "-p",
                        "claim_id",
                        c,
                        "-p",
                        "today",
                        args.today,
                        "-p",
                        "root",
                        str(root),
                    ],
                    root,
                )
            run(
                [
                    papermill,
                    "notebooks/scoreboard.ipynb",
                    str(out / "scoreboard.ipynb"),
                    "-p",
                    "today",
                    args.today,
                    "-p",
                    "root",
                    str(root),
                ],
                root,
            )
            plain = time.perf_counter() - t0
            print(f"plain papermill: {plain:.2f} s", flush=True)

        cold = run([*chipcast, "refresh", *common, "--force"], root)
        compiles, hits, sampling, per_worker = compile_counts(root)
        print(
            f"cold refresh --force: {cold:.2f} s; {compiles} model(s) compiled "
            f"({', '.join(f'{n} on {w}' for w, n in sorted(per_worker.items()))}), "
            f"{hits} from the disk cache, {sampling:.1f} s sampling",
            flush=True,
        )
        warm = run([*chipcast, "refresh", *common], root)
        print(f"warm refresh: {warm:.2f} s", flush=True)
        ind = "cambricon_revenue" if "cambricon_revenue" in indicators else indicators[0]
        run(
            [
                *chipcast,
                "observe",
                ind,
                "--root",
                str(root),
                "--period",
                "2026-09-30",
                "--value",
                "2500",
                "--source",
                "cambricon",
                "--published",
                args.today,
                "--note",
                "benchmark figure",
            ],
            root,
        )
        incremental = run([*chipcast, "refresh", *common], root)
        print(f"incremental refresh ({ind}): {incremental:.2f} s", flush=True)
        floor_total = floor_seconds(root, args.today)
        floor = floor_total / cores
        print(
            f"floor: import pymc + {len(indicators)} fits in one process = {floor_total:.2f} s, / {cores} cores",
            flush=True,
        )
    speedup = plain / cold
    print(
        f"plain_s={plain:.2f} cold_s={cold:.2f} warm_s={warm:.2f} incremental_s={incremental:.2f} "
        f"floor_s={floor:.2f} speedup={speedup:.2f} floor_ratio={cold / floor:.2f} "
        f"compiles={compiles} compile_cache_hits={hits} sampling_s={sampling:.2f}"
    )


if __name__ == "__main__":
    main()
