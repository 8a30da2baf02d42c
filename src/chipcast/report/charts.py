"""Every chart chipcast draws, as one Vega-Lite spec each, for the notebooks and the site.

The notebooks show these charts live in JupyterLab (tooltips name each figure's source and
publication date); the site renders the same specs to static SVG with vl-convert
(`chipcast.report.svg`), with no JavaScript and nothing fetched. One place defines the fan's
bands (50/80/95%), the colours (Okabe-Ito, colour-blind safe: the model is blue, sources take
the other colours in a stable order) and the labels, so a notebook and a page never disagree.

Charts are laid out narrow (`WIDTH`) and scale up with the page, so they read on a phone (390
px) as well as on a desktop; titles wrap instead of being cut. Every string reaches the SVG as
text, which Vega escapes.

Charts: `indicator_fan` and `claim_fan` (both `fan`), `figures_chart` (the figures by source and
vintage), `history_chart` (a claim's forecast over time), `claim_path_chart` (the same with the
hindcast path before it and the figures published), `reliability_chart`, `pit_histogram`,
and `sparkline` (the index's tiny history line, a plain polyline: not worth a renderer call).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chipcast.data import period_start_for
from chipcast.evaluate.backtest import bayesian_rows
from chipcast.report.formats import OPERATOR_TEXT, fmt_num, ind_value, obs_text
from chipcast.schema import Claim, Indicator

BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#555555"
BLACK = "#000000"
SOURCE_COLOURS: tuple[str, ...] = (
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
    "#F0E442",  # yellow (last: weak on white)
)


@dataclass(frozen=True)
class Band:
    """One central interval of a predictive distribution, as stored and as drawn."""

    lower: str  # quantile column
    upper: str
    label: str
    colour: str  # opaque: the model's blue over white, lighter for wider bands


# Outer to inner (drawn in this order, so the inner band sits on top).
BANDS: tuple[Band, ...] = (
    Band("q025", "q975", "95% interval", "#d9eaf3"),
    Band("q100", "q900", "80% interval", "#b3d5e8"),
    Band("q250", "q750", "50% interval", "#80b9d9"),
)
TARGET_COLOUR = "#e3e3e3"
FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif"
WIDTH = 380  # px of the plotting area; the SVG scales to its container
HEIGHT = 220
TITLE_SIZE = 13
LABEL_SIZE = 11
FIGURE_KINDS = {  # censor -> (legend label, shape)
    "point": ("published figure", "circle"),
    "lower": ("lower bound (figure above)", "triangle-up"),
    "upper": ("upper bound (figure below)", "triangle-down"),
}
SUPERSEDED = "superseded vintage (hollow)"


def source_colours(sources: Sequence[str]) -> dict[str, str]:
    """A stable colour per source (sorted, so a source keeps its colour across charts)."""
    return {s: SOURCE_COLOURS[i % len(SOURCE_COLOURS)] for i, s in enumerate(sorted(set(sources)))}


def wrap_title(text: str, width: int = WIDTH) -> list[str]:
    """A title as lines that fit the chart (never cut short)."""
    per_line = max(20, int((width + 40) / (TITLE_SIZE * 0.56)))
    return textwrap.wrap(text, per_line, break_on_hyphens=False, break_long_words=False) or [""]


def _iso(d: object) -> str | None:
    if d is None or (isinstance(d, float) and math.isnan(d)) or pd.isna(d):  # type: ignore[arg-type]
        return None
    return pd.Timestamp(d).date().isoformat()  # type: ignore[arg-type]


def _num(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class Legend:
    """One colour legend shared by every layer of a chart: labels in order, with their colours."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.colours: list[str] = []

    def add(self, label: str, colour: str) -> str:
        if label not in self.labels:
            self.labels.append(label)
            self.colours.append(colour)
        return label

    def scale(self) -> dict:
        return dict(domain=self.labels, range=self.colours)

    def colour(self, legend: bool = True) -> dict:
        return enc(
            "what:N",
            scale=self.scale(),
            legend=dict(title=None) if legend else None,
        )


