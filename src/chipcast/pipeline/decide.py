"""Decide: a finished job's trajectory, and the history rows the run issues from it.

Model forecasts come from each published trajectory for the open claims it settles; judgment
forecasts from the researchers' probabilities (event claims) and judgments (threshold and value
claims), a new row whenever one changed: an old row is never rewritten.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chipcast.data import as_of
from chipcast.evaluate.probability import (
    forecast_claim,
    indicator_seed,
    judgment_forecast,
)
from chipcast.evaluate.voi import indicator_summary
from chipcast.models.base import Trajectory
from chipcast.pipeline.fingerprint import packages_text
from chipcast.pipeline.records import history_row
from chipcast.registry import Registry
from chipcast.store import QUANTILE_COLUMNS, read_history


def collect(out_dir: Path) -> tuple[Trajectory | None, str]:
    """The trajectory a notebook wrote into `out_dir`, or None and why there is none."""
    if not (out_dir / "draws.nc").exists():
        if (out_dir / "diagnostics.json").exists():
            return None, "notebook wrote no trajectory (indicator not modelled)"
        return None, "notebook wrote no trajectory"
    try:
        return Trajectory.load(out_dir), ""
    except Exception as exc:  # noqa: BLE001 - any unreadable output fails only this job
        return None, f"unreadable trajectory: {exc}"


def forecast_rows(
    reg: Registry,
    traj: Trajectory,
    run_id: str,
    date: dt.date,
    data_fingerprint: str,
    seed: int,
) -> list[dict[str, object]]:
    """History rows for the open claims `traj` settles that were made by `date`."""
    rows = []
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        if c.indicator != traj.indicator or c.kind == "event" or c.status != "open":
            continue
        if c.target_period is not None and c.made_on > date:
            continue
        try:
            f = forecast_claim(c, traj)
        except ValueError:  # the trajectory does not reach the claim's target
            continue
        if f is None:
            continue
        rows.append(
            history_row(
                f,
                run_id,
                date.isoformat(),
                traj.indicator,
                data_fingerprint,
                indicator_seed(seed, traj.indicator),
                packages_text(),
                traj,
            )
        )
    return rows


def fit_summary(reg: Registry, traj: Trajectory, date: dt.date) -> dict[str, object]:
    """The summary written beside `traj` (`evaluate.voi.indicator_summary`): its source offsets
    and the value of information of the open claims it settles that were made by `date`."""
    obs = as_of(reg.indicator_observations(traj.indicator), date)
    claims = [
        c
        for c in reg.indicator_claims(traj.indicator)
        if c.status == "open" and (c.target_period is None or c.made_on <= date)
    ]
    return indicator_summary(traj, claims, obs)


def _judgment_key(row: dict[str, object] | object) -> tuple[float | None, ...]:
    """What a judgment says (probability and quantiles), to tell an edit from a repeat."""
    get = row.get if hasattr(row, "get") else row.__getitem__  # type: ignore[union-attr]
    out: list[float | None] = []
    for col in ("probability", *QUANTILE_COLUMNS):
        v = get(col)
        out.append(
            None if v is None or v != v else float(f"{float(v):.6g}")
        )  # as stored; NaN: None
    return tuple(out)


def judgment_rows(reg: Registry, run_id: str, today: dt.date) -> list[dict[str, object]]:
    """The researchers' judgments: a new row for each open claim whose judgment is new or was
    edited since its last judgment row (old rows are never rewritten).

    An event's first judgment counts from the day the claim was made (as before); a threshold
    or value claim's from its `judged_on` date, which must have come (a judgment dated after
    `today` is not issued yet). A revision counts from `judged_on`, or from today when that is
    not later than the previous row.
    """
    hist = read_history(reg.paths)
    last: dict[str, tuple[tuple[float | None, ...], dt.date]] = {}
    if not hist.empty:
        for cid, df in hist[hist["forecaster"] == "judgment"].groupby("claim_id"):
            row = df.iloc[-1]
            last[str(cid)] = (_judgment_key(row), row["issued_on"].date())
    rows = []
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        f = judgment_forecast(c)
        # the claims a model row is issued for (`forecast_rows`): open in their file, made by
        # `today`; a row issued after the claim settled is never scored
        if f is None or c.status != "open" or c.made_on > today:
            continue
        row = history_row(f, run_id, "", c.indicator)
        previous = last.get(c.id)
        if previous is not None and previous[0] == _judgment_key(row):
            continue
        if c.kind == "event":
            issued = c.made_on if previous is None else today
        else:
            assert c.judgment is not None
            if c.judgment.judged_on > today:
                continue
            issued = c.judgment.judged_on
            if previous is not None and issued <= previous[1]:
                issued = today
        row["issued_on"] = issued.isoformat()
        rows.append(row)
    return rows
