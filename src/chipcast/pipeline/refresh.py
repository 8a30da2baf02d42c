"""`chipcast refresh`: plan, run, decide, resolve, render.

plan:    fingerprint every indicator job (no PyMC import); unchanged jobs are skipped
run:     the stale indicator notebooks, in parallel, each bounded by a timeout
decide:  trajectories -> claim forecasts -> one new history file (atomic), then trajectories
render:  the scoreboard notebook (when its inputs changed) and the static site
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from chipcast.data import as_of
from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.probability import ClaimForecast, forecast_claim, horizon_for, indicator_seed
from chipcast.exitcodes import EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL
from chipcast.fileio import atomic_write_text
from chipcast.models.base import Diagnostics, Trajectory, settings_for
from chipcast.paths import Paths
from chipcast.pipeline.execute import (
    SCOREBOARD_IMPORTS,
    Job,
    JobResult,
    LocalPool,
    import_in_background,
    run_dask,
)
from chipcast.pipeline.fingerprint import (
    data_fingerprint,
    job_fingerprint,
    notebook_code,
    packages_text,
)
from chipcast.pipeline.history import history_row
from chipcast.pipeline.lock import LockHeld, RefreshLock
from chipcast.registry import Registry, load
from chipcast.report.site import build_site
from chipcast.store import (
    new_run_id,
    read_history,
    read_meta,
    write_forecasts,
    write_history,
    write_meta,
    write_quantiles,
    write_run_log,
    write_trajectory,
)


@dataclass(frozen=True)
class RefreshOptions:
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
    notebook = paths.notebooks / "indicator.ipynb"
    settings = settings_for(opts.profile)
    only = _only_indicators(reg, opts.only)
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


def _only_indicators(reg: Registry, only: tuple[str, ...]) -> set[str] | None:
    if not only:
        return None
    chosen = set()
    for x in only:
        if x in reg.indicators:
            chosen.add(x)
        elif x in reg.claims and reg.claims[x].indicator:
            chosen.add(reg.claims[x].indicator)
        else:
            raise ValueError(f"--only {x}: neither an indicator nor a claim with an indicator")
    return chosen


def _print_plan(jobs: list[PlannedJob]) -> None:
    for j in jobs:
        print(f"{'RUN ' if j.stale else 'skip'}  {j.indicator:45} {j.family:7} {j.reason}")
    n = sum(j.stale for j in jobs)
    print(f"{n} job(s) to run, {len(jobs) - n} skipped")


class _Progress:
    """Jobs done, running, failed and skipped, on stderr."""

    def __init__(self, total: int, skipped: int, enabled: bool):
        self.running = self.done = self.failed = 0
        self.skipped = skipped
        self.bar = None
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="job", file=sys.stderr, dynamic_ncols=True)
            self._post()

    def _post(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix(running=self.running, failed=self.failed, skipped=self.skipped)

    def start(self, job: Job) -> None:
        self.running += 1
        self._post()

    def finish(self, res: JobResult) -> None:
        self.running -= 1
        self.done += 1
        self.failed += res.status != "ran"
        if self.bar is not None:
            self.bar.update(1)
            self._post()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def refresh(root: Path, opts: RefreshOptions) -> int:
    """Run one refresh; return the exit code fixed in the design's contracts."""
    paths = Paths(Path(root).resolve())
    reg = load(paths.root)
    if opts.dry_run:
        _print_plan(plan(reg, opts))
        return EXIT_OK
    try:
        with RefreshLock(paths.state / "refresh.lock"):
            return _refresh_locked(reg, opts)
    except LockHeld as exc:
        print(f"chipcast refresh: {exc}; exiting", file=sys.stderr)
        return EXIT_LOCKED