# -- a little Vega-Lite: specs are plain dicts (building them costs microseconds) -------------

VEGA_LITE = "5.20"  # the Vega-Lite version the specs are written for (JupyterLab 4 draws v5)
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.20.1.json"
_TYPES = {"Q": "quantitative", "T": "temporal", "N": "nominal", "O": "ordinal"}


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
    vals = [float(v) for v in values if _num(v) is not None]
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


def finish(
    layers: list[Layer],
    title: str,
    desc: str,
    width: int = WIDTH,
    height: int = HEIGHT,
    empty: bool = False,
) -> Chart:
    """Layers into one chart in the house style: wrapped title, fonts, legends below."""
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
            "layer": [layer.spec for layer in layers],
            "config": {
                "font": FONT,
                "axis": {
                    "labelFontSize": LABEL_SIZE,
                    "titleFontSize": LABEL_SIZE,
                    "gridColor": "#ececec",
                    "labelLimit": 0,
                },
                "legend": {
                    "orient": "bottom",
                    "direction": "vertical",
                    "columns": 2,
                    "labelFontSize": LABEL_SIZE,
                    # a legend wider than the plot would shrink the whole chart on a phone: a
                    # long source name is cut here (the caption and the tooltips give it whole)
                    "labelLimit": (width - 60) // 2,
                    "columnPadding": 14,
                    "symbolSize": 90,
                },
                "view": {"stroke": None},
            },
        },
        empty=empty,
    )


def _note(text: str, width: int = WIDTH, height: int = HEIGHT) -> Layer:
    """Centred grey text: what a chart with no data says instead."""
    return (
        Layer(pd.DataFrame({"t": [text]}))
        .mark("text", color=GREY, fontSize=12)
        .encode(text="t:N", x=value(width / 2), y=value(height / 2))
    )


def _today(today: dt.date, ax: Axes) -> list[Layer]:
    d = Layer(pd.DataFrame({"x": [today.isoformat()], "t": ["today"]}))
    return [
        d.mark("rule", color=GREY, strokeDash=[2, 3]).encode(x=ax.x("x")),
        d.mark("text", color=GREY, align="left", dx=3, dy=7, fontSize=10).encode(
            x=ax.x("x"), y=value(0), text="t:N"
        ),
    ]


# -- the fan ---------------------------------------------------------------------------------


def band_rows(q: pd.DataFrame, scale: float, x: str = "period_end") -> pd.DataFrame:
    """The stored bands as a long table: one row per date and band (`fan`, `history_chart`)."""
    rows = []
    for b in BANDS:
        if b.lower not in q or b.upper not in q:
            continue
        for _, r in q.iterrows():
            lo, hi = _num(r[b.lower]), _num(r[b.upper])
            if lo is not None and hi is not None:
                rows.append({"x": _iso(r[x]), "lo": lo * scale, "hi": hi * scale, "what": b.label})
    return pd.DataFrame(rows, columns=["x", "lo", "hi", "what"])


def _scaled(x: object, scale: float) -> float | None:
    v = _num(x)
    return None if v is None else v * scale


