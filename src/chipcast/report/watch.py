"""What would move a claim next, and who runs hot, in readers' words (site and notebooks).

Reads the fit summaries (forecasts/trajectories/<indicator>.summary.json, written at fit time
by `chipcast.evaluate.voi`) and says what they hold: on a claim page, "If IDC's 2026 figure
comes in below 31%, P(claim) falls to 42%; above 38%, it rises to 93%"; on the "What to watch"
page, the open claims ranked by the expected change in P(claim) once their next figure is in;
on the indicator page and the scoreboard, each source's offset from the latent series with its
90% interval. Nothing here computes a statistic: it formats what the summaries say.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from chipcast.evaluate.staleness import SeriesStatus
from chipcast.evaluate.voi import expected_figure
from chipcast.report.formats import fmt_num, fmt_prob, ind_value, isnan, with_unit
from chipcast.schema import Indicator

QUARTER_ENDS = {3: 1, 6: 2, 9: 3, 12: 4}


def period_text(start: str | dt.date, end: str | dt.date) -> str:
    """A figure's period as readers name it: '2026', '2026Q2', 'H1 2026', else 'a - b'."""
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    months = round(((e + pd.Timedelta(days=1)) - s).days / 30.44)
    if e.is_month_end:
        if months == 12 and e.month == 12:
            return str(e.year)
        if months == 3 and e.month in QUARTER_ENDS:
            return f"{e.year}Q{QUARTER_ENDS[e.month]}"
        if months == 6 and e.month in (6, 12):
            return f"H{1 if e.month == 6 else 2} {e.year}"
    return f"{s.date().isoformat()} – {e.date().isoformat()}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _move(p: float, base: float) -> str:
    if abs(p - base) < 0.005:
        return "stays at"
    return "rises to" if p > base else "falls to"


def figure_name(entry: dict[str, Any], publishers: dict[str, str]) -> str:
    """ "IDC's 2026 figure"."""
    nxt = entry["next"]
    who = publishers.get(nxt["source"], nxt["source"])
    return f"{_possessive(who)} {period_text(nxt['period_start'], nxt['period_end'])} figure"


def voi_sentences(
    entry: dict[str, Any], ind: Indicator | None, publishers: dict[str, str]
) -> list[str]:
    """The value-of-information table of one claim, in plain words."""
    fig = figure_name(entry, publishers)
    p = float(entry["probability"])
    t1, t2 = (ind_value(t, ind) for t in entry["tercile_edges"])
    parts = []
    for key, where in (
        ("p_lower", f"below {t1}"),
        ("p_middle", f"between {t1} and {t2}"),
        ("p_upper", f"above {t2}"),
    ):
        q = entry.get(key)
        if q is None or isnan(q):  # a third with no draws (a figure drawn at few values)
            continue
        parts.append(f"{where}, it {_move(float(q), p)} {fmt_prob(q)}")
    if not parts:
        return []
    first = f"If {fig} comes in " + "; ".join(parts) + f" (now {fmt_prob(p)})."
    first = first.replace(", it ", ", P(claim) ", 1)
    out = [first]
    if entry["next"].get("settles"):
        out.append(f"{fig} is the one that settles the claim.")
    elif entry.get("crossing") is not None:
        side = "above" if entry.get("increasing", True) else "below"
        out.append(
            f"P(claim) passes 50% if the figure comes in {side} "
            f"{ind_value(entry['crossing'], ind)}."
        )
    elif entry.get("crossing_note"):
        out.append(f"{entry['crossing_note']}.")
    lo, hi = entry["interval"]
    out.append(
        f"The model expects the figure between {ind_value(lo, ind)} and {ind_value(hi, ind)} "
        f"(90%); once it is in, P(claim) moves by {points(entry['expected_change'])} "
        "on average."
    )
    return out


def points(change: float) -> str:
    """A change in probability in percentage points: '12 points', '<1 point'."""
    pp = 100 * float(change)
    if pp < 1:
        return "under 1 point"
    return "1 point" if round(pp) == 1 else f"{pp:.0f} points"


# --- who runs hot -------------------------------------------------------------------------


def _effect_text(x: float, effect: str, ind: Indicator | None) -> str:
    """An offset or noise in the indicator's terms (magnitude only, two significant digits: a
    posterior of a handful of figures says no more)."""
    if effect == "ratio":
        return f"{_two(abs(x) * 100)}%"
    scale = ind.display_scale if ind else 1.0
    label = ind.label if ind else ""
    if label == "%":
        v = _two(abs(x) * scale)
        return f"{v} point" if v == "1" else f"{v} points"
    return with_unit(_two(abs(x) * scale), label)


def _two(v: float) -> str:
    if v >= 10:
        return fmt_num(v)
    return f"{v:.2g}"


