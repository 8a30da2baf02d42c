"""The real notebooks, end to end, on the fixture registry with the small-draw profile."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from chipcast.cli import main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def proj(mini: Path) -> Path:
    shutil.copytree(REPO / "notebooks", mini / "notebooks")
    return mini


def test_real_refresh_then_as_of_replay(proj: Path) -> None:
    args = ["refresh", "--root", str(proj), "--no-progress", "--profile", "test-small"]
    assert main([*args, "--today", "2025-08-01"]) == 0
    run = json.loads(next((proj / "reports/runs").glob("*/run.json")).read_text())
    assert {j["id"]: j["status"] for j in run["jobs"]} == {
        "acme_revenue": "ran",
        "dom_share": "ran",
        "tariff_rate": "ran",
        "scoreboard": "ran",
    }
    hist = pd.concat(pd.read_csv(f) for f in (proj / "forecasts/history").glob("*.csv"))
    first = hist[hist["claim_id"] == "dom-share-55-2027"].iloc[-1]
    assert 0 <= first["probability"] <= 1 and first["model"] == "share"
    assert first["q050"] < first["q500"] < first["q950"]
    # every indicator page of the site has its executed notebook rendered offline
    assert (proj / "reports/site/index.html").exists()
    # the same data, code and seed give the same probabilities
    assert main([*args, "--today", "2026-11-23", "--as-of", "2025-08-01"]) == 0
    replay = pd.read_csv(proj / "reports/as-of/2025-08-01/forecasts.csv")
    again = replay[replay["claim_id"] == "dom-share-55-2027"].iloc[-1]
    assert again["probability"] == first["probability"] and again["q500"] == pytest.approx(
        first["q500"], rel=1e-9
    )


def test_forecast_command_prints_probabilities(mini: Path, capsys) -> None:
    code = main(
        [
            "forecast",
            "dom-share-55-2027",
            "rule-replacement",
            "--root",
            str(mini),
            "--today",
            "2025-08-01",
            "--profile",
            "test-small",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "dom-share-55-2027" in out and "share" in out
    assert "rule-replacement" in out and "0.40" in out


def test_plain_papermill_runs_each_notebook_with_defaults(tmp_path: Path) -> None:
    """Every notebook runs top to bottom under papermill with its default parameters."""
    import papermill as pm

    for name in ("claim", "scoreboard"):
        pm.execute_notebook(
            str(REPO / "notebooks" / f"{name}.ipynb"),
            str(tmp_path / f"{name}.ipynb"),
            kernel_name="python3",
            cwd=str(REPO / "notebooks"),
            progress_bar=False,
        )
