"""Naive and statsmodels baselines on series whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import expit, logit

from chipcast.evaluate.baselines import (
    BASELINES,
    DEFAULT_SD_PER_YEAR,
    NaiveForecaster,
    StatsmodelsForecaster,
    period_index,
    transform,
    usable_points,
)
from chipcast.schema import Indicator


def indicator(
    family: str = "share", frequency: str = "annual", bounds=(0.0, 1.0), id: str = "ind"
) -> Indicator:
    return Indicator(
        id=id,
        name=id,
        description=id,
        unit="u",
        bounds=bounds,
        measures="value",
        frequency=frequency,
        family=family,
    )


def frame(values, periods, source="src", indicator_id="ind", censor=None) -> pd.DataFrame:
    """An as-of observation frame (point figures unless `censor` says otherwise)."""
    n = len(values)
    sources = source if isinstance(source, list) else [source] * n
    censor = censor or ["point"] * n
    rows = []
    for v, p, s, c in zip(values, periods, sources, censor, strict=True):
        lo = v if c in ("point", "lower") else np.nan
        hi = v if c in ("point", "upper") else np.nan
        rows.append(
            {
                "indicator": indicator_id,
                "period_start": pd.Timestamp(p) - pd.DateOffset(years=1),
                "period_end": pd.Timestamp(p),
                "value": v if c == "point" else np.nan,
                "lower": lo,
                "upper": hi,
                "censor": c,
                "source": s,
                "published": pd.Timestamp(p) + pd.Timedelta(days=60),
            }
        )
    return pd.DataFrame(rows)


YEARS = [f"{y}-12-31" for y in range(2019, 2025)]
TARGETS = pd.DatetimeIndex(["2025-12-31", "2028-12-31", "2033-12-31"])  # h = 1, 4, 9 years


# ------------------------------------------------------------------ transforms


def test_transforms_round_trip_and_clip() -> None:
    tr = transform(indicator("share"))
    assert tr.name == "logit"
    x = np.array([0.2, 0.5, 0.9])
    np.testing.assert_allclose(tr.backward(tr.forward(x)), x)
    assert tr.forward(0.0) == pytest.approx(logit(1e-4))
    assert tr.forward(1.0) == pytest.approx(logit(1 - 1e-4))
    pct = transform(indicator("share", bounds=(0.0, 100.0)))
    assert pct.forward(30.0) == pytest.approx(logit(0.3))
    assert pct.backward(logit(0.3)) == pytest.approx(30.0)
    assert transform(indicator("growth", bounds=(0.0, None))).name == "log"
    assert transform(indicator("level", bounds=(0.0, None)), [10.0, 25.0]).name == "identity"
    assert transform(indicator("count", bounds=(0.0, None)), [0.0, 3.0]).name == "identity"
    assert transform(indicator("none", bounds=(None, None))).name == "identity"


def test_period_index_counts_periods() -> None:
    assert np.diff(period_index(["2024-12-31", "2027-12-31"], "annual"))[0] == pytest.approx(3)
    assert np.diff(period_index(["2024-03-31", "2024-12-31"], "quarterly"))[0] == pytest.approx(3)
    assert np.diff(period_index(["2024-01-01", "2026-01-01"], "irregular"))[0] == pytest.approx(
        2, abs=0.01
    )


def test_usable_points_drop_bounds_and_take_range_midpoints() -> None:
    df = frame([0.2, 0.3, 0.5], YEARS[:3], censor=["point", "point", "lower"])
    rng_row = df.iloc[[0]].assign(
        censor="interval", value=np.nan, lower=0.1, upper=0.3, period_end=pd.Timestamp("2018-12-31")
    )
    pts = usable_points(pd.concat([df, rng_row]), indicator())
    assert list(pts["value"]) == pytest.approx([0.2, 0.2, 0.3])  # range midpoint, bound dropped
    only_bounds = frame([0.5], YEARS[:1], censor=["lower"])
    assert list(usable_points(only_bounds, indicator())["value"]) == [0.5]  # last resort
    other = frame([0.9], YEARS[:1], indicator_id="other")
    assert usable_points(other, indicator()).empty


# ------------------------------------------------------------------ naive


def test_naive_constant_series_median_is_the_constant() -> None:
    obs = frame([0.3] * 6, YEARS)
    out = NaiveForecaster().forecast(obs, indicator(), TARGETS, "src", 500, 1)
    assert out.dims == ("sample", "period")
    assert out.shape == (500, 3)
    np.testing.assert_allclose(out.median("sample"), 0.3)
    assert list(out["period"].values) == list(TARGETS.values)


def test_naive_median_is_last_figure_and_spread_grows_like_sqrt_h() -> None:
    values = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]  # changes +-1: a driftless walk's sd is 1
    ind = indicator("none", bounds=(None, None))
    out = NaiveForecaster().forecast(frame(values, YEARS), ind, TARGETS, None, 20000, 3)
    sd = 1.0
    assert out.attrs["sd_per_period"] == pytest.approx(sd)
    np.testing.assert_allclose(out.median("sample"), 1.0, atol=0.05)
    np.testing.assert_allclose(out.std("sample"), sd * np.sqrt([1, 4, 9]), rtol=0.03)


def test_naive_spread_uses_gap_scaled_changes() -> None:
    # a change of 2 over a 4-year gap is a per-period change of 2/sqrt(4) = 1
    ind = indicator("none", bounds=(None, None))
    obs = frame([0.0, 1.0, 0.0, 2.0], ["2015-12-31", "2016-12-31", "2017-12-31", "2021-12-31"])
    out = NaiveForecaster().forecast(obs, ind, TARGETS[:1], None, 100, 0)
    assert out.attrs["sd_per_period"] == pytest.approx(1.0)  # changes 1, -1, 1


def test_naive_spread_of_a_steady_climb_is_its_step() -> None:
    """A driftless walk's innovations are the changes themselves: a series climbing 0.5 a
    period gets sd 0.5 (the sd around the mean change, 0, made it a point forecast)."""
    ind = indicator("none", bounds=(None, None))
    out = NaiveForecaster().forecast(
        frame([0.0, 0.5, 1.0, 1.5], YEARS[:4]), ind, TARGETS, None, 20000, 2
    )
    assert out.attrs["sd_per_period"] == pytest.approx(0.5)
    np.testing.assert_allclose(out.median("sample"), 1.5, atol=0.03)


def test_naive_default_sd_with_too_few_changes() -> None:
    obs = frame([0.4, 0.5], YEARS[-2:])  # one change only
    out = NaiveForecaster().forecast(obs, indicator(), TARGETS[:1], None, 20000, 5)
    assert out.attrs["sd_source"] == "default"
    z = logit(out.values[:, 0])
    assert np.std(z) == pytest.approx(DEFAULT_SD_PER_YEAR["logit"], rel=0.03)
    assert np.median(out.values) == pytest.approx(0.5, abs=0.01)
    q = NaiveForecaster().forecast(
        frame([0.4, 0.5], ["2024-09-30", "2024-12-31"]),
        indicator(frequency="quarterly"),
        pd.DatetimeIndex(["2025-03-31"]),
        None,
        10,
        0,
    )
    assert q.attrs["sd_per_period"] == pytest.approx(DEFAULT_SD_PER_YEAR["logit"] / 2)  # a quarter


def test_naive_prefers_the_sources_own_series() -> None:
    obs = frame([0.2, 0.25, 0.3, 0.6], YEARS[:3] + [YEARS[3]], source=["a", "a", "a", "b"])
    ind = indicator()
    own = NaiveForecaster().forecast(obs, ind, TARGETS[:1], "a", 2001, 0)
    assert own.attrs["series"] == "source:a"
    assert float(own.median("sample").values[0]) == pytest.approx(0.3, abs=0.01)
    pooled = NaiveForecaster().forecast(obs, ind, TARGETS[:1], "b", 2001, 0)  # b has 1 point
    assert pooled.attrs["series"] == "all"
    assert float(pooled.median("sample").values[0]) == pytest.approx(0.6, abs=0.02)


def test_naive_ignores_a_later_one_sided_bound() -> None:
    obs = frame([0.3] * 5 + [0.9], YEARS, censor=["point"] * 5 + ["lower"])
    out = NaiveForecaster().forecast(obs, indicator(), TARGETS[:1], None, 100, 0)
    np.testing.assert_allclose(out.values, 0.3)


def test_draws_stay_within_bounds() -> None:
    obs = frame([0.9, 0.99, 0.95, 0.999], YEARS[:4])
    for model in BASELINES.values():
        out = model.forecast(obs, indicator(), TARGETS, None, 1000, 0)
        assert float(out.min()) >= 0 and float(out.max()) <= 1


# ------------------------------------------------------------------ statsmodels


def test_ols_on_a_line_in_logit_space_predicts_the_line() -> None:
    t = np.arange(6.0)
    values = expit(-2.0 + 0.5 * t)  # 2019..2024
    out = StatsmodelsForecaster().forecast(
        frame(list(values), YEARS), indicator(), TARGETS, "src", 400, 2
    )
    assert out.attrs["method"] == "ols_trend"
    assert out.attrs["slope_per_period"] == pytest.approx(0.5)
    expected = expit(-2.0 + 0.5 * np.array([6.0, 9.0, 14.0]))
    np.testing.assert_allclose(out.median("sample"), expected, rtol=1e-8)


def test_ols_noisy_trend_matches_statsmodels_prediction_interval() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    y = 1.0 + 0.3 * np.arange(8) + rng.normal(0, 0.2, 8)
    years = [f"{yr}-12-31" for yr in range(2017, 2025)]
    ind = indicator("none", bounds=(None, None))
    out = StatsmodelsForecaster().forecast(frame(list(y), years), ind, TARGETS[:1], None, 40000, 4)
    fit = sm.OLS(y, sm.add_constant(np.arange(8.0))).fit()
    ci = fit.get_prediction(np.array([[1.0, 8.0]])).summary_frame(alpha=0.1)
    lo, hi = np.quantile(out.values[:, 0], [0.05, 0.95])
    assert lo == pytest.approx(float(ci["obs_ci_lower"].iloc[0]), abs=0.03)
    assert hi == pytest.approx(float(ci["obs_ci_upper"].iloc[0]), abs=0.03)


def test_ols_falls_back_to_naive_with_few_points() -> None:
    """Three points leave OLS one residual df (a Cauchy predictive): naive instead; four fit."""
    four = frame([0.2, 0.3, 0.25, 0.35], YEARS[-4:])
    assert (
        StatsmodelsForecaster().forecast(four, indicator(), TARGETS, None, 300, 8).attrs["method"]
        == "ols_trend"
    )
    obs = frame([0.2, 0.3, 0.25], YEARS[-3:])
    out = StatsmodelsForecaster().forecast(obs, indicator(), TARGETS, None, 300, 8)
    naive = NaiveForecaster().forecast(obs, indicator(), TARGETS, None, 300, 8)
    assert out.attrs["fallback"] == "naive"
    assert out.attrs["model"] == "statsmodels"
    np.testing.assert_array_equal(out.values, naive.values)


# ------------------------------------------------------------------ shared contract


@pytest.mark.parametrize("name", ["naive", "statsmodels"])
def test_same_seed_same_draws(name: str) -> None:
    obs = frame([0.12, 0.16, 0.21, 0.17, 0.25], YEARS[:5], source=["idc"] * 3 + ["bern", "idc"])
    model = BASELINES[name]
    a = model.forecast(obs, indicator(), TARGETS, "idc", 200, 42)
    b = model.forecast(obs, indicator(), TARGETS, "idc", 200, 42)
    c = model.forecast(obs, indicator(), TARGETS, "idc", 200, 43)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a.values, c.values)
    assert model.name == name


def test_no_observations_is_an_error() -> None:
    with pytest.raises(ValueError, match="no usable observations"):
        NaiveForecaster().forecast(frame([], []), indicator(), TARGETS, None, 10, 0)


def test_flow_figures_over_another_span_are_dropped() -> None:
    ind = indicator("growth", frequency="quarterly", bounds=(0.0, None))
    ends = ["2024-03-31", "2024-06-30", "2024-09-30"]
    obs = frame([100.0, 110.0, 120.0], ends)
    obs["period_start"] = pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"])
    h1 = obs.iloc[[1]].assign(
        value=210.0,
        lower=210.0,
        upper=210.0,
        source="other",
        period_start=pd.Timestamp("2024-01-01"),
    )
    pts = usable_points(pd.concat([obs, h1]), ind)
    assert list(pts["value"]) == [100.0, 110.0, 120.0]  # the H1 total is not a quarter
    share_obs = pd.concat([obs, h1]).assign(indicator="s")
    share = indicator("share", frequency="quarterly", bounds=(0.0, 1000.0), id="s")
    assert len(usable_points(share_obs, share)) == 4  # a share over another span is kept
