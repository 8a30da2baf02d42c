"""What the site's charts cost: the shipped site built from a clone, and the two candidates.

Measures, on the shipped registry (no fitting; the tracked trajectories and history):
- the site built by `chipcast report` in a fresh clone (no chart cache): wall and CPU seconds;
- the same clone rebuilt after one new figure (the chart cache warm): wall and CPU seconds;
- the charts alone: every chart of the site specified (Vega-Lite dicts) and drawn by vl-convert
  in one process and shared with a second one, and drawn again from the cache;
- candidate B, matplotlib, for the same charts: a fan with three bands, a median line and the
  figures as points, written as SVG (the cost the hand plotter was written to avoid);
- page weights: the HTML pages and the chart files.

Run from the repository: `.venv/bin/python benchmarks/charts.py [--skip-build]`. It ends with
one line of `key=value` figures. Keep it off a loaded machine: every figure is a single run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 12, 3)


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_report(root: Path) -> tuple[float, float]:
    """(wall s, CPU s, the drawing helper's included) of `chipcast report` on `root`, in its
    own process, with the clone's own code (`root/src`) first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    cpu0, t0 = _child_cpu(), time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "chipcast.cli",
            "report",
            "--root",
            str(root),
            "--today",
            str(TODAY),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - t0, _child_cpu() - cpu0


def clone(dest: Path, code: str | None = None, rev: str | None = None) -> Path:
    """A fresh clone of this repository's HEAD (its data and tracked forecasts), its `src` the
    working tree's (uncommitted code included) or, with `code`, that revision's; with `rev`,
    the clone is that revision whole (its own data and code: an old commit may not read
    today's files)."""
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True)
    if rev is not None:
        subprocess.run(["git", "-C", str(dest), "checkout", "-q", rev], check=True)
        return dest
    shutil.rmtree(dest / "src")
    if code is None:
        shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", code, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def best_of(root: Path, repeat: int) -> tuple[float, float]:
    """The fastest of `repeat` clone builds (wall s, CPU s): each from an empty site and chart
    cache, as a fresh clone has. On a shared machine the minimum is the figure to quote."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(root / "reports", ignore_errors=True)
        shutil.rmtree(root / ".chipcast", ignore_errors=True)
        runs.append(timed_report(root))
    return min(w for w, _ in runs), min(c for _, c in runs)


def add_one_figure(root: Path) -> None:
    """Append a copy of the last row of the first observations CSV, published a day later."""
    import pandas as pd

    f = sorted((root / "data" / "observations").glob("*.csv"))[0]
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    row = df.iloc[[-1]].copy()
    row["published"] = (
        (pd.Timestamp(row["published"].iloc[0]) + pd.Timedelta(days=1)).date().isoformat()
    )
    pd.concat([df, row]).to_csv(f, index=False)


def site_charts(root: Path) -> dict:
    """Every chart of the site, specified from the project at `root` (as the build does)."""
    from chipcast.registry import load
    from chipcast.report.inputs import collect
    from chipcast.report.pages import Pages

    inp = collect(load(root), TODAY, None, None)
    return Pages(inp, Path(tempfile.mkdtemp())).chart_specs()


def matplotlib_svgs(root: Path, n: int) -> float:
    """Seconds to draw `n` fan charts as SVG with matplotlib (candidate B, no cache)."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from chipcast.store import read_quantiles

    frames = [
        q[q["series"] == "latent"]
        for f in sorted((root / "forecasts" / "trajectories").glob("*.csv"))
        if (q := read_quantiles(f)) is not None and not q.empty
    ]
    t0 = time.perf_counter()
    for i in range(n):
        q = frames[i % len(frames)].sort_values("period_end")
        x = pd.to_datetime(q["period_end"])
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for lo, hi, a in (("q025", "q975", 0.15), ("q100", "q900", 0.3), ("q250", "q750", 0.5)):
            ax.fill_between(x, q[lo], q[hi], color="#0072B2", alpha=a, lw=0, label=lo)
        ax.plot(x, q["q500"], color="#0072B2", label="median")
        ax.plot(x[::3], q["q500"].iloc[::3], "o", color="#E69F00", label="figures")
        ax.axvline(pd.Timestamp(TODAY), color="grey", ls=":")
        ax.set_title("A fan chart", loc="left")
        ax.legend(loc="upper left", fontsize=8)
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        plt.close(fig)
    return time.perf_counter() - t0


def weights(site: Path) -> dict[str, float]:
    html = [p for p in site.rglob("*.html") if "notebooks" not in p.parts]
    svgs = list(site.rglob("*.svg"))
    claim = [p.stat().st_size for p in (site / "claims").glob("*.html")]
    return {
        "pages": len(html),
        "html_kb": sum(p.stat().st_size for p in html) / 1024,
        "svg_files": len(svgs),
        "svg_kb": sum(p.stat().st_size for p in svgs) / 1024,
        "claim_page_kb_max": max(claim) / 1024 if claim else 0.0,
        "claim_page_kb_median": sorted(claim)[len(claim) // 2] / 1024 if claim else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-build", action="store_true", help="only the chart timings")
    ap.add_argument("--matplotlib", type=int, default=40, help="how many charts B draws")
    ap.add_argument("--repeat", type=int, default=1, help="clone builds to take the best of")
    ap.add_argument("--code", help="measure this git revision's code (default: the working tree)")
    ap.add_argument("--rev", help="measure this git revision whole (its data and its code)")
    ap.add_argument("--clone-only", action="store_true", help="only the clone build")
    args = ap.parse_args()
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = clone(Path(tmp) / "clone", args.code, args.rev)
        if not args.skip_build:
            out["clone_wall_s"], out["clone_cpu_s"] = best_of(root, args.repeat)
            out.update(weights(root / "reports" / "site"))
        if args.clone_only:
            print(
                " ".join(
                    f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()
                )
            )
            return
        if not args.skip_build:
            add_one_figure(root)
            out["incr_wall_s"], out["incr_cpu_s"] = timed_report(root)
            out.update(weights(root / "reports" / "site"))
        from chipcast.report import svg

        t0 = time.perf_counter()
        specs = site_charts(root)
        out["charts"] = len(specs)
        out["spec_s"] = time.perf_counter() - t0
        for workers in (1, 2):
            cache = Path(tmp) / f"cache{workers}"
            cpu0, t0 = time.process_time(), time.perf_counter()
            svg.render(specs, cache=cache, workers=workers)
            out[f"render{workers}_wall_s"] = time.perf_counter() - t0
            out[f"render{workers}_cpu_s"] = time.process_time() - cpu0
        t0 = time.perf_counter()
        svg.render(specs, cache=Path(tmp) / "cache2")
        out["render_cached_s"] = time.perf_counter() - t0
        n = args.matplotlib
        out["matplotlib_per_chart_s"] = matplotlib_svgs(root, n) / n
        out["vlconvert_per_chart_s"] = out["render1_wall_s"] / max(1, len(specs))
        out["matplotlib_site_s"] = out["matplotlib_per_chart_s"] * len(specs)
    print(f"cores={os.cpu_count()}")
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