def _signed(x: float, effect: str, ind: Indicator | None) -> str:
    if isnan(x):
        return "–"
    sign = "−" if x < 0 else "+" if x > 0 else ""
    return sign + _effect_text(x, effect, ind).removesuffix(" points").removesuffix(" point")


def offset_sentence(
    row: dict[str, Any], effect: str, ind: Indicator | None, publishers: dict[str, str]
) -> str:
    """ "Bernstein reports 4 points (1 to 7) above the latent share"."""
    who = publishers.get(row["source"], row["source"])
    latent = (
        "latent share"
        if effect == "difference" and ind and ind.family == "share"
        else ("latent series")
    )
    off, noise = row["offset"], row["noise"]
    noise_txt = (
        f"noise ±{_effect_text(noise['median'], effect, ind)} a figure "
        f"({_signed(noise['lo'], effect, ind).lstrip('+')} to "
        f"{_signed(noise['hi'], effect, ind).lstrip('+')})"
    )
    if row.get("reference"):
        return (
            f"{who} is the only source: the {latent} is read on its scale (no offset); {noise_txt}."
        )
    m = off["median"]
    side = "above" if m > 0 else "below"
    interval = f"{_signed(off['lo'], effect, ind)} to {_signed(off['hi'], effect, ind)}"
    return f"{who} reports {_effect_text(m, effect, ind)} ({interval}) {side} the {latent}; {noise_txt}."


def offsets_rows(
    summary: dict[str, Any] | None, ind: Indicator | None, publishers: dict[str, str]
) -> list[dict[str, Any]]:
    """One row a fitted source: its sentence and the numbers of the scoreboard's table."""
    if not summary or not summary.get("sources"):
        return []
    effect = summary.get("effect") or "difference"
    rows = []
    for r in summary["sources"]:
        off, noise = r["offset"], r["noise"]
        rows.append(
            {
                "source": publishers.get(r["source"], r["source"]),
                "figures": r.get("figures"),
                "reference": bool(r.get("reference")),
                "offset": _signed(off["median"], effect, ind),
                "offset_interval": f"{_signed(off['lo'], effect, ind)} to "
                f"{_signed(off['hi'], effect, ind)}",
                "noise": _signed(noise["median"], effect, ind).lstrip("+"),
                "noise_interval": f"{_signed(noise['lo'], effect, ind).lstrip('+')} to "
                f"{_signed(noise['hi'], effect, ind).lstrip('+')}",
                "units": "percent of the latent"
                if effect == "ratio"
                else ("points" if ind and ind.label == "%" else (ind.label if ind else "")),
                "sentence": offset_sentence(r, effect, ind, publishers),
            }
        )
    return rows


# --- the watch list -----------------------------------------------------------------------


def claim_entry(summary: dict[str, Any] | None, claim_id: str) -> dict[str, Any] | None:
    """A claim's value-of-information entry in its indicator's summary, if any."""
    if not summary:
        return None
    return next((c for c in summary.get("claims") or [] if c.get("claim_id") == claim_id), None)


def when_sentence(row: dict[str, Any]) -> str:
    """ "IDC's 2025 figure is expected about 2026-03-15 (10 days late)." ('' when undated)."""
    if not row.get("expected"):
        return ""
    late = f" ({row['late']} days late)" if row.get("late") else ""
    return f"{row['figure']} is expected about {row['expected']}{late}."


def watch_rows(
    claims: list[Any],
    summaries: dict[str, dict[str, Any] | None],
    publishers: dict[str, str],
    status: dict[str, SeriesStatus] | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The open claims with a value-of-information entry, by expected change (largest first).

    `claims`: the site's `ClaimView`s; `status`: each indicator's staleness, whose publication
    lag dates the next figure (absent: the period alone is shown)."""
    rows = []
    for v in claims:
        c = v.claim
        if v.resolution.status not in ("open", "overdue") or not c.indicator:
            continue
        entry = claim_entry(summaries.get(c.indicator), c.id)
        if entry is None:
            continue
        st = (status or {}).get(c.indicator)
        end = dt.date.fromisoformat(entry["next"]["period_end"])
        when, late = expected_figure(end, st.lag_days if st else None, today or end)
        rows.append(
            {
                "v": v,
                "entry": entry,
                "change": float(entry["expected_change"]),
                "change_text": points(entry["expected_change"]),
                "figure": figure_name(entry, publishers),
                "source": publishers.get(entry["next"]["source"], entry["next"]["source"]),
                "period": period_text(entry["next"]["period_start"], entry["next"]["period_end"]),
                "settles": bool(entry["next"].get("settles")),
                "expected": when.isoformat() if when else "",
                "late": late,
                "lag_basis": st.lag_basis if st else "",
                "sentences": voi_sentences(entry, v.indicator, publishers),
                "as_of": (summaries.get(c.indicator) or {}).get("as_of", ""),
            }
        )
    return sorted(rows, key=lambda r: (-r["change"], r["v"].claim.id))
