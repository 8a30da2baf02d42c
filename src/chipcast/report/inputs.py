"""Everything the site shows, read once from the project's files (never a fit).

The registry, the claims' resolutions, the history, the hindcasts (scored on their own), the
tracked trajectories, the run logs, the backtest table and targets, and the scores of the resolved claims from `chipcast.evaluate.scoreboard`
(reused from the previous site when none of their inputs changed). Each input is optional: a
fresh clone with no forecasts yet still gets a complete site.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from chipcast.evaluate.hindcast_scoring import hindcast_scores
from chipcast.evaluate.resolution import Resolution, resolve_claims
from chipcast.evaluate.scoreboard import SCORE_COLUMNS, claim_scores
from chipcast.evaluate.staleness import SeriesStatus, overdue_days, status_table
from chipcast.paths import Paths
from chipcast.registry import Registry
from chipcast.report.changes import Change, change_log
from chipcast.report.notebooks import executed_notebooks
from chipcast.report.views import ClaimView, claim_view, resolution_note
from chipcast.store import (
    read_backtest,
    read_backtest_detail,
    read_hindcasts,
    read_history,
    read_runs,
    read_summary,
    read_trajectory,
)

SCORES_FILE, SCORES_KEY_FILE = "scores.csv", "scores.key"  # under the site's data/


@dataclass
class SiteInputs:
    """One site's inputs, collected once and shared by every page."""

    reg: Registry
    today: dt.date
    run_id: str | None
    resolutions: dict[str, Resolution]
    history: pd.DataFrame
    trajectories: dict[str, tuple[pd.DataFrame | None, dict[str, Any] | None]]
    runs: list[dict[str, Any]]
    backtest: pd.DataFrame | None
    backtest_detail: pd.DataFrame | None
    scores: pd.DataFrame
    scores_note: str
    scores_key: str
    notebooks: dict[str, Path]
    hindcasts: pd.DataFrame = field(default_factory=pd.DataFrame)  # forecasts/hindcasts/
    hindcast_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    claims: list[ClaimView] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # newest refresh first
    status: list[SeriesStatus] = field(default_factory=list)  # staleness, latest first
    # each indicator's fit summary (source offsets, value of information), None when absent
    summaries: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def paths(self) -> Paths:
        return self.reg.paths

    @property
    def publishers(self) -> dict[str, str]:
        return {s.id: s.publisher for s in self.reg.sources.values()}

    @property
    def last_run(self) -> dict[str, Any] | None:
        """The run this site was built for, else the newest one."""
        return next(
            (r for r in self.runs if r["run_id"] == self.run_id),
            self.runs[0] if self.runs else None,
        )

    def data_dates(self, indicator: str | None) -> list[pd.Timestamp]:
        """The dates on which new figures for `indicator` were published."""
        if not indicator:
            return []
        obs = self.reg.indicator_observations(indicator)
        return sorted(pd.to_datetime(obs["published"]).dropna().unique())

    def meta(self, indicator: str | None) -> dict[str, Any] | None:
        return self.trajectories.get(indicator, (None, None))[1] if indicator else None


def inputs_key(paths: Paths, today: dt.date) -> str:
    """A hash of everything scores depend on: the registry, the history, today, and the code."""
    h = hashlib.sha256(today.isoformat().encode())
    code = Path(__file__).resolve().parents[1]
    groups = (
        (paths.history, "*.csv"),
        (paths.observations, "*.csv"),
        (paths.claims, "*.yaml"),
        (paths.indicators, "*.yaml"),
        (paths.root / "data", "sources.yaml"),
        (code, "**/*.py"),
    )
    for directory, pattern in groups:
        for f in sorted(directory.glob(pattern)) if directory.is_dir() else []:
            h.update(str(f.relative_to(directory)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def empty_scores() -> pd.DataFrame:
    text = ("claim_id", "forecaster")
    return pd.DataFrame({c: pd.Series(dtype=object if c in text else float) for c in SCORE_COLUMNS})


def _previous_scores(previous: Path | None, key: str) -> pd.DataFrame | None:
    """The scores the previous site computed from the same inputs, if any."""
    prev = previous / "data" if previous is not None else None
    if prev is None or not (prev / SCORES_KEY_FILE).exists() or not (prev / SCORES_FILE).exists():
        return None
    try:
        if (prev / SCORES_KEY_FILE).read_text().strip() != key:
            return None
        return pd.read_csv(prev / SCORES_FILE, dtype={"claim_id": str, "forecaster": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None


def scores_for(
    reg: Registry,
    history: pd.DataFrame,
    today: dt.date,
    previous: Path | None,
    resolutions: dict[str, Resolution] | None = None,
) -> tuple[pd.DataFrame, str, str]:
    """(scores, note, key): `claim_scores`, reused from the previous site when its key matches.

    Scoring re-runs the baselines over every vintage (tens of seconds on the full registry). A
    scoring error leaves an empty table and a note, so the site is still built; the key is then
    empty, so the next build tries again.
    """
    key = inputs_key(reg.paths, today)
    cached = _previous_scores(previous, key)
    if cached is not None:
        return cached, "", key
    try:
        return claim_scores(reg, history, today, resolutions=resolutions), "", key
    except Exception as exc:  # noqa: BLE001 - a scoring bug must not take the site down
        return empty_scores(), f"scores could not be computed: {type(exc).__name__}: {exc}", ""


def add_scores(inputs: SiteInputs, previous: Path | None) -> None:
    """Score the resolved claims into `inputs` (reused from `previous` when still current)."""
    inputs.scores, inputs.scores_note, inputs.scores_key = scores_for(
        inputs.reg, inputs.history, inputs.today, previous, inputs.resolutions
    )


def collect(
    reg: Registry,
    today: dt.date,
    run_id: str | None,
    previous: Path | None,
    scores: bool = True,
) -> SiteInputs:
    """Read every input of the site once; with `scores` False, the claims' scores are left
    empty for `add_scores`, so a caller can do other work first."""
    history = read_history(reg.paths)
    resolutions = resolve_claims(reg.claims, reg.observations, today)
    inputs = SiteInputs(
        reg=reg,
        today=today,
        run_id=run_id,
        resolutions=resolutions,
        history=history,
        trajectories={i: read_trajectory(reg.paths, i) for i in reg.indicators},
        runs=read_runs(reg.paths),
        backtest=read_backtest(reg.paths),
        backtest_detail=read_backtest_detail(reg.paths),
        scores=empty_scores(),
        scores_note="",
        scores_key="",
        notebooks=executed_notebooks(reg.paths, reg.indicators),
        summaries={i: read_summary(reg.paths.summary_file(i)) for i in reg.indicators},
    )
    inputs.status = status_table(reg, today, resolutions)
    late = overdue_days(inputs.status)
    inputs.hindcasts = read_hindcasts(reg.paths)
    inputs.hindcast_scores = hindcast_scores(reg, inputs.hindcasts, today, history, resolutions)
    hc = inputs.hindcasts
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        ind = reg.indicators.get(c.indicator) if c.indicator else None
        h = history[history["claim_id"] == c.id] if not history.empty else history
        v = claim_view(c, ind, inputs.resolutions[c.id], h, inputs.meta(c.indicator))
        v.row["note"] = resolution_note(inputs.resolutions[c.id], ind, inputs.publishers)
        v.series_overdue = late.get(c.indicator) if c.indicator else None
        v.hindcasts = hc[hc["claim_id"] == c.id].reset_index(drop=True) if len(hc) else hc
        inputs.claims.append(v)
    inputs.changes = change_log(reg, history, inputs.resolutions)
    if scores:
        add_scores(inputs, previous)
    return inputs
