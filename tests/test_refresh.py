"""End-to-end refresh on the fixture registry, with stand-in notebooks so it stays fast.

The stand-in indicator notebook has the real one's parameters and outputs but replaces the PyMC
fit by a seeded random walk (tests/pipeline_support); `test_refresh_real.py` runs the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from chipcast.cli import main
from chipcast.pipeline.lock import RefreshLock
from tests.conftest import snapshot
from tests.pipeline_support import fake_indicator_notebook

pytestmark = pytest.mark.slow

TODAY = "2026-11-23"


def refresh(root: Path, *extra: str) -> int:
    return main(
        [
            "refresh",
            "--root",
            str(root),
            "--today",
            TODAY,
            "--no-progress",
            "--jobs",
            "2",
            "--profile",
            "test-small",
            *extra,
        ]
    )


def last_run(root: Path) -> dict:
    runs = sorted((root / "reports" / "runs").iterdir())
    return json.loads((runs[-1] / "run.json").read_text())


def statuses(run: dict) -> dict[str, str]:
    return {j["id"]: j["status"] for j in run["jobs"]}


def tracked(root: Path) -> dict[str, bytes]:
    return {
        k: v for k, v in snapshot(root).items() if k.startswith(("data/", "forecasts/", "reports/"))
    }


@pytest.fixture
def proj(mini: Path) -> Path:
    fake_indicator_notebook(mini)
    return mini


def test_cold_warm_incremental(proj: Path, capsys) -> None:
    # cold: every modelled indicator runs, forecasts go to history, the site is built
    assert refresh(proj) == 0
    run = last_run(proj)
    assert statuses(run) == {"acme_revenue": "ran", "dom_share": "ran", "tariff_rate": "ran"}
    hist = sorted((proj / "forecasts/history").glob("*.csv"))
    assert len(hist) == 1
    rows = pd.read_csv(hist[0])
    # open claims with a model (dom-share-55-2027; acme and xss are not open by today) + the event judgment
    assert set(rows["claim_id"]) >= {"dom-share-55-2027", "rule-replacement"}
    assert (proj / "forecasts/trajectories/dom_share.csv").exists()
    # the fit's summary beside it: dom-share-55-2027 against IDC's next figure (a fake fit:
    # no source offsets)
    summary = json.loads((proj / "forecasts/trajectories/dom_share.summary.json").read_text())
    assert [c["claim_id"] for c in summary["claims"]] == ["dom-share-55-2027"]
    assert summary["claims"][0]["next"]["source"] == "idc" and summary["sources"] == []
    assert (proj / "reports/site/index.html").exists()
    assert (proj / "reports/site/watch.html").exists()

    # warm: nothing new -> no job runs, nothing is written
    before = tracked(proj)
    assert refresh(proj) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert tracked(proj) == before

    # incremental: one new figure re-runs only its indicator
    assert (
        main(
            [
                "observe",
                "acme_revenue",
                "--root",
                str(proj),
                "--period",
                "2025-06-30",
                "--value",
                "280",
                "--source",
                "acme",
                "--published",
                "2025-07-20",
            ]
        )
        == 0
    )
    assert refresh(proj) == 0
    assert statuses(last_run(proj)) == {
        "acme_revenue": "ran",
        "dom_share": "skipped",
        "tariff_rate": "skipped",
    }


def test_dry_run_prints_plan_and_writes_nothing(proj: Path, capsys) -> None:
    before = snapshot(proj)
    assert refresh(proj, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "RUN " in out and "dom_share" in out and "3 job(s) to run" in out
    assert snapshot(proj) == before


def test_only_and_force(proj: Path) -> None:
    assert refresh(proj, "--only", "dom-share-55-2027") == 0
    assert statuses(last_run(proj)) == {
        "dom_share": "ran",
        "acme_revenue": "skipped",
        "tariff_rate": "skipped",
    }
    assert refresh(proj, "--force", "--only", "tariff_rate") == 0
    assert statuses(last_run(proj))["tariff_rate"] == "ran"


def test_only_with_an_unknown_id_is_bad_usage_and_writes_nothing(proj: Path, capsys) -> None:
    before = snapshot(proj)
    assert refresh(proj, "--only", "no-such-thing") == 2
    assert "--only no-such-thing: neither an indicator nor a claim" in capsys.readouterr().err
    assert snapshot(proj) == before


def test_as_of_reproduces_an_earlier_forecast_and_leaves_history(proj: Path) -> None:
    assert (
        main(
            [
                "refresh",
                "--root",
                str(proj),
                "--today",
                "2025-08-01",
                "--no-progress",
                "--profile",
                "test-small",
            ]
        )
        == 0
    )
    hist = pd.concat(pd.read_csv(f) for f in (proj / "forecasts/history").glob("*.csv"))
    earlier = hist[hist["claim_id"] == "dom-share-55-2027"].iloc[-1]
    # new data arrives later; history grows
    assert (
        main(
            [
                "observe",
                "dom_share",
                "--root",
                str(proj),
                "--period",
                "2025-12-31",
                "--value",
                "0.41",
                "--source",
                "idc",
                "--published",
                "2026-04-01",
            ]
        )
        == 0
    )
    assert refresh(proj) == 0
    history_files = sorted((proj / "forecasts/history").glob("*.csv"))
    before = {p.name: p.read_bytes() for p in history_files}
    # what would the system have said on 2025-08-01?
    assert (
        main(
            [
                "refresh",
                "--root",
                str(proj),
                "--today",
                TODAY,
                "--as-of",
                "2025-08-01",
                "--no-progress",
                "--profile",
                "test-small",
            ]
        )
        == 0
    )
    replay = pd.read_csv(proj / "reports/as-of/2025-08-01/forecasts.csv")
    again = replay[replay["claim_id"] == "dom-share-55-2027"].iloc[-1]
    assert again["probability"] == earlier["probability"]
    assert again["q500"] == earlier["q500"]
    assert {
        p.name: p.read_bytes() for p in sorted((proj / "forecasts/history").glob("*.csv"))
    } == before


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            "if indicator_id == 'tariff_rate':\n    raise RuntimeError('boom in the model')",
            "RuntimeError: boom in the model",
        ),
        ("if indicator_id == 'tariff_rate':\n    import time\n    time.sleep(600)", "timed out"),
        ("if indicator_id == 'tariff_rate':\n    import os\n    os._exit(1)", "kernel died"),
    ],
    ids=["raises", "hangs", "kernel-dies"],
)
def test_a_failing_job_never_stops_the_others(mini: Path, fault: str, message: str, capsys) -> None:
    fake_indicator_notebook(mini)
    assert refresh(mini) == 0  # a good forecast first
    good_meta = json.loads((mini / "forecasts/trajectories/tariff_rate.json").read_text())
    fake_indicator_notebook(mini, fault)
    assert refresh(mini, "--force", "--timeout", "20") == 1
    run = last_run(mini)
    job = next(j for j in run["jobs"] if j["id"] == "tariff_rate")
    assert job["status"] == "failed" and message in job["error"], job
    assert statuses(run)["dom_share"] == "ran" and statuses(run)["acme_revenue"] == "ran"
    runs = sorted((mini / "reports/runs").iterdir())
    assert (runs[-1] / "indicator-tariff_rate.ipynb").exists()  # the executed copy, for debugging
    meta = json.loads((mini / "forecasts/trajectories/tariff_rate.json").read_text())
    assert (
        meta["stale"] is True and meta["fingerprint"] == good_meta["fingerprint"]
    )  # last good kept
    assert "FAILED tariff_rate" in capsys.readouterr().err


def test_second_refresh_exits_3_while_one_runs(proj: Path, capsys) -> None:
    before = snapshot(proj)
    with RefreshLock(proj / ".chipcast" / "refresh.lock"):
        assert refresh(proj) == 3
    assert "another refresh is running" in capsys.readouterr().err
    assert {k: v for k, v in snapshot(proj).items() if not k.startswith(".chipcast")} == before


def test_crash_during_history_write_leaves_history_unchanged(proj: Path, monkeypatch) -> None:
    assert refresh(proj) == 0
    before = {p.name: p.read_bytes() for p in (proj / "forecasts/history").iterdir()}
    assert (
        main(
            [
                "observe",
                "dom_share",
                "--root",
                str(proj),
                "--period",
                "2025-12-31",
                "--value",
                "0.41",
                "--source",
                "idc",
                "--published",
                "2026-04-01",
            ]
        )
        == 0
    )
    import chipcast.fileio

    def crash(fd: int) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(chipcast.fileio.os, "fsync", crash)
    with pytest.raises(OSError, match="power cut"):
        refresh(proj)
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in (proj / "forecasts/history").iterdir()}
    assert after == before
    # the next refresh redoes the work and completes
    assert refresh(proj) == 0
    assert (
        len(list((proj / "forecasts/history").glob("*.csv")))
        == len([n for n in before if n.endswith(".csv")]) + 1
    )


def test_invalid_data_exits_2_and_writes_nothing(proj: Path) -> None:
    path = proj / "data/observations/dom_share.csv"
    path.write_text(path.read_text() + "2025-12-31,,1.7,idc,2026-04-01,,,,,\n")
    before = snapshot(proj)
    assert refresh(proj) == 2
    assert snapshot(proj) == before


def test_a_warm_kernel_talks_over_private_ipc_sockets(tmp_path: Path) -> None:
    """No TCP ports to collide on or to expose: the kernel's sockets live in a private directory
    that goes when the kernel does."""
    from chipcast.pipeline.kernel import KernelSlot

    slot = KernelSlot(str(tmp_path))
    try:
        slot.ensure()
        assert slot.km.transport == "ipc"
        sockets = Path(slot.sockets)
        assert sockets.is_dir() and any(sockets.iterdir())
        assert (sockets.stat().st_mode & 0o077) == 0  # mkdtemp: only the owner can connect
    finally:
        slot.kill()
    assert not sockets.exists()
