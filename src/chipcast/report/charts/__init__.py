"""Every chart chipcast draws, as one Vega-Lite spec each, for the notebooks and the site.

The notebooks show these charts live in JupyterLab (tooltips name each figure's source and
publication date); the site renders the same specs to static SVG with vl-convert
(`chipcast.report.svg`), with no JavaScript and nothing fetched. Charts are laid out narrow
(`WIDTH`) and scale up with the page, so they read on a phone (390 px) as well as on a desktop;
titles wrap instead of being cut. Every string reaches the SVG as text, which Vega escapes.

One home per piece:
- `style`: colours, the fan's bands (50/80/95%), fonts, sizes and labels;
- `spec`: the Vega-Lite building blocks, the shared axes, the legend, `finish`;
- `fan`: `fan`, `indicator_fan`, `claim_fan`, `figures_chart` (the figures by source and
  vintage);
- `over_time`: `history_chart` (a claim's forecast over time) and `claim_path_chart` (the
  same with the hindcast path before it and the figures published);
- `calibration`: `reliability_chart`, `pit_histogram`;
- `sparkline`: the index's tiny history line (a plain polyline, not worth a renderer call).

Drawing and caching the SVG is `chipcast.report.svg`'s job.
"""

from chipcast.report.charts.calibration import backtest_pit, pit_histogram, reliability_chart
from chipcast.report.charts.fan import (
    band_rows,
    claim_fan,
    fan,
    fan_series,
    figure_rows,
    figures_chart,
    indicator_fan,
)
from chipcast.report.charts.over_time import claim_path_chart, history_chart
from chipcast.report.charts.sparkline import sparkline
from chipcast.report.charts.spec import Chart, Layer, Legend, finish
from chipcast.report.charts.style import (
    BANDS,
    BLACK,
    BLUE,
    GREY,
    HEIGHT,
    HINDCAST_COLOUR,
    SOURCE_COLOURS,
    VERMILLION,
    WIDTH,
    Band,
    axis_label,
    source_colours,
    wrap_title,
)

__all__ = [
    "BANDS",
    "BLACK",
    "BLUE",
    "GREY",
    "HEIGHT",
    "HINDCAST_COLOUR",
    "SOURCE_COLOURS",
    "VERMILLION",
    "WIDTH",
    "Band",
    "Chart",
    "Layer",
    "Legend",
    "axis_label",
    "backtest_pit",
    "band_rows",
    "claim_fan",
    "claim_path_chart",
    "fan",
    "fan_series",
    "figure_rows",
    "figures_chart",
    "finish",
    "history_chart",
    "indicator_fan",
    "pit_histogram",
    "reliability_chart",
    "source_colours",
    "sparkline",
    "wrap_title",
]
