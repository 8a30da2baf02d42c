"""A history row: one forecast with its provenance, in the history's columns (`chipcast.store`)."""

from __future__ import annotations

from chipcast.evaluate.probability import ClaimForecast
from chipcast.models.base import Trajectory
from chipcast.store import QUANTILE_COLUMNS


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
