"""Decide: a finished job's trajectory, and the history rows the run issues from it.

Model forecasts come from each published trajectory for the open claims it settles; judgment
forecasts (event claims) from the researchers' probabilities, a new row whenever one changed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chipcast.data import as_of
from chipcast.evaluate.probability import ClaimForecast, forecast_claim, indicator_seed
from chipcast.evaluate.voi import indicator_summary
from chipcast.models.base import Trajectory
from chipcast.pipeline.fingerprint import packages_text
from chipcast.pipeline.records import history_row
from chipcast.registry import Registry
from chipcast.store import read_history


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


def judgment_rows(reg: Registry, run_id: str, today: dt.date) -> list[dict[str, object]]:
    """Event claims: a new row whenever the researcher's probability changed.

    The first judgment of a claim counts from the day the claim was made.
    """
    hist = read_history(reg.paths)
    last = {}
    if not hist.empty:
        for cid, df in hist[hist["forecaster"] == "judgment"].groupby("claim_id"):
            last[cid] = float(df.iloc[-1]["probability"])
    rows = []
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        if c.kind != "event" or c.probability is None or c.status != "open":
            continue
        if last.get(c.id) is not None and abs(last[c.id] - c.probability) < 1e-12:
            continue
        f = ClaimForecast(c.id, "event", "judgment", "researcher", "", float(c.probability))
        issued = c.made_on if c.id not in last else today
        rows.append(history_row(f, run_id, issued.isoformat(), None))
    return rows
