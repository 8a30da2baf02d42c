"""`chipcast refresh`: plan, run, decide, record, score, render, as named steps over a `Run`.

plan:    fingerprint every indicator job (no PyMC import); unchanged jobs are skipped
run:     the stale indicator notebooks, in parallel, each bounded by a timeout
decide:  trajectories -> claim forecasts
record:  one new history file (atomic), the hindcast rows of the dates the fits saw, then the
         trajectories; failed fits marked stale
score:   the scoreboard notebook, when anything it reads changed
render:  the run log and the static site
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chipcast.exitcodes import EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL
from chipcast.models.base import Trajectory
from chipcast.paths import Paths
from chipcast.pipeline.decide import collect, fit_summary, forecast_rows, judgment_rows
from chipcast.pipeline.execute import Runner
from chipcast.pipeline.hindcast import rows_from_refresh, write_refresh_rows
from chipcast.pipeline.kernel import SCOREBOARD_IMPORTS, Job, JobResult, import_in_background
from chipcast.pipeline.lock import LockHeld, RefreshLock
from chipcast.pipeline.plan import (
    INDICATOR_NOTEBOOK,
    SCOREBOARD_NOTEBOOK,
    PlannedJob,
    RefreshOptions,
    only_indicators,
    plan,
    print_plan,
)
from chipcast.pipeline.progress import Progress
from chipcast.pipeline.records import (
    FAILED_STATUSES,
    job_record,
    stale_meta,
    trajectory_meta,
)
from chipcast.pipeline.state import read_state, save_state, site_key
from chipcast.registry import Registry, load
from chipcast.report.site import build_site
from chipcast.store import (
    new_run_id,
    read_meta,
    write_forecasts,
    write_history,
    write_meta,
    write_quantiles,
    write_run_log,
    write_summary,
    write_trajectory,
)

# What rendering the site imports besides the scoreboard's modules (nbconvert for the notebook
# pages): imported while the jobs run, not after them.
RENDER_IMPORTS = (*SCOREBOARD_IMPORTS, "chipcast.report.site", "nbconvert")


@dataclass
class Run:
    """One refresh in progress: what it planned, where it writes, and what it has produced."""

    reg: Registry
    opts: RefreshOptions
    planned: list[PlannedJob]
    run_id: str = field(default_factory=new_run_id)
    started: float = field(default_factory=time.time)
    rows: list[dict[str, object]] = field(default_factory=list)  # new history rows
    records: list[dict[str, Any]] = field(default_factory=list)  # the run log's jobs
    trajectories: dict[str, Trajectory] = field(default_factory=dict)
    hindcasts: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # claim -> rows
    ran: int = 0

    @property
    def paths(self) -> Paths:
        return self.reg.paths

    @property
    def date(self) -> dt.date:
        """The as-of date the fits see: `--as-of`, else today."""
        return self.opts.as_of or self.opts.today

    @property
    def replay(self) -> bool:
        """An `--as-of` run: what the system would have said then, kept out of the history."""
        return self.opts.as_of is not None

    @property
    def base(self) -> Path:
        if self.replay:
            return self.paths.reports / "as-of" / self.date.isoformat()
        return self.paths.reports

    @property
    def run_dir(self) -> Path:
        return self.base / "runs" / self.run_id

    @property
    def stale(self) -> list[PlannedJob]:
        return [j for j in self.planned if j.stale]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] in FAILED_STATUSES]

    def job(self, job_id: str) -> PlannedJob:
        return next(j for j in self.planned if j.indicator == job_id)

    def notebook_job(
        self, job_id: str, kind: str, notebook: str, output: str, parameters: dict[str, object]
    ) -> Job:
        """A notebook job of this run, its executed copy kept in the run's directory."""
        return Job(
            id=job_id,
            kind=kind,
            notebook=str(self.paths.notebooks / notebook),
            output_notebook=str(self.run_dir / output),
            parameters={"root": str(self.paths.root), **parameters},
            cwd=str(self.paths.notebooks),
            timeout=self.opts.timeout,
        )

    def run_jobs(self, runner: Runner, jobs: list[Job], skipped: int) -> list[JobResult]:
        progress = Progress(len(jobs), skipped, self.opts.progress)
        try:
            return runner.run(jobs, progress.start, progress.finish)
        finally:
            progress.close()


