"""The files a refresh writes and the report reads: history, trajectories, run logs, backtest.

These formats are data, like observations (see docs/outputs.md): this module is their one reader
and writer, below both the pipeline that writes them and the report that shows them. Every
write is atomic; a history file, once written, is never rewritten.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chipcast.fileio import atomic_write_text
from chipcast.paths import Paths
from chipcast.schema import QUANTILES, quantile_column

QUANTILE_COLUMNS: tuple[str, ...] = tuple(quantile_column(q) for q in QUANTILES)

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
_NUMERIC_HISTORY = ("probability", *QUANTILE_COLUMNS, "mean")
_CSV = {"index": False, "float_format": "%.6g", "lineterminator": "\n"}


def new_run_id() -> str:
    """Sortable by start time; the suffix keeps two runs in one second apart."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


# --- history ------------------------------------------------------------------------------


def history_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Forecast rows in the history's column order."""
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


def _read_forecast_files(
    files: list[Path], dtype: dict[str, type], columns: tuple[str, ...] | list[str]
) -> pd.DataFrame:
    """The rows of forecast CSV files (history or hindcasts) with every one of `columns`; an
    unreadable or empty file is left out, so one damaged file cannot take the report down."""
    frames = []
    for f in files:
        try:
            df = pd.read_csv(
                f,
                dtype={"run_id": str, "claim_id": str, "indicator": str, "model": str, **dtype},
            )
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if not df.empty:
            frames.append(df)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    df = pd.concat(frames, ignore_index=True)
    for c in columns:
        if c not in df:
            df[c] = np.nan
    return df


def read_history(paths: Paths) -> pd.DataFrame:
    """Every forecast in forecasts/history/*.csv, oldest first (an empty frame when none).

    An unreadable file or a row without an issue date or claim is left out, so one damaged file
    cannot take the report down.
    """
    df = _read_forecast_files(sorted(paths.history.glob("*.csv")), {}, HISTORY_COLUMNS)
    if df.empty:
        return df
    df["issued_on"] = pd.to_datetime(df["issued_on"], errors="coerce")
    for c in _NUMERIC_HISTORY:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df = df.dropna(subset=["issued_on", "claim_id"])
    return df.sort_values(["issued_on", "run_id"], kind="stable").reset_index(drop=True)


def write_history(paths: Paths, run_id: str, rows: list[dict[str, object]]) -> Path | None:
    """Add one complete file of new forecasts; never touches existing files."""
    if not rows:
        return None
    path = paths.history / f"{run_id}.csv"
    if path.exists():
        raise FileExistsError(f"{path} exists: history files are never rewritten")
    atomic_write_text(path, history_frame(rows).to_csv(**_CSV))
    return path


def write_forecasts(path: Path, rows: list[dict[str, object]]) -> None:
    """Forecast rows in the history's format, outside the history (an `--as-of` replay)."""
    atomic_write_text(path, history_frame(rows).to_csv(**_CSV))


# --- hindcasts ----------------------------------------------------------------------------

HINDCAST_LABEL = "hindcast: today's model on the data public then"
"""What every view of a hindcast says it is (never shown as an issued forecast)."""

HINDCAST_COLUMNS: tuple[str, ...] = (*HISTORY_COLUMNS, "computed_on", "fingerprint", "note")
"""The history's columns (`issued_on` = the as-of date the fit saw), plus when the row was
computed, the fingerprint of what computed it (code, data, seed, settings, packages: a row whose
fingerprint still matches is not recomputed) and a note (why a row has no probability)."""


def hindcast_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Hindcast rows in their column order, oldest first, forecasters in a stable order."""
    df = pd.DataFrame(rows, columns=list(HINDCAST_COLUMNS))
    if df.empty:
        return df
    df["issued_on"] = pd.to_datetime(df["issued_on"]).dt.date.astype(str)
    return df.sort_values(["issued_on", "forecaster"], kind="stable").reset_index(drop=True)


def hindcast_csv(rows: list[dict[str, object]]) -> str:
    """The text of a claim's hindcast file (what `write_hindcasts` writes)."""
    return hindcast_frame(rows).to_csv(**_CSV)


def read_hindcasts(paths: Paths, claim_id: str | None = None) -> pd.DataFrame:
    """Hindcast rows of one claim, or of every claim (an empty frame when there are none).

    Like the history: an unreadable file is left out, `issued_on` and `computed_on` are
    timestamps, the numbers numeric.
    """
    files = (
        [paths.hindcast_file(claim_id)]
        if claim_id is not None
        else sorted(paths.hindcasts.glob("*.csv"))
    )
    df = _read_forecast_files(
        [f for f in files if f.exists()], {"fingerprint": str, "note": str}, HINDCAST_COLUMNS
    )
    if df.empty:
        return df
    for c in ("issued_on", "computed_on"):
        df[c] = pd.to_datetime(df[c], errors="coerce")
    for c in (*_NUMERIC_HISTORY, "claimant_pit"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df["note"] = df["note"].fillna("")
    df = df.dropna(subset=["issued_on", "claim_id"])
    return df.sort_values(["claim_id", "issued_on", "forecaster"], kind="stable").reset_index(
        drop=True
    )


def write_hindcasts(paths: Paths, claim_id: str, rows: list[dict[str, object]]) -> Path | None:
    """Replace one claim's hindcast file atomically; nothing is written when the text is the
    same (a run with nothing new writes nothing). Returns the path when it was written."""
    path = paths.hindcast_file(claim_id)
    text = hindcast_csv(rows)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return None
    atomic_write_text(path, text)
    return path


# --- trajectories -------------------------------------------------------------------------


def write_quantiles(path: Path, quantiles: pd.DataFrame) -> None:
    """A trajectory's quantile frame (`Trajectory.quantile_frame`), dates written as dates."""
    q = quantiles.copy()
    for c in ("as_of", "period_end"):
        q[c] = pd.to_datetime(q[c]).dt.date
    atomic_write_text(path, q.to_csv(**_CSV))


def read_quantiles(path: Path) -> pd.DataFrame | None:
    """A trajectory's quantiles (None when the file is missing or unreadable)."""
    if not path.exists():
        return None
    try:
        q = pd.read_csv(path, dtype={"series": str})
        for c in ("period_end", "as_of"):
            if c in q:
                q[c] = pd.to_datetime(q[c])
        for c in (*QUANTILE_COLUMNS, "mean"):
            if c in q:
                q[c] = pd.to_numeric(q[c], errors="coerce")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, KeyError, ValueError):
        return None
    return q


