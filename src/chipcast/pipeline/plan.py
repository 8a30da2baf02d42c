"""Plan a refresh: which indicator notebooks must run, and why (reads files only, no PyMC).

A job is stale when its fingerprint (`chipcast.pipeline.fingerprint`) differs from the one its
tracked trajectory was fitted with, when that fit did not pass, or when the run is forced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.probability import horizon_for
from chipcast.models.base import settings_for
from chipcast.pipeline.fingerprint import data_fingerprint, job_fingerprint
from chipcast.registry import Registry
from chipcast.store import read_meta

INDICATOR_NOTEBOOK = "indicator.ipynb"
SCOREBOARD_NOTEBOOK = "scoreboard.ipynb"


@dataclass(frozen=True)
class RefreshOptions:
    """What `chipcast refresh` was asked to do (its flags)."""

    today: dt.date
    only: tuple[str, ...] = ()
    force: bool = False
    as_of: dt.date | None = None
    dry_run: bool = False
    jobs: int | None = None
    profile: str = "default"
    seed: int = DEFAULT_SEED
    scheduler: str | None = None
    timeout: float = 900.0
    progress: bool = True


@dataclass
class PlannedJob:
    """One indicator's notebook job: its fingerprint, and whether (and why) it must run."""

    indicator: str
    family: str
    fingerprint: str
    data_fingerprint: str
    stale: bool
    reason: str
    parameters: dict[str, object] = field(default_factory=dict)


def plan(reg: Registry, opts: RefreshOptions) -> list[PlannedJob]:
    """Which indicator notebooks must run, and why; reads files only (no PyMC)."""
    paths = reg.paths
    date = opts.as_of or opts.today
    visible = as_of(reg.observations, date)
    notebook = paths.notebooks / INDICATOR_NOTEBOOK
    settings = settings_for(opts.profile)
    only = only_indicators(reg, opts.only)
    out = []
    for ind_id, ind in sorted(reg.indicators.items()):
        if ind.family == "none":
            continue
        view = visible[visible["indicator"] == ind_id]
        if view.empty:
            continue
        claims = reg.indicator_claims(ind_id)
        horizon = horizon_for(claims, date)
        params = {
            "indicator_id": ind_id,
            "draws": settings.draws,
            "tune": settings.tune,
            "seed": opts.seed,
            "profile": opts.profile,
        }
        targets = sorted({str(c.target_period) for c in claims} | {str(horizon)})
        fp = job_fingerprint(
            notebook, ind.family, view, ind.model_dump(mode="json"), targets, params
        )
        meta = read_meta(paths, ind_id) if opts.as_of is None else None
        if only is not None and ind_id not in only:
            stale, reason = False, "not selected (--only)"
        elif opts.force or opts.as_of is not None:
            stale, reason = True, "forced" if opts.force else f"as of {opts.as_of}"
        elif meta is None:
            stale, reason = True, "never fitted"
        elif meta.get("fingerprint") != fp:
            stale, reason = True, "inputs changed"
        elif meta.get("status") != "ok":
            stale, reason = True, f"last run {meta.get('status')}"
        else:
            stale, reason = False, "unchanged"
        out.append(
            PlannedJob(ind_id, ind.family, fp, data_fingerprint(view), stale, reason, params)
        )
    return out


class UnknownSelection(ValueError):
    """An `--only` id that is neither an indicator nor a claim with an indicator (bad usage)."""


def only_indicators(reg: Registry, only: tuple[str, ...]) -> set[str] | None:
    """The indicators `--only` selects (claims stand for their indicators); None: all of them."""
    if not only:
        return None
    chosen = set()
    for x in only:
        if x in reg.indicators:
            chosen.add(x)
        elif x in reg.claims and reg.claims[x].indicator:
            chosen.add(reg.claims[x].indicator)
        else:
            raise UnknownSelection(
                f"--only {x}: neither an indicator nor a claim with an indicator"
            )
    return chosen


def print_plan(jobs: list[PlannedJob]) -> None:
    for j in jobs:
        print(f"{'RUN ' if j.stale else 'skip'}  {j.indicator:45} {j.family:7} {j.reason}")
    n = sum(j.stale for j in jobs)
    print(f"{n} job(s) to run, {len(jobs) - n} skipped")