def figure_rows(
    obs: pd.DataFrame | None, ind: Indicator | None, publishers: dict[str, str], scale: float
) -> pd.DataFrame:
    """One row per published figure with what the chart and its tooltip show.

    `current` is false for a vintage a later one from the same source for the same period
    superseded; `start` is set for a figure that spans several of the indicator's periods.
    """
    cols = ["who", "x", "start", "published", "figure", "kind", "y", "lo", "hi", "current"]
    if obs is None or obs.empty:
        return pd.DataFrame(columns=cols)
    latest = set(obs.sort_values("published").groupby(["source", "period_end"]).tail(1).index)
    rows = []
    for idx, r in obs.iterrows():
        cens = str(r["censor"])
        y = {"point": r["value"], "lower": r["lower"], "upper": r["upper"]}.get(cens)
        start = None
        if ind is not None and cens == "point" and _iso(r.get("period_start")):
            default = period_start_for(pd.Timestamp(r["period_end"]).date(), ind.frequency)
            if pd.Timestamp(r["period_start"]).date() < default:
                start = _iso(r["period_start"])
        rows.append(
            {
                "who": publishers.get(str(r["source"]), str(r["source"])),
                "x": _iso(r["period_end"]),
                "start": start,
                "published": _iso(r["published"]),
                "figure": obs_text(r, ind),
                "kind": cens,
                "y": _scaled(y, scale),
                "lo": _scaled(r["lower"], scale),
                "hi": _scaled(r["upper"], scale),
                "current": idx in latest,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _figure_layers(figs: pd.DataFrame, legend: Legend, ax: Axes) -> list[Layer]:
    """Points by source (filled: the current vintage; hollow: superseded), bounds as
    triangles, ranges as bars, a figure over several periods as a line across them."""
    colours = source_colours(list(figs["who"]))
    for who in sorted(colours):
        legend.add(who, colours[who])
    figs = figs.assign(what=figs["who"])
    kinds = [k for k in FIGURE_KINDS if (figs["kind"] == k).any()]
    shape = enc(
        "kind:N",
        scale=dict(domain=kinds, range=[FIGURE_KINDS[k][1] for k in kinds]),
        legend=None,  # the shapes are told in the caption: a second legend widens the chart
    )
    tooltip = [
        enc("who:N", title="source"),
        enc("figure:N", title="figure"),
        enc("x:N", title="period ending"),
        enc("published:N", title="published"),
    ]
    out = []
    spans = figs[figs["start"].notna()]
    if len(spans):
        out.append(
            Layer(spans)
            .mark("rule", strokeWidth=1.5, clip=True)
            .encode(x=ax.x("start"), x2="x:T", y=ax.y("y"), color=legend.colour(False))
        )
    ranges = figs[figs["kind"] == "interval"]
    if len(ranges):
        out.append(
            Layer(ranges)
            .mark("rule", strokeWidth=3, clip=True)
            .encode(
                x=ax.x("x"), y=ax.y("lo"), y2="hi:Q", color=legend.colour(False), tooltip=tooltip
            )
        )
    pts = figs[figs["kind"].isin(kinds)].assign(
        solid=lambda d: d["current"] & (d["kind"] == "point")
    )
    if len(pts):
        out.append(
            Layer(pts)
            .mark("point", size=55, strokeWidth=1.6, opacity=1, clip=True)
            .encode(
                x=ax.x("x"),
                y=ax.y("y"),
                color=legend.colour(False),
                shape=shape,
                fill=condition(
                    "datum.solid",
                    enc("what:N", scale=legend.scale(), legend=None),
                    value("white"),
                ),
                tooltip=tooltip,
            )
        )
    return out


def fan(
    *,
    quantiles: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    indicator: Indicator | None,
    title: str,
    today: dt.date,
    publishers: dict[str, str] | None = None,
    series_label: str = "model",
    threshold: float | None = None,
    threshold_label: str = "threshold",
    target: tuple[dt.date, dt.date] | None = None,
) -> Chart:
    """Predictive fan (median, 50/80/95% bands), the figures by source, threshold, target, today.

    `quantiles`: one series' stored quantiles by `period_end` (q025 … q975), in the indicator's
    unit; `observations`: the indicator's figures (every vintage). A point figure is a dot
    (hollow once a later vintage superseded it); a bound (">30%") a triangle pointing to the
    side the figure lies on; a range a bar.
    """
    publishers = publishers or {}
    scale = indicator.display_scale if indicator else 1.0
    bounds = tuple(
        None if b is None else b * scale for b in (indicator.bounds if indicator else (None, None))
    )
    legend = Legend()
    xs: list[str | None] = [today.isoformat()]
    ys: list[float | None] = []
    desc: list[str] = []
    parts: list = []  # (builder) deferred until the axes' domains are known

    if target is not None:
        t = pd.DataFrame({"x": [target[0].isoformat()], "x2": [target[1].isoformat()]})
        t["what"] = legend.add("target period", TARGET_COLOUR)
        xs += list(t["x"]) + list(t["x2"])
        parts.append(
            lambda ax, t=t: (
                Layer(t)
                .mark("rect", clip=True)
                .encode(x=ax.x("x"), x2="x2:T", color=legend.colour())
            )
        )
    if quantiles is not None and not quantiles.empty and "q500" in quantiles:
        q = quantiles.sort_values("period_end")
        bands = band_rows(q, scale)
        for b in BANDS:
            rows = bands[bands["what"] == b.label]
            if len(rows):
                legend.add(b.label, b.colour)
                parts.append(
                    lambda ax, rows=rows: (
                        Layer(rows)
                        .mark("area", clip=True)
                        .encode(x=ax.x("x"), y=ax.y("lo"), y2="hi:Q", color=legend.colour())
                    )
                )
        median = f"{series_label}: median"
        med = pd.DataFrame({"x": [_iso(d) for d in q["period_end"]], "y": q["q500"] * scale})
        med["what"] = legend.add(median, BLUE)
        parts.append(
            lambda ax: (
                Layer(med)
                .mark("line", strokeWidth=2, clip=True)
                .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour())
            )
        )
        ys += [*bands["lo"], *bands["hi"], *med["y"]]
        xs += list(med["x"])
        last = q.iloc[-1]
        unit = indicator.label if indicator else ""
        desc.append(
            f"{median} for the period ending {_iso(last['period_end'])}: "
            f"{fmt_num(_scaled(last['q500'], scale))} {unit}, 95% interval "
            f"{fmt_num(_scaled(last.get('q025'), scale))} to "
            f"{fmt_num(_scaled(last.get('q975'), scale))}."
        )
    figs = figure_rows(observations, indicator, publishers, scale)
    if not figs.empty:
        colours = source_colours(list(figs["who"]))
        for who in sorted(colours):  # before any layer is built: one legend, one scale
            legend.add(who, colours[who])
        ys += [*figs["y"], *figs["lo"], *figs["hi"]]
        xs += [*figs["x"], *figs["start"]]
        parts.append(lambda ax: _figure_layers(figs, legend, ax))
        desc.append(f"{len(figs)} published figure(s) from {figs['who'].nunique()} source(s).")
        if not figs["current"].all():
            desc.append("Hollow dots are superseded vintages.")
    has_data = bool(desc)  # a threshold alone is not worth a chart
    if threshold is not None:
        r = pd.DataFrame({"y": [threshold * scale], "what": [legend.add(threshold_label, BLACK)]})
        ys.append(threshold * scale)
        parts.append(
            lambda ax: (
                Layer(r)
                .mark("rule", strokeDash=[7, 4], strokeWidth=1.4)
                .encode(y=ax.y("y"), color=legend.colour())
            )
        )
        desc.append(f"{threshold_label}.")
    ax = Axes(
        xtitle="period end",
        ytitle=axis_label(indicator) if indicator else "value",
        xdomain=date_limits(xs),
        ydomain=limits(ys, bounds),  # type: ignore[arg-type]
    )
    layers: list = []
    for build in parts:
        made = build(ax)
        layers += made if isinstance(made, list) else [made]
    layers += _today(today, ax)
    if not has_data:
        layers.append(_note("no trajectory and no figures yet"))
        desc.insert(0, "No trajectory and no figures yet.")
    return finish(layers, title, " ".join(desc), empty=not has_data)


def axis_label(ind: Indicator) -> str:
    """The value axis's label with its unit: 'share (%)', 'value (RMB mn)', 'level (percent)'."""
    word = (
        "share"
        if ind.family == "share"
        else {
            "units": "units",
            "value": "value",
            "rate": "rate",
            "count": "count",
            "level": "level",
        }.get(ind.measures, "value")
    )
    return f"{word} ({ind.label})"


def fan_series(q: pd.DataFrame, c: Claim | None) -> tuple[pd.DataFrame, str]:
    """The trajectory series a claim is judged on: its resolution source's, else latent."""
    series = set(q["series"].astype(str))
    src = c.resolution.source if c is not None and c.resolution is not None else None
    if src and src != "any":
        if src in series:
            return q[q["series"] == src], src
        if "_new" in series:
            return q[q["series"] == "_new"], "_new"
    if "latent" in series:
        return q[q["series"] == "latent"], "latent"
    first = sorted(series)[0] if series else "latent"
    return q[q["series"] == first], first


def indicator_fan(
    ind: Indicator,
    quantiles: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    today: dt.date,
    publishers: dict[str, str] | None = None,
    title: str | None = None,
) -> Chart:
    """An indicator's latent trajectory and every figure (the indicator page and notebook)."""
    qs = None
    if quantiles is not None and not quantiles.empty and "series" in quantiles:
        qs, _ = fan_series(quantiles, None)
    return fan(
        quantiles=qs,
        observations=observations,
        indicator=ind,
        title=title or ind.name,
        today=today,
        publishers=publishers,
        series_label="model (latent)",
    )


def claim_fan(
    claim: Claim,
    ind: Indicator,
    quantiles: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    today: dt.date,
    publishers: dict[str, str] | None = None,
) -> Chart:
    """What the figure that settles a claim will be, against its threshold and target period."""
    publishers = publishers or {}
    qs, series = None, "latent"
    if quantiles is not None and not quantiles.empty and "series" in quantiles:
        qs, series = fan_series(quantiles, claim)
    threshold, tlabel, target = None, "threshold", None
    if claim.kind == "threshold" and claim.threshold is not None:
        threshold = claim.threshold
        op = OPERATOR_TEXT.get(claim.operator or "", "")
        tlabel = f"threshold ({op} {ind_value(claim.threshold, ind)})"
    elif claim.kind == "value" and claim.value is not None:
        threshold, tlabel = claim.value, f"claimed value ({ind_value(claim.value, ind)})"
    if claim.target_period:
        start = claim.window_start or period_start_for(claim.target_period, ind.frequency)
        target = (start, claim.target_period)
    who = publishers.get(series, series)
    # the title names the series; the legend stays short so the chart keeps its width
    label = {"latent": "model (latent)", "_new": "model (a new source)"}.get(series, "model")
    title = ind.name
    if qs is not None:
        title += {"latent": ": the modelled truth", "_new": ": what a new source would report"}.get(
            series, f": what {who} will report"
        )
    return fan(
        quantiles=qs,
        observations=observations,
        indicator=ind,
        title=title,
        today=today,
        publishers=publishers,
        series_label=label,
        threshold=threshold,
        threshold_label=tlabel,
        target=target,
    )


def figures_chart(
    ind: Indicator,
    observations: pd.DataFrame,
    today: dt.date,
    publishers: dict[str, str] | None = None,
    title: str | None = None,
) -> Chart:
    """The figures alone, by source and vintage (the indicator notebook's first chart)."""
    return fan(
        quantiles=None,
        observations=observations,
        indicator=ind,
        title=title or f"{ind.name}: the published figures",
        today=today,
        publishers=publishers,
    )


# -- a claim's forecast over time -------------------------------------------------------------


def history_chart(
    history: pd.DataFrame,
    *,
    kind: str,
    today: dt.date,
    data_dates: Sequence[object] = (),
    stated: float | None = None,
    claimed: float | None = None,
    indicator: Indicator | None = None,
    title: str = "The forecast over time",
) -> Chart:
    """A claim's forecasts as a step line (each holds until the next), up to today.

    Binary claims: P(claim) in %; value claims: the median with the 50/80/95% bands. Ticks at
    the bottom mark the days new figures for the indicator were published.
    """
    h = history.sort_values("issued_on")
    issued = [_iso(d) for d in h["issued_on"]]
    end = max([today.isoformat(), *[d for d in issued if d]])
    legend = Legend()
    xs = [*issued, end]
    parts: list = []
    if kind == "value":
        scale = indicator.display_scale if indicator else 1.0
        ext = pd.concat([h, h.tail(1).assign(issued_on=pd.Timestamp(end))], ignore_index=True)
        bands = band_rows(ext, scale, x="issued_on")
        for b in BANDS:
            rows = bands[bands["what"] == b.label]
            if len(rows):
                legend.add(b.label, b.colour)
                parts.append(
                    lambda ax, rows=rows: (
                        Layer(rows)
                        .mark("area", interpolate="step-after", clip=True)
                        .encode(x=ax.x("x"), y=ax.y("lo"), y2="hi:Q", color=legend.colour())
                    )
                )
        line = pd.DataFrame({"x": [_iso(d) for d in ext["issued_on"]], "y": ext["q500"] * scale})
        ys = [*bands["lo"], *bands["hi"], *line["y"]]
        ytitle = f"settling figure ({indicator.label})" if indicator else "settling figure"
        what = "model median"
        tip = [enc("x:N", title="issued on"), enc("y:Q", title="median", format=".3~g")]
        if claimed is not None:
            ys.append(claimed * scale)
            ref = ("claimed value", claimed * scale, BLACK)
        else:
            ref = None
        ydomain = limits(ys)
        desc = (
            f"The median forecast moved from {fmt_num(line['y'].iloc[0])} to "
            f"{fmt_num(line['y'].iloc[-1])} {indicator.label if indicator else ''} over {len(h)} forecast(s)."
        )
    else:
        p = h["probability"] * 100
        line = pd.DataFrame({"x": [*issued, end], "y": [*p, p.iloc[-1]]})
        ytitle, what, ydomain = "probability (%)", "forecast P(claim)", [0, 100]
        tip = [enc("x:N", title="issued on"), enc("y:Q", title="P(claim) %", format=".0f")]
        ref = (
            ("claimant's own probability", stated * 100, VERMILLION) if stated is not None else None
        )
        desc = f"The probability moved from {p.iloc[0]:.0f}% to {p.iloc[-1]:.0f}% over {len(p)} forecast(s)."
    line["what"] = legend.add(what, BLUE)
    points = line.iloc[: len(h)]
    parts.append(
        lambda ax: (
            Layer(line)
            .mark("line", interpolate="step-after", strokeWidth=2, clip=True)
            .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour())
        )
    )
    parts.append(
        lambda ax: (
            Layer(points)
            .mark("point", filled=True, size=30, clip=True)
            .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour(), tooltip=tip)
        )
    )
    if ref is not None:
        r = pd.DataFrame({"y": [ref[1]], "what": [legend.add(ref[0], ref[2])]})
        parts.append(
            lambda ax: (
                Layer(r)
                .mark("rule", strokeDash=[7, 4], strokeWidth=1.4)
                .encode(y=ax.y("y"), color=legend.colour())
            )
        )
    first = (pd.Timestamp(xs[0]) - pd.Timedelta(days=20)).date().isoformat()
    shown = sorted({d for d in (_iso(x) for x in data_dates) if d and first <= d <= end})
    if shown:
        ticks = pd.DataFrame({"x": shown, "what": legend.add("new data published", VERMILLION)})
        parts.append(
            lambda ax: (
                Layer(ticks)
                .mark("rule", strokeWidth=2, clip=True)
                .encode(x=ax.x("x"), y=value(HEIGHT), y2=value(HEIGHT - 12), color=legend.colour())
            )
        )
    ax = Axes(
        xtitle="date the forecast was issued",
        ytitle=ytitle,
        xdomain=date_limits([first, end]),
        ydomain=ydomain,
    )
    layers: list = [build(ax) for build in parts]
    layers += _today(today, ax)
    return finish(layers, title, desc)


