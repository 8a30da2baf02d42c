"""Run notebook jobs: a local pool of worker processes (one preheated kernel each), plain
papermill, or a Dask cluster; fits are grouped by the compiled model they use, so that each
worker compiles each model once.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from chipcast.pipeline.kernel import (
    Job,
    JobResult,
    KernelSlot,
)

_SLOT: KernelSlot | None = None


def _init_worker(cwd: str, env: dict[str, str]) -> None:
    global _SLOT
    os.environ.update(env)
    _SLOT = KernelSlot(cwd)
    try:
        _SLOT.ensure()  # preheat before the first job arrives
    except Exception:  # noqa: BLE001 - the job will retry and report
        pass


def _run_in_slot(job: Job) -> JobResult:
    assert _SLOT is not None
    return _SLOT.run(job)


def _run_in_lazy_slot(job: Job) -> JobResult:
    """A Dask worker's warm kernel, started at its first job and kept for the next ones (so the
    compiled models in it are too)."""
    global _SLOT
    if _SLOT is None:
        _SLOT = KernelSlot(job.cwd, job.start_timeout)
    return _SLOT.run(job)


def _shutdown_slot() -> bool:
    if _SLOT is not None:
        _SLOT.kill()
    return True


# --- the runners the refresh chooses between ----------------------------------------------


OnDone = Callable[[JobResult], None]


class LocalPool:
    """Worker processes, each with one preheated kernel, reused across jobs and phases.

    Each worker has its own queue: fits that share a compiled model (one family and size class,
    `compile_group`) go to the same worker, back to back, so each group is compiled once per
    pool rather than once per worker it happens to land on. A worker whose queue runs dry takes
    a job from the longest other queue, preferring a group it has compiled already.
    """

    def __init__(self, workers: int, cwd: str):
        self.workers = max(1, workers)
        env = {"PYTHONWARNINGS": "ignore::UserWarning:pytensor"}
        self.pools = [
            ProcessPoolExecutor(
                1, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(cwd, env)
            )
            for _ in range(self.workers)
        ]
        self.seen: list[set[str]] = [set() for _ in range(self.workers)]
        for pool in self.pools:  # start the workers (and their kernels) now, not at the first job
            pool.submit(os.getpid)

    def run(
        self, jobs: list[Job], on_start: Callable[[Job], None], on_done: OnDone
    ) -> list[JobResult]:
        results: list[JobResult] = []
        _REGISTRIES.clear()  # the files may have changed since the last phase
        queues = assign(jobs, self.workers, compile_group, self.seen)
        pending: dict[Future, tuple[int, Job]] = {}

        def submit(w: int) -> None:
            job = _next_job(queues, w, self.seen[w])
            if job is None:
                return
            self.seen[w].add(compile_group(job))
            on_start(job)
            pending[self.pools[w].submit(_run_in_slot, job)] = (w, job)

        for w in range(self.workers):
            submit(w)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                w, job = pending.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker died: record, go on
                    res = JobResult(
                        job.id, "failed", 0.0, f"worker died: {exc}", job.output_notebook
                    )
                results.append(res)
                on_done(res)
                submit(w)
        return results

    def close(self) -> None:
        for pool in self.pools:
            try:
                pool.submit(_shutdown_slot).result(timeout=30)
            except Exception:  # noqa: BLE001
                pass
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- grouping fits by compiled model ------------------------------------------------------

# Relative cost of a group's first fit (its compile) and of each fit, for balancing workers:
# measured on the shipped registry, a compile took 8-26 s and a fit's sampling 2-17 s.
COMPILE_COST, FIT_COST, UNCOMPILED_COST = 3.0, 1.0, 0.2
_REGISTRIES: dict[str, object] = {}
_GROUPS: dict[tuple[str, str], str] = {}


def compile_group(job: Job) -> str:
    """The compiled model an indicator job will use ("share/T8-N4-S2"; "" for none), from the
    same as-of view and horizon the notebook fits; reads files only."""
    key = (job.id, job.output_notebook)
    if key not in _GROUPS:
        _GROUPS[key] = _compile_group(job)
    return _GROUPS[key]


def _compile_group(job: Job) -> str:
    if job.kind != "indicator":
        return ""
    p = job.parameters
    try:
        from chipcast.data import as_of
        from chipcast.evaluate.probability import horizon_for
        from chipcast.models import size_class
        from chipcast.registry import load

        root = str(p["root"])
        if root not in _REGISTRIES:
            _REGISTRIES[root] = load(Path(root))
        reg = _REGISTRIES[root]
        ind = reg.indicators[str(p["indicator_id"])]  # type: ignore[attr-defined]
        date = dt.date.fromisoformat(str(p["as_of"]))
        claims = [
            c
            for c in reg.claims.values()  # type: ignore[attr-defined]
            if c.indicator == ind.id and c.status != "not_checkable"
        ]
        obs = as_of(reg.indicator_observations(ind.id), date)  # type: ignore[attr-defined]
        return size_class(obs, ind, date, horizon_for(claims, date))
    except Exception:  # noqa: BLE001 - grouping is an optimisation; the job reports its own errors
        return ""


def assign(
    jobs: list[Job],
    workers: int,
    group_of: Callable[[Job], str],
    seen: list[set[str]] | None = None,
) -> list[list[Job]]:
    """Queues for `workers`: whole groups, largest first, each to the worker it costs least
    (a worker that compiled a group already pays no compile for it), jobs of a group
    consecutive; the order within a group is the jobs' order."""
    seen = seen or [set() for _ in range(workers)]
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(group_of(job), []).append(job)

    def cost(g: str, n: int, w: int) -> float:
        if not g:
            return UNCOMPILED_COST * n
        return FIT_COST * n + (0.0 if g in seen[w] else COMPILE_COST)

    load = [0.0] * workers
    queues: list[list[Job]] = [[] for _ in range(workers)]

    def size(g: str, n: int) -> float:
        return UNCOMPILED_COST * n if not g else FIT_COST * n + COMPILE_COST

    for g, members in sorted(groups.items(), key=lambda kv: (-size(kv[0], len(kv[1])), kv[0])):
        w = min(range(workers), key=lambda k: (load[k] + cost(g, len(members), k), k))
        load[w] += cost(g, len(members), w)
        queues[w].extend(members)
    return queues


