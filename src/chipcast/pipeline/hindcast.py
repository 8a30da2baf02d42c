"""`chipcast hindcast`: fit each claim's indicator as of each date its data changed, and write
`forecasts/hindcasts/<claim id>.csv` (what today's model would have said then).

plan:   for every hindcastable claim, its dates (`chipcast.evaluate.hindcast`), grouped by
        indicator; each (indicator, date) gets a fingerprint of what its rows depend on (model
        and reference code, the as-of view, the indicator, the horizon, seed, sampler profile,
        stored quantiles, package versions) and each claim's rows add the claim's own terms
run:    one fit per (indicator, date) that some claim still needs; rows whose fingerprint
        matches are kept as they are (their `computed_on` too)
record: each claim's file rewritten atomically, only when its text changed

The fit at a date is the refresh's fit on that date (same seed, horizon and settings), so a
refresh that fits an indicator adds that date's rows from its own fit (`rows_from_refresh`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.hindcast import (
    REFERENCES,
    baseline_forecast,
    hindcast_dates,
    hindcastable,
)
from chipcast.evaluate.probability import ClaimForecast, forecast_claim, horizon_for, indicator_seed
from chipcast.models.base import Trajectory, settings_for
from chipcast.pipeline.fingerprint import (
    LIBRARY,
    code_text,
    data_fingerprint,
    model_code,
    package_versions,
    packages_text,
)
from chipcast.pipeline.records import history_row
from chipcast.registry import Registry
from chipcast.schema import Claim
from chipcast.store import QUANTILES, read_hindcasts, write_hindcasts

# The code the reference forecasters' rows run through, beside the model's (`model_code`).
REFERENCE_MODULES: tuple[str, ...] = ("evaluate/baselines.py", "evaluate/hindcast.py")
HINDCAST_RUN_ID = "hindcast"
"""`run_id` of rows `chipcast hindcast` computed (a refresh's rows carry its own run id)."""

FitFunction = Callable[..., Trajectory | None]


def _sha(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def reference_code() -> str:
    h = hashlib.sha256()
    for rel in REFERENCE_MODULES:
        h.update(rel.encode())
        h.update(code_text((LIBRARY / rel).read_text(encoding="utf-8")).encode())
    return h.hexdigest()


def claim_terms(claim: Claim) -> dict[str, object]:
    """What of a claim its forecast depends on (not its wording or tags)."""
    return claim.model_dump(
        mode="json",
        include={
            "kind",
            "operator",
            "threshold",
            "value",
            "target_period",
            "aggregate",
            "window_start",
            "resolution",
        },
    )


@dataclass
class DateJob:
    """One indicator as of one date: the fit the claims listed need."""

    indicator: str
    date: dt.date
    view: pd.DataFrame  # the as-of view of the indicator's figures
    horizon: dt.date
    seed: int
    data_fingerprint: str
    fingerprint: str
    claims: list[str]  # the claims that need rows on this date
    todo: list[str] = field(default_factory=list)  # those whose rows must be (re)computed

    def claim_fingerprint(self, claim: Claim) -> str:
        return _sha({"fit": self.fingerprint, "claim": claim_terms(claim)})


def date_job(
    reg: Registry, indicator_id: str, date: dt.date, seed: int, profile: str, claims: list[str]
) -> DateJob:
    """The fit of `indicator_id` as of `date`, as a refresh on that date would make it."""
    ind = reg.indicators[indicator_id]
    view = as_of(reg.indicator_observations(indicator_id), date)
    horizon = horizon_for(reg.indicator_claims(indicator_id), date)
    s = indicator_seed(seed, indicator_id)
    settings = settings_for(profile)
    dfp = data_fingerprint(view)
    fp = _sha(
        {
            "model": model_code(ind.family),
            "references": reference_code(),
            "data": dfp,
            "indicator": ind.model_dump(mode="json"),
            "horizon": horizon,
            # the level family's draws depend on the as-of date itself (the level holds from it)
            "as_of": date if ind.family == "level" else None,
            "seed": s,
            "settings": [settings.draws, settings.tune, settings.chains, settings.profile],
            "quantiles": QUANTILES,
            "packages": package_versions(),
        }
    )
    return DateJob(indicator_id, date, view, horizon, s, dfp, fp, claims)


def plan(
    reg: Registry,
    today: dt.date,
    claim_ids: list[str] | None = None,
    seed: int = DEFAULT_SEED,
    profile: str = "default",
) -> tuple[list[DateJob], dict[str, list[dict[str, object]]]]:
    """Every (indicator, date) job and, per claim, the existing rows still valid (kept).

    A claim's rows on a date are kept when every one of them carries the fingerprint its
    date job now computes; otherwise the claim is in that job's `todo`.
    """
    chosen = [reg.claims[c] for c in claim_ids] if claim_ids else list(reg.claims.values())
    claims = sorted((c for c in chosen if hindcastable(reg, c)), key=lambda c: c.id)
    per_indicator: dict[str, dict[dt.date, list[str]]] = {}
    for c in claims:
        for d in hindcast_dates(reg, c, today):
            per_indicator.setdefault(c.indicator, {}).setdefault(d, []).append(c.id)
    existing = {c.id: read_hindcasts(reg.paths, c.id) for c in claims}
    kept: dict[str, list[dict[str, object]]] = {c.id: [] for c in claims}
    jobs = []
    for ind_id in sorted(per_indicator):
        for d, ids in sorted(per_indicator[ind_id].items()):
            job = date_job(reg, ind_id, d, seed, profile, ids)
            for cid in ids:
                old = existing[cid]
                rows = old[old["issued_on"] == pd.Timestamp(d)] if len(old) else old
                fp = job.claim_fingerprint(reg.claims[cid])
                complete = set(rows["forecaster"]) >= {"model", *REFERENCES} if len(rows) else False
                if complete and (rows["fingerprint"] == fp).all():
                    kept[cid] += _records(rows)
                else:
                    job.todo.append(cid)
            jobs.append(job)
    return jobs, kept


def _records(rows: pd.DataFrame) -> list[dict[str, object]]:
    """Stored rows as records again, dates as ISO text and missing values as None."""
    out = []
    for r in rows.to_dict("records"):
        for k in ("issued_on", "computed_on"):
            r[k] = pd.Timestamp(r[k]).date().isoformat() if pd.notna(r[k]) else None
        out.append({k: (None if _missing(v) else v) for k, v in r.items()})
    return out


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def hindcast_row(
    f: ClaimForecast | None,
    claim: Claim,
    job: DateJob,
    computed_on: dt.date,
    run_id: str,
    forecaster: str,
    trajectory: Trajectory | None = None,
    note: str = "",
) -> dict[str, object]:
    """One hindcast row: a history row (`history_row`) dated at the as-of date of the fit, with
    when it was computed, its fingerprint and a note; a forecaster with nothing to say (a gated
    fit, too few figures) gets a row with no probability and the note saying why."""
    empty = f is None
    if f is None:
        f = ClaimForecast(claim.id, claim.kind, forecaster, forecaster, "", None)
    row = history_row(
        f,
        run_id,
        job.date.isoformat(),
        job.indicator,
        job.data_fingerprint,
        job.seed,
        packages_text() if forecaster == "model" else "",
        trajectory,
    )
    if empty:
        row["mean"] = None
    row.update(
        computed_on=computed_on.isoformat(),
        fingerprint=job.claim_fingerprint(claim),
        note=note,
    )
    return row


def rows_for(
    reg: Registry,
    job: DateJob,
    claim: Claim,
    traj: Trajectory | None,
    computed_on: dt.date,
    run_id: str,
    base_seed: int,
) -> list[dict[str, object]]:
    """The model's row (from `traj`) and each reference forecaster's row for one claim."""
    rows = []
    if traj is None:
        rows.append(
            hindcast_row(
                None, claim, job, computed_on, run_id, "model", None, "no fit: no usable figure"
            )
        )
    elif not traj.published:
        reasons = "; ".join(traj.diagnostics.reasons)
        note = f"gated: the fit failed the convergence checks ({reasons}); no probability"
        rows.append(hindcast_row(None, claim, job, computed_on, run_id, "model", traj, note))
        rows[-1]["model"], rows[-1]["model_version"] = traj.family, traj.model_version
    else:
        try:
            f = forecast_claim(claim, traj)
            note = ""
        except ValueError as exc:  # the trajectory does not reach the claim's target
            f, note = None, f"no forecast: {exc}"
        rows.append(hindcast_row(f, claim, job, computed_on, run_id, "model", traj, note))
    for name in REFERENCES:
        f, note = baseline_forecast(reg, claim, name, job.date, base_seed)
        rows.append(hindcast_row(f, claim, job, computed_on, run_id, name, None, note))
        rows[-1]["seed"] = indicator_seed(base_seed, claim.id)  # the references' own seed
    return rows


def _default_fit() -> FitFunction:
    from chipcast.models import fit_indicator  # PyMC and the samplers load only when fitting

    return fit_indicator


@dataclass
class HindcastResult:
    """What a hindcast run did, for the terminal and the tests."""

    claims: int = 0
    dates: int = 0
    fits: int = 0
    rows_kept: int = 0
    rows_new: int = 0
    written: list[Path] = field(default_factory=list)
    gated: list[str] = field(default_factory=list)  # "indicator date" of gated fits
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"hindcast: {self.claims} claim(s), {self.dates} indicator date(s), {self.fits} fit(s), "
            f"{self.rows_new} row(s) computed, {self.rows_kept} kept, "
            f"{len(self.written)} file(s) written, {len(self.gated)} gated fit(s); "
            f"{self.seconds:.1f} s"
        )


def run_hindcasts(
    reg: Registry,
    today: dt.date,
    claim_ids: list[str] | None = None,
    seed: int = DEFAULT_SEED,
    profile: str = "default",
    fit: FitFunction | None = None,
    progress: Callable[[str], None] | None = None,
) -> HindcastResult:
    """Compute what changed, keep the rest, write each claim's file when its text changed."""
    started = time.perf_counter()
    jobs, kept = plan(reg, today, claim_ids, seed, profile)
    result = HindcastResult(claims=len(kept), dates=len(jobs))
    rows = {cid: list(r) for cid, r in kept.items()}
    result.rows_kept = sum(len(r) for r in kept.values())
    settings = settings_for(profile)
    fit_fn = fit
    # each claim's file is written once its indicator's last date is done, so a run that is
    # stopped keeps what it finished (the next run recomputes only the rest)
    last_job = {job.indicator: k for k, job in enumerate(jobs)}
    by_indicator: dict[str, list[str]] = {}
    for job in jobs:
        for cid in job.claims:
            if cid not in by_indicator.setdefault(job.indicator, []):
                by_indicator[job.indicator].append(cid)

    def flush(indicator: str) -> None:
        for cid in sorted(by_indicator.get(indicator, [])):
            path = write_hindcasts(reg.paths, cid, rows[cid]) if rows[cid] else None
            if path is not None:
                result.written.append(path)

    for k, job in enumerate(jobs):
        if not job.todo:
            if last_job[job.indicator] == k:
                flush(job.indicator)
            continue
        fit_fn = fit_fn or _default_fit()
        ind = reg.indicators[job.indicator]
        t0 = time.perf_counter()
        traj = fit_fn(job.view, ind, job.date, job.horizon, job.seed, settings)
        result.fits += 1
        if traj is not None and not traj.published:
            result.gated.append(f"{job.indicator} {job.date}")
        for cid in job.todo:
            new = rows_for(reg, job, reg.claims[cid], traj, today, HINDCAST_RUN_ID, seed)
            rows[cid] += new
            result.rows_new += len(new)
        if progress is not None:
            d = traj.diagnostics if traj is not None else None
            how = (
                f", {d.sampler}, {d.compiles} compile(s), sampling {d.sampling_seconds:.1f} s"
                f"{', retried' if d.retried else ''}{'' if d.passed else ', GATED'}"
                if d is not None
                else ""
            )
            progress(
                f"{job.indicator} as of {job.date}: {len(job.todo)} claim(s), "
                f"{time.perf_counter() - t0:.1f} s{how}"
            )
        if last_job[job.indicator] == k:
            flush(job.indicator)
    result.seconds = time.perf_counter() - started
    return result


def rows_from_refresh(
    reg: Registry,
    traj: Trajectory,
    run_date: dt.date,
    run_id: str,
    seed: int,
    profile: str,
    today: dt.date,
) -> dict[str, list[dict[str, object]]]:
    """A refresh's published fit as hindcast rows: for each claim of the indicator whose latest
    hindcast date is the date the fit's data last changed, when the refresh's fit is the one
    `chipcast hindcast` would make there (same data, horizon, and for levels the same date).
    Returns each claim's full set of rows (the others as they were, and the new date's), only
    for claims whose rows on that date were missing or stale."""
    ind_id = traj.indicator
    claims = [c for c in reg.indicator_claims(ind_id) if hindcastable(reg, c)]
    if not claims:
        return {}
    view_now = as_of(reg.indicator_observations(ind_id), run_date)
    jobs, _ = plan(reg, today, [c.id for c in claims], seed, profile)
    out: dict[str, list[dict[str, object]]] = {}
    for job in jobs:
        if not job.todo or job.indicator != ind_id:
            continue
        same = (
            job.data_fingerprint == data_fingerprint(view_now)
            and job.horizon == horizon_for(reg.indicator_claims(ind_id), run_date)
            and (reg.indicators[ind_id].family != "level" or job.date == run_date)
            and job.seed == traj.seed
        )
        if not same:
            continue
        for cid in job.todo:
            if cid not in out:
                # every other row stays as it is: `chipcast hindcast` recomputes stale ones
                old = read_hindcasts(reg.paths, cid)
                out[cid] = _records(old[old["issued_on"] != pd.Timestamp(job.date)])
            out[cid] += rows_for(reg, job, reg.claims[cid], traj, today, run_id, seed)
    return out


def write_refresh_rows(reg: Registry, rows: dict[str, list[dict[str, object]]]) -> list[Path]:
    """Write the claims' files a refresh changed (atomic, only when the text changed)."""
    written = []
    for cid, claim_rows in sorted(rows.items()):
        path = write_hindcasts(reg.paths, cid, claim_rows)
        if path is not None:
            written.append(path)
    return written


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


__all__ = [
    "HINDCAST_RUN_ID",
    "DateJob",
    "HindcastResult",
    "plan",
    "rows_from_refresh",
    "run_hindcasts",
    "write_refresh_rows",
]