def _refresh_locked(reg: Registry, opts: RefreshOptions) -> int:
    paths = reg.paths
    planned = plan(reg, opts)
    if opts.dry_run:
        _print_plan(planned)
        return EXIT_OK
    stale = [j for j in planned if j.stale]
    date = opts.as_of or opts.today
    run_id = new_run_id()
    judgment_rows = [] if opts.as_of else _judgment_rows(reg, paths, run_id, opts.today)
    site_key = _site_key(reg, opts)
    if (
        not stale
        and not judgment_rows
        and opts.as_of is None
        and _state(paths).get("site") == site_key
    ):
        print(
            f"nothing to do: {len(planned)} indicator job(s) unchanged, site up to date",
            file=sys.stderr,
        )
        return EXIT_OK

    base = paths.reports / "as-of" / date.isoformat() if opts.as_of else paths.reports
    run_dir = base / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    jobs = [
        Job(
            id=j.indicator,
            kind="indicator",
            notebook=str(paths.notebooks / "indicator.ipynb"),
            output_notebook=str(run_dir / f"indicator-{j.indicator}.ipynb"),
            parameters={
                **j.parameters,
                "root": str(paths.root),
                "as_of": date.isoformat(),
                "output_dir": str(run_dir / "out" / j.indicator),
            },
            cwd=str(paths.notebooks),
            timeout=opts.timeout,
        )
        for j in stale
    ]
    runner = _Runner(opts, str(paths.notebooks), len(jobs) + 1)
    try:
        return _run_and_decide(
            reg,
            opts,
            planned,
            stale,
            jobs,
            run_id,
            run_dir,
            base,
            date,
            judgment_rows,
            started,
            runner,
        )
    finally:
        runner.close()


class _Runner:
    """The local pool of preheated kernels (started lazily) or a Dask cluster."""

    def __init__(self, opts: RefreshOptions, cwd: str, max_jobs: int):
        self.opts, self.cwd, self.max_jobs = opts, cwd, max_jobs
        self.pool: LocalPool | None = None

    def run(self, jobs: list[Job], progress: _Progress) -> list[JobResult]:
        if not jobs:
            return []
        if self.opts.scheduler:
            return run_dask(jobs, self.opts.scheduler, progress.start, progress.finish)
        if self.pool is None:
            self.pool = LocalPool(
                min(self.opts.jobs or os.cpu_count() or 1, self.max_jobs), self.cwd
            )
        return self.pool.run(jobs, progress.start, progress.finish)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


# What rendering the site imports besides the scoreboard's modules (nbconvert for the notebook
# pages): imported while the jobs run, not after them.
RENDER_IMPORTS = (*SCOREBOARD_IMPORTS, "chipcast.report.site", "nbconvert")


