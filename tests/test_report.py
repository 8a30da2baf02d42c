"""The static site: built from files only, complete, escaped, offline, and fast."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from chipcast.registry import load
from chipcast.report.notebooks import offline_html
from chipcast.report.site import build_site
from tests.conftest import FIXTURE

TODAY = dt.date(2025, 9, 1)
RUN_OLD = "20250301T060000Z-a1b2c3"
RUN_NEW = "20250801T060000Z-d4e5f6"
Q = ("q025", "q050", "q100", "q250", "q500", "q750", "q900", "q950", "q975")
Z = (-1.96, -1.645, -1.2816, -0.6745, 0.0, 0.6745, 1.2816, 1.645, 1.96)
XSS = "<script>alert(1)</script>"
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def _iv(median: float, lo: float, hi: float) -> dict[str, float]:
    return {"median": median, "lo": lo, "hi": hi}


SUMMARY = {
    "version": 1,
    "indicator": "dom_share",
    "family": "share",
    "model_version": "1.0",
    "as_of": "2025-08-01",
    "seed": 7,
    "samples": 4000,
    "effect": "difference",
    "at_period": "2024-12-31",
    "latent_at": _iv(0.3, 0.27, 0.33),
    "sources": [
        {"source": "idc", "figures": 5, "reference": False, "offset": _iv(0.02, -0.01, 0.05),
         "noise": _iv(0.02, 0.01, 0.04), "offset_link": _iv(0.1, -0.05, 0.25),
         "noise_link": _iv(0.1, 0.05, 0.2)},
        {"source": "bernstein", "figures": 2, "reference": False,
         "offset": _iv(-0.04, -0.07, -0.01), "noise": _iv(0.02, 0.01, 0.04),
         "offset_link": _iv(-0.2, -0.35, -0.05), "noise_link": _iv(0.1, 0.05, 0.2)},
    ],
    "claims": [
        {"claim_id": "dom-share-55-2027", "probability": 0.42, "p_lower": 0.12,
         "p_middle": 0.4, "p_upper": 0.74, "tercile_edges": [0.33, 0.38],
         "interval": [0.28, 0.44], "crossing": 0.36, "crossing_note": "",
         "expected_change": 0.22, "increasing": True,
         "next": {"source": "idc", "period_start": "2025-01-01", "period_end": "2025-12-31",
                  "settles": False}},
    ],
}  # fmt: skip


def _quantiles(mid: float, sd: float) -> dict[str, float]:
    return {q: mid + z * sd for q, z in zip(Q, Z, strict=True)}


def _history_row(
    run_id: str,
    issued: str,
    claim: str,
    kind: str,
    indicator: str,
    p: float | None,
    mid: float = float("nan"),
    sd: float = 0.0,
    forecaster: str = "model",
) -> dict[str, object]:
    row: dict[str, object] = {
        "run_id": run_id,
        "issued_on": issued,
        "claim_id": claim,
        "kind": kind,
        "forecaster": forecaster,
        "model": "researcher" if forecaster == "judgment" else "share",
        "model_version": "" if forecaster == "judgment" else "1.0",
        "indicator": indicator,
        "probability": p,
        **_quantiles(mid, sd),
        "mean": mid,
        "claimant_pit": None,
        "data_fingerprint": "abc",
        "seed": 1,
        "packages": "pymc=5",
        "rhat_max": 1.0,
        "ess_bulk_min": 900,
        "divergences": 0,
    }
    return row


def write_synthetic(root: Path, notebook: bool = True) -> None:
    """A small history, trajectories, two run logs, a backtest and an executed notebook (docs/outputs.md)."""
    hist = root / "forecasts" / "history"
    hist.mkdir(parents=True, exist_ok=True)
    old = [
        _history_row(RUN_OLD, "2023-06-01", "share-2023-above-15", "threshold", "dom_share", 0.7),
        _history_row(RUN_OLD, "2025-03-01", "dom-share-55-2027", "threshold", "dom_share", 0.30),
        _history_row(RUN_OLD, "2025-03-01", "xss-claim", "threshold", "tariff_rate", 0.80),
        _history_row(
            RUN_OLD, "2025-05-13", "rule-replacement", "event", "", 0.4, forecaster="judgment"
        ),
    ]
    new = [
        _history_row(RUN_NEW, "2025-08-01", "dom-share-55-2027", "threshold", "dom_share", 0.42),
        _history_row(RUN_NEW, "2025-08-01", "xss-claim", "threshold", "tariff_rate", 0.90),
        _history_row(
            RUN_NEW, "2025-04-20", "acme-revenue-2025q2", "value", "acme_revenue", None, 280, 20
        ),
        _history_row(
            RUN_NEW, "2025-08-01", "acme-revenue-2025q2", "value", "acme_revenue", None, 290, 15
        ),
    ]
    pd.DataFrame(old).to_csv(hist / f"{RUN_OLD}.csv", index=False)
    pd.DataFrame(new).to_csv(hist / f"{RUN_NEW}.csv", index=False)

    traj = root / "forecasts" / "trajectories"
    traj.mkdir(parents=True, exist_ok=True)
    rows = []
    for series, off in (("latent", 0.0), ("idc", 0.01), ("bernstein", -0.03), ("_new", 0.0)):
        for i, year in enumerate(range(2021, 2029)):
            mid = 0.12 + 0.05 * i + off
            rows.append(
                {
                    "indicator": "dom_share",
                    "as_of": "2025-08-01",
                    "series": series,
                    "period_end": f"{year}-12-31",
                    **_quantiles(mid, 0.01 + 0.012 * max(0, i - 3)),
                    "mean": mid,
                }
            )
    pd.DataFrame(rows).to_csv(traj / "dom_share.csv", index=False)
    meta = {
        "indicator": "dom_share",
        "family": "share",
        "model_version": "1.0",
        "as_of": "2025-08-01",
        "run_id": RUN_NEW,
        "fingerprint": "f00",
        "seed": 7,
        "status": "ok",
        "stale": False,
        "diagnostics": {
            "family": "share",
            "passed": True,
            "rhat_max": 1.003,
            "ess_bulk_min": 812.0,
            "divergences": 0,
            "reasons": [],
            "sampler": "pymc-nuts",
            "notes": ["a <note>"],
        },
    }
    (traj / "dom_share.json").write_text(json.dumps(meta))
    # the fit's summary (docs/outputs.md): who runs hot, and what would move dom-share-55-2027
    (traj / "dom_share.summary.json").write_text(json.dumps(SUMMARY))
    rows = []
    for i, pe in enumerate(pd.date_range("2023-03-31", "2026-12-31", freq="QE")):
        rows.append(
            {
                "indicator": "tariff_rate",
                "as_of": "2025-03-01",
                "series": "latent",
                "period_end": pe.date(),
                **_quantiles(10 + 1.5 * i, 2),
                "mean": 10 + 1.5 * i,
            }
        )
    pd.DataFrame(rows).to_csv(traj / "tariff_rate.csv", index=False)
    (traj / "tariff_rate.json").write_text(
        json.dumps(
            {
                "indicator": "tariff_rate",
                "family": "level",
                "model_version": "1.0",
                "as_of": "2025-03-01",
                "run_id": RUN_OLD,
                "status": "failed",
                "stale": True,
                "failed_run": RUN_NEW,
                "error": "kernel died <b>x</b>",
                "diagnostics": {},
            }
        )
    )

    for run_id, jobs in (
        (
            RUN_OLD,
            [
                {
                    "id": "dom_share",
                    "kind": "indicator",
                    "status": "ran",
                    "seconds": 12.5,
                    "error": "",
                    "notebook": "indicator-dom_share.ipynb",
                }
            ],
        ),
        (
            RUN_NEW,
            [
                {
                    "id": "tariff_rate",
                    "kind": "indicator",
                    "status": "failed",
                    "seconds": 3.1,
                    "error": f"ValueError: {XSS}",
                    "notebook": "indicator-tariff_rate.ipynb",
                    "reason": "new data",
                },
                {
                    "id": "dom_share",
                    "kind": "indicator",
                    "status": "ran",
                    "seconds": 10.2,
                    "error": "",
                    "notebook": "indicator-dom_share.ipynb",
                    "reason": "new data",
                },
                {
                    "id": "acme_revenue",
                    "kind": "indicator",
                    "status": "skipped",
                    "seconds": 0,
                    "error": "",
                    "reason": "unchanged",
                },
            ],
        ),
    ):
        d = root / "reports" / "runs" / run_id
        d.mkdir(parents=True, exist_ok=True)
        (d / "run.json").write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "started": "2025-08-01T06:00:00+00:00",
                    "finished": "2025-08-01T06:01:00+00:00",
                    "today": "2025-08-01",
                    "as_of": "2025-08-01",
                    "exit_code": 1 if run_id == RUN_NEW else 0,
                    "jobs": jobs,
                }
            )
        )
    if notebook:
        write_notebook(root / "reports" / "runs" / RUN_NEW / "indicator-dom_share.ipynb")

    pd.DataFrame(
        [
            {
                "indicator": "dom_share",
                "model": "naive",
                "n": 6,
                "crps": 0.05,
                "crps_rel_naive": 1.0,
                "coverage_50": 0.5,
                "coverage_80": 0.67,
                "coverage_95": 1.0,
            },
            {
                "indicator": "dom_share",
                "model": "share",
                "n": 6,
                "crps": 0.03,
                "crps_rel_naive": 0.6,
                "coverage_50": 0.5,
                "coverage_80": 0.83,
                "coverage_95": 1.0,
            },
        ]
    ).to_csv(root / "forecasts" / "backtest.csv", index=False)


def write_notebook(path: Path) -> None:
    """A tiny 'executed' notebook: markdown with math, text, a remote script in an output, a PNG."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Indicator trajectory\n\nThe share $s_t$ follows a logistic trend."),
        new_code_cell(
            "secret_code_line = 1",
            outputs=[new_output("stream", name="stdout", text="fitted 2 chains\n")],
        ),
        new_code_cell(
            "df",
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "text/html": "<table><tr><td>rhat</td><td>1.00</td></tr></table>"
                        '<script src="https://cdn.example.org/x.js"></script><img src=x onerror="alert(5)">',
                        "text/plain": "df",
                    },
                )
            ],
        ),
        new_code_cell(
            "plot",
            outputs=[new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "fig"})],
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


