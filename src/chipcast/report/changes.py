"""What changed between consecutive refreshes, derived from forecasts/history/ alone.

A refresh is one history file (one run id; run ids sort in time order). After each refresh a
claim's current forecast is the newest one issued up to and including that run by the
forecaster its page shows (the model's, else the researcher's judgment). Between two
consecutive refreshes the change log lists:

- every claim whose forecast moved enough to matter (`moved`): a probability by at least 5
  points, or a value claim's median by at least 10% of the width of its previous 80% interval;
  with the figures that entered its indicator's as-of view in between (published after the
  previous forecast's as-of date, up to the new one's): the evidence that moved it;
- every claim forecast for the first time (`new`);
- every resolution (`resolved`), placed at the first refresh on or after the day it resolved.

Nothing here is stored: the log rebuilds from a clone. Each entry has an id derived from the
claim, the run and the kind of change, so it is the same on every rebuild (the Atom feed's ids).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from chipcast.evaluate.resolution import Resolution
from chipcast.registry import Registry
from chipcast.report.formats import fmt_prob, ind_value, obs_text
from chipcast.report.views import resolution_note

MOVE_POINTS = 0.05  # a probability moving this much (5 percentage points) is a change
MOVE_WIDTH = 0.10  # a median moving this share of its previous 80% interval's width is one


@dataclass
class Change:
    """One entry of the change log."""

    kind: str  # moved | new | resolved
    claim_id: str
    run_id: str
    previous_run: str | None
    when: dt.datetime  # the refresh's start (from its run id), UTC
    text: str  # one sentence for readers
    figures: list[dict[str, Any]] = field(default_factory=list)  # value, source, published

    @property
    def id(self) -> str:
        """Stable across rebuilds: the claim, the run and the kind."""
        return f"tag:chipcast,2026:{self.claim_id}/{self.run_id}/{self.kind}"


def run_time(run_id: str) -> dt.datetime:
    """A run id's start time (`YYYYMMDDTHHMMSSZ-xxxxxx`), UTC; midnight when it has none."""
    try:
        return dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _moved(kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    if kind == "value":
        a, b = before.get("q500"), after.get("q500")
        lo, hi = before.get("q100"), before.get("q900")
        if any(pd.isna(x) for x in (a, b, lo, hi)):
            return False
        width = float(hi) - float(lo)
        return width > 0 and abs(float(b) - float(a)) >= MOVE_WIDTH * width
    a, b = before.get("probability"), after.get("probability")
    if pd.isna(a) or pd.isna(b):
        return False
    return abs(float(b) - float(a)) >= MOVE_POINTS - 1e-12


def _model(row: dict[str, Any]) -> str:
    v = row.get("model_version")
    return f"{row.get('model')} {v}" if isinstance(v, str) and v else str(row.get("model"))


def _forecast_text(kind: str, row: dict[str, Any], ind: Any) -> str:
    if kind == "value":
        return f"median {ind_value(row.get('q500'), ind)}"
    return fmt_prob(row.get("probability"))


def change_log(
    reg: Registry, history: pd.DataFrame, resolutions: dict[str, Resolution]
) -> list[Change]:
    """Every change between consecutive refreshes, newest refresh first."""
    if history.empty:
        return []
    runs = sorted(history["run_id"].astype(str).unique())
    current: dict[str, dict[str, Any]] = {}
    latest_by: dict[tuple[str, str], dict[str, Any]] = {}
    out: list[Change] = []
    previous: str | None = None
    resolved_at: dict[str, str] = {}
    publishers = {s.id: s.publisher for s in reg.sources.values()}
    for run in runs:
        rows = history[history["run_id"].astype(str) == run].sort_values("issued_on")
        # each forecaster's newest forecast of the run, per claim
        rows = rows.groupby(["claim_id", "forecaster"], sort=False).tail(1)
        for cid_, claim_rows in rows.groupby("claim_id", sort=False):
            for f in claim_rows.to_dict("records"):
                latest_by[(str(cid_), str(f["forecaster"]))] = f
        for cid in dict.fromkeys(str(x) for x in rows["claim_id"]):
            c = reg.claims.get(cid)
            if c is None:
                continue
            r = _shown(latest_by, cid)
            ind = reg.indicators.get(c.indicator) if c.indicator else None
            before = current.get(cid)
            if before is not None and before is r:
                continue  # the run gave only forecasts that are not the one shown
            when = run_time(run)
            if before is None:
                out.append(
                    Change(
                        "new",
                        cid,
                        run,
                        previous,
                        when,
                        f"New claim: {c.statement} First forecast {_forecast_text(c.kind, r, ind)}.",
                    )
                )
            elif _moved(c.kind, before, r):
                figures = _new_figures(reg, c.indicator, before["issued_on"], r["issued_on"])
                why = (
                    ""
                    if figures
                    else " No new figure came in between: the model changed"
                    f" ({_model(before)} → {_model(r)})."
                    if _model(before) != _model(r)
                    else " No new figure came in between."
                )
                out.append(
                    Change(
                        "moved",
                        cid,
                        run,
                        previous,
                        when,
                        f"{c.statement} {_forecast_text(c.kind, before, ind)} → "
                        f"{_forecast_text(c.kind, r, ind)}.{why}",
                        figures,
                    )
                )
            current[cid] = r
        for cid, res in resolutions.items():
            if res.status != "resolved" or res.resolved_on is None or cid in resolved_at:
                continue
            if res.resolved_on <= run_time(run).date() or run == runs[-1]:
                resolved_at[cid] = run
                c = reg.claims[cid]
                ind = reg.indicators.get(c.indicator) if c.indicator else None
                note = resolution_note(res, ind, publishers)
                out.append(
                    Change(
                        "resolved",
                        cid,
                        run,
                        previous,
                        run_time(run),
                        f"Resolved on {res.resolved_on}: {c.statement} {note}".strip(),
                    )
                )
        previous = run
    return sorted(out, key=lambda ch: (ch.run_id, ch.kind, ch.claim_id), reverse=True)


def _shown(latest_by: dict[tuple[str, str], dict[str, Any]], cid: str) -> dict[str, Any]:
    """The forecast a claim shows (as on its page): the model's when there is one, else the
    researcher's judgment, else whatever was issued; so a judgment issued beside a model
    forecast is not a move."""
    for name in ("model", "judgment"):
        if (cid, name) in latest_by:
            return latest_by[(cid, name)]
    return next(v for (c, _f), v in reversed(latest_by.items()) if c == cid)


def _new_figures(
    reg: Registry, indicator: str | None, since: object, until: object
) -> list[dict[str, Any]]:
    """Figures of `indicator` published after `since`, up to `until` (the as-of dates)."""
    if not indicator or indicator not in reg.indicators:
        return []
    obs = reg.indicator_observations(indicator)
    pub = pd.to_datetime(obs["published"])
    new = obs[(pub > pd.Timestamp(since)) & (pub <= pd.Timestamp(until))]
    ind = reg.indicators[indicator]
    publishers = {s.id: s.publisher for s in reg.sources.values()}
    return [
        {
            "value": obs_text(r, ind),
            "source": publishers.get(str(r["source"]), str(r["source"])),
            "period_end": pd.Timestamp(r["period_end"]).date().isoformat(),
            "published": pd.Timestamp(r["published"]).date().isoformat(),
        }
        for _, r in new.sort_values("published").iterrows()
    ]


def latest(
    changes: list[Change], history: pd.DataFrame
) -> tuple[str | None, str | None, list[Change]]:
    """The newest refresh, the one before it, and what changed between them."""
    runs = sorted(history["run_id"].astype(str).unique()) if not history.empty else []
    if not runs:
        return None, None, []
    run, before = runs[-1], (runs[-2] if len(runs) > 1 else None)
    return run, before, [c for c in changes if c.run_id == run]