def _run_and_decide(
    reg, opts, planned, stale, jobs, run_id, run_dir, base, date, judgment_rows, started, runner
) -> int:
    paths = reg.paths
    progress = _Progress(len(jobs), len(planned) - len(stale), opts.progress)
    if opts.as_of is None and jobs:
        import_in_background(RENDER_IMPORTS)
    try:
        results = runner.run(jobs, progress)
    finally:
        progress.close()

    by_id = {j.indicator: j for j in planned}
    records: list[dict[str, object]] = []
    rows: list[dict[str, object]] = list(judgment_rows)
    trajectories: dict[str, Trajectory] = {}
    for res in results:
        job = by_id[res.id]
        rec = {
            "id": res.id,
            "kind": "indicator",
            "status": res.status,
            "seconds": round(res.seconds, 2),
            "error": res.error,
            "notebook": Path(res.notebook).name,
            "reason": job.reason,
        }
        if res.status == "ran":
            traj, err = _collect(run_dir / "out" / res.id)
            if traj is None:
                rec.update(status="failed", error=err)
            elif not traj.published:
                rec.update(
                    status="gated",
                    error="; ".join(traj.diagnostics.reasons),
                    diagnostics=traj.diagnostics.to_dict(),
                )
            else:
                trajectories[res.id] = traj
                rec["diagnostics"] = traj.diagnostics.to_dict()
                rows += _forecast_rows(reg, traj, run_id, date, job, opts)
        records.append(rec)
    for j in planned:
        if not j.stale:
            records.append(
                {
                    "id": j.indicator,
                    "kind": "indicator",
                    "status": "skipped",
                    "seconds": 0,
                    "error": "",
                    "reason": j.reason,
                }
            )

    if opts.as_of is not None:
        _write_as_of(base, run_id, rows, trajectories)
    else:
        write_history(paths, run_id, rows)  # history first: a crash after it only re-runs work
        for ind_id, traj in trajectories.items():
            job = by_id[ind_id]
            write_trajectory(
                paths, ind_id, traj.quantile_frame(), _meta(traj, job, run_id, "ok", opts)
            )
        for rec in records:
            if rec["status"] in ("failed", "gated"):
                _mark_stale(paths, rec, by_id[rec["id"]], run_id, opts)

    if opts.as_of is None:
        records += _scoreboard(reg, opts, run_dir, runner)
    failed = [r for r in records if r["status"] in ("failed", "gated")]
    log = {
        "run_id": run_id,
        "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "today": opts.today.isoformat(),
        "as_of": date.isoformat(),
        "forecasts_issued": len(rows),
        "exit_code": EXIT_PARTIAL if failed else EXIT_OK,
        "jobs": sorted(records, key=lambda r: (r["status"] == "skipped", r["id"])),
    }
    write_run_log(run_dir, log)
    for r in failed:
        print(
            f"FAILED {r['id']}: {r['error']} (see {run_dir / r.get('notebook', '')})",
            file=sys.stderr,
        )
    print(
        f"run {run_id}: {len(results)} ran, {len(failed)} failed, {len(planned) - len(stale)} skipped, {len(rows)} forecast(s) issued",
        file=sys.stderr,
    )

    if opts.as_of is None:
        code = _render(reg, opts, run_id)
        if code == EXIT_OK:
            _save_state(paths, {"site": _site_key(load(paths.root), opts)})
        if failed or code != EXIT_OK:
            return EXIT_PARTIAL
    return EXIT_PARTIAL if failed else EXIT_OK


def _scoreboard(
    reg: Registry, opts: RefreshOptions, run_dir: Path, runner: _Runner
) -> list[dict[str, object]]:
    """Run notebooks/scoreboard.ipynb when anything it reads changed."""
    paths = reg.paths
    nb = paths.notebooks / "scoreboard.ipynb"
    if not nb.exists():
        return []
    key = _site_key(load(paths.root), opts)
    if _state(paths).get("scoreboard") == key and not opts.force:
        return [
            {
                "id": "scoreboard",
                "kind": "scoreboard",
                "status": "skipped",
                "seconds": 0,
                "error": "",
                "reason": "unchanged",
            }
        ]
    job = Job(
        id="scoreboard",
        kind="scoreboard",
        notebook=str(nb),
        output_notebook=str(run_dir / "scoreboard.ipynb"),
        parameters={"root": str(paths.root), "today": opts.today.isoformat()},
        cwd=str(paths.notebooks),
        timeout=opts.timeout,
    )
    progress = _Progress(1, 0, opts.progress)
    try:
        (res,) = runner.run([job], progress)
    finally:
        progress.close()
    if res.status == "ran":
        _save_state(paths, {"scoreboard": key})
    return [
        {
            "id": "scoreboard",
            "kind": "scoreboard",
            "status": res.status,
            "seconds": round(res.seconds, 2),
            "error": res.error,
            "notebook": "scoreboard.ipynb",
            "reason": "inputs changed",
        }
    ]


def _collect(out_dir: Path) -> tuple[Trajectory | None, str]:
    if not (out_dir / "draws.nc").exists():
        diag = out_dir / "diagnostics.json"
        if diag.exists():
            return None, "notebook wrote no trajectory (indicator not modelled)"
        return None, "notebook wrote no trajectory"
    try:
        return Trajectory.load(out_dir), ""
    except Exception as exc:  # noqa: BLE001
        return None, f"unreadable trajectory: {exc}"