HINDCAST_COLOUR = "#CC79A7"  # reddish purple: the hindcast path, never the issued blue


def claim_path_chart(
    timeline: pd.DataFrame,
    marks: pd.DataFrame,
    *,
    kind: str,
    today: dt.date,
    hindcast_label: str,
    stated: float | None = None,
    claimed: float | None = None,
    indicator: Indicator | None = None,
    title: str = "The forecast over time",
    until: dt.date | None = None,
) -> Chart:
    """A claim's probability (or median) over time from `views.claim_timeline`: the hindcast
    path (dashed, purple, hollow points, labelled `hindcast_label`), then the forecasts issued
    (solid blue), each a step that holds until the next; every date a figure was published is
    marked at the bottom with that figure and its source (`views.figure_marks`), so a reader
    sees which figure moved the line. `until` (the day a resolved claim's settling figure came
    out) ends the last step; else it runs to today."""
    legend = Legend()
    value_claim = kind == "value"
    scale = indicator.display_scale if (indicator and value_claim) else 1.0
    factor = scale if value_claim else 100.0
    t = timeline.dropna(subset=["value"]).sort_values("date")
    dates = [_iso(d) for d in t["date"]]
    end = max([today.isoformat(), *[d for d in dates if d]])
    stop = until.isoformat() if until is not None else end
    parts: list = []
    ys: list[float] = []
    for basis, label, colour, dash, filled in (
        ("hindcast", hindcast_label, HINDCAST_COLOUR, [6, 3], False),
        ("issued", "forecast issued" if not value_claim else "median issued", BLUE, None, True),
    ):
        rows = t[t["basis"] == basis]
        if rows.empty:
            continue
        later = t[t["date"] > rows["date"].max()]
        upto = _iso(later["date"].min()) if len(later) else stop
        xs = [*[_iso(d) for d in rows["date"]], upto]
        y = [*(rows["value"] * factor), float(rows["value"].iloc[-1] * factor)]
        ys += y
        what = legend.add(label, colour)
        line = pd.DataFrame({"x": xs, "y": y, "what": what})
        pts = line.iloc[: len(rows)]
        mark = {"strokeDash": dash} if dash else {}
        parts.append(
            lambda ax, line=line, mark=mark: (
                Layer(line)
                .mark("line", interpolate="step-after", strokeWidth=2, clip=True, **mark)
                .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour())
            )
        )
        tip = [enc("x:N", title="data as of" if basis == "hindcast" else "issued on"),
               enc("y:Q", title="median" if value_claim else "P(claim) %", format=".3~g")]  # fmt: skip
        parts.append(
            lambda ax, pts=pts, filled=filled, tip=tip: (
                Layer(pts)
                .mark("point", filled=filled, size=34, strokeWidth=1.5, clip=True)
                .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour(), tooltip=tip)
            )
        )
    ref = None
    if value_claim and claimed is not None:
        ref = ("claimed value", claimed * scale, BLACK)
    elif not value_claim and stated is not None:
        ref = ("claimant's own probability", stated * 100, VERMILLION)
    if ref is not None:
        ys.append(ref[1])
        r = pd.DataFrame({"y": [ref[1]], "what": [legend.add(ref[0], ref[2])]})
        parts.append(
            lambda ax: (
                Layer(r)
                .mark("rule", strokeDash=[7, 4], strokeWidth=1.4)
                .encode(y=ax.y("y"), color=legend.colour())
            )
        )
    first_day = dates[0] if dates else end
    first = (pd.Timestamp(first_day) - pd.Timedelta(days=20)).date().isoformat()
    m = (
        marks[[first <= (_iso(d) or "") <= end for d in marks["published"]]]
        if len(marks)
        else marks
    )
    if len(m):
        what = legend.add("figure published (value, source)", GREY)
        md = pd.DataFrame(
            {
                "x": [_iso(d) for d in m["published"]],
                "t": [f"{v} {src}" for v, src in zip(m["shown"], m["source"], strict=True)],
                "full": list(m["text"]),
                "what": what,
            }
        )
        parts.append(
            lambda ax: (
                Layer(md)
                .mark("rule", strokeWidth=1.5, clip=True)
                .encode(x=ax.x("x"), y=value(HEIGHT), y2=value(HEIGHT - 10), color=legend.colour())
            )
        )
        parts.append(
            lambda ax: (
                Layer(md)
                .mark(
                    "text",
                    angle=270,
                    align="left",
                    baseline="middle",
                    dy=-4,
                    fontSize=9,
                    color=GREY,
                    limit=HEIGHT - 20,
                )
                .encode(
                    x=ax.x("x"),
                    y=value(HEIGHT - 13),
                    text="t:N",
                    tooltip=[enc("full:N", title="figure")],
                )
            )  # fmt: skip
        )
    if value_claim:
        ytitle = f"settling figure ({indicator.label})" if indicator else "settling figure"
        ydomain = limits(ys)
    else:
        ytitle, ydomain = "probability (%)", [0, 100]
    ax = Axes(
        xtitle="date (hindcast: the data as of then; issued: the issue date)",
        ytitle=ytitle,
        xdomain=date_limits([first, end]),
        ydomain=ydomain,
    )
    layers: list = [build(ax) for build in parts]
    layers += _today(today, ax)
    hc = t[t["basis"] == "hindcast"]
    unit = (indicator.label if indicator else "") if value_claim else "%"
    desc = (
        f"{hindcast_label}: {len(hc)} date(s)"
        + (
            f", from {fmt_num(hc['value'].iloc[0] * factor)} to {fmt_num(hc['value'].iloc[-1] * factor)} {unit}"
            if len(hc)
            else ""
        )
        + f"; {int((t['basis'] == 'issued').sum())} forecast(s) issued; {len(m)} figure(s) published."
    )
    if not parts:
        layers.append(_note("no forecast yet"))
    return finish(layers, title, desc)