REMOTE_ASSET = re.compile(
    r"""<script[^>]+src\s*=\s*["']?\s*(https?:)?//|<link[^>]+href\s*=\s*["']?\s*(https?:)?//|@import\s+url\(\s*["']?(https?:)?//"""
    r"""|<img[^>]+src\s*=\s*["']?\s*(https?:)?//""",
    re.I,
)


@pytest.fixture(scope="module")
def built_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """One site built from the fixture plus synthetic outputs, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("site") / "proj"
    shutil.copytree(FIXTURE, root)
    write_synthetic(root)
    t = time.perf_counter()
    build_site(root, TODAY, run_id=RUN_NEW)
    return root, time.perf_counter() - t


@pytest.fixture
def built(built_root: tuple[Path, float]) -> tuple[Path, float]:
    return built_root[0] / "reports" / "site" / "index.html", built_root[1]


@pytest.fixture
def site_root(built_root: tuple[Path, float]) -> Path:
    return built_root[0]


def test_pages_exist_and_every_claim_is_listed(built: tuple[Path, float], site_root: Path) -> None:
    index, _ = built
    site = site_root / "reports" / "site"
    assert index == site / "index.html"
    reg = load(site_root)
    html = index.read_text()
    for name in ("scoreboard.html", "runs.html", "assets/site.css", "assets/site.js"):
        assert (site / name).exists(), name
    for cid in reg.claims:
        assert (site / "claims" / f"{cid}.html").exists()
        assert f'href="claims/{cid}.html"' in html
    for iid in reg.indicators:
        assert (site / "indicators" / f"{iid}.html").exists()
    assert (site / "notebooks" / "indicator-dom_share.html").exists()
    assert (
        'href="../notebooks/indicator-dom_share.html"'
        in (site / "indicators" / "dom_share.html").read_text()
    )
    # nothing half-built left beside the site
    assert [p.name for p in (site_root / "reports").iterdir() if p.name.startswith(".site")] == []


def test_index_shows_forecasts_changes_and_freshness(
    built: tuple[Path, float], site_root: Path
) -> None:
    html = built[0].read_text()
    row = re.search(r'<tr data-id="dom-share-55-2027".*?</tr>', html, re.S).group(0)
    assert (
        "42%" in row and "+12 pp" in row and "<svg" in row and "70%" in row
    )  # now, change, sparkline, claimant
    value_row = re.search(r'<tr data-id="acme-revenue-2025q2".*?</tr>', html, re.S).group(0)
    assert "290 RMB mn [265–315]" in value_row
    assert "researcher" in re.search(r'<tr data-id="rule-replacement".*?</tr>', html, re.S).group(0)
    assert "resolved: true" in re.search(
        r'<tr data-id="share-2023-above-15".*?</tr>', html, re.S
    ).group(0)
    assert "not checkable" in html
    assert "latest figure published <strong>2025-07-17</strong>" in html
    assert "last issued <strong>2025-08-01</strong>" in html
    assert "1 job(s) failed or gated" in html and "tariff_rate (failed)" in html
    assert 'data-tags="market-share"' in html and '<option value="tariffs">' in html


def test_escaping_everywhere(built: tuple[Path, float], site_root: Path) -> None:
    site = site_root / "reports" / "site"
    all_pages = pages(site)
    for name, html in all_pages.items():
        assert XSS not in html, name
        assert "<img src=x onerror" not in html, name
        assert "<b>Mallory</b>" not in html, name
        assert "onerror=" not in html.replace("onerror=alert(2)&gt;", ""), name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in all_pages["index.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in all_pages["claims/xss-claim.html"]
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in all_pages["claims/xss-claim.html"]
    assert "ValueError: &lt;script&gt;" in all_pages["runs.html"]


def test_no_remote_scripts_or_styles(built: tuple[Path, float], site_root: Path) -> None:
    for name, html in pages(site_root / "reports" / "site").items():
        assert not REMOTE_ASSET.search(html), name
        assert "cdn" not in html.lower() or "cdn.example.org" not in html, name
        assert "mathjax" not in html.lower() and "require.js" not in html.lower(), name
    nb = (site_root / "reports" / "site" / "notebooks" / "indicator-dom_share.html").read_text()
    assert "fitted 2 chains" in nb and "data:image/png;base64" in nb
    assert "secret_code_line" not in nb  # code hidden


def test_claim_and_indicator_pages(built: tuple[Path, float], site_root: Path) -> None:
    site = site_root / "reports" / "site"
    claim = (site / "claims" / "dom-share-55-2027.html").read_text()
    assert "some estimating a 55 per cent" in claim and 'href="https://example.org/scmp"' in claim
    assert "Share by units as IDC counts them." in claim
    assert claim.count("<svg") >= 2 and "<title" in claim  # fan + history, accessible
    assert "threshold (≥ 55%)" in claim and "today" in claim and "target period" in claim
    assert "what IDC will report" in claim  # fan of the resolution source's series
    assert 'href="../indicators/dom_share.html"' in claim
    ind = (site / "indicators" / "dom_share.html").read_text()
    assert "&gt;30%" in ind and "(lower bound)" in ind and "estimated" in ind
    assert "rhat max" in ind and "&lt;note&gt;" in ind
    assert "Bernstein reports 4 points (−7 to −1) below the latent share" in ind
    assert "If IDC&#39;s 2025 figure comes in below 33%, P(claim) falls to 12%" in claim
    watch = (site / "watch.html").read_text()
    assert "IDC&#39;s 2025 figure" in watch and "22 points" in watch
    assert "period end" in ind and "share (%)</text>" in ind  # axis labels with the display unit
    stale = (site / "indicators" / "tariff_rate.html").read_text()
    assert "stale" in stale and "kernel died &lt;b&gt;x&lt;/b&gt;" in stale
    resolved = (site / "claims" / "share-2023-above-15.html").read_text()
    assert (
        "resolved: true" in resolved
        and "IDC reported 21% for the period ending 2023-12-31" in resolved
    )


def test_scoreboard_and_runs(built: tuple[Path, float], site_root: Path) -> None:
    site = site_root / "reports" / "site"
    sb = (site / "scoreboard.html").read_text()
    assert "Reliability" in sb and "<svg" in sb and "Track record by claimant" in sb
    assert "Bernstein" in sb and "0.60" in sb  # track record and backtest
    assert "share-2023-above-15.html" in sb
    runs = (site / "runs.html").read_text()
    assert RUN_NEW in runs and RUN_OLD in runs and "1 skipped" in runs
    assert runs.index(RUN_NEW) < runs.index(RUN_OLD)


def test_the_site_shows_the_scoreboards_scores(mini: Path) -> None:
    """The scoreboard page and the claim page show what `evaluate.scoreboard` computes, for
    every forecaster (the report computes no statistics of its own)."""
    from chipcast.evaluate.scoreboard import claim_scores, score_summary
    from chipcast.store import read_history

    write_synthetic(mini, notebook=False)
    build_site(mini, TODAY)
    reg = load(mini)
    scores = claim_scores(reg, read_history(reg.paths), TODAY)
    mine = scores[scores["claim_id"] == "share-2023-above-15"]
    assert set(mine["forecaster"]) >= {"model", "naive", "statsmodels", "claimant"}
    site = mini / "reports" / "site"
    sb = (site / "scoreboard.html").read_text()
    claim = (site / "claims" / "share-2023-above-15.html").read_text()
    for _, r in mine.iterrows():
        assert f"{r['brier']:.3f}" in sb and f"{r['brier']:.3f}" in claim
        assert f"{r['log_score']:.3f}" in sb
    for _, r in score_summary(scores).iterrows():
        assert f'<td>{r["forecaster"]}</td><td class="num">{r["claims"]}</td>' in sb
    shipped = pd.read_csv(site / "data" / "scores.csv")
    assert len(shipped) == len(scores)


def test_a_scoring_error_leaves_a_note_not_a_broken_site(
    mini: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chipcast.report.inputs as inputs

    def broken(reg, history, today, seed=0, resolutions=None):  # noqa: ANN001, ANN202 - claim_scores
        raise RuntimeError("scoring bug")

    monkeypatch.setattr(inputs, "claim_scores", broken)
    write_synthetic(mini, notebook=False)
    build_site(mini, TODAY)
    sb = (mini / "reports" / "site" / "scoreboard.html").read_text()
    assert "scores could not be computed: RuntimeError: scoring bug" in sb
    assert not (mini / "reports" / "site" / "data" / "scores.key").exists()


def test_fresh_project_with_no_forecasts(mini: Path) -> None:
    index = build_site(mini, TODAY)
    html = index.read_text()
    reg = load(mini)
    assert all(f"claims/{cid}.html" in html for cid in reg.claims)
    assert "No refresh has run yet" in html
    for p in (mini / "reports" / "site").rglob("*.html"):
        assert "Traceback" not in p.read_text()
    assert (
        "No forecast has been issued"
        in (mini / "reports" / "site" / "claims" / "dom-share-55-2027.html").read_text()
    )
    # a rebuild replaces the site in place
    assert build_site(mini, TODAY) == index


def test_pages_are_light(site_root: Path) -> None:
    site = site_root / "reports" / "site"
    for p in site.rglob("*.html"):
        if "notebooks" not in p.parts:
            assert p.stat().st_size < 200_000, p


def test_offline_html_strips_active_content() -> None:
    body = (
        '<p onclick="x()">a</p><script>alert(1)</script><script src="https://cdn/x.js"></script>'
        '<link rel="stylesheet" href="https://cdn/x.css"><img src="https://t/x.png"><a href="https://ok">ok</a>'
        "<style>@import url(https://fonts/x.css);</style>"
    )
    out = offline_html(body)
    assert "<script" not in out and "onclick" not in out and "https://cdn" not in out
    assert "https://t/x.png" not in out and "@import" not in out
    # an image keeps only a data: source (the notebook's own plots); a link stays a link
    assert (
        offline_html('<img src="x"><img alt="a" src="data:image/png;base64,AA==">')
        == '<img alt="a" src="data:image/png;base64,AA==">'
    )
    assert '<a href="https://ok" rel="noopener noreferrer">ok</a>' in out
    assert "javascript" not in offline_html('<a href="javascript:alert(1)">x</a>')


def test_status_page_and_overdue_series_are_marked(
    built: tuple[Path, float], site_root: Path
) -> None:
    """Acme reports 20 days after each quarter: its 2025Q2 figure was expected on 2025-07-20,
    so on 2025-09-01 the series is 43 days overdue, and its claim says so."""
    site = site_root / "reports" / "site"
    status = (site / "status.html").read_text()
    row = re.search(r'<tr data-state="overdue">.*?</tr>', status, re.S).group(0)
    assert "acme_revenue" in row and "2025-07-20" in row and ">43<" in row
    assert "acme-revenue-2025q2" in row
    index = built[0].read_text()
    assert "1 of 3 series overdue" in index
    claim_row = re.search(r'<tr data-id="acme-revenue-2025q2".*?</tr>', index, re.S).group(0)
    assert "series overdue" in claim_row
    assert "series overdue" not in re.search(
        r'<tr data-id="dom-share-55-2027".*?</tr>', index, re.S
    ).group(0)
    page = (site / "claims" / "acme-revenue-2025q2.html").read_text()
    assert "43 day(s) overdue" in page
    ind = (site / "indicators" / "acme_revenue.html").read_text()
    assert "expected by 2025-07-20" in ind and "observed" in ind


def test_scoreboard_compares_forecasters_on_the_common_window(
    built: tuple[Path, float], site_root: Path
) -> None:
    html = (site_root / "reports" / "site" / "scoreboard.html").read_text()
    table = re.search(r'<table class="data" id="common-window">.*?</table>', html, re.S).group(0)
    assert "model" in table and "claimant" in table and "n (claims)" in table
