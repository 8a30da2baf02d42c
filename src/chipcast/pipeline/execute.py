"""Run notebook jobs: a local pool of preheated kernels, plain papermill, or a Dask cluster.

Start-up dominates small fits (STACK-NOTES: ~3 s to start a kernel, ~3 s to import PyMC), so the
local pool keeps one kernel per worker process, imports the heavy libraries into it before the
first job arrives (the preheated-kernel idea of Voilà), and runs job after job in it, resetting
the namespace in between. Every job is bounded by a timeout; a kernel that hangs or dies is
killed and replaced, and the job is recorded as failed with its partly executed notebook.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

WARM_UP = (
    "import warnings\n"
    "warnings.filterwarnings('ignore', message='.*could not link to a BLAS.*')\n"
    "import pymc, arviz, vl_convert\n"
    "import chipcast.analysis, chipcast.models\n"
    # what only the last job (the scoreboard) needs is imported behind the indicator jobs
    "from chipcast.pipeline.execute import SCOREBOARD_IMPORTS, import_in_background\n"
    "import_in_background(SCOREBOARD_IMPORTS)"
)
# statsmodels for the baselines' scores; scoringrules, whose import JIT-compiles its gufuncs
# (~2 s together): needed by the scoreboard, in a kernel, and by the site, in the CLI process.
SCOREBOARD_IMPORTS = ("statsmodels.api", "scoringrules", "chipcast.evaluate.scoreboard")
# Between jobs the user namespace is emptied (names a notebook defined, not IPython's own); this
# costs ~6 ms where `%reset -f` costs ~0.3 s, and leaves no variable for the next job to lean on.
RESET = (
    "_ip = get_ipython()\n"
    "for _k in [k for k in _ip.user_ns if not k.startswith('_') and k not in _ip.user_ns_hidden]:\n"
    "    del _ip.user_ns[_k]\n"
    "del _ip, _k"
)


def import_in_background(modules: tuple[str, ...]) -> threading.Thread:
    """Import `modules` in a daemon thread, so a later job or step finds them loaded (an import
    that fails here is left to its real user, which imports it again and reports)."""

    def work() -> None:
        for m in modules:
            try:
                importlib.import_module(m)
            except Exception:  # noqa: BLE001
                pass

    t = threading.Thread(target=work, name="chipcast-prewarm", daemon=True)
    t.start()
    return t


@dataclass(frozen=True)
class Job:
    """One notebook to run with its parameters; picklable, so it can cross process lines."""

    id: str
    kind: str  # indicator | scoreboard | test
    notebook: str
    output_notebook: str
    parameters: dict[str, object]
    cwd: str
    timeout: float = 900.0
    start_timeout: float = 60.0


@dataclass
class JobResult:
    id: str
    status: str  # ran | failed
    seconds: float
    error: str = ""
    notebook: str = ""
    attempts: int = 1
    extra: dict[str, object] = field(default_factory=dict)


def _parameterized(job: Job):
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(job.notebook)
    nb = parameterize_notebook(nb, job.parameters, kernel_name="python3", language="python")
    return nb


def _error_text(exc: BaseException) -> str:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if isinstance(exc, CellTimeoutError):
        return f"timed out: {str(exc).splitlines()[0]}"
    if isinstance(exc, DeadKernelError):
        return f"kernel died: {exc}"
    if isinstance(exc, CellExecutionError):
        name = getattr(exc, "ename", "") or type(exc).__name__
        value = getattr(exc, "evalue", "") or ""
        return f"{name}: {value}".strip()
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _save(nb, path: str) -> None:
    import nbformat

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


# --- plain papermill (one kernel per job) -------------------------------------------------


def run_papermill(job: Job) -> JobResult:
    """The plain way: papermill starts a kernel, runs the notebook, stops the kernel."""
    import papermill as pm

    t0 = time.perf_counter()
    attempts = 0
    while True:
        attempts += 1
        try:
            pm.execute_notebook(
                job.notebook,
                job.output_notebook,
                parameters=job.parameters,
                kernel_name="python3",
                cwd=job.cwd,
                progress_bar=False,
                start_timeout=job.start_timeout,
                execution_timeout=job.timeout,
            )
            return JobResult(
                job.id,
                "ran",
                time.perf_counter() - t0,
                notebook=job.output_notebook,
                attempts=attempts,
            )
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none stops the run
            if attempts == 1 and _is_start_failure(exc):
                continue  # one retry on a kernel that failed to start (port clash, slow start)
            return JobResult(
                job.id,
                "failed",
                time.perf_counter() - t0,
                _error_text(exc),
                job.output_notebook,
                attempts,
            )


def _is_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(
        s in text
        for s in (
            "Kernel didn't respond",
            "Address already in use",
            "kernel failed to start",
            "TimeoutError",
        )
    )


# --- preheated kernels (one per worker process, reused across jobs) -----------------------


class KernelSlot:
    """One warm kernel in this process, with the heavy imports already done.

    The kernel talks over IPC sockets in a private temporary directory, not TCP on localhost:
    parallel workers cannot collide on ports (papermill#511), no other local user can connect,
    and ipykernel 7 has no "running over TCP without encryption" warning to print into every
    refresh log.
    """

    def __init__(self, cwd: str, start_timeout: float = 60.0):
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.loop = asyncio.new_event_loop()
        self.km = None
        self.kc = None  # one client for the kernel's life: a new one per job costs ~0.2 s
        self.starts = 0
        self.sockets: str | None = None  # the IPC socket directory of the running kernel

    def ensure(self) -> None:
        if self.km is not None and self.loop.run_until_complete(self.km.is_alive()):
            return
        self.kill()
        try:
            self.loop.run_until_complete(self._start())
        except Exception:  # noqa: BLE001 - retry a failed start once
            self.kill()
            self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self.sockets = tempfile.mkdtemp(prefix="chipcast-kernel-")
        km = AsyncKernelManager(
            kernel_name="python3", transport="ipc", ip=os.path.join(self.sockets, "k")
        )
        await km.start_kernel(cwd=self.cwd)
        self.km = km
        self.kc = km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=self.start_timeout)
        self.kc.allow_stdin = False
        self.starts += 1
        await self._run_source(WARM_UP, timeout=max(self.start_timeout, 120))

    async def _run_source(self, source: str, timeout: float) -> None:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        client = NotebookClient(nb, km=self.km, timeout=timeout, startup_timeout=self.start_timeout)
        client.kc = self.kc
        await client.async_execute()

    def run(self, job: Job) -> JobResult:
        from nbclient import NotebookClient

        t0 = time.perf_counter()
        try:
            self.ensure()
        except Exception as exc:  # noqa: BLE001
            return JobResult(
                job.id,
                "failed",
                time.perf_counter() - t0,
                f"kernel failed to start: {exc}",
                attempts=2,
            )
        nb = _parameterized(job)
        client = NotebookClient(
            nb,
            km=self.km,
            timeout=job.timeout,
            startup_timeout=job.start_timeout,
            resources={"metadata": {"path": job.cwd}},
        )
        client.kc = self.kc
        status, error = "ran", ""
        try:
            self.loop.run_until_complete(
                asyncio.wait_for(client.async_execute(), timeout=job.timeout + 30)
            )
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            status, error = (
                "failed",
                _error_text(exc)
                if not isinstance(exc, TimeoutError)
                else f"timed out after {job.timeout:.0f} s",
            )
            if not isinstance(exc, Exception) or "CellExecutionError" not in type(exc).__name__:
                self.kill()  # hung or dead: never reuse it
        finally:
            _save(nb, job.output_notebook)
        if status == "ran" or self.km is not None:
            try:
                self.loop.run_until_complete(self._run_source(RESET, timeout=30))
            except Exception:  # noqa: BLE001
                self.kill()
        return JobResult(
            job.id,
            status,
            time.perf_counter() - t0,
            error,
            job.output_notebook,
            extra={"worker": WORKER_ID},
        )

    def kill(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
            self.kc = None
        if self.km is not None:
            try:
                self.loop.run_until_complete(self.km.shutdown_kernel(now=True))
            except Exception:  # noqa: BLE001
                pass
            self.km = None
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)
            self.sockets = None


_SLOT: KernelSlot | None = None
# Which worker process ran a job (host:pid): compiled models live in that process's kernel, so
# per-worker compile counts are sums over the jobs it ran.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


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
    global _SLOT, WORKER_ID
    if _SLOT is None:
        WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
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
        try:
            client.run(_shutdown_dask_slot)
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
