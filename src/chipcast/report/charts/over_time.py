"""A claim's forecast over time: `history_chart` (the forecasts issued) and `claim_path_chart`
(the hindcast path before them and the figures published). Both draw each forecast as a step
that holds until the next, up to today (or the day the claim resolved), with the claimant's
reference line and the publication dates marked at the bottom; those pieces live here once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd

from chipcast.report.charts.fan import band_rows, iso_dates
from chipcast.report.charts.spec import (
    Axes,
    Chart,
    Layer,
    Legend,
    date_limits,
    enc,
    finish,
    iso,
    limits,
    note,
    reference_rule,
    today_layers,
    value,
)
from chipcast.report.charts.style import (
    BANDS,
    BLACK,
    BLUE,
    GREY,
    HEIGHT,
    HINDCAST_COLOUR,
    VERMILLION,
)
from chipcast.report.formats import fmt_num
from chipcast.schema import Indicator

Builder = Callable[[Axes], Layer]
LEAD_DAYS = 20  # the time axis starts this long before the first forecast


def step_path(
    dates: Sequence[str | None],
    values: Sequence[float],
    upto: str,
    what: str,
    legend: Legend,
    tip: list[dict],
    *,
    dash: list[int] | None = None,
    filled: bool = True,
    size: int = 30,
    stroke_width: float | None = None,
) -> list[Builder]:
    """Forecasts as a step line, each holding until the next and the last until `upto`, with
    a point on each forecast (its tooltip `tip`); `what` is the legend entry (added already)."""
    ys = [float(v) for v in values]
    line = pd.DataFrame({"x": [*dates, upto], "y": [*ys, ys[-1]], "what": what})
    pts = line.iloc[: len(ys)]
    style = {"strokeDash": dash} if dash else {}
    point = {"strokeWidth": stroke_width} if stroke_width is not None else {}
    return [
        lambda ax: (
            Layer(line)
            .mark("line", interpolate="step-after", strokeWidth=2, clip=True, **style)
            .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour())
        ),
        lambda ax: (
            Layer(pts)
            .mark("point", filled=filled, size=size, clip=True, **point)
            .encode(x=ax.x("x"), y=ax.y("y"), color=legend.colour(), tooltip=tip)
        ),
    ]


def claimant_reference(
    value_claim: bool, claimed: float | None, stated: float | None, scale: float
) -> tuple[str, float, str] | None:
    """The claimant's line: the claimed value (value claims), else their own probability."""
    if value_claim and claimed is not None:
        return ("claimed value", claimed * scale, BLACK)
    if not value_claim and stated is not None:
        return ("claimant's own probability", stated * 100, VERMILLION)
    return None


def date_ticks(
    dates: pd.DataFrame, what: str, legend: Legend, length: int, width: float
) -> Builder:
    """Short rules (`length` px, `width` wide) at the bottom of the plot on each date in
    `dates["x"]`."""
    d = dates.assign(what=what)
    return lambda ax: (
        Layer(d)
        .mark("rule", strokeWidth=width, clip=True)
        .encode(x=ax.x("x"), y=value(HEIGHT), y2=value(HEIGHT - length), color=legend.colour())
    )


def settling_axis(indicator: Indicator | None) -> str:
    return f"settling figure ({indicator.label})" if indicator else "settling figure"


def over_time(
    parts: list[Builder],
    legend: Legend,
    *,
    first: str,
    end: str,
    today: dt.date,
    xtitle: str,
    ytitle: str,
    ydomain: list,
    title: str,
    desc: str,
    empty_note: str | None = None,
) -> Chart:
    """The shared frame: a time axis from `first` to `end`, today's rule, the legend."""
    ax = Axes(xtitle=xtitle, ytitle=ytitle, xdomain=date_limits([first, end]), ydomain=ydomain)
    layers: list = [build(ax) for build in parts]
    layers += today_layers(today, ax)
    if empty_note:
        layers.append(note(empty_note))
    return finish(layers, title, desc, legend=legend)


