"""How well the probabilities and intervals held: the reliability diagram and the backtest's
PIT histogram."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from chipcast.evaluate.backtest import bayesian_rows
from chipcast.report.charts.spec import Axes, Chart, Layer, Legend, datum, enc, finish, note, num
from chipcast.report.charts.style import BLACK, BLUE, GREY


def reliability_chart(
    table: pd.DataFrame, title: str = "Reliability of the model's probabilities"
) -> Chart:
    """Observed frequency against forecast probability per bin, with its 90% interval."""
    legend = Legend()
    ax = Axes(
        xtitle="forecast probability (%)",
        ytitle="observed frequency (%)",
        xdomain=[0, 100],
        ydomain=[0, 100],
        xtype="quantitative",
    )
    diag = pd.DataFrame(
        {"x": [0, 100], "y": [0, 100], "what": legend.add("perfect calibration", GREY, "dash")}
    )
    t = table[table["n"] > 0] if "n" in table else table.iloc[0:0]
    model = legend.add("model (bar: 90% interval)", BLUE, "circle") if len(t) else ""
    layers: list = [
        Layer(diag)
        .mark("line", strokeDash=[5, 4], strokeWidth=1.2)
        .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour())
    ]
    if len(t):
        d = pd.DataFrame(
            {
                "x": t["mean_forecast"] * 100,
                "y": t["observed_freq"] * 100,
                "lo": t["lower"] * 100,
                "hi": t["upper"] * 100,
                "n": t["n"].astype(int),
                "what": model,
            }
        )
        tip = [
            enc("n:Q", title="forecasts"),
            enc("x:Q", title="mean forecast %", format=".0f"),
            enc("y:Q", title="came true %", format=".0f"),
        ]
        layers += [
            Layer(d)
            .mark("rule", strokeWidth=2)
            .encode(x=ax.x("x"), y=ax.y("lo"), y2="hi:Q", color=legend.colour()),
            Layer(d)
            .mark("point", filled=True, size=60)
            .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour(), tooltip=tip),
        ]
        desc = f"{int(t['n'].sum())} forecast(s) in {len(t)} bin(s)."
    else:
        layers.append(note("no resolved claims yet", 300, 300))
        desc = "No resolved claims yet."
    return finish(layers, title, desc, width=300, height=300, legend=legend)


def backtest_pit(detail: pd.DataFrame | None) -> list[float]:
    """The PIT of every backtest forecast the Bayesian models made (the baselines left out)."""
    if detail is None or detail.empty or "pit" not in detail or "model" not in detail:
        return []
    rows = bayesian_rows(detail)
    return [float(x) for x in pd.to_numeric(rows["pit"], errors="coerce").dropna()]


def pit_histogram(
    pit: Sequence[float],
    title: str = "Probability integral transform of the backtest",
    bins: int = 10,
) -> Chart:
    """How often each decile of the predictive held the outcome: flat if calibrated.

    A hump in the middle means intervals too wide; a U, too narrow (overconfident); a slope,
    biased. The dashed line is the count a calibrated forecaster expects per bin.
    """
    legend = Legend()
    values = np.asarray([v for v in pit if num(v) is not None], dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    ax = Axes(
        xtitle="PIT (where the outcome fell in the forecast)",
        ytitle="forecasts",
        xdomain=[0, 1],
        xtype="quantitative",
    )
    d = pd.DataFrame(
        {
            "x": edges[:-1],
            "x2": edges[1:],
            "y": counts,
            "what": legend.add("outcomes per bin", BLUE),
        }
    )
    expected = legend.add("expected if calibrated", BLACK, "dash") if len(values) else ""
    layers: list = [
        Layer(d)
        .mark("rect", stroke="white", strokeWidth=1)
        .encode(x=ax.x("x"), x2="x2:Q", y=ax.y("y"), y2=datum(0), color=legend.colour())
    ]
    if len(values):
        e = pd.DataFrame({"y": [len(values) / bins], "what": expected})
        layers.append(
            Layer(e).mark("rule", strokeDash=[6, 4]).encode(y=ax.y("y"), color=legend.colour())
        )
        desc = f"{len(values)} backtest forecast(s) in {bins} bins."
    else:
        layers.append(note("no backtest yet", 300, 200))
        desc = "No backtest yet."
    return finish(layers, title, desc, width=300, height=200, legend=legend)
