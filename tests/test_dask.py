"""`chipcast refresh --scheduler ADDRESS` runs the same jobs on a Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chipcast.cli import main
from tests.pipeline_support import fake_indicator_notebook, write_notebook

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c.scheduler_address


def _kernels_on_workers(address: str) -> list[str]:
    """The command lines of the Jupyter kernels the cluster's worker processes have running."""
    from dask.distributed import Client

    def kernels() -> list[str]:
        import psutil

        children = psutil.Process().children(recursive=True)
        return [" ".join(c.cmdline()) for c in children if "ipykernel" in " ".join(c.cmdline())]

    with Client(address, set_as_default=False) as client:
        return [k for found in client.run(kernels).values() for k in found]


def test_refresh_on_a_local_cluster(mini: Path, cluster: str) -> None:
    fake_indicator_notebook(
        mini, "if indicator_id == 'tariff_rate':\n    raise ValueError('bad tariff')"
    )
    write_notebook(mini / "notebooks" / "scoreboard.ipynb", "print('scoreboard')")
    args = [
        "refresh",
        "--root",
        str(mini),
        "--today",
        "2026-11-23",
        "--no-progress",
        "--scheduler",
        cluster,
    ]
    assert main(args) == 1  # one job failed: same exit code as the local pool
    run = json.loads(next((mini / "reports/runs").glob("*/run.json")).read_text())
    status = {j["id"]: j["status"] for j in run["jobs"]}
    assert status == {
        "acme_revenue": "ran",
        "dom_share": "ran",
        "tariff_rate": "failed",
        "scoreboard": "ran",
    }
    assert (
        "ValueError: bad tariff"
        in next(j for j in run["jobs"] if j["id"] == "tariff_rate")["error"]
    )
    assert list((mini / "forecasts/history").glob("*.csv"))
    assert _kernels_on_workers(cluster) == []  # the workers' kernels end with the refresh
    # same planning: nothing changed for the good jobs, the failed one is retried
    fake_indicator_notebook(mini)
    assert main(args) == 0
    runs = sorted((mini / "reports/runs").iterdir())
    status = {j["id"]: j["status"] for j in json.loads((runs[-1] / "run.json").read_text())["jobs"]}
    assert status["tariff_rate"] == "ran" and status["dom_share"] == "skipped"


def _copies_of_dom_share(root: Path, n: int) -> None:
    """n more share indicators like dom_share (other figures, the same size class)."""
    spec = (root / "data/indicators/dom_share.yaml").read_text()
    rows = (root / "data/observations/dom_share.csv").read_text().splitlines()
    for k in range(1, n + 1):
        new = f"dom_share_{k}"
        (root / f"data/indicators/{new}.yaml").write_text(
            spec.replace("id: dom_share", f"id: {new}")
        )
        shifted = [rows[0]] + [r.replace(",0.", f",0.{k}", 1) for r in rows[1:]]
        (root / f"data/observations/{new}.csv").write_text("\n".join(shifted) + "\n")


def test_real_fits_on_a_cluster_compile_once_per_group_and_match_the_local_pool(
    mini: Path, cluster: str, tmp_path: Path
) -> None:
    """Three share indicators of one size class, a flow and a policy level, fitted by the real
    notebook on two Dask workers: every fit runs, the three shares share one worker and one
    compile, and the trajectories are the local pool's, draw for draw (same seeds)."""
    import shutil

    import pandas as pd

    shutil.copytree(REPO / "notebooks", mini / "notebooks")
    _copies_of_dom_share(mini, 2)
    local = tmp_path / "local"
    shutil.copytree(mini, local)
    args = ["--today", "2026-11-23", "--no-progress", "--profile", "test-small"]
    assert main(["refresh", "--root", str(mini), *args, "--scheduler", cluster]) == 0
    assert main(["refresh", "--root", str(local), *args, "--jobs", "2"]) == 0
    run = json.loads(next((mini / "reports/runs").glob("*/run.json")).read_text())
    fits = [j for j in run["jobs"] if j["kind"] == "indicator"]
    assert {j["status"] for j in fits} == {"ran"} and len(fits) == 5
    shares = [j for j in fits if j["id"].startswith("dom_share")]
    assert len({j["worker"] for j in shares}) == 1  # one group, one worker
    assert sum(j["diagnostics"]["compiles"] for j in shares) == 1
    per_worker: dict[str, int] = {}
    for j in fits:
        per_worker[j["worker"]] = per_worker.get(j["worker"], 0) + j["diagnostics"]["compiles"]
    assert len(per_worker) <= 2 and sum(per_worker.values()) == 2  # share + growth
    for j in fits:
        a = pd.read_csv(mini / f"forecasts/trajectories/{j['id']}.csv")
        b = pd.read_csv(local / f"forecasts/trajectories/{j['id']}.csv")
        pd.testing.assert_frame_equal(a, b)
