"""The fan: a predictive distribution over periods (median, 50/80/95% bands) with the figures
published for them, by source and vintage; and the charts built on it: an indicator's fan, the
fan of the figure that settles a claim, and the figures alone."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from chipcast.data import period_start_for
from chipcast.report.charts.spec import (
    Axes,
    Chart,
    Layer,
    Legend,
    condition,
    date_limits,
    enc,
    finish,
    iso,
    limits,
    note,
    num,
    reference_rule,
    today_layers,
    value,
)
from chipcast.report.charts.style import (
    BANDS,
    BLACK,
    BLUE,
    FIGURE_KINDS,
    TARGET_COLOUR,
    axis_label,
    source_colours,
)
from chipcast.report.formats import OPERATOR_TEXT, fmt_num, ind_value, obs_text
from chipcast.schema import Claim, Indicator


def iso_dates(values: pd.Series) -> pd.Series:
    """Dates as ISO text, vectorised (None where a date is missing)."""
    d = pd.to_datetime(values, errors="coerce")
    return d.dt.strftime("%Y-%m-%d").astype(object).where(d.notna(), None)


def band_rows(q: pd.DataFrame, scale: float, x: str = "period_end") -> pd.DataFrame:
    """The stored bands as a long table: one row per date and band (a fan, a forecast's bands
    over time)."""
    xs = iso_dates(q[x]).to_numpy()
    frames = []
    for b in BANDS:
        if b.lower not in q or b.upper not in q:
            continue
        lo = pd.to_numeric(q[b.lower], errors="coerce").to_numpy(dtype=float)
        hi = pd.to_numeric(q[b.upper], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        frames.append(
            pd.DataFrame({"x": xs[ok], "lo": lo[ok] * scale, "hi": hi[ok] * scale, "what": b.label})
        )
    cols = ["x", "lo", "hi", "what"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def scaled(x: object, scale: float) -> float | None:
    v = num(x)
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
    for idx, r in zip(obs.index, obs.to_dict("records"), strict=True):
        cens = str(r["censor"])
        y = {"point": r["value"], "lower": r["lower"], "upper": r["upper"]}.get(cens)
        start = None
        if ind is not None and cens == "point" and iso(r.get("period_start")):
            default = period_start_for(pd.Timestamp(r["period_end"]).date(), ind.frequency)
            if pd.Timestamp(r["period_start"]).date() < default:
                start = iso(r["period_start"])
        rows.append(
            {
                "who": publishers.get(str(r["source"]), str(r["source"])),
                "x": iso(r["period_end"]),
                "start": start,
                "published": iso(r["published"]),
                "figure": obs_text(r, ind),
                "kind": cens,
                "y": scaled(y, scale),
                "lo": scaled(r["lower"], scale),
                "hi": scaled(r["upper"], scale),
                "current": idx in latest,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def figure_layers(figs: pd.DataFrame, legend: Legend, ax: Axes) -> list[Layer]:
    """Points by source (filled: the current vintage; hollow: superseded), bounds as
    triangles, ranges as bars, a figure over several periods as a line across them."""
    colours = source_colours(list(figs["who"]))
    for who in sorted(colours):
        legend.add(who, colours[who], "circle")
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
            .encode(x=ax.x("start"), x2="x:T", y=ax.y("y"), color=legend.colour())
        )
    ranges = figs[figs["kind"] == "interval"]
    if len(ranges):
        out.append(
            Layer(ranges)
            .mark("rule", strokeWidth=3, clip=True)
            .encode(x=ax.x("x"), y=ax.y("lo"), y2="hi:Q", color=legend.colour(), tooltip=tooltip)
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
                color=legend.colour(),
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
        med = pd.DataFrame({"x": iso_dates(q["period_end"]).to_numpy(), "y": q["q500"] * scale})
        med["what"] = legend.add(median, BLUE, "line")
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
            f"{median} for the period ending {iso(last['period_end'])}: "
            f"{fmt_num(scaled(last['q500'], scale))} {unit}, 95% interval "
            f"{fmt_num(scaled(last.get('q025'), scale))} to "
            f"{fmt_num(scaled(last.get('q975'), scale))}."
        )
    figs = figure_rows(observations, indicator, publishers, scale)
    if not figs.empty:
        colours = source_colours(list(figs["who"]))
        for who in sorted(colours):  # before any layer is built: one legend, one scale
            legend.add(who, colours[who], "circle")
        ys += [*figs["y"], *figs["lo"], *figs["hi"]]
        xs += [*figs["x"], *figs["start"]]
        parts.append(lambda ax: figure_layers(figs, legend, ax))
        desc.append(f"{len(figs)} published figure(s) from {figs['who'].nunique()} source(s).")
        if not figs["current"].all():
            desc.append("Hollow dots are superseded vintages.")
    has_data = bool(desc)  # a threshold alone is not worth a chart
    if threshold is not None:
        ys.append(threshold * scale)
        parts.append(
            lambda ax: reference_rule(threshold * scale, threshold_label, BLACK, legend, ax)
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
    layers += today_layers(today, ax)
    if not has_data:
        layers.append(note("no trajectory and no figures yet"))
        desc.insert(0, "No trajectory and no figures yet.")
    return finish(layers, title, " ".join(desc), empty=not has_data, legend=legend)


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
