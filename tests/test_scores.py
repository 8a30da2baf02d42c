"""Scoring rules against values worked by hand or from the literature."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.integrate import quad

from chipcast.evaluate import scores as sc

QUANTILES = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)


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


def test_crps_normal_closed_form() -> None:
    assert sc.crps_normal(0, 1, 0) == pytest.approx((math.sqrt(2) - 1) / math.sqrt(math.pi))
    assert sc.crps_normal(0, 1, 0) == pytest.approx(0.2336949772551)


@pytest.mark.parametrize("y", [0.0, 0.7, -2.0])
def test_crps_from_draws_matches_closed_form(y: float) -> None:
    exact = sc.crps_normal(1.0, 2.0, y)
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


def test_pinball_hand_values() -> None:
    assert sc.pinball(0.9, 1.0, 3.0) == pytest.approx(1.8)
    assert sc.pinball(0.9, 1.0, 0.0) == pytest.approx(0.1)


def test_crps_from_quantiles_matches_scoringrules_on_even_levels() -> None:
    import scoringrules as sr

    levels = (np.arange(10) + 0.5) / 10
    vals = stats.norm.ppf(levels)
    ours = sc.crps_from_quantiles(levels, vals, 0.3)
    theirs = float(sr.crps_quantile(0.3, vals, levels, backend="numpy"))
    assert ours == pytest.approx(theirs)
    assert sc.crps_from_quantiles(levels, vals, 0.3, weighting="mean") == pytest.approx(theirs)


@pytest.mark.parametrize("y", [0.0, 1.5])
def test_crps_from_quantiles_converges_to_draws_crps(y: float) -> None:
    draws_crps = sc.crps_from_draws(quasi_normal(4000), y)
    levels = (np.arange(399) + 0.5) / 399
    fine = sc.crps_from_quantiles(levels, stats.norm.ppf(levels), y)
    assert fine == pytest.approx(draws_crps, rel=2e-3)
    coarse = sc.crps_from_quantiles(QUANTILES, stats.norm.ppf(QUANTILES), y)
    assert coarse == pytest.approx(draws_crps, rel=0.15)
    assert coarse < draws_crps  # the 9 stored levels miss the tails: a low approximation


# ------------------------------------------------------------------ intervals, WIS, PIT


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


def test_interval_score_and_wis_hand_values() -> None:
    # 50% interval [-1, 1], 80% interval [-2, 2], median 0, y = 3:
    # IS_0.5 = 2 + (2/0.5)(3-1) = 10; IS_0.2 = 4 + (2/0.2)(3-2) = 14
    # WIS = (0.5*3 + 0.25*10 + 0.1*14) / 2.5 = 5.4 / 2.5 = 2.16
    assert sc.interval_score(-1, 1, 3, 0.5) == pytest.approx(10)
    assert sc.interval_score(-2, 2, 3, 0.2) == pytest.approx(14)
    assert sc.weighted_interval_score(0.0, [-1, -2], [1, 2], [0.5, 0.2], 3.0) == pytest.approx(2.16)
    # y = 0.5 inside both: (0.5*0.5 + 0.25*2 + 0.1*4) / 2.5 = 0.46
    assert sc.weighted_interval_score(0.0, [-1, -2], [1, 2], [0.5, 0.2], 0.5) == pytest.approx(0.46)
    levels, vals = (0.1, 0.25, 0.5, 0.75, 0.9), (-2, -1, 0, 1, 2)
    assert sc.wis_from_quantiles(levels, vals, 3.0) == pytest.approx(2.16)


def test_wis_approaches_crps() -> None:
    levels = np.concatenate([(np.arange(100) + 0.5) / 200, [0.5], 1 - (np.arange(100) + 0.5) / 200])
    wis = sc.wis_from_quantiles(levels, stats.norm.ppf(levels), 0.4)
    assert wis == pytest.approx(sc.crps_normal(0, 1, 0.4), rel=0.02)


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


def test_pit_histogram() -> None:
    h = sc.pit_histogram([0.05, 0.15, 0.12, 0.95, 1.0, np.nan], bins=10)
    assert list(h["count"]) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert h["frequency"].sum() == pytest.approx(1.0)
    assert h.loc[1, "density"] == pytest.approx(0.4 * 10)


# ------------------------------------------------------------------ censored outcomes


def test_score_point_observation() -> None:
    x = quasi_normal(4000)
    r = sc.score_against_observation(
        x, {"censor": "point", "value": 1.0, "lower": 1.0, "upper": 1.0}, rng=0
    )
    assert r["crps"] == pytest.approx(sc.crps_normal(0, 1, 1.0), rel=2e-3)
    assert (r["coverage_50"], r["coverage_80"], r["coverage_95"]) == (0.0, 1.0, 1.0)
    assert 0.8 < r["pit"] < 0.87  # Phi(1) = 0.841
    assert r["method"] == "crps_fair"


def test_censored_observation_skipped_by_default() -> None:
    r = sc.score_against_observation(
        quasi_normal(100), {"censor": "lower", "value": None, "lower": 0.3, "upper": None}
    )
    assert math.isnan(r["crps"]) and math.isnan(r["coverage_80"]) and math.isnan(r["pit"])
    assert r["method"] == "skipped" and "censored" in r["reason"]


def test_threshold_weighted_crps_for_bounds() -> None:
    x = quasi_normal(4000)
    # ">0": integral_{-inf}^0 Phi(z)^2 dz
    below = quad(lambda z: stats.norm.cdf(z) ** 2, -np.inf, 0)[0]
    assert sc.twcrps_censored(x, 0.0, None) == pytest.approx(below, rel=2e-3)
    # "<0": integral_0^inf (1 - Phi(z))^2 dz (the same by symmetry)
    assert sc.twcrps_censored(x, None, 0.0) == pytest.approx(below, rel=2e-3)
    # "-1..1": both tails outside the range
    tails = (
        quad(lambda z: stats.norm.cdf(z) ** 2, -np.inf, -1)[0]
        + quad(lambda z: stats.norm.sf(z) ** 2, 1, np.inf)[0]
    )
    assert sc.twcrps_censored(x, -1.0, 1.0) == pytest.approx(tails, rel=5e-3)
    r = sc.score_against_observation(
        x,
        {"censor": "lower", "value": np.nan, "lower": 3.0, "upper": np.nan},
        censored="weighted",
        rng=0,
    )
    assert r["method"] == "twcrps_fair"
    assert r["crps"] == pytest.approx(
        quad(lambda z: stats.norm.cdf(z) ** 2, -np.inf, 3)[0], rel=2e-3
    )
    # ">3" lies above every central interval: decided misses; PIT within [F(3), 1]
    assert (r["coverage_50"], r["coverage_80"], r["coverage_95"]) == (0.0, 0.0, 0.0)
    assert r["pit"] >= stats.norm.cdf(3) - 1e-3
    # ">0" decides nothing about coverage
    r = sc.score_against_observation(
        x, {"censor": "lower", "lower": 0.0}, censored="weighted", rng=0
    )
    assert math.isnan(r["coverage_50"])
    assert 0.5 - 1e-3 <= r["pit"] <= 1.0


# ------------------------------------------------------------------ calibration


def test_binomial_interval_known_values() -> None:
    # Clopper-Pearson, 95%: 5/10 -> (0.1871, 0.8129); 0/10 -> (0, 1 - 0.025**0.1 = 0.3085)
    lo, hi = sc.binomial_interval(5, 10, 0.95, method="clopper-pearson")
    assert (lo, hi) == (pytest.approx(0.18709, abs=1e-5), pytest.approx(0.81291, abs=1e-5))
    lo, hi = sc.binomial_interval(0, 10, 0.95, method="clopper-pearson")
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025**0.1)
    # Jeffreys, 90%: 3/10 -> Beta(3.5, 7.5) 5% and 95% quantiles (0.1173, 0.5581)
    lo, hi = sc.binomial_interval(3, 10, 0.9)
    assert (lo, hi) == (pytest.approx(0.11733, abs=1e-5), pytest.approx(0.55813, abs=1e-5))
    # Jeffreys boundary rule: k = 0 -> lower 0; k = n -> upper 1
    assert sc.binomial_interval(0, 10)[0] == 0.0
    assert sc.binomial_interval(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in sc.binomial_interval(0, 0))
    with pytest.raises(ValueError):
        sc.binomial_interval(3, 2)


def test_reliability_table_bins() -> None:
    p = [0.05, 0.15, 0.15, 0.95, 1.0]
    o = [0, 1, 0, 1, 1]
    t = sc.reliability_table(p, o, bins=10)
    assert len(t) == 10
    assert list(t["n"]) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert t.loc[1, "mean_forecast"] == pytest.approx(0.15)
    assert t.loc[1, "observed_freq"] == pytest.approx(0.5)
    assert t.loc[1, "interval"] == pytest.approx(sc.binomial_interval(1, 2, 0.9))
    assert t.loc[9, "observed_freq"] == 1.0 and t.loc[9, "upper"] == 1.0
    assert t.loc[9, "bin"] == "[0.9, 1]"
    assert math.isnan(t.loc[4, "observed_freq"])
    t2 = sc.reliability_table(p, o, bins=[0.0, 0.5, 1.0])
    assert list(t2["n"]) == [3, 2]
    assert t2.loc[0, "observed_freq"] == pytest.approx(1 / 3)
