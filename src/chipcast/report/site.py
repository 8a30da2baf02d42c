"""The static report: `build_site(root, today)` writes reports/site/ from files only.

Inputs (never a fit): the registry, forecasts/history/, forecasts/trajectories/, the run logs
under reports/runs/, forecasts/backtest.csv and the executed indicator notebooks, each optional
(see `chipcast.report.inputs`). Pages: index.html, claims/<id>.html, indicators/<id>.html,
scoreboard.html, runs.html and notebooks/indicator-<id>.html, with one stylesheet and one small
script under assets/. Every page works from file:// with no network: charts are inline SVG and
nothing comes from a CDN.

The site is written into a temporary directory beside reports/site/ and swapped in at the end,
so a reader never sees a half-written site.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from importlib import resources
from pathlib import Path

from chipcast.paths import Paths
from chipcast.registry import load
from chipcast.report import svg
from chipcast.report.downloads import write_downloads
from chipcast.report.feed import write_feed
from chipcast.report.inputs import SCORES_FILE, SCORES_KEY_FILE, add_scores, collect
from chipcast.report.notebooks import render_notebooks
from chipcast.report.pages import Pages

ASSETS = ("site.css", "site.js")


def build(root: Path, today: dt.date, run_id: str | None, out: Path, previous: Path | None) -> None:
    """Write every page of the site into `out` (`previous`: the site it replaces, for reuse)."""
    cold = svg.cache_is_cold(Paths(root).chart_cache)
    helpers = svg.Helpers() if cold else None  # a fresh clone: they start up while we read
    try:
        reg = load(root)
        inp = collect(reg, today, run_id, previous, scores=False)
        pages = Pages(inp, out)
        pages.start_charts(helpers)  # drawn by helper processes while the claims are scored
    finally:
        if helpers is not None:
            helpers.close()
    add_scores(inp, previous)
    (out / "data").mkdir(parents=True, exist_ok=True)
    inp.scores.to_csv(out / "data" / SCORES_FILE, index=False, float_format="%.6g")
    if inp.scores_key:
        (out / "data" / SCORES_KEY_FILE).write_text(inp.scores_key + "\n")
    assets = resources.files("chipcast.report") / "assets"
    (out / "assets").mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        (out / "assets" / name).write_text(
            (assets / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    write_feed(out / "feed.xml", inp.changes, {c.id: c.statement for c in reg.claims.values()})
    pages.downloads = write_downloads(inp, out)
    nb_pages = render_notebooks(out, previous, inp.notebooks, reg.indicators, pages.write)
    pages.render_all(nb_pages)


def build_site(root: Path, today: dt.date, run_id: str | None = None) -> Path:
    """Write reports/site/ from the project's files and return the path of its index.html.

    Reads only files (never fits); works on a fresh project with no history, trajectories or
    runs. The new site replaces the old one in one rename, so readers never see it half-built.
    """
    paths = Paths(Path(root))
    site = paths.site
    site.parent.mkdir(parents=True, exist_ok=True)
    tmp = site.parent / f".site-new-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        build(paths.root, today, run_id, tmp, site if site.is_dir() else None)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = site.parent / f".site-old-{os.getpid()}"
    if site.exists():
        site.rename(old)
    tmp.rename(site)
    shutil.rmtree(old, ignore_errors=True)
    return site / "index.html"