def refresh(root: Path, opts: RefreshOptions) -> int:
    """Run one refresh; return the exit code fixed in the design's contracts."""
    reg = load(Path(root).resolve())
    only_indicators(reg, opts.only)  # a bad --only is bad usage: fail before the lock
    if opts.dry_run:
        print_plan(plan(reg, opts))
        return EXIT_OK
    try:
        with RefreshLock(reg.paths.state / "refresh.lock"):
            return _refresh(Run(reg, opts, plan(reg, opts)))
    except LockHeld as exc:
        print(f"chipcast refresh: {exc}; exiting", file=sys.stderr)
        return EXIT_LOCKED


def _refresh(run: Run) -> int:
    if not run.replay:
        run.rows += judgment_rows(run.reg, run.run_id, run.opts.today)
    if nothing_to_do(run):
        print(
            f"nothing to do: {len(run.planned)} indicator job(s) unchanged, site up to date",
            file=sys.stderr,
        )
        return EXIT_OK
    run.run_dir.mkdir(parents=True, exist_ok=True)
    with Runner(
        str(run.paths.notebooks), len(run.stale) + 1, run.opts.jobs, run.opts.scheduler
    ) as runner:
        decide(run, run_indicators(run, runner))
        record(run)
        if not run.replay:
            score(run, runner)
    write_log(run)
    return run_exit_code(run, render(run) if not run.replay else EXIT_OK)


def nothing_to_do(run: Run) -> bool:
    """No stale job, no new judgment, and the site built from the same inputs."""
    if run.stale or run.rows or run.replay:
        return False
    return read_state(run.paths).get("site") == site_key(run.reg, run.opts.today)


def run_indicators(run: Run, runner: Runner) -> list[JobResult]:
    """Run: the stale indicator notebooks (the site's imports load meanwhile)."""
    jobs = [
        run.notebook_job(
            j.indicator,
            "indicator",
            INDICATOR_NOTEBOOK,
            f"indicator-{j.indicator}.ipynb",
            {
                **j.parameters,
                "as_of": run.date.isoformat(),
                "output_dir": str(run.run_dir / "out" / j.indicator),
            },
        )
        for j in run.stale
    ]
    if not run.replay and jobs:
        import_in_background(RENDER_IMPORTS)
    results = run.run_jobs(runner, jobs, len(run.planned) - len(run.stale))
    run.ran = len(results)
    return results


def decide(run: Run, results: list[JobResult]) -> None:
    """Decide: each finished job's trajectory, gated or published; forecasts from the published."""
    for res in results:
        job = run.job(res.id)
        status, error, diagnostics = res.status, res.error, None
        if res.status == "ran":
            traj, err = collect(run.run_dir / "out" / res.id)
            if traj is None:
                status, error = "failed", err
            else:
                diagnostics = traj.diagnostics
                if not traj.published:
                    status, error = "gated", "; ".join(traj.diagnostics.reasons)
                else:
                    run.trajectories[res.id] = traj
                    run.rows += forecast_rows(
                        run.reg, traj, run.run_id, run.date, job.data_fingerprint, run.opts.seed
                    )
                    if not run.replay:  # the same fit is this date's hindcast
                        run.hindcasts.update(
                            rows_from_refresh(
                                run.reg,
                                traj,
                                run.date,
                                run.run_id,
                                run.opts.seed,
                                run.opts.profile,
                                run.opts.today,
                            )
                        )
        run.records.append(
            job_record(
                res.id,
                "indicator",
                status,
                job.reason,
                res.seconds,
                error,
                Path(res.notebook).name,
                diagnostics,
                str(res.extra.get("worker") or "") or None,
            )
        )
    for j in run.planned:
        if not j.stale:
            run.records.append(job_record(j.indicator, "indicator", "skipped", j.reason))


