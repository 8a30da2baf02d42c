"""The one chart implementation: specs (`report.charts`), SVG (`report.svg`), and the notebooks
drawing exactly what the site draws."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from chipcast.registry import load
from chipcast.report import charts, svg
from tests.test_report import RUN_NEW, TODAY, XSS, write_synthetic


def _spec(chart) -> dict:  # noqa: ANN001
    return chart.to_dict()


def _site_specs(root: Path) -> dict:
    """The site's charts, specified as the build does (scores are not needed for them)."""
    from chipcast.report import inputs
    from chipcast.report.pages import Pages

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(inputs, "claim_scores", lambda *a, **k: inputs.empty_scores())
        inp = inputs.collect(load(root), TODAY, RUN_NEW, None)
    return Pages(inp, Path(tempfile.mkdtemp())).chart_specs()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from tests.conftest import FIXTURE

    root = tmp_path_factory.mktemp("charts") / "proj"
    shutil.copytree(FIXTURE, root)
    write_synthetic(root, notebook=False)
    return root


@pytest.fixture(scope="module")
def site_specs(project: Path) -> dict:
    return _site_specs(project)


def test_bands_are_defined_once_and_drawn_everywhere(site_specs: dict) -> None:
    assert [b.label for b in charts.BANDS] == ["95% interval", "80% interval", "50% interval"]
    fan = json.dumps(_spec(site_specs["claims/dom-share-55-2027.fan.svg"]))
    value_history = json.dumps(_spec(site_specs["claims/acme-revenue-2025q2.history.svg"]))
    for b in charts.BANDS:
        assert b.label in fan and b.colour in fan
        assert b.label in value_history  # a value claim's history shows the same bands
    assert "90%" not in fan


def test_the_notebooks_draw_the_sites_charts(project: Path, site_specs: dict) -> None:
    """The claim notebook's charts are the claim page's, spec for spec; the indicator
    notebook's fan is the indicator page's."""
    from chipcast import analysis

    ctx = analysis.claim_context(project, "dom-share-55-2027", TODAY)
    assert _spec(analysis.plot_claim(ctx)) == _spec(site_specs["claims/dom-share-55-2027.fan.svg"])
    assert _spec(analysis.plot_probability_history(ctx)) == _spec(
        site_specs["claims/dom-share-55-2027.history.svg"]
    )
    ictx = analysis.indicator_context(project, "dom_share", TODAY)
    nb = _spec(analysis.plot_fan(ictx, None))
    page = _spec(
        charts.indicator_fan(
            ictx.indicator,
            None,
            ictx.all_vintages,
            TODAY,
            analysis.plots.publishers(ictx.registry),
        )
    )
    assert nb == page


def test_every_chart_of_the_site_is_specified(project: Path, site_specs: dict) -> None:
    reg = load(project)
    for iid in reg.indicators:
        assert f"indicators/{iid}.fan.svg" in site_specs
    with_indicator = [c for c in reg.claims.values() if c.indicator]
    for c in with_indicator:
        assert f"claims/{c.id}.fan.svg" in site_specs
    assert {"scoreboard.reliability.svg", "scoreboard.pit.svg"} <= set(site_specs)


def test_titles_wrap_and_are_never_cut() -> None:
    title = "Chinese vendors' share of China's AI-accelerator market by units, as IDC counts it"
    lines = charts.wrap_title(title)
    assert len(lines) >= 2 and " ".join(lines) == title
    spec = _spec(charts.reliability_chart(pd.DataFrame(columns=["n"]), title=title * 2))
    assert " ".join(spec["title"]["text"]) == title * 2


def test_pit_histogram_leaves_the_baselines_out() -> None:
    detail = pd.DataFrame(
        {"model": ["share", "naive", "statsmodels", "growth"], "pit": [0.1, 0.5, 0.6, "x"]}
    )
    assert charts.backtest_pit(detail) == [0.1]
    assert charts.backtest_pit(None) == []
    spec = json.dumps(_spec(charts.pit_histogram([0.05, 0.15, 0.95])))
    assert "expected if calibrated" in spec


def test_svg_escapes_text_labels_and_unique_ids() -> None:
    chart = charts.reliability_chart(pd.DataFrame(columns=["n"]), title=XSS)
    r = svg.render({"a.svg": chart})["a.svg"]
    assert XSS not in r.svg and "&lt;script&gt;" in r.svg
    assert r.svg.startswith("<svg") and "<title>" in r.svg and "<desc>" in r.svg
    page = svg.inline(r.svg, "one") + svg.inline(r.svg, "two")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)) and all(i.startswith(("one-", "two-")) for i in ids)
    for ref in re.findall(r"url\(#([^)]+)\)", page):
        assert ref in ids
    assert 'class="chart"' in page and 'aria-labelledby="one-title one-desc"' in page
    assert not re.search(r"<svg[^>]*\swidth=", svg.inline(r.svg, "x"))  # sized by the page


def test_a_cached_chart_is_not_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = charts.pit_histogram([0.2, 0.4])
    first = svg.render({"p.svg": chart}, cache=tmp_path)["p.svg"]
    assert len(list(tmp_path.glob("*.svg"))) == 1

    def boom(spec: dict) -> str:
        raise AssertionError("drew a cached chart")

    monkeypatch.setattr(svg, "to_svg", boom)
    assert svg.render({"q.svg": chart}, cache=tmp_path)["q.svg"].svg == first.svg
    other = charts.pit_histogram([0.2, 0.5])
    with pytest.raises(AssertionError, match="drew a cached chart"):
        svg.render({"o.svg": other}, cache=tmp_path)


def test_notebook_bundle_is_live_and_static() -> None:
    bundle = svg.notebook_bundle(_spec(charts.pit_histogram([0.3])))
    assert any(k.startswith("application/vnd.vegalite.v") for k in bundle)
    assert bundle["image/svg+xml"].startswith("<svg")


def test_notebook_charts_reach_the_site_as_images() -> None:
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from chipcast.report.notebooks import offline_html, svg_outputs_as_images

    svg_text = svg.to_svg(_spec(charts.pit_histogram([0.3])))
    nb = new_notebook(
        cells=[
            new_code_cell(
                "x",
                outputs=[
                    new_output(
                        "display_data",
                        data={"image/svg+xml": svg_text, "text/plain": "<chart: PIT>"},
                    )
                ],
            )
        ]
    )
    out = svg_outputs_as_images(nb).cells[0].outputs[0]["data"]["text/html"]
    assert offline_html(out).startswith('<img src="data:image/svg+xml;base64,')


def test_sparkline_escapes_its_title() -> None:
    s = charts.sparkline([0.1, 0.5], XSS)
    assert XSS not in s and "<polyline" in s
    assert charts.sparkline([], "x") == ""


def test_a_large_batch_is_shared_with_a_helper_process() -> None:
    specs = [charts.pit_histogram([i / 20]).to_dict() for i in range(svg.PARALLEL_FROM)]
    assert svg.draw_all(specs, workers=2) == svg.draw_all(specs, workers=1)
