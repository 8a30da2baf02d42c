"""Charts for the static site, drawn by hand as inline SVG strings.

Why not matplotlib: on this project's machines a matplotlib SVG figure costs ~0.3 s to lay out
and write, so ~90 charts took half a minute; these hand-made ones take about a millisecond each,
are a few kB, keep their text as text, and scale with the page. The drawing vocabulary is small
(bands, lines, markers, arrows, reference lines, a legend) and sits in `Plot`.

Every chart has a `<title>` and `<desc>` (screen readers, tooltips), labelled axes with units,
dates on time axes, and uses the Okabe-Ito palette (colour-blind safe): the fan is blue, sources
take the other colours. Every string drawn is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#555555"
LIGHT = "#dddddd"
SOURCE_COLOURS: tuple[str, ...] = (
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
    "#F0E442",  # yellow (last: weak on white)
)
# the fan's bands, outer to inner: (lower, upper, label, opacity)
BANDS: tuple[tuple[str, str, str, float], ...] = (
    ("q025", "q975", "95% interval", 0.15),
    ("q100", "q900", "80% interval", 0.22),
    ("q250", "q750", "50% interval", 0.32),
)
FONT = 11  # px in the viewBox
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ids = itertools.count(1)
EPOCH = dt.date(1970, 1, 1)


def source_colours(sources: Sequence[str]) -> dict[str, str]:
    """A stable colour per source id (sorted, so a source keeps its colour across pages)."""
    return {s: SOURCE_COLOURS[i % len(SOURCE_COLOURS)] for i, s in enumerate(sorted(set(sources)))}


def day(d: object) -> float:
    """A date as days since 1970-01-01 (the time axis's coordinate)."""
    ts = pd.Timestamp(d)  # type: ignore[arg-type]
    return float((ts.date() - EPOCH).days)


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _f(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def tick_label(x: float, step: float) -> str:
    if step >= 1 or x == 0:
        return f"{x:,.0f}" if abs(x) >= 10000 else f"{x:.0f}"
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10**digits % 1 > 1e-6:
        digits += 1
    return f"{x:.{digits}f}"


def date_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks on a time axis: years, quarters or months by span; a year is named at January."""
    a = EPOCH + dt.timedelta(days=math.floor(lo))
    b = EPOCH + dt.timedelta(days=math.ceil(hi))
    years = (hi - lo) / 365.25
    if years > 12:
        every, months = 2, 12
    elif years > 3.5:
        every, months = 1, 12
    elif years > 1.5:
        every, months = 1, 6
    elif years > 0.7:
        every, months = 1, 3
    else:
        every, months = 1, 1
    out = []
    y, m = a.year, 1
    while True:
        d = dt.date(y, m, 1)
        if d > b:
            break
        if d >= a and (months < 12 or y % every == 0):
            out.append((float((d - EPOCH).days), str(y) if m == 1 else MONTHS[m - 1]))
        m += months
        if m > 12:
            m -= 12
            y += 1
    if out and all(lbl in MONTHS for _, lbl in out):  # no January inside: name the year once
        first = EPOCH + dt.timedelta(days=out[0][0])
        out[0] = (out[0][0], f"{out[0][1]} {first.year}")
    return out


@dataclass
class LegendItem:
    kind: str  # line | dash | band | marker | tick
    colour: str
    label: str
    opacity: float = 1.0
    shape: str = "o"
    fill: str = ""


@dataclass
class Plot:
    """A single-panel SVG chart: data coordinates in, escaped SVG out."""

    title: str
    xlabel: str
    ylabel: str
    width: int = 640
    height: int = 300
    dates: bool = True
    left: int = 58
    right: int = 18
    top: int = 30
    bottom: int = 46
    body: list[str] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None

    # -- scales ---------------------------------------------------------------------------

    def see(self, xs: Sequence[float] = (), ys: Sequence[float] = ()) -> None:
        self.xs += [float(x) for x in xs if x is not None and math.isfinite(float(x))]
        self.ys += [float(y) for y in ys if y is not None and math.isfinite(float(y))]

    def _limits(self) -> None:
        if self.xlim is None:
            lo, hi = (min(self.xs), max(self.xs)) if self.xs else (0.0, 1.0)
            pad = (hi - lo) * 0.03 or 30.0
            self.xlim = (lo - pad, hi + pad)
        if self.ylim is None:
            lo, hi = (min(self.ys), max(self.ys)) if self.ys else (0.0, 1.0)
            pad = (hi - lo) * 0.08 or (abs(hi) * 0.1 or 1.0)
            self.ylim = (lo - pad, hi + pad)

    def X(self, x: float) -> float:  # noqa: N802 - data -> pixel
        lo, hi = self.xlim  # type: ignore[misc]
        return self.left + (x - lo) / (hi - lo) * (self.width - self.left - self.right)

    def Y(self, y: float) -> float:  # noqa: N802
        lo, hi = self.ylim  # type: ignore[misc]
        return (
            self.height
            - self.bottom
            - (y - lo) / (hi - lo) * (self.height - self.top - self.bottom)
        )

    # -- marks (queued as closures so limits can be set after all data is seen) -------------

    def __post_init__(self) -> None:
        self._marks: list = []

    def band(
        self,
        xs: Sequence[float],
        lo: Sequence[float],
        hi: Sequence[float],
        colour: str,
        opacity: float,
        step: bool = False,
    ) -> None:
        self.see(xs, [*lo, *hi])
        xs, lo, hi = list(xs), list(lo), list(hi)

        def draw() -> str:
            if step:
                px, plo, phi = _stepped(xs, lo), _stepped_y(lo), _stepped_y(hi)
                pts = [(self.X(x), self.Y(y)) for x, y in zip(px, phi, strict=True)]
                pts += [
                    (self.X(x), self.Y(y)) for x, y in zip(reversed(px), reversed(plo), strict=True)
                ]
            else:
                pts = [
                    (self.X(x), self.Y(y)) for x, y in zip(xs, hi, strict=True) if math.isfinite(y)
                ]
                pts += [
                    (self.X(x), self.Y(y))
                    for x, y in zip(reversed(xs), reversed(lo), strict=True)
                    if math.isfinite(y)
                ]
            p = " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
            return f'<polygon points="{p}" fill="{colour}" fill-opacity="{opacity}" stroke="none"/>'

        self._marks.append(draw)

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        width: float = 1.8,
        dash: str = "",
        step: bool = False,
    ) -> None:
        self.see(xs, ys)
        xs, ys = list(xs), list(ys)

        def draw() -> str:
            px, py = (_stepped(xs, ys), _stepped_y(ys)) if step else (xs, ys)
            pts = " ".join(
                f"{_f(self.X(x))},{_f(self.Y(y))}"
                for x, y in zip(px, py, strict=True)
                if math.isfinite(y)
            )
            d = f' stroke-dasharray="{dash}"' if dash else ""
            return f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}"{d} stroke-linejoin="round"/>'

        self._marks.append(draw)

    def marker(
        self,
        x: float,
        y: float,
        colour: str,
        shape: str = "o",
        fill: str | None = None,
        size: float = 4.2,
        tip: str = "",
    ) -> None:
        self.see([x], [y])

        def draw() -> str:
            cx, cy = self.X(x), self.Y(y)
            f = fill if fill is not None else colour
            t = f"<title>{_e(tip)}</title>" if tip else ""
            s = size
            if shape == "o":
                el = f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{s}" fill="{f}" stroke="{colour}" stroke-width="1.4">'
                return el + t + "</circle>"
            if shape == "^":
                pts = f"{_f(cx)},{_f(cy - s * 1.2)} {_f(cx - s)},{_f(cy + s * 0.7)} {_f(cx + s)},{_f(cy + s * 0.7)}"
            else:  # "v"
                pts = f"{_f(cx)},{_f(cy + s * 1.2)} {_f(cx - s)},{_f(cy - s * 0.7)} {_f(cx + s)},{_f(cy - s * 0.7)}"
            return f'<polygon points="{pts}" fill="{f}" stroke="{colour}" stroke-width="1.4">{t}</polygon>'

        self._marks.append(draw)

    def arrow(self, x: float, y: float, up: bool, colour: str, length: float = 18) -> None:
        """A short arrow from (x, y) pointing up or down: the side a bound's figure lies on."""
        self.see([x], [y])

        def draw() -> str:
            cx, cy = self.X(x), self.Y(y)
            sgn = -1 if up else 1
            y0, y1 = cy + sgn * 6, cy + sgn * length
            head = f"{_f(cx)},{_f(y1)} {_f(cx - 3.5)},{_f(y1 - sgn * 6)} {_f(cx + 3.5)},{_f(y1 - sgn * 6)}"
            return (
                f'<line x1="{_f(cx)}" y1="{_f(y0)}" x2="{_f(cx)}" y2="{_f(y1 - sgn * 5)}" stroke="{colour}" stroke-width="1.5"/>'
                f'<polygon points="{head}" fill="{colour}"/>'
            )

        self._marks.append(draw)

    def segment(self, x: float, y0: float, y1: float, colour: str, tip: str = "") -> None:
        """A vertical bar with caps (a published range 'N..M')."""
        self.see([x], [y0, y1])

        def draw() -> str:
            cx, a, b = self.X(x), self.Y(y0), self.Y(y1)
            t = f"<title>{_e(tip)}</title>" if tip else ""
            return (
                f'<g stroke="{colour}" stroke-width="2">{t}<line x1="{_f(cx)}" y1="{_f(a)}" x2="{_f(cx)}" y2="{_f(b)}"/>'
                f'<line x1="{_f(cx - 4)}" y1="{_f(a)}" x2="{_f(cx + 4)}" y2="{_f(a)}"/>'
                f'<line x1="{_f(cx - 4)}" y1="{_f(b)}" x2="{_f(cx + 4)}" y2="{_f(b)}"/></g>'
            )

        self._marks.append(draw)

    def hline(
        self, y: float, colour: str, dash: str = "6 4", width: float = 1.3, label: str = ""
    ) -> None:
        self.see([], [y])

        def draw() -> str:
            py = self.Y(y)
            out = (
                f'<line x1="{self.left}" y1="{_f(py)}" x2="{self.width - self.right}" y2="{_f(py)}" '
                f'stroke="{colour}" stroke-width="{width}" stroke-dasharray="{dash}"/>'
            )
            if label:
                out += (
                    f'<text x="{self.width - self.right - 3}" y="{_f(py - 4)}" text-anchor="end" font-size="{FONT - 1}" '
                    f'fill="{colour}">{_e(label)}</text>'
                )
            return out

        self._marks.append(draw)

    def vline(
        self,
        x: float,
        colour: str,
        label: str = "",
        dash: str = "2 3",
        frac: float = 1.0,
        width: float = 1.2,
    ) -> None:
        self.see([x], [])

        def draw() -> str:
            px = self.X(x)
            y1 = self.height - self.bottom
            y0 = y1 - frac * (self.height - self.top - self.bottom)
            d = f' stroke-dasharray="{dash}"' if dash else ""
            out = f'<line x1="{_f(px)}" y1="{_f(y0)}" x2="{_f(px)}" y2="{_f(y1)}" stroke="{colour}" stroke-width="{width}"{d}/>'
            if label:
                right = px > self.width - self.right - 8 * len(
                    label
                )  # near the right edge: label on the left
                anchor, lx = ("end", px - 3) if right else ("start", px + 3)
                out += (
                    f'<text x="{_f(lx)}" y="{self.top + 10}" text-anchor="{anchor}" font-size="{FONT - 1}" '
                    f'fill="{colour}">{_e(label)}</text>'
                )
            return out

        self._marks.append(draw)

    def vspan(self, x0: float, x1: float, colour: str, opacity: float, label: str = "") -> None:
        self.see([x0, x1], [])

        def draw() -> str:
            a, b = self.X(x0), self.X(x1)
            h = self.height - self.top - self.bottom
            out = f'<rect x="{_f(a)}" y="{self.top}" width="{_f(max(b - a, 2))}" height="{_f(h)}" fill="{colour}" fill-opacity="{opacity}"/>'
            if label:
                out += (
                    f'<text x="{_f((a + b) / 2)}" y="{self.height - self.bottom - 4}" text-anchor="middle" '
                    f'font-size="{FONT - 2}" fill="{GREY}">{_e(label)}</text>'
                )
            return out

        self._marks.insert(0, draw)  # behind everything

    def note(self, text: str) -> None:
        def draw() -> str:
            return (
                f'<text x="{(self.left + self.width - self.right) / 2}" y="{(self.top + self.height - self.bottom) / 2}" '
                f'text-anchor="middle" font-size="{FONT + 1}" fill="{GREY}">{_e(text)}</text>'
            )

        self._marks.append(draw)

    # -- output ---------------------------------------------------------------------------

    def _legend_rows(self) -> list[list[tuple[LegendItem, float]]]:
        rows: list[list[tuple[LegendItem, float]]] = [[]]
        avail = self.width - self.left - self.right
        used = 0.0
        for it in self.legend:
            w = 26 + len(it.label) * FONT * 0.56 + 14
            if used + w > avail and rows[-1]:
                rows.append([])
                used = 0.0
            rows[-1].append((it, w))
            used += w
        return [r for r in rows if r]

    def _legend_svg(self, y0: float) -> str:
        out = []
        for i, row in enumerate(self._legend_rows()):
            x = float(self.left)
            y = y0 + i * 16
            for it, w in row:
                sx, sy = x + 11, y - 4
                if it.kind == "band":
                    out.append(
                        f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="22" height="10" fill="{it.colour}" fill-opacity="{it.opacity}"/>'
                    )
                elif it.kind in ("line", "dash"):
                    d = ' stroke-dasharray="5 3"' if it.kind == "dash" else ""
                    out.append(
                        f'<line x1="{_f(x)}" y1="{_f(sy)}" x2="{_f(x + 22)}" y2="{_f(sy)}" stroke="{it.colour}" stroke-width="2"{d}/>'
                    )
                    if it.shape == "o" and it.fill:
                        out.append(
                            f'<circle cx="{_f(sx)}" cy="{_f(sy)}" r="3" fill="{it.colour}"/>'
                        )
                elif it.kind == "tick":
                    out.append(
                        f'<line x1="{_f(sx)}" y1="{_f(y - 10)}" x2="{_f(sx)}" y2="{_f(y + 1)}" stroke="{it.colour}" stroke-width="2"/>'
                    )
                else:
                    f = it.fill or it.colour
                    if it.shape == "o":
                        out.append(
                            f'<circle cx="{_f(sx)}" cy="{_f(sy)}" r="4" fill="{f}" stroke="{it.colour}" stroke-width="1.4"/>'
                        )
                    else:
                        out.append(
                            f'<polygon points="{_f(sx)},{_f(sy - 5)} {_f(sx - 4)},{_f(sy + 3)} {_f(sx + 4)},{_f(sy + 3)}" '
                            f'fill="{f}" stroke="{it.colour}" stroke-width="1.4"/>'
                        )
                out.append(
                    f'<text x="{_f(x + 26)}" y="{_f(y)}" font-size="{FONT - 1}" fill="#222">{_e(it.label)}</text>'
                )
                x += w
        return "".join(out)

    def svg(self, desc: str) -> str:
        self._limits()
        n_legend = len(self._legend_rows())
        extra = n_legend * 16 + (6 if n_legend else 0)
        total_h = self.height + extra
        uid = f"ch{next(_ids)}"
        pl, pr, pt, pb = self.left, self.width - self.right, self.top, self.height - self.bottom
        out = [
            f'<svg class="chart" role="img" aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {self.width} {total_h}" '
            f"xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif\">",
            f'<title id="{uid}-t">{_e(self.title)}</title><desc id="{uid}-d">{_e(desc)}</desc>',
            f'<defs><clipPath id="{uid}-c"><rect x="{pl}" y="{pt}" width="{pr - pl}" height="{pb - pt}"/></clipPath></defs>',
            f'<text x="{pl}" y="{pt - 12}" font-size="{FONT + 2}" font-weight="bold" fill="#111">{_e(self.title)}</text>',
        ]
        # y grid and ticks
        ylo, yhi = self.ylim  # type: ignore[misc]
        yt = nice_ticks(ylo, yhi, 5)
        step = yt[1] - yt[0] if len(yt) > 1 else 1.0
        for t in yt:
            py = self.Y(t)
            out.append(
                f'<line x1="{pl}" y1="{_f(py)}" x2="{pr}" y2="{_f(py)}" stroke="{LIGHT}" stroke-width="0.8"/>'
            )
            out.append(
                f'<text x="{pl - 6}" y="{_f(py + 4)}" text-anchor="end" font-size="{FONT - 1}" fill="#333">{_e(tick_label(t, step))}</text>'
            )
        # x ticks
        xlo, xhi = self.xlim  # type: ignore[misc]
        if self.dates:
            xt = date_ticks(xlo, xhi)
        else:
            ticks = nice_ticks(xlo, xhi, 5)
            xs_step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
            xt = [(t, tick_label(t, xs_step)) for t in ticks]
        for t, lbl in xt:
            px = self.X(t)
            out.append(
                f'<line x1="{_f(px)}" y1="{pb}" x2="{_f(px)}" y2="{pb + 4}" stroke="#333" stroke-width="1"/>'
            )
            out.append(
                f'<text x="{_f(px)}" y="{pb + 16}" text-anchor="middle" font-size="{FONT - 1}" fill="#333">{_e(lbl)}</text>'
            )
        out.append(f'<g clip-path="url(#{uid}-c)">')
        out += [m() for m in self._marks]
        out.append("</g>")
        out.append(
            f'<line x1="{pl}" y1="{pb}" x2="{pr}" y2="{pb}" stroke="#333" stroke-width="1"/>'
        )
        out.append(
            f'<line x1="{pl}" y1="{pt}" x2="{pl}" y2="{pb}" stroke="#333" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{(pl + pr) / 2}" y="{pb + 32}" text-anchor="middle" font-size="{FONT}" fill="#222">{_e(self.xlabel)}</text>'
        )
        cy = (pt + pb) / 2
        out.append(
            f'<text x="14" y="{_f(cy)}" text-anchor="middle" font-size="{FONT}" fill="#222" '
            f'transform="rotate(-90 14 {_f(cy)})">{_e(self.ylabel)}</text>'
        )
        out.append(self._legend_svg(self.height + 8))
        out.append("</svg>")
        return "".join(out)


def _stepped(xs: list[float], ys: list[float]) -> list[float]:
    out: list[float] = []
    for i, x in enumerate(xs):
        if i:
            out.append(x)
        out.append(x)
    return out


def _stepped_y(ys: list[float]) -> list[float]:
    out: list[float] = []
    for i, y in enumerate(ys):
        out.append(y)
        if i < len(ys) - 1:
            out.append(y)
    return out


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    a = abs(x)
    return f"{x:,.0f}" if a >= 100 else f"{x:.3g}"


def fan_chart(
    *,
    quantiles: pd.DataFrame | None,
    observations: pd.DataFrame,
    scale: float,
    ylabel: str,
    title: str,
    today: dt.date,
    unit: str = "",
    publishers: dict[str, str] | None = None,
    series_label: str = "model",
    threshold: float | None = None,
    threshold_label: str = "threshold",
    target: tuple[dt.date, dt.date] | None = None,
    bounds: tuple[float | None, float | None] = (None, None),
    width: int = 640,
    height: int = 300,
) -> str:
    """Predictive fan (median and 50/80/95% bands), figures by source, threshold, target, today.

    A point figure is a dot; a bound (">30%") an open triangle with an arrow towards the side the
    figure lies on; a range a capped bar; a superseded vintage is hollow.
    """
    publishers = publishers or {}
    unit = unit or ylabel
    p = Plot(title=title, xlabel="period end", ylabel=ylabel, width=width, height=height)
    desc: list[str] = []
    if target is not None:
        p.vspan(day(target[0]), day(target[1]) + 1, "#888888", 0.16, "target")
        p.legend.append(LegendItem("band", "#888888", "target period", 0.3))
    if quantiles is not None and not quantiles.empty and "q500" in quantiles:
        q = quantiles.sort_values("period_end")
        xs = [day(d) for d in q["period_end"]]
        for lo, hi, label, op in BANDS:
            if lo in q and hi in q:
                p.band(xs, list(q[lo] * scale), list(q[hi] * scale), BLUE, op)
                p.legend.append(LegendItem("band", BLUE, label, op + 0.1))
        p.line(xs, list(q["q500"] * scale), BLUE, 2)
        p.legend.insert(
            0 if target is None else 1, LegendItem("line", BLUE, f"{series_label}: median")
        )
        last = q.iloc[-1]
        desc.append(
            f"{series_label}: median for the period ending {pd.Timestamp(last['period_end']).date()} "
            f"{_fmt(last['q500'] * scale)} {unit}, 95% interval {_fmt(last.get('q025', np.nan) * scale)} to "
            f"{_fmt(last.get('q975', np.nan) * scale)}."
        )
    obs = observations
    if obs is not None and not obs.empty:
        colours = source_colours(list(obs["source"]))
        latest = set(obs.sort_values("published").groupby(["source", "period_end"]).tail(1).index)
        for src, df in obs.groupby("source", sort=True):
            c = colours[src]
            name = publishers.get(src, src)
            for idx, r in df.iterrows():
                face = c if idx in latest else "white"
                x = day(r["period_end"])
                if (
                    bool(r.get("multi", False)) and r["censor"] == "point"
                ):  # a figure over several periods
                    x0 = day(r["period_start"])
                    p.line([x0, x], [r["value"] * scale] * 2, c, 1.5)
                    p.marker(x0, r["value"] * scale, c, "o", "white", size=2)
                when = f"{name}, period ending {pd.Timestamp(r['period_end']).date()}, published {pd.Timestamp(r['published']).date()}"
                cens = r["censor"]
                if cens == "point":
                    p.marker(
                        x,
                        r["value"] * scale,
                        c,
                        "o",
                        face,
                        tip=f"{when}: {_fmt(r['value'] * scale)} {unit}",
                    )
                elif cens in ("lower", "upper"):
                    y = (r["lower"] if cens == "lower" else r["upper"]) * scale
                    sign = ">" if cens == "lower" else "<"
                    p.marker(
                        x,
                        y,
                        c,
                        "^" if cens == "lower" else "v",
                        "white",
                        tip=f"{when}: {sign}{_fmt(y)} {unit}",
                    )
                    p.arrow(x, y, cens == "lower", c)
                else:
                    p.segment(
                        x,
                        r["lower"] * scale,
                        r["upper"] * scale,
                        c,
                        tip=f"{when}: {_fmt(r['lower'] * scale)} to {_fmt(r['upper'] * scale)} {unit}",
                    )
            p.legend.append(LegendItem("marker", c, name))
        if (obs["censor"].isin(["lower", "upper"])).any():
            p.legend.append(
                LegendItem(
                    "marker", GREY, "bound (arrow: where the figure lies)", shape="^", fill="white"
                )
            )
        if "multi" in obs and obs["multi"].any():
            p.legend.append(LegendItem("line", GREY, "figure spanning several periods"))
        if len(latest) < len(obs):
            p.legend.append(LegendItem("marker", GREY, "superseded vintage", fill="white"))
        desc.append(f"{len(obs)} published figure(s) from {obs['source'].nunique()} source(s).")
    if threshold is not None:
        p.hline(threshold * scale, "#000000", "7 4", 1.4)
        p.legend.append(LegendItem("dash", "#000000", threshold_label))
        desc.append(f"{threshold_label}.")
    p.vline(day(today), GREY, "today")
    lo_b, hi_b = bounds
    p._limits()
    ylo, yhi = p.ylim  # type: ignore[misc]
    if lo_b is not None:
        ylo = max(ylo, lo_b * scale)
    if hi_b is not None:
        yhi = min(yhi, hi_b * scale)
    if ylo < yhi:
        p.ylim = (ylo, yhi)
    if not desc:
        p.note("no trajectory and no figures yet")
        desc.append("No trajectory and no figures yet.")
    return p.svg(" ".join(desc))


def history_chart(
    history: pd.DataFrame,
    *,
    kind: str,
    today: dt.date,
    data_dates: Sequence[pd.Timestamp] = (),
    stated: float | None = None,
    claimed: float | None = None,
    scale: float = 1.0,
    ylabel: str = "",
    title: str = "The forecast over time",
) -> str:
    """The claim's forecast over time as a step line (a forecast holds until the next one).

    Probability claims: P(claim) in %; value claims: the median with its 90% interval. Ticks at
    the bottom mark the dates new figures for the indicator became public.
    """
    h = history.sort_values("issued_on")
    xs = [day(d) for d in h["issued_on"]]
    end = max([day(today), *xs])
    p = Plot(title=title, xlabel="date the forecast was issued", ylabel="", width=640, height=250)
    if kind == "value":
        med, lo, hi = (list(h[c] * scale) for c in ("q500", "q050", "q950"))
        p.ylabel = f"settling figure ({ylabel})" if ylabel else "settling figure"
        p.band([*xs, end], [*lo, lo[-1]], [*hi, hi[-1]], BLUE, 0.2, step=True)
        p.line([*xs, end], [*med, med[-1]], BLUE, 2, step=True)
        p.legend += [
            LegendItem("line", BLUE, "model median", shape="o", fill="y"),
            LegendItem("band", BLUE, "90% interval", 0.3),
        ]
        if claimed is not None:
            p.hline(claimed * scale, "#000000", "7 4")
            p.legend.append(LegendItem("dash", "#000000", "claimed value"))
        for x, y in zip(xs, med, strict=True):
            p.marker(x, y, BLUE, "o", size=3)
        desc = f"Median forecast moved from {_fmt(med[0])} to {_fmt(med[-1])} {ylabel} over {len(med)} forecast(s)."
    else:
        pr = list(h["probability"] * 100)
        p.ylabel = "probability (%)"
        p.ylim = (0, 100)
        p.line([*xs, end], [*pr, pr[-1]], BLUE, 2, step=True)
        for x, y in zip(xs, pr, strict=True):
            p.marker(x, y, BLUE, "o", size=3, tip=f"{EPOCH + dt.timedelta(days=x)}: {y:.0f}%")
        p.legend.append(LegendItem("line", BLUE, "forecast P(claim)", shape="o", fill="y"))
        if stated is not None:
            p.hline(stated * 100, VERMILLION, "7 4")
            p.legend.append(LegendItem("dash", VERMILLION, "claimant's own probability"))
        desc = f"Probability moved from {pr[0]:.0f}% to {pr[-1]:.0f}% over {len(pr)} forecast(s)."
    p.see([xs[0] - 20 if xs else end - 60, end + 10], [])
    first = xs[0] - 20 if xs else end - 60
    shown = [day(d) for d in data_dates if first <= day(d) <= end]
    for d in shown:
        p.vline(d, VERMILLION, dash="", frac=0.08, width=2)
    if shown:
        p.legend.append(LegendItem("tick", VERMILLION, "new data published"))
    p.vline(day(today), GREY, "today")
    return p.svg(desc)


def reliability_chart(
    table: pd.DataFrame, title: str = "Reliability of the model's probabilities"
) -> str:
    """Observed frequency against forecast probability per bin, with its 90% interval."""
    p = Plot(
        title=title,
        xlabel="forecast probability (%)",
        ylabel="observed frequency (%)",
        width=420,
        height=400,
        dates=False,
    )
    p.xlim, p.ylim = (-3, 103), (-3, 103)  # room for a marker at 0 or 100%
    p.line([0, 100], [0, 100], GREY, 1.2, dash="5 4")
    p.legend.append(LegendItem("dash", GREY, "perfect calibration"))
    t = table[table["n"] > 0] if "n" in table else table.iloc[0:0]
    if not t.empty:
        for _, r in t.iterrows():
            x, y = r["mean_forecast"] * 100, r["observed_freq"] * 100
            p.segment(x, r["lower"] * 100, r["upper"] * 100, BLUE)
            p.marker(
                x, y, BLUE, "o", tip=f"{int(r['n'])} forecast(s): mean {x:.0f}%, came true {y:.0f}%"
            )
        p.legend.append(LegendItem("marker", BLUE, "model (bar: 90% interval)"))
        desc = f"{int(t['n'].sum())} forecast(s) in {len(t)} bin(s)."
    else:
        p.note("no resolved claims yet")
        desc = "No resolved claims yet."
    return p.svg(desc)


def sparkline(
    values: Sequence[float],
    title: str,
    width: int = 84,
    height: int = 22,
    lo: float | None = 0.0,
    hi: float | None = 1.0,
) -> str:
    """A tiny line of a forecast's history (the last point marked)."""
    v = [float(x) for x in values if x is not None and not math.isnan(float(x))]
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
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
        f'<line x1="0" y1="{height - pad:.1f}" x2="{width}" y2="{height - pad:.1f}" stroke="{LIGHT}"/>'
        f'<polyline points="{pts}" fill="none" stroke="{BLUE}" stroke-width="1.5"/>'
        f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.2" fill="{BLUE}"/></svg>'
    )