# -- calibration ------------------------------------------------------------------------------


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
        {"x": [0, 100], "y": [0, 100], "what": legend.add("perfect calibration", GREY)}
    )
    t = table[table["n"] > 0] if "n" in table else table.iloc[0:0]
    model = legend.add("model (bar: 90% interval)", BLUE) if len(t) else ""
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
        layers.append(_note("no resolved claims yet", 300, 300))
        desc = "No resolved claims yet."
    return finish(layers, title, desc, width=300, height=300)


BASELINE_MODELS = ("naive", "statsmodels")


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
    values = np.asarray([v for v in pit if _num(v) is not None], dtype=float)
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
    expected = legend.add("expected if calibrated", BLACK) if len(values) else ""
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
        layers.append(_note("no backtest yet", 300, 200))
        desc = "No backtest yet."
    return finish(layers, title, desc, width=300, height=200)


def sparkline(
    values: Sequence[float],
    title: str,
    width: int = 84,
    height: int = 22,
    lo: float | None = 0.0,
    hi: float | None = 1.0,
) -> str:
    """A tiny line of a forecast's history (the last point marked), as inline SVG.

    Sixty of these sit in the index's table; each is one polyline, so it is written directly
    rather than sent through the chart renderer.
    """
    v = [float(x) for x in values if _num(x) is not None]
    if not v:
        return ""
    vmin = lo if lo is not None else min(v)
    vmax = hi if hi is not None else max(v)
    if vmax - vmin < 1e-12:
        vmin, vmax = vmin - 1, vmax + 1
    pad = 2.5
    n = len(v)
    xs = [pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 1.0) for i in range(n)]
    ys = [height - pad - (height - 2 * pad) * (y - vmin) / (vmax - vmin) for y in v]
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg"><title>{html.escape(title)}</title>'
        f'<line x1="0" y1="{height - pad:.1f}" x2="{width}" y2="{height - pad:.1f}" stroke="#dddddd"/>'
        f'<polyline points="{pts}" fill="none" stroke="{BLUE}" stroke-width="1.5"/>'
        f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.2" fill="{BLUE}"/></svg>'
    )
