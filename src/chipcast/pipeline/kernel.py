"""Notebook jobs and the preheated kernels that run them.

Start-up dominates small fits (STACK-NOTES: ~3 s to start a kernel, ~3 s to import PyMC), so a
worker keeps one kernel, imports the heavy libraries into it before the first job arrives (the
preheated-kernel idea of Voilà), and runs job after job in it, resetting the namespace in between.
Every job is bounded by a timeout; a kernel that hangs or dies is killed and replaced, and the job
is recorded as failed with its partly executed notebook. Plain papermill is the fallback.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

WARM_UP = (
    "import warnings\n"
    "warnings.filterwarnings('ignore', message='.*could not link to a BLAS.*')\n"
    "import pymc, arviz, vl_convert\n"
    "import chipcast.analysis, chipcast.models\n"
    # what only the last job (the scoreboard) needs is imported behind the indicator jobs
    "from chipcast.pipeline.kernel import SCOREBOARD_IMPORTS, import_in_background\n"
    "import_in_background(SCOREBOARD_IMPORTS)"
)
# statsmodels for the baselines' scores; scoringrules, whose import JIT-compiles its gufuncs
# (~2 s together): needed by the scoreboard, in a kernel, and by the site, in the CLI process.
# scoringrules is imported plainly here (numba and all): `chipcast.evaluate.scores` hides numba
# for its own import, which is safe only where no other thread may be importing numba.
SCOREBOARD_IMPORTS = (
    "statsmodels.regression.linear_model",
    "scoringrules",
    "chipcast.evaluate.scoreboard",
)
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


def worker_id() -> str:
    """Which worker process runs a job (host:pid): compiled models live in that process's kernel,
    so per-worker compile counts are sums over the jobs it ran."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
            extra={"worker": worker_id()},
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