def record(run: Run) -> None:
    """Record: history first (a crash after it only re-runs work), then the trajectories; a
    failed fit keeps its last good trajectory, marked stale. A replay writes beside its run."""
    if run.replay:
        write_forecasts(run.base / "forecasts.csv", run.rows)
        for ind_id, traj in run.trajectories.items():
            write_quantiles(run.base / "trajectories" / f"{ind_id}.csv", traj.quantile_frame())
            record_summary(run, traj, run.base / "trajectories" / f"{ind_id}.summary.json")
        print(
            f"as-of forecasts written to {run.base / 'forecasts.csv'} (history untouched)",
            file=sys.stderr,
        )
        return
    write_history(run.paths, run.run_id, run.rows)
    write_refresh_rows(run.reg, run.hindcasts)
    for ind_id, traj in run.trajectories.items():
        meta = trajectory_meta(traj, run.job(ind_id).fingerprint, run.run_id, run.opts.profile)
        write_trajectory(run.paths, ind_id, traj.quantile_frame(), meta)
        record_summary(run, traj, run.paths.summary_file(ind_id))
    for rec in run.failed:
        job = run.job(rec["id"])
        previous = read_meta(run.paths, job.indicator)
        meta = stale_meta(previous, job.indicator, job.family, run.run_id, rec)
        write_meta(run.paths, job.indicator, meta)


def record_summary(run: Run, traj: Trajectory, path: Path) -> None:
    """The fit's summary beside its trajectory (source offsets, value of information). A
    summary that cannot be computed says why (on stderr and in the file, replacing the last
    fit's); the trajectory stands."""
    try:
        summary = fit_summary(run.reg, traj, run.date)
    except Exception as exc:  # noqa: BLE001 - a summary bug must not lose the fit
        error = f"{type(exc).__name__}: {exc}"
        print(f"summary of {traj.indicator} not computed: {error}", file=sys.stderr)
        summary = {"indicator": traj.indicator, "error": error, "sources": [], "claims": []}
    write_summary(path, summary)


def score(run: Run, runner: Runner) -> None:
    """Score: run notebooks/scoreboard.ipynb when anything it reads changed."""
    if not (run.paths.notebooks / SCOREBOARD_NOTEBOOK).exists():
        return
    key = site_key(run.reg, run.opts.today)
    if read_state(run.paths).get("scoreboard") == key and not run.opts.force:
        run.records.append(job_record("scoreboard", "scoreboard", "skipped", "unchanged"))
        return
    job = run.notebook_job(
        "scoreboard",
        "scoreboard",
        SCOREBOARD_NOTEBOOK,
        SCOREBOARD_NOTEBOOK,
        {"today": run.opts.today.isoformat()},
    )
    (res,) = run.run_jobs(runner, [job], 0)
    if res.status == "ran":
        save_state(run.paths, scoreboard=key)
    run.records.append(
        job_record(
            "scoreboard",
            "scoreboard",
            res.status,
            "inputs changed",
            res.seconds,
            res.error,
            SCOREBOARD_NOTEBOOK,
        )
    )


def write_log(run: Run) -> None:
    """The run log (run.json, run.log), and a line on stderr for each failure and the totals."""
    failed = run.failed
    log = {
        "run_id": run.run_id,
        "started": dt.datetime.fromtimestamp(run.started, dt.UTC).isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "today": run.opts.today.isoformat(),
        "as_of": run.date.isoformat(),
        "forecasts_issued": len(run.rows),
        "exit_code": EXIT_PARTIAL if failed else EXIT_OK,
        "jobs": sorted(run.records, key=lambda r: (r["status"] == "skipped", r["id"])),
    }
    write_run_log(run.run_dir, log)
    for r in failed:
        print(
            f"FAILED {r['id']}: {r['error']} (see {run.run_dir / r.get('notebook', '')})",
            file=sys.stderr,
        )
    print(
        f"run {run.run_id}: {run.ran} ran, {len(failed)} failed, "
        f"{len(run.planned) - len(run.stale)} skipped, {len(run.rows)} forecast(s) issued",
        file=sys.stderr,
    )


def render(run: Run) -> int:
    """Render: the static site; once it is built, the state remembers what it was built from."""
    try:
        path = build_site(run.paths.root, today=run.opts.today, run_id=run.run_id)
    except Exception as exc:  # noqa: BLE001 - the run log and history are already safe
        print(f"site rendering failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_PARTIAL
    print(f"site: {path}", file=sys.stderr)
    save_state(run.paths, site=site_key(run.reg, run.opts.today))
    return EXIT_OK


def run_exit_code(run: Run, render_code: int) -> int:
    return EXIT_PARTIAL if run.failed or render_code != EXIT_OK else EXIT_OK


__all__ = ["RefreshOptions", "Run", "plan", "refresh"]
