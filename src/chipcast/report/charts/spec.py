"""A little Vega-Lite: specs as plain dicts (building one costs microseconds; Altair's import
and validation cost more than drawing), the shared axes, the legend and the finished chart.

The legend is drawn as two layers of the chart itself (a symbol and a label per entry, laid out
in two columns under the plot) rather than by Vega's legend: Vega builds a group of marks per
legend entry, which made up about half of the time vl-convert took to draw a fan with ten
entries (benchmarks/charts.py); two layers cost a few milliseconds whatever the count.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from chipcast.report.charts.style import (
    CHAR_WIDTH,
    FONT,
    GREY,
    HEIGHT,
    LABEL_SIZE,
    TITLE_SIZE,
    WIDTH,
    wrap_title,
)

VEGA_LITE = "5.20"  # the Vega-Lite version the specs are written for (JupyterLab 4 draws v5)
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.20.1.json"
_TYPES = {"Q": "quantitative", "T": "temporal", "N": "nominal", "O": "ordinal"}


def iso(d: object) -> str | None:
    """A date as ISO text (None for a missing one)."""
    if d is None or (isinstance(d, float) and math.isnan(d)) or pd.isna(d):  # type: ignore[arg-type]
        return None
    return pd.Timestamp(d).date().isoformat()  # type: ignore[arg-type]


def num(x: object) -> float | None:
    """A finite float, else None."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def enc(shorthand: str, **props: Any) -> dict[str, Any]:
    """An encoding channel: 'field:Q' plus properties (None-valued ones left out)."""
    name, _, t = shorthand.partition(":")
    out: dict[str, Any] = {"field": name}
    if t:
        out["type"] = _TYPES[t]
    out.update({k: v for k, v in props.items() if v is not None or k == "legend"})
    return out


def value(v: Any) -> dict[str, Any]:
    return {"value": v}


def datum(v: Any) -> dict[str, Any]:
    return {"datum": v}


def condition(test: str, then: dict[str, Any], otherwise: dict[str, Any]) -> dict[str, Any]:
    return {"condition": {"test": test, **then}, **otherwise}


def pixels(field: str) -> dict[str, Any]:
    """A position in pixels of the plotting area (no scale)."""
    return {"field": field, "type": "quantitative", "scale": None}


def literal(field: str) -> dict[str, Any]:
    """A channel whose field holds the value itself (a colour, a shape): no scale, no legend."""
    return {"field": field, "type": "nominal", "scale": None, "legend": None}


