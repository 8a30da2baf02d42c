"""The scheduled GitHub Actions workflow: what can be checked without GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "refresh.yml"


def test_workflow_is_scheduled_and_commits_history() -> None:
    wf = yaml.safe_load(WORKFLOW.read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as true
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]
    steps = wf["jobs"]["refresh"]["steps"]
    text = "\n".join(str(s.get("run", "")) for s in steps)
    assert "make .venv/.installed" in text and "chipcast refresh" in text
    assert "git add forecasts/history forecasts/trajectories" in text
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(s.get("with", {}).get("path") == "reports/site" for s in steps)


def test_the_make_target_the_workflow_calls_exists() -> None:
    res = subprocess.run(
        ["make", "-n", ".venv/.installed", "run"], cwd=REPO, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "chipcast refresh" in res.stdout


def test_paths_the_workflow_commits_exist() -> None:
    for p in ("forecasts/history", "forecasts/trajectories"):
        assert (REPO / p).is_dir()
