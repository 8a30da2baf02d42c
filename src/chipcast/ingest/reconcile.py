"""Which proposed figures are new: the reconciliation rule between a public record and the data.

A proposed figure is matched with the figures on record for the same indicator, source, period
end and span (a quarter, a fiscal year, ...). Against the latest vintage on record:

- equal to the recorded figure's precision (3.667 against 3.67 on record) -> nothing to add;
- different (or the recorded one is a bound) -> a revision: a new row, never an edit;
- nothing on record -> a new row.

A new row whose publication date collides with a row on record for the same period and source
(the key `chipcast validate` enforces) is dated the first free day after it and marked
`published_estimated`: a revision needs a later date, and a later date never lets a model see a
figure before it was public. Rows decided earlier in the same run count as on record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

import pandas as pd

from chipcast.data import period_start_for
from chipcast.schema import Indicator

_FREQ_MONTHS = {"annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}


@dataclass(frozen=True)
class ProposedRow:
    """One figure an adapter read from a public record, in the indicator's unit."""

    indicator: str
    period_end: dt.date
    value: Decimal | str
    source: str
    published: dt.date
    period_start: dt.date | None = None
    published_estimated: bool = False
    via: str = ""
    url: str = ""
    title: str = ""
    note: str = ""
    # The date a revision of this figure became public, when that is not `published` (a count
    # re-read from a completed listing became public when it was read, not at quarter end).
    revision_published: dt.date | None = None

    @property
    def value_text(self) -> str:
        return self.value if isinstance(self.value, str) else f"{self.value.normalize():f}"

    def csv_row(self) -> dict[str, str]:
        return {
            "period_end": self.period_end.isoformat(),
            "period_start": self.period_start.isoformat() if self.period_start else "",
            "value": self.value_text,
            "source": self.source,
            "published": self.published.isoformat(),
            "published_estimated": "true" if self.published_estimated else "",
            "via": self.via,
            "url": self.url,
            "title": self.title,
            "note": self.note,
        }


@dataclass(frozen=True)
class Decision:
    """What the rule made of one proposed row."""

    row: ProposedRow
    action: str  # "add" | "revision" | "same"
    recorded: str = ""  # the latest figure on record for its period, if any
    recorded_published: dt.date | None = None


def span_months(start: dt.date, end: dt.date) -> int:
    """Months a figure covers, rounded (a 13-week fiscal quarter is 3, a 53-week year 12)."""
    return round(((end - start).days + 1) / 30.44)


def _decimals(x: float | str) -> int:
    text = x if isinstance(x, str) else repr(float(x))
    if "e" in text or "E" in text:
        return max(0, -int(text.lower().split("e")[1]))
    if not isinstance(x, str) and float(x).is_integer():
        return 0
    return len(text.split(".")[1]) if "." in text else 0


def same_to_precision(recorded: float | str, proposed: Decimal) -> bool:
    """True when `proposed` rounds to `recorded` at the recorded figure's precision (given as
    the text on record, "2.80", when known: a float forgets trailing zeros)."""
    half_unit = Decimal(1).scaleb(-_decimals(recorded)) / 2
    value = Decimal(recorded.strip()) if isinstance(recorded, str) else Decimal(repr(recorded))
    return abs(value - proposed) <= half_unit


@dataclass
class _Known:
    value: float | None  # None: a bound or a range
    published: dt.date
    text: str


def reconcile(
    proposed: list[ProposedRow],
    observations: pd.DataFrame,
    indicators: dict[str, Indicator],
    value_texts: dict[tuple[str, int], str] | None = None,
) -> list[Decision]:
    """Decide every proposed row, in order of publication (earlier vintages first).

    `value_texts` maps (indicator, CSV line) to the value as written, for its precision."""
    known: dict[tuple, list[_Known]] = {}
    for r in observations.itertuples(index=False):
        start, end = pd.Timestamp(r.period_start).date(), pd.Timestamp(r.period_end).date()
        key = (r.indicator, r.source, end, span_months(start, end))
        point = r.censor == "point" and pd.notna(r.value)
        written = (value_texts or {}).get((r.indicator, int(r.line)), "").strip()
        text = (written or f"{r.value:g}") if point else _bound_text(r)
        known.setdefault(key, []).append(
            _Known(float(r.value) if point else None, pd.Timestamp(r.published).date(), text)
        )
    decisions = []
    for row in sorted(proposed, key=lambda p: (p.published, p.indicator, p.period_end)):
        ind = indicators[row.indicator]
        start = row.period_start or period_start_for(row.period_end, ind.frequency)
        key = (row.indicator, row.source, row.period_end, span_months(start, row.period_end))
        on_record = known.get(key, [])
        if not on_record:
            decisions.append(Decision(row, "add"))
        else:
            latest = max(on_record, key=lambda k: k.published)
            if isinstance(row.value, str) and latest.value is None and latest.text == row.value:
                decisions.append(Decision(row, "same", latest.text, latest.published))
                continue
            if (
                latest.value is not None
                and not isinstance(row.value, str)
                and same_to_precision(latest.text, row.value)
            ):
                decisions.append(Decision(row, "same", latest.text, latest.published))
                continue
            if row.revision_published is not None:
                row = replace(row, published=row.revision_published)
            taken = {k.published for k in on_record}
            if row.published in taken:
                day = row.published
                while day in taken:
                    day += dt.timedelta(days=1)
                row = replace(
                    row,
                    published=day,
                    published_estimated=True,
                    note=f"{row.note} Published set to {day} (public {row.published}): a row "
                    "for the same period and source with that date is on record.".strip(),
                )
            decisions.append(Decision(row, "revision", latest.text, latest.published))
        value = None if isinstance(row.value, str) else float(row.value)
        known.setdefault(key, []).append(_Known(value, row.published, row.value_text))
    return decisions


def _bound_text(r: object) -> str:
    lo, hi = getattr(r, "lower", None), getattr(r, "upper", None)
    if pd.notna(lo) and pd.notna(hi):
        return f"{lo:g}..{hi:g}"
    return f">{lo:g}" if pd.notna(lo) else f"<{hi:g}"
