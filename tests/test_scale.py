"""benchmarks/scale.py on a tiny registry, and `chipcast backtest`'s run time."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chipcast.cli import main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def test_scale_benchmark_on_a_tiny_registry(mini: Path) -> None:
    shutil.copytree(REPO / "notebooks", mini / "notebooks")
    res = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scale.py"), "--root", str(mini)]
        + ["--today", "2026-11-23", "--profile", "test-small", "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    last = res.stdout.strip().splitlines()[-1]
    m = re.fullmatch(
        r"n1=(\d+) s1=([\d.]+) c1=(\d+) n3=(\d+) s3=([\d.]+) c3=(\d+) "
        r"n10=(\d+) s10=([\d.]+) c10=(\d+) per_indicator_ratio=([\d.]+)",
        last,
    )
    assert m, last
    n1, c1, n3, c3, n10, c10 = (int(m.group(i)) for i in (1, 3, 4, 6, 7, 9))
    assert (n1, n3, n10) == (3, 9, 30)  # the mini registry: a share, a flow, a policy level
    # 20 of the 30 fits sample a model: compiled far fewer times than fitted
    assert 1 <= c1 <= 2 * 2 and c3 >= c1 and c10 < 20, last
    s1, s10 = float(m.group(2)), float(m.group(8))
    assert float(m.group(10)) == pytest.approx((s10 / n10) / (s1 / n1), abs=0.011)
    assert "10x: 30 indicators" in res.stdout


def test_backtest_prints_its_run_time(mini: Path, capsys) -> None:
    args = ["backtest", "dom_share", "--root", str(mini), "--max-origins", "1"]
    assert main([*args, "--profile", "test-small", "--today", "2026-11-23"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"backtest: [\d.]+ s; \d+ model\(s\) compiled", err), err


def test_the_scale_sample_keeps_every_family_and_only_its_claims(mini: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    import datetime as dt

    import numpy as np
    import yaml
    from scale import keep_sample

    # a second flow, so that a sample of three must drop one of the two
    ind = yaml.safe_load((mini / "data/indicators/acme_revenue.yaml").read_text())
    (mini / "data/indicators/acme_revenue_b.yaml").write_text(
        yaml.safe_dump({**ind, "id": "acme_revenue_b"}, sort_keys=False)
    )
    shutil.copy(
        mini / "data/observations/acme_revenue.csv", mini / "data/observations/acme_revenue_b.csv"
    )
    today = dt.date(2026, 11, 23)
    kept = keep_sample(mini, today, 3, np.random.default_rng(1))
    assert len(kept) == 3 and {"dom_share", "tariff_rate"} <= set(kept)
    assert {p.stem for p in (mini / "data/indicators").glob("*.yaml")} == set(kept)
    claims = [yaml.safe_load(c.read_text()) for c in (mini / "forecasts/claims").glob("*.yaml")]
    assert all(c.get("indicator") in (None, *kept) for c in claims)
    assert any(c.get("indicator") is None for c in claims)  # event claims stay
    assert keep_sample(mini, today, 0, np.random.default_rng(1)) == kept  # 0: keep everything
