"""`chipcast refresh --scheduler ADDRESS` runs the same jobs on a Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chipcast.cli import main
from tests.pipeline_support import fake_indicator_notebook, write_notebook

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c.scheduler_address


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
    # same planning: nothing changed for the good jobs, the failed one is retried
    fake_indicator_notebook(mini)
    assert main(args) == 0
    runs = sorted((mini / "reports/runs").iterdir())
    status = {j["id"]: j["status"] for j in json.loads((runs[-1] / "run.json").read_text())["jobs"]}
    assert status["tariff_rate"] == "ran" and status["dom_share"] == "skipped"
