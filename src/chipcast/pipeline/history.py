"""The forecast history (append-only CSV files) and the tracked trajectory quantiles.

A run's new forecasts go into one new file `forecasts/history/<run id>.csv`, written atomically:
a crash leaves either no file or a complete one, and no existing file is ever rewritten.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from chipcast.data import Paths
from chipcast.evaluate.probability import QUANTILE_COLUMNS, ClaimForecast
from chipcast.fileio import atomic_write_text
from chipcast.models.base import Trajectory

HISTORY_COLUMNS: tuple[str, ...] = (
    "run_id",
    "issued_on",
    "claim_id",
    "kind",
    "forecaster",
    "model",
    "model_version",
    "indicator",
    "probability",
    *QUANTILE_COLUMNS,
    "mean",
    "claimant_pit",
    "data_fingerprint",
    "seed",
    "packages",
    "rhat_max",
    "ess_bulk_min",
    "divergences",
)


def new_run_id() -> str:
    """Sortable by start time; the suffix keeps two runs in one second apart."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


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


def read_history(paths: Paths) -> pd.DataFrame:
    """Every forecast ever issued, oldest first."""
    files = sorted(paths.history.glob("*.csv"))
    frames = [pd.read_csv(f, dtype={"run_id": str, "claim_id": str}) for f in files]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    df = pd.concat(frames, ignore_index=True)
    df["issued_on"] = pd.to_datetime(df["issued_on"])
    return df.sort_values(["issued_on", "run_id"]).reset_index(drop=True)


def write_history(paths: Paths, run_id: str, rows: list[dict[str, object]]) -> Path | None:
    """Add one complete file of new forecasts; never touches existing files."""
    if not rows:
        return None
    path = paths.history / f"{run_id}.csv"
    if path.exists():
        raise FileExistsError(f"{path} exists: history files are never rewritten")
    df = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    atomic_write_text(path, df.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    return path


def write_trajectory(directory: Path, traj: Trajectory, meta: dict[str, object]) -> None:
    """Quantiles (CSV) and metadata (JSON) of an indicator's latest published trajectory."""
    q = traj.quantile_frame()
    q["as_of"] = pd.to_datetime(q["as_of"]).dt.date
    q["period_end"] = pd.to_datetime(q["period_end"]).dt.date
    atomic_write_text(
        directory / f"{traj.indicator}.csv",
        q.to_csv(index=False, float_format="%.6g", lineterminator="\n"),
    )
    write_meta(directory, traj.indicator, meta)


def write_meta(directory: Path, indicator: str, meta: dict[str, object]) -> None:
    atomic_write_text(
        directory / f"{indicator}.json",
        json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n",
    )


def read_meta(directory: Path, indicator: str) -> dict[str, object] | None:
    path = directory / f"{indicator}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