def _next_job(queues: list[list[Job]], w: int, seen: set[str]) -> Job | None:
    """The next job for worker `w`: its own queue first; else steal from the longest queue, a
    group `w` has compiled if there is one (from the back: the owner reaches it last)."""
    if queues[w]:
        return queues[w].pop(0)
    donors = sorted((k for k in range(len(queues)) if queues[k]), key=lambda k: -len(queues[k]))
    if not donors:
        return None
    for k in donors:
        for i in range(len(queues[k]) - 1, -1, -1):
            if compile_group(queues[k][i]) in seen:
                return queues[k].pop(i)
    return queues[donors[0]].pop()


def _take(it: Iterator[Job], n: int) -> Iterable[Job]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


def run_dask(
    jobs: list[Job], address: str, on_start: Callable[[Job], None], on_done: OnDone
) -> list[JobResult]:
    """Run jobs on a Dask distributed cluster; each worker needs the environment and the project.

    Each worker process keeps one warm kernel across its jobs (and so its compiled models), and
    fits that share a compiled model are sent to the same worker (`assign`), which Dask may
    still move to an idle one.
    """
    from dask.distributed import Client, as_completed

    results: list[JobResult] = []
    with Client(address, set_as_default=False) as client:
        workers = sorted(client.scheduler_info()["workers"]) or [None]
        queues = assign(jobs, len(workers), compile_group)
        futures = {}
        for addr, queue in zip(workers, queues, strict=True):
            for job in queue:
                on_start(job)
                fut = client.submit(
                    _run_in_lazy_slot,
                    job,
                    key=f"chipcast-{job.id}-{time.time_ns()}",
                    pure=False,
                    workers=[addr] if addr else None,
                    allow_other_workers=True,
                )
                futures[fut] = job
        # the client is not the process default, so as_completed must be given its loop
        for fut in as_completed(list(futures), loop=client.loop):
            job = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001
                res = JobResult(
                    job.id, "failed", 0.0, f"dask worker failed: {exc}", job.output_notebook
                )
            results.append(res)
            on_done(res)
        # a task, not `client.run`: that runs in the worker's event loop, where the kernel's
        # shutdown cannot run its own loop, and the kernel outlived the refresh
        stops = [
            client.submit(
                _shutdown_dask_slot,
                key=f"chipcast-stop-{addr}-{time.time_ns()}",
                pure=False,
                workers=[addr],
                allow_other_workers=False,
            )
            for addr in workers
            if addr
        ]
        try:
            client.gather(stops, errors="skip")
        except Exception:  # noqa: BLE001 - a worker that is gone took its kernel with it
            pass
    return results


def _shutdown_dask_slot() -> bool:
    global _SLOT
    _shutdown_slot()
    _SLOT = None
    return True


class Runner:
    """Where a refresh's jobs run: a local pool of preheated kernels (started at the first job,
    reused by the later phases of the run) or a Dask cluster at `scheduler`."""

    def __init__(self, cwd: str, max_jobs: int, workers: int | None, scheduler: str | None):
        self.cwd, self.max_jobs = cwd, max_jobs
        self.workers, self.scheduler = workers, scheduler
        self.pool: LocalPool | None = None

    def run(
        self, jobs: list[Job], on_start: Callable[[Job], None], on_done: OnDone
    ) -> list[JobResult]:
        if not jobs:
            return []
        if self.scheduler:
            return run_dask(jobs, self.scheduler, on_start, on_done)
        if self.pool is None:
            self.pool = LocalPool(min(self.workers or os.cpu_count() or 1, self.max_jobs), self.cwd)
        return self.pool.run(jobs, on_start, on_done)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
