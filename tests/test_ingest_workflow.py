"""The schedule ingests before it refreshes, a failed ingest never stops the refresh, and the
ingested files are committed; `make run` stays offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_workflow_ingests_before_the_refresh_and_commits_the_ingested_files() -> None:
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "refresh.yml").read_text())
    steps = wf["jobs"]["refresh"]["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    ingest = next(i for i, r in enumerate(runs) if "chipcast ingest sec-edgar" in r)
    refresh = next(i for i, r in enumerate(runs) if "chipcast refresh" in r)
    assert ingest < refresh
    assert "chipcast ingest federal-register" in runs[ingest]
    assert steps[ingest].get("continue-on-error") is True
    assert "CHIPCAST_USER_AGENT" in steps[ingest].get("env", {})
    assert any("git add data/observations data/raw data/records" in r for r in runs[refresh:])


def test_make_run_does_not_ingest() -> None:
    res = subprocess.run(["make", "-n", "run"], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "chipcast refresh" in res.stdout and "ingest" not in res.stdout
