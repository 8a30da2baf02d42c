"""Scoring rules against values worked by hand or from the literature."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from chipcast.evaluate import scores as sc

QUANTILES = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)


def normal_crps(mu: float, sigma: float, y: float) -> float:
    """The closed-form CRPS of N(mu, sigma^2), from scoringrules (the reference value)."""
    import scoringrules as sr

    return float(sr.crps_normal(y, mu, sigma, backend="numpy"))


def test_the_normal_reference_is_the_closed_form() -> None:
    assert normal_crps(0, 1, 0) == pytest.approx((math.sqrt(2) - 1) / math.sqrt(math.pi))


def quasi_normal(m: int = 4000, mu: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """Evenly spread 'draws' of a normal: quantiles at (i + 1/2)/m (tiny Monte Carlo error)."""
    return mu + sigma * stats.norm.ppf((np.arange(m) + 0.5) / m)


# ------------------------------------------------------------------ binary


def test_brier_hand_values() -> None:
    assert sc.brier(0.7, 1) == pytest.approx(0.09)
    assert sc.brier(0.7, 0) == pytest.approx(0.49)
    assert sc.brier(0.5, True) == pytest.approx(0.25)
    np.testing.assert_allclose(sc.brier([0.7, 0.2], [1, 0]), [0.09, 0.04])
    assert isinstance(sc.brier(0.7, 1), float)


def test_log_score_hand_values_and_clipping() -> None:
    assert sc.log_score(0.7, 1) == pytest.approx(-math.log(0.7))  # 0.35667
    assert sc.log_score(0.7, 0) == pytest.approx(-math.log(0.3))
    assert sc.log_score(0.5, 1) == pytest.approx(math.log(2))
    assert sc.log_score(0.0, 1) == pytest.approx(-math.log(sc.LOG_SCORE_EPS))  # finite
    assert sc.log_score(1.0, 1) == pytest.approx(-math.log1p(-sc.LOG_SCORE_EPS))


def test_time_averaged_log_rule() -> None:
    score, days = sc.time_averaged(_three_forecasts(), 0, "2025-01-01", "2025-01-31", "log")
    # -(10 ln 0.5 + 5 ln 0.2 + 15 ln 0.1) / 30
    expected = -(10 * math.log(0.5) + 5 * math.log(0.2) + 15 * math.log(0.1)) / 30
    assert days == 30 and score == pytest.approx(expected)


def test_binary_inputs_checked() -> None:
    with pytest.raises(ValueError):
        sc.brier(1.2, 1)
    with pytest.raises(ValueError):
        sc.log_score(0.5, 2)


def _three_forecasts() -> pd.DataFrame:
    # in force 10, 5 and 15 days over a claim open 2025-01-01 .. 2025-01-31
    return pd.DataFrame(
        {"issued_on": ["2025-01-01", "2025-01-11", "2025-01-16"], "probability": [0.5, 0.8, 0.9]}
    )


def test_time_averaged_hand_example() -> None:
    score, days = sc.time_averaged(_three_forecasts(), 1, "2025-01-01", "2025-01-31", "brier")
    # (10*0.25 + 5*0.04 + 15*0.01) / 30 = 2.85 / 30
    assert days == 30
    assert score == pytest.approx(2.85 / 30)
    log, _ = sc.time_averaged(_three_forecasts(), 1, "2025-01-01", "2025-01-31", "log")
    expected = (10 * -math.log(0.5) + 5 * -math.log(0.8) + 15 * -math.log(0.9)) / 30
    assert log == pytest.approx(expected)


def test_time_averaged_edges() -> None:
    f = _three_forecasts()
    # days before the first forecast are not counted
    score, days = sc.time_averaged(f, 1, "2024-12-20", "2025-01-31", "brier")
    assert (score, days) == (pytest.approx(2.85 / 30), 30)
    # a forecast issued before the claim opened is in force from open_from
    score, days = sc.time_averaged(f, 0, "2025-01-06", "2025-01-31", "brier")
    assert days == 25
    assert score == pytest.approx((5 * 0.25 + 5 * 0.64 + 15 * 0.81) / 25)
    # a forecast issued at or after the close does not count; same-day: the later row wins
    g = pd.concat(
        [f, pd.DataFrame({"issued_on": ["2025-01-31", "2025-01-16"], "probability": [0.0, 0.6]})],
        ignore_index=True,
    )
    score, days = sc.time_averaged(g, 1, "2025-01-01", "2025-01-31", "brier")
    assert days == 30
    assert score == pytest.approx((10 * 0.25 + 5 * 0.04 + 15 * 0.16) / 30)
    # a callable rule; nothing in force -> nan, 0 days
    score, _ = sc.time_averaged(f, 1, "2025-01-01", "2025-01-31", lambda p, o: np.abs(p - o))
    assert score == pytest.approx((10 * 0.5 + 5 * 0.2 + 15 * 0.1) / 30)
    score, days = sc.time_averaged(f, 1, "2024-01-01", "2024-12-31", "brier")
    assert math.isnan(score) and days == 0


# ------------------------------------------------------------------ CRPS


@pytest.mark.parametrize("y", [0.0, 0.7, -2.0])
def test_crps_from_draws_matches_closed_form(y: float) -> None:
    exact = normal_crps(1.0, 2.0, y)
    assert sc.crps_from_draws(quasi_normal(4000, 1.0, 2.0), y) == pytest.approx(exact, rel=2e-3)
    rand = np.random.default_rng(7).normal(1.0, 2.0, size=20000)
    assert sc.crps_from_draws(rand, y) == pytest.approx(exact, rel=0.02)


def test_crps_from_draws_is_the_fair_estimator() -> None:
    # draws 0, 1, 3 at y = 3: E|X - y| = 5/3; sum_{i != j} |xi - xj| = 12, / (3*2) = 2
    # fair: 5/3 - 2/2 = 2/3   (the energy form would give 5/3 - 12/9/2 = 1)
    assert sc.crps_from_draws([0.0, 1.0, 3.0], 3.0) == pytest.approx(2 / 3)
    assert sc.CRPS_ESTIMATOR == "pwm"


def test_crps_from_draws_vectorised_over_periods() -> None:
    draws = np.stack([quasi_normal(2000), quasi_normal(2000, 5.0)], axis=1)  # (sample, period)
    out = sc.crps_from_draws(draws, np.array([0.0, 5.0]))
    np.testing.assert_allclose(out, [0.23369, 0.23369], rtol=3e-3)
    import xarray as xr

    da = xr.DataArray(draws.T, dims=("period", "sample"))
    np.testing.assert_allclose(sc.crps_from_draws(da, np.array([0.0, 5.0])), out)


def test_crps_from_quantiles_hand_values() -> None:
    """Levels 0.25, 0.5, 0.75 own cells of width 0.375, 0.25, 0.375; quantiles -1, 0, 1.

    At y = 2 the pinball losses are 0.25*3, 0.5*2, 0.75*1 = 0.75, 1, 0.75, so the CRPS is
    2 * (0.375*0.75 + 0.25*1 + 0.375*0.75) = 1.625; at y = 0 they are 0.25, 0, 0.25: 0.375.
    """
    levels, vals = (0.25, 0.5, 0.75), (-1.0, 0.0, 1.0)
    assert sc.crps_from_quantiles(levels, vals, 2.0) == pytest.approx(1.625)
    assert sc.crps_from_quantiles(levels, vals, 0.0) == pytest.approx(0.375)
    np.testing.assert_allclose(
        sc.crps_from_quantiles(levels, np.array([vals, vals]), np.array([2.0, 0.0])),
        [1.625, 0.375],
    )


def test_crps_from_quantiles_matches_scoringrules_on_even_levels() -> None:
    import scoringrules as sr

    levels = (np.arange(10) + 0.5) / 10
    vals = stats.norm.ppf(levels)
    ours = sc.crps_from_quantiles(levels, vals, 0.3)
    theirs = float(sr.crps_quantile(0.3, vals, levels, backend="numpy"))
    assert ours == pytest.approx(theirs)


@pytest.mark.parametrize("y", [0.0, 1.5])
def test_crps_from_quantiles_converges_to_draws_crps(y: float) -> None:
    draws_crps = sc.crps_from_draws(quasi_normal(4000), y)
    levels = (np.arange(399) + 0.5) / 399
    fine = sc.crps_from_quantiles(levels, stats.norm.ppf(levels), y)
    assert fine == pytest.approx(draws_crps, rel=2e-3)
    coarse = sc.crps_from_quantiles(QUANTILES, stats.norm.ppf(QUANTILES), y)
    assert coarse == pytest.approx(draws_crps, rel=0.15)
    assert coarse < draws_crps  # the 9 stored levels miss the tails: a low approximation


# ------------------------------------------------------------------ intervals, PIT


def test_interval_coverage_from_draws_and_quantiles() -> None:
    x = quasi_normal(4000)
    assert sc.interval_coverage(x, 0.5) == {0.5: 1, 0.8: 1, 0.95: 1}
    assert sc.interval_coverage(x, 1.0) == {0.5: 0, 0.8: 1, 0.95: 1}  # 50%: +-0.674
    assert sc.interval_coverage(x, -1.5) == {0.5: 0, 0.8: 0, 0.95: 1}  # 80%: +-1.28
    assert sc.interval_coverage(x, 2.5) == {0.5: 0, 0.8: 0, 0.95: 0}
    q = stats.norm.ppf(QUANTILES)
    assert sc.interval_coverage(q, 1.0, quantile_levels=QUANTILES) == {0.5: 0, 0.8: 1, 0.95: 1}
    assert sc.interval_coverage(q, 0.674, levels=(0.5,), quantile_levels=QUANTILES) == {0.5: 1}
    with pytest.raises(ValueError, match="not stored"):
        sc.interval_coverage(q, 0.0, levels=(0.6,), quantile_levels=QUANTILES)


def test_pit_ties_bounds_and_uniformity() -> None:
    rng = np.random.default_rng(0)
    # all draws tie with y: PIT is uniform on [0, 1]
    ties = [sc.pit(np.zeros(9), 0.0, rng) for _ in range(2000)]
    assert np.mean(ties) == pytest.approx(0.5, abs=0.03)
    assert min(ties) >= 0 and max(ties) <= 1
    # y below every draw: PIT in [0, 1/(m+1))
    assert 0 <= sc.pit(np.arange(1.0, 10.0), -5.0, 1) < 0.1
    assert sc.pit(np.arange(1.0, 10.0), 50.0, 1) > 0.9
    # calibrated forecasts give uniform PITs
    pits = [sc.pit(rng.normal(size=49), rng.normal(), rng) for _ in range(2000)]
    assert stats.kstest(pits, "uniform").pvalue > 0.01
    # reproducible with a seed
    assert sc.pit(quasi_normal(10), 0.1, 3) == sc.pit(quasi_normal(10), 0.1, 3)


# ------------------------------------------------------------------ censored outcomes


def test_score_point_observation() -> None:
    x = quasi_normal(4000)
    r = sc.score_against_observation(
        x, {"censor": "point", "value": 1.0, "lower": 1.0, "upper": 1.0}, rng=0
    )
    assert r["crps"] == pytest.approx(normal_crps(0, 1, 1.0), rel=2e-3)
    assert (r["coverage_50"], r["coverage_80"], r["coverage_95"]) == (0.0, 1.0, 1.0)
    assert 0.8 < r["pit"] < 0.87  # Phi(1) = 0.841
    assert r["method"] == "crps_fair"


def test_censored_observation_skipped_by_default() -> None:
    r = sc.score_against_observation(
        quasi_normal(100), {"censor": "lower", "value": None, "lower": 0.3, "upper": None}
    )
    assert math.isnan(r["crps"]) and math.isnan(r["coverage_80"]) and math.isnan(r["pit"])
    assert r["method"] == "skipped" and "censored" in r["reason"]


def test_scoring_imports_scoringrules_without_compiling_its_numba_backend() -> None:
    """A process that only scores never pays scoringrules' numba JIT, and numba still imports."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from chipcast.evaluate import scores as sc\n"
        "v = sc.crps_from_draws(np.array([0.0, 1.0, 2.0, 3.0]), 1.0)\n"
        "assert abs(v - 1 / 6) < 1e-12, v  # the fair estimator\n"
        "assert 'scoringrules.core.crps._gufuncs' not in sys.modules\n"
        "import numba, scoringrules\n"
        "assert scoringrules is sc._scoringrules()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_scoring_waits_for_a_background_import_of_scoringrules(tmp_path) -> None:
    """While the kernels' prewarm thread is still importing scoringrules, a score waits for it
    instead of reaching into the half-built module (a race a Dask worker once lost)."""
    import os
    import subprocess
    import sys

    slow = tmp_path / "scoringrules"
    slow.mkdir()
    (slow / "__init__.py").write_text(
        "import time\ntime.sleep(1.5)\ndef brier_score(obs, fct, backend=None):\n    return 0.25\n"
    )
    code = (
        "import sys, time\n"
        "from chipcast.pipeline.kernel import import_in_background\n"
        "from chipcast.evaluate import scores as sc\n"
        "import_in_background(('scoringrules',))\n"
        "while 'scoringrules' not in sys.modules:\n"
        "    time.sleep(0.005)\n"
        "print(sc._scoringrules().brier_score(1, 0.5))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0.25"