def _meta_path(paths: Paths, indicator: str) -> Path:
    return paths.trajectories / f"{indicator}.json"


def write_meta(paths: Paths, indicator: str, meta: dict[str, object]) -> None:
    """The fit metadata beside a trajectory: fingerprint, status, diagnostics."""
    atomic_write_text(
        _meta_path(paths, indicator), json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
    )


def read_meta(paths: Paths, indicator: str) -> dict[str, Any] | None:
    """The fit metadata (None when missing; a note saying so when not valid JSON)."""
    path = _meta_path(paths, indicator)
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError):
        return {"status": "unreadable", "error": f"{path.name} is not valid JSON"}
    return meta if isinstance(meta, dict) else None


def write_trajectory(
    paths: Paths, indicator: str, quantiles: pd.DataFrame, meta: dict[str, object]
) -> None:
    """An indicator's latest published trajectory: quantiles (CSV) and metadata (JSON)."""
    write_quantiles(paths.trajectory_file(indicator), quantiles)
    write_meta(paths, indicator, meta)


def read_trajectory(
    paths: Paths, indicator: str
) -> tuple[pd.DataFrame | None, dict[str, Any] | None]:
    """An indicator's tracked quantiles and metadata, each None when absent."""
    return read_quantiles(paths.trajectory_file(indicator)), read_meta(paths, indicator)


def write_summary(path: Path, summary: dict[str, object]) -> None:
    """A fit's summary (`chipcast.evaluate.voi.indicator_summary`): source offsets and noise,
    and each open claim's value-of-information table, as sorted, indented JSON."""
    atomic_write_text(path, json.dumps(summary, indent=1, sort_keys=True) + "\n")


def read_summary(path: Path) -> dict[str, Any] | None:
    """A fit's summary (None when the file is missing, unreadable or not a JSON object)."""
    if not path.exists():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError, UnicodeDecodeError):
        return None
    return summary if isinstance(summary, dict) else None


# --- run logs -----------------------------------------------------------------------------


def write_run_log(run_dir: Path, log: dict[str, Any]) -> None:
    """`run.json` (the record) and `run.log` (one line a job) of one refresh run."""
    atomic_write_text(run_dir / "run.json", json.dumps(log, indent=2, default=str) + "\n")
    lines = [
        f"run {log['run_id']} today={log['today']} as_of={log['as_of']} exit={log['exit_code']}"
    ]
    for j in log["jobs"]:
        lines.append(
            f"{j['status']:8} {j['id']:45} {j.get('seconds', 0):7.1f}s {j.get('error', '')}"
        )
    atomic_write_text(run_dir / "run.log", "\n".join(lines) + "\n")


def read_runs(paths: Paths) -> list[dict[str, Any]]:
    """run.json of every run, newest first, with its job counts by status and its failures.

    An unreadable record is listed with its problem instead of its jobs.
    """
    runs: list[dict[str, Any]] = []
    if not paths.runs.is_dir():
        return runs
    for d in sorted(paths.runs.iterdir(), reverse=True):
        f = d / "run.json"
        if not d.is_dir() or not f.exists():
            continue
        try:
            run = json.loads(f.read_text(encoding="utf-8"))
            if not isinstance(run, dict):
                raise ValueError("not an object")
        except (json.JSONDecodeError, OSError, ValueError) as exc:
            run = {"run_id": d.name, "jobs": [], "unreadable": f"run.json unreadable: {exc}"}
        run.setdefault("run_id", d.name)
        run["_dir"] = d
        jobs = [j for j in run.get("jobs") or [] if isinstance(j, dict)]
        run["jobs"] = jobs
        counts = {s: 0 for s in ("ran", "skipped", "failed", "gated")}
        for j in jobs:
            counts[str(j.get("status"))] = counts.get(str(j.get("status")), 0) + 1
        run["counts"] = counts
        run["failures"] = [j for j in jobs if j.get("status") in ("failed", "gated")]
        runs.append(run)
    return runs


# --- backtest -----------------------------------------------------------------------------


def read_backtest(paths: Paths) -> pd.DataFrame | None:
    """The tracked backtest table (None when there is none yet)."""
    if not paths.backtest.exists():
        return None
    try:
        return pd.read_csv(paths.backtest)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None


def read_backtest_detail(paths: Paths) -> pd.DataFrame | None:
    """The backtest's per-target rows (`chipcast backtest --detail`; None when there are none)."""
    if not paths.backtest_detail.exists():
        return None
    try:
        return pd.read_csv(paths.backtest_detail)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None
