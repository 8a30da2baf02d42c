"""Binomial intervals and the reliability table: one method (statsmodels' Jeffreys) everywhere."""

from __future__ import annotations

import math

import pytest

from chipcast.evaluate.calibration import binomial_interval, reliability_table


def test_jeffreys_interval_known_values() -> None:
    # 90%: 3/10 -> the 5% and 95% quantiles of Beta(3.5, 7.5): (0.1173, 0.5581)
    lo, hi = binomial_interval(3, 10, 0.9)
    assert (lo, hi) == (pytest.approx(0.11733, abs=1e-5), pytest.approx(0.55813, abs=1e-5))
    # the backtest's pooled 80% coverage, 91 of 117: (0.710, 0.836)
    lo, hi = binomial_interval(91, 117, 0.9)
    assert (round(lo, 3), round(hi, 3)) == (0.710, 0.836)
    # all or nothing: equal-tailed, so the interval stops just short of 0 or 1
    lo, hi = binomial_interval(0, 10, 0.9)
    assert 0 < lo < 1e-3 and hi == pytest.approx(0.1708, abs=1e-4)  # Beta(0.5, 10.5)
    assert all(math.isnan(v) for v in binomial_interval(0, 0))
    with pytest.raises(ValueError):
        binomial_interval(3, 2)


@pytest.mark.parametrize(
    ("k", "n", "level"), [(0, 1, 0.9), (3, 10, 0.9), (7, 7, 0.8), (40, 117, 0.95)]
)
def test_the_interval_is_statsmodels_jeffreys(k: int, n: int, level: float) -> None:
    from statsmodels.stats.proportion import proportion_confint

    ref = proportion_confint(k, n, alpha=1 - level, method="jeffreys")
    assert binomial_interval(k, n, level) == pytest.approx(ref, abs=1e-12)


def test_reliability_table_bins() -> None:
    p = [0.05, 0.15, 0.15, 0.95, 1.0]
    o = [0, 1, 0, 1, 1]
    t = reliability_table(p, o, bins=10)
    assert len(t) == 10
    assert list(t["n"]) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert t.loc[1, "mean_forecast"] == pytest.approx(0.15)
    assert t.loc[1, "observed_freq"] == pytest.approx(0.5)
    assert (t.loc[1, "lower"], t.loc[1, "upper"]) == pytest.approx(binomial_interval(1, 2, 0.9))
    assert t.loc[9, "observed_freq"] == 1.0 and t.loc[9, "upper"] > 0.99
    assert t.loc[9, "bin"] == "[0.9, 1]"
    assert math.isnan(t.loc[4, "observed_freq"])
    t2 = reliability_table(p, o, bins=[0.0, 0.5, 1.0])
    assert list(t2["n"]) == [3, 2]
    assert t2.loc[0, "observed_freq"] == pytest.approx(1 / 3)
    assert len(reliability_table(p, o)) == 5  # the default: five bins


def test_reliability_inputs_are_checked() -> None:
    with pytest.raises(ValueError):
        reliability_table([1.2], [1])
    with pytest.raises(ValueError):
        reliability_table([0.5], [2])
