"""The house style of every chart: colours, the fan's bands, fonts, sizes and labels, once.

Colours are Okabe-Ito (colour-blind safe): the model is blue, the sources take the other
colours in a stable order. A notebook and a page both take them from here, so they never
disagree.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from chipcast.schema import Indicator

BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#555555"
BLACK = "#000000"
HINDCAST_COLOUR = "#CC79A7"  # reddish purple: the hindcast path, never the issued blue
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
# No installed font is named: vl-convert then measures the text with its bundled sans-serif
# (Liberation Sans, Arial's metrics, the same on every machine), where naming DejaVu Sans made
# it shape every label with the system's font file: 56 ms a chart against 42 ms over the
# site's 134 charts. A reader's browser still picks the first font it has.
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
WIDTH = 380  # px of the plotting area; the SVG scales to its container
HEIGHT = 220
TITLE_SIZE = 13
LABEL_SIZE = 11
CHAR_WIDTH = 6.4  # px of an average character at LABEL_SIZE (DejaVu Sans, the widest fallback)
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