def records(data: pd.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON values (NaN -> null), so a spec is plain data that hashes the same twice."""
    if isinstance(data, list):
        return data
    return json.loads(data.to_json(orient="records", double_precision=10))


class Layer:
    """One layer of a chart: data, a mark and its encoding (`Layer(df).mark('line').encode(...)`)."""

    def __init__(self, data: pd.DataFrame | list[dict[str, Any]]) -> None:
        self.spec: dict[str, Any] = {"data": {"values": records(data)}}

    def mark(self, kind: str, **props: Any) -> Layer:
        self.spec["mark"] = {"type": kind, **props}
        return self

    def encode(self, **channels: Any) -> Layer:
        self.spec["encoding"] = {
            k: (enc(v) if k not in ("x2", "y2") else {"field": v.partition(":")[0]})
            if isinstance(v, str)
            else v
            for k, v in channels.items()
            if v is not None
        }
        return self


@dataclass(frozen=True)
class Chart:
    """A finished Vega-Lite spec. In a notebook it shows live (JupyterLab draws Vega-Lite) and
    as SVG for other front ends; the site renders `spec` with `chipcast.report.svg`."""

    spec: dict[str, Any]
    empty: bool = False  # nothing to draw: the site says so in words instead of drawing it

    def to_dict(self) -> dict[str, Any]:
        return self.spec

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from chipcast.report.svg import notebook_bundle

        return notebook_bundle(self.spec)


@dataclass
class Axes:
    """The chart's two scales, given to every layer so they share one domain and title."""

    xtitle: str
    ytitle: str
    xdomain: list | None = None
    ydomain: list | None = None
    xtype: str = "temporal"

    def x(self, field: str) -> dict[str, Any]:
        scale: dict[str, Any] = {"type": "utc"} if self.xtype == "temporal" else {}
        if self.xdomain is not None:
            scale["domain"] = self.xdomain
        return {
            "field": field,
            "type": self.xtype,
            "title": self.xtitle,
            "scale": scale,
            "axis": {"labelOverlap": True, "tickCount": 6},
        }

    def y(self, field: str) -> dict[str, Any]:
        out: dict[str, Any] = {"field": field, "type": "quantitative", "title": self.ytitle}
        if self.ydomain is not None:
            out["scale"] = {"domain": self.ydomain, "nice": False, "zero": False}
        return out


def limits(
    values: Sequence[float | None], bounds: tuple[float | None, float | None] = (None, None)
) -> list[float]:
    """A value axis covering `values` with a margin, never beyond the indicator's bounds."""
    vals = [float(v) for v in values if num(v) is not None]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or (abs(hi) * 0.1 or 1.0)
    lo, hi = lo - pad, hi + pad
    if bounds[0] is not None:
        lo = max(lo, bounds[0])
    if bounds[1] is not None:
        hi = min(hi, bounds[1])
    return [lo, hi] if lo < hi else [lo - 1.0, hi + 1.0]


def date_limits(dates: Sequence[str | None]) -> list[str]:
    """A time axis covering `dates` (ISO strings) with a margin of 3% or 30 days."""
    ds = [pd.Timestamp(d) for d in dates if d]
    lo, hi = (min(ds), max(ds)) if ds else (pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01"))
    pad = max(pd.Timedelta(days=30), (hi - lo) * 0.03)
    return [(lo - pad).date().isoformat(), (hi + pad).date().isoformat()]


# Legend symbols: Vega shapes; the line-like ones are SVG paths on the unit square.
SYMBOLS = {
    "square": "square",
    "circle": "circle",
    "line": "M-1,0H1",
    "dash": "M-1,0H-0.25M0.25,0H1",
    "tick": "M0,-1V1",
}
_FILLED = {"square", "circle"}
LEGEND_TOP = 46  # px from the plot's bottom edge to the first legend row (below the x axis)
LEGEND_ROW = 17


class Legend:
    """One colour legend shared by every layer of a chart: labels in order, with their colours
    and the symbol each is drawn with (a square for areas, a circle for figures, a line, a
    dashed line for a reference, a tick for dates)."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.colours: list[str] = []
        self.symbols: list[str] = []

    def add(self, label: str, colour: str, symbol: str = "square") -> str:
        if label not in self.labels:
            self.labels.append(label)
            self.colours.append(colour)
            self.symbols.append(symbol)
        return label

    def scale(self) -> dict:
        return dict(domain=self.labels, range=self.colours)

    def colour(self) -> dict:
        """The colour channel of a layer whose `what` column names its legend entry."""
        return enc("what:N", scale=self.scale(), legend=None)

    def layers(self, width: int, height: int) -> list[Layer]:
        """The legend under the plot: short labels in two columns (filled down, then across),
        a label too long for a column on a row of its own, cut with '…' only when it is wider
        than the chart."""
        if not self.labels:
            return []
        col = width / 2
        fits = int((col - 18) / CHAR_WIDTH)
        whole = int((width - 18) / CHAR_WIDTH)
        entries = list(zip(self.labels, self.colours, self.symbols, strict=True))
        short = [e for e in entries if len(e[0]) <= fits]
        wide = [e for e in entries if len(e[0]) > fits]
        per_col = math.ceil(len(short) / 2)
        rows = []
        for i, (label, colour, sym) in enumerate(short):
            rows.append((label, colour, sym, (i // per_col) * col, i % per_col))
        for j, (label, colour, sym) in enumerate(wide):
            cut = label if len(label) <= whole else label[: whole - 1].rstrip() + "…"
            rows.append((cut, colour, sym, 0.0, per_col + j))
        d = pd.DataFrame(
            [
                {
                    "lx": x + 6,
                    "ly": height + LEGEND_TOP + r * LEGEND_ROW,
                    "label": label,
                    "shape": SYMBOLS[sym],
                    "stroke": colour,
                    "fill": colour if sym in _FILLED else "transparent",
                }
                for label, colour, sym, x, r in rows
            ]
        )
        return [
            Layer(d)
            .mark("point", size=90, strokeWidth=2, opacity=1)
            .encode(
                x=pixels("lx"),
                y=pixels("ly"),
                shape=literal("shape"),
                fill=literal("fill"),
                stroke=literal("stroke"),
            ),
            Layer(d)
            .mark("text", align="left", baseline="middle", dx=12, fontSize=LABEL_SIZE)
            .encode(x=pixels("lx"), y=pixels("ly"), text="label:N"),
        ]


def finish(
    layers: list[Layer],
    title: str,
    desc: str,
    width: int = WIDTH,
    height: int = HEIGHT,
    empty: bool = False,
    legend: Legend | None = None,
) -> Chart:
    """Layers into one chart in the house style: wrapped title, fonts, the legend below."""
    drawn = [*layers, *(legend.layers(width, height) if legend is not None else [])]
    return Chart(
        {
            "$schema": SCHEMA,
            "width": width,
            "height": height,
            "description": desc,
            "title": {
                "text": wrap_title(title, width),
                "anchor": "start",
                "fontSize": TITLE_SIZE,
                "limit": 0,
            },
            "layer": [layer.spec for layer in drawn],
            "config": {
                "font": FONT,
                "axis": {
                    "labelFontSize": LABEL_SIZE,
                    "titleFontSize": LABEL_SIZE,
                    "gridColor": "#ececec",
                    "labelLimit": 0,
                },
                "view": {"stroke": None},
            },
        },
        empty=empty,
    )


def note(text: str, width: int = WIDTH, height: int = HEIGHT) -> Layer:
    """Centred grey text: what a chart with no data says instead."""
    return (
        Layer(pd.DataFrame({"t": [text]}))
        .mark("text", color=GREY, fontSize=12)
        .encode(text="t:N", x=value(width / 2), y=value(height / 2))
    )


def today_layers(today: dt.date, ax: Axes) -> list[Layer]:
    """A dotted rule at today, labelled (two layers: a `Layer` is one mark)."""
    d = pd.DataFrame({"x": [today.isoformat()], "t": ["today"]})
    return [
        Layer(d).mark("rule", color=GREY, strokeDash=[2, 3]).encode(x=ax.x("x")),
        Layer(d)
        .mark("text", color=GREY, align="left", dx=3, dy=7, fontSize=10)
        .encode(x=ax.x("x"), y=value(0), text="t:N"),
    ]


def reference_rule(y: float, label: str, colour: str, legend: Legend, ax: Axes) -> Layer:
    """A dashed horizontal line at `y` (a threshold, a claimed value, a stated probability)."""
    r = pd.DataFrame({"y": [y], "what": [legend.add(label, colour, "dash")]})
    return (
        Layer(r)
        .mark("rule", strokeDash=[7, 4], strokeWidth=1.4)
        .encode(y=ax.y("y"), color=legend.colour())
    )
