"""The index's tiny history line: a plain polyline written directly (sixty sit in one table;
not worth a renderer call each)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from chipcast.report.charts.spec import num
from chipcast.report.charts.style import BLUE


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
    v = [float(x) for x in values if num(x) is not None]
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