def _forecast_rows(
    reg: Registry,
    traj: Trajectory,
    run_id: str,
    date: dt.date,
    job: PlannedJob,
    opts: RefreshOptions,
) -> list[dict[str, object]]:
    rows = []
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        if c.indicator != traj.indicator or c.kind == "event" or c.status != "open":
            continue
        if c.target_period is not None and c.made_on > date:
            continue
        try:
            f = forecast_claim(c, traj)
        except ValueError:
            continue
        if f is None:
            continue
        rows.append(
            history_row(
                f,
                run_id,
                date.isoformat(),
                traj.indicator,
                job.data_fingerprint,
                indicator_seed(opts.seed, traj.indicator),
                packages_text(),
                traj,
            )
        )
    return rows


def _judgment_rows(
    reg: Registry, paths: Paths, run_id: str, today: dt.date
) -> list[dict[str, object]]:
    """Event claims: a new row whenever the researcher's probability changed."""
    hist = read_history(paths)
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
        issued = (
            c.made_on if c.id not in last else today
        )  # first judgment counts from the claim's date
        rows.append(history_row(f, run_id, issued.isoformat(), None))
    return rows


def _meta(
    traj: Trajectory, job: PlannedJob, run_id: str, status: str, opts: RefreshOptions
) -> dict[str, object]:
    return {
        "indicator": traj.indicator,
        "family": traj.family,
        "model_version": traj.model_version,
        "as_of": traj.as_of.isoformat(),
        "run_id": run_id,
        "fingerprint": job.fingerprint,
        "seed": traj.seed,
        "profile": opts.profile,
        "status": status,
        "stale": False,
        "diagnostics": traj.diagnostics.to_dict(),
    }


def _mark_stale(
    paths: Paths, rec: dict[str, object], job: PlannedJob, run_id: str, opts: RefreshOptions
) -> None:
    """Keep the last good trajectory visible, flagged stale with the failure."""
    meta = read_meta(paths, job.indicator) or {
        "indicator": job.indicator,
        "family": job.family,
    }
    meta.update(stale=True, status=rec["status"], failed_run=run_id, error=rec["error"])
    if "diagnostics" in rec:
        meta["failed_diagnostics"] = rec["diagnostics"]
    write_meta(paths, job.indicator, meta)


def _write_as_of(
    base: Path, run_id: str, rows: list[dict[str, object]], trajectories: dict[str, Trajectory]
) -> None:
    write_forecasts(base / "forecasts.csv", rows)
    for ind_id, traj in trajectories.items():
        write_quantiles(base / "trajectories" / f"{ind_id}.csv", traj.quantile_frame())
    print(
        f"as-of forecasts written to {base / 'forecasts.csv'} (history untouched)", file=sys.stderr
    )


def _render(reg: Registry, opts: RefreshOptions, run_id: str) -> int:
    try:
        path = build_site(reg.paths.root, today=opts.today, run_id=run_id)
        print(f"site: {path}", file=sys.stderr)
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the run log and history are already safe
        print(f"site rendering failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_PARTIAL


def _site_key(reg: Registry, opts: RefreshOptions) -> str:
    """Everything the site shows: data, claims, history, trajectories, notebooks, today."""
    h = hashlib.sha256()
    h.update(opts.today.isoformat().encode())
    h.update(data_fingerprint(reg.observations).encode())
    for d in (reg.paths.claims, reg.paths.history, reg.paths.trajectories):
        for f in sorted(d.glob("*")):
            if f.is_file():
                h.update(f.name.encode())
                h.update(f.read_bytes())
    for nb in sorted(reg.paths.notebooks.glob("*.ipynb")):
        h.update(notebook_code(nb).encode())
    if reg.paths.backtest.exists():
        h.update(reg.paths.backtest.read_bytes())
    return h.hexdigest()


def _state(paths: Paths) -> dict[str, object]:
    try:
        return json.loads((paths.state / "state.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _save_state(paths: Paths, update: dict[str, object]) -> None:
    state = _state(paths)
    state.update(update)
    atomic_write_text(paths.state / "state.json", json.dumps(state, indent=2) + "\n")


__all__ = ["Diagnostics", "RefreshOptions", "plan", "refresh"]
