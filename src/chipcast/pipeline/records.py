"""The records a refresh writes, each built in one place: a job's line in the run log, a history
row, and the metadata beside a tracked trajectory."""

from __future__ import annotations

from typing import Any

from chipcast.evaluate.probability import ClaimForecast
from chipcast.models.base import Diagnostics, Trajectory
from chipcast.store import QUANTILE_COLUMNS

FAILED_STATUSES = ("failed", "gated")


def job_record(
    job_id: str,
    kind: str,
    status: str,
    reason: str,
    seconds: float = 0.0,
    error: str = "",
    notebook: str | None = None,
    diagnostics: Diagnostics | None = None,
    worker: str | None = None,
) -> dict[str, Any]:
    """One job in run.json: `status` is ran, skipped, failed or gated (docs/outputs.md)."""
    rec: dict[str, Any] = {
        "id": job_id,
        "kind": kind,
        "status": status,
        "seconds": round(seconds, 2),
        "error": error,
        "reason": reason,
    }
    if notebook is not None:
        rec["notebook"] = notebook
    if diagnostics is not None:
        rec["diagnostics"] = diagnostics.to_dict()
    if worker:
        rec["worker"] = worker  # whose compiled models the fit used
    return rec


def history_row(
    f: ClaimForecast,
    run_id: str,
    issued_on: str,
    indicator: str | None,
    fingerprint: str = "",
    seed: int | None = None,
    packages: str = "",
    trajectory: Trajectory | None = None,
) -> dict[str, object]:
    """One forecast with its provenance, in the history's columns (`chipcast.store`)."""
    d = trajectory.diagnostics if trajectory is not None else None
    row: dict[str, object] = {
        "run_id": run_id,
        "issued_on": issued_on,
        "claim_id": f.claim_id,
        "kind": f.kind,
        "forecaster": f.forecaster,
        "model": f.model,
        "model_version": f.model_version,
        "indicator": indicator or "",
        "probability": f.probability,
        "mean": f.mean,
        "claimant_pit": f.claimant_pit,
        "data_fingerprint": fingerprint,
        "seed": seed,
        "packages": packages,
        "rhat_max": d.rhat_max if d else None,
        "ess_bulk_min": d.ess_bulk_min if d else None,
        "divergences": d.divergences if d else None,
    }
    row.update({q: f.quantiles.get(q) for q in QUANTILE_COLUMNS})
    return row


def trajectory_meta(
    traj: Trajectory, fingerprint: str, run_id: str, profile: str
) -> dict[str, object]:
    """The metadata of a published trajectory: what fitted it, on which inputs, how it went."""
    return {
        "indicator": traj.indicator,
        "family": traj.family,
        "model_version": traj.model_version,
        "as_of": traj.as_of.isoformat(),
        "run_id": run_id,
        "fingerprint": fingerprint,
        "seed": traj.seed,
        "profile": profile,
        "status": "ok",
        "stale": False,
        "diagnostics": traj.diagnostics.to_dict(),
    }


def stale_meta(
    previous: dict[str, Any] | None, indicator: str, family: str, run_id: str, rec: dict[str, Any]
) -> dict[str, Any]:
    """The last good trajectory's metadata, flagged stale with the failure that kept it."""
    meta = {"indicator": indicator, "family": family, **(previous or {})}
    meta.update(stale=True, status=rec["status"], failed_run=run_id, error=rec["error"])
    if "diagnostics" in rec:
        meta["failed_diagnostics"] = rec["diagnostics"]
    return meta