def _lead(day: str) -> str:
    return (pd.Timestamp(day) - pd.Timedelta(days=LEAD_DAYS)).date().isoformat()


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
    issued = list(iso_dates(h["issued_on"]))
    end = max([today.isoformat(), *[d for d in issued if d]])
    legend = Legend()
    parts: list[Builder] = []
    value_claim = kind == "value"
    scale = (indicator.display_scale if indicator else 1.0) if value_claim else 100.0
    if value_claim:
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
        y = h["q500"] * scale
        what = legend.add("model median", BLUE, "line")
        tip = [enc("x:N", title="issued on"), enc("y:Q", title="median", format=".3~g")]
        ys = [*bands["lo"], *bands["hi"], *y]
        unit = indicator.label if indicator else ""
        desc = (
            f"The median forecast moved from {fmt_num(y.iloc[0])} to "
            f"{fmt_num(y.iloc[-1])} {unit} over {len(h)} forecast(s)."
        )
    else:
        y = h["probability"] * 100
        what = legend.add("forecast P(claim)", BLUE, "line")
        tip = [enc("x:N", title="issued on"), enc("y:Q", title="P(claim) %", format=".0f")]
        ys = []
        desc = (
            f"The probability moved from {y.iloc[0]:.0f}% to {y.iloc[-1]:.0f}% "
            f"over {len(y)} forecast(s)."
        )
    parts += step_path(issued, list(y), end, what, legend, tip)
    ref = claimant_reference(value_claim, claimed, stated, scale)
    if ref is not None:
        ys.append(ref[1])
        parts.append(lambda ax: reference_rule(ref[1], ref[0], ref[2], legend, ax))
    first = _lead(issued[0])
    shown = sorted({d for d in (iso(x) for x in data_dates) if d and first <= d <= end})
    if shown:
        what = legend.add("new data published", VERMILLION, "tick")
        parts.append(date_ticks(pd.DataFrame({"x": shown}), what, legend, 12, 2))
    return over_time(
        parts,
        legend,
        first=first,
        end=end,
        today=today,
        xtitle="date the forecast was issued",
        ytitle=settling_axis(indicator) if value_claim else "probability (%)",
        ydomain=limits(ys) if value_claim else [0, 100],
        title=title,
        desc=desc,
    )


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
    scale = (indicator.display_scale if indicator else 1.0) if value_claim else 100.0
    t = timeline.dropna(subset=["value"]).sort_values("date")
    dates = list(iso_dates(t["date"]))
    end = max([today.isoformat(), *[d for d in dates if d]])
    stop = until.isoformat() if until is not None else end
    parts: list[Builder] = []
    ys: list[float] = []
    for basis, label, colour, dash, filled in (
        ("hindcast", hindcast_label, HINDCAST_COLOUR, [6, 3], False),
        ("issued", "median issued" if value_claim else "forecast issued", BLUE, None, True),
    ):
        rows = t[t["basis"] == basis]
        if rows.empty:
            continue
        later = t[t["date"] > rows["date"].max()]
        upto = iso(later["date"].min()) if len(later) else stop
        y = list(rows["value"] * scale)
        ys += [*y, y[-1]]
        what = legend.add(label, colour, "dash" if dash else "line")
        tip = [
            enc("x:N", title="data as of" if basis == "hindcast" else "issued on"),
            enc("y:Q", title="median" if value_claim else "P(claim) %", format=".3~g"),
        ]
        parts += step_path(
            list(iso_dates(rows["date"])), y, upto, what, legend, tip,
            dash=dash, filled=filled, size=34, stroke_width=1.5,
        )  # fmt: skip
    ref = claimant_reference(value_claim, claimed, stated, scale)
    if ref is not None:
        ys.append(ref[1])
        parts.append(lambda ax: reference_rule(ref[1], ref[0], ref[2], legend, ax))
    first = _lead(dates[0] if dates else end)
    m = marks[[first <= (iso(d) or "") <= end for d in marks["published"]]] if len(marks) else marks
    if len(m):
        what = legend.add("figure published (value, source)", GREY, "tick")
        md = pd.DataFrame(
            {
                "x": list(iso_dates(m["published"])),
                "t": [f"{v} {src}" for v, src in zip(m["shown"], m["source"], strict=True)],
                "full": list(m["text"]),
                "what": what,
            }
        )
        parts.append(date_ticks(md, what, legend, 10, 1.5))
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
    hc = t[t["basis"] == "hindcast"]
    unit = (indicator.label if indicator else "") if value_claim else "%"
    moved = (
        f", from {fmt_num(hc['value'].iloc[0] * scale)} to {fmt_num(hc['value'].iloc[-1] * scale)} {unit}"
        if len(hc)
        else ""
    )
    desc = (
        f"{hindcast_label}: {len(hc)} date(s){moved}; "
        f"{int((t['basis'] == 'issued').sum())} forecast(s) issued; {len(m)} figure(s) published."
    )
    return over_time(
        parts,
        legend,
        first=first,
        end=end,
        today=today,
        xtitle="date (hindcast: the data as of then; issued: the issue date)",
        ytitle=settling_axis(indicator) if value_claim else "probability (%)",
        ydomain=limits(ys) if value_claim else [0, 100],
        title=title,
        desc=desc,
        empty_note=None if parts else "no forecast yet",
    )
