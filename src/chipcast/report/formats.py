"""How the site writes numbers, dates, probabilities and links: the templates' filters."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from chipcast.schema import Indicator, bounded_text

OPERATOR_TEXT = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


def isnan(x: object) -> bool:
    """None, NaN and NaT alike (a missing value in any of the forms pandas gives it)."""
    try:
        return x is None or (isinstance(x, float | np.floating) and math.isnan(x)) or pd.isna(x)
    except (TypeError, ValueError):
        return False


def fmt_num(x: float | None) -> str:
    """A readable number: three significant figures, thousands separated."""
    if isnan(x):
        return "–"
    x = float(x)  # type: ignore[arg-type]
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}".removesuffix(".0")
    if a == 0:
        return "0"
    s = f"{x:.3g}"
    return s


def with_unit(text: str, label: str) -> str:
    if not label:
        return text
    return f"{text}{label}" if label in ("%", "pp") else f"{text} {label}"


def ind_value(x: float | None, ind: Indicator | None) -> str:
    """A figure in the indicator's unit, as readers see it (display scale and unit)."""
    if isnan(x):
        return "–"
    if ind is None:
        return fmt_num(x)
    return with_unit(fmt_num(float(x) * ind.display_scale), ind.label)  # type: ignore[arg-type]


def fmt_prob(p: float | None) -> str:
    if isnan(p):
        return "–"
    p = float(p)  # type: ignore[arg-type]
    if 0 < p < 0.01:
        return "<1%"
    if 0.99 < p < 1:
        return ">99%"
    return f"{p * 100:.0f}%"


def fmt_diag(x: object) -> str:
    """A diagnostic as recorded (R-hat 1.003 must not round to 1); a whole number (a seed, a
    count) in full, never in exponent form (a seed of 3980650123, not 3.98065e+09)."""
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        return str(x)
    if isnan(x):
        return "–"
    if isinstance(x, int | np.integer) or abs(x) >= 1e6:
        return str(round(x))
    return f"{float(x):.6g}"


def fmt_score(x: float | None, digits: int = 3) -> str:
    return "–" if isnan(x) else f"{float(x):.{digits}f}"  # type: ignore[arg-type]


def fmt_date(d: object) -> str:
    if isnan(d) or d == "":
        return "–"
    if isinstance(d, pd.Timestamp | dt.datetime):
        return d.date().isoformat()
    return str(d)


def obs_text(row: pd.Series | dict[str, Any], ind: Indicator | None) -> str:
    """A published figure as published: '41%', '>30%', '<5', '4–6'."""
    scale = ind.display_scale if ind else 1.0
    text = bounded_text(
        row["censor"],
        row["value"],
        row["lower"],
        row["upper"],
        lambda x: fmt_num(None if isnan(x) else x * scale),
        range_sep="–",
    )
    return with_unit(text, ind.label if ind else "")


def safe_url(url: object) -> str | None:
    """Only http(s) links reach an href: a `javascript:` URL in a YAML file stays text."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    return u if re.match(r"^https?://[^\s<>\"']+$", u, flags=re.I) else None
