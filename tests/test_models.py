"""Fast model tests: grids, snapping, registry, level family, prior predictive, save/load."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_models_helpers import AS_OF, frame, indicator  # noqa: E402

from chipcast.models import FAMILIES, fit_indicator, get_family, period_grid, register, snap
from chipcast.models.base import NEW_SOURCE, TEST_SETTINGS, Diagnostics, Trajectory


def test_period_grid_frequencies():
    q = period_grid(dt.date(2024, 2, 10), dt.date(2025, 1, 5), "quarterly")
    assert list(q.strftime("%Y-%m-%d")) == [
        "2024-03-31",
        "2024-06-30",
        "2024-09-30",
        "2024-12-31",
        "2025-03-31",
    ]
    a = period_grid(dt.date(2021, 12, 31), dt.date(2027, 12, 31), "annual")
    assert list(a.year) == list(range(2021, 2028)) and all(a.month == 12) and all(a.day == 31)
    s = period_grid(dt.date(2024, 1, 1), dt.date(2025, 12, 31), "semiannual")
    assert list(s.strftime("%m-%d")) == ["06-30", "12-31", "06-30", "12-31"]
    m = period_grid(dt.date(2024, 1, 15), dt.date(2024, 3, 1), "monthly")
    assert list(m.strftime("%m-%d")) == ["01-31", "02-29", "03-31"]
    assert period_grid(dt.date(2024, 5, 5), dt.date(2024, 12, 1), "irregular").equals(
        period_grid(dt.date(2024, 5, 5), dt.date(2024, 12, 1), "quarterly")
    )


def test_snap_fiscal_quarter_and_multi_period_totals():
    obs = frame(
        [
            # fiscal quarter ending 2025-04-27 -> calendar quarter ending 2025-06-30
            {"period_end": "2025-04-27", "period_start": "2025-01-28", "value": 5, "source": "a"},
            # nine-month total Jan-Sep 2024 -> covers 2024Q1..Q3
            {"period_end": "2024-09-30", "period_start": "2024-01-01", "value": 9, "source": "a"},
            # annual total on the quarterly grid -> four quarters
            {"period_end": "2023-12-31", "period_start": "2023-01-01", "value": 12, "source": "b"},
        ]
    )
    d = snap(obs, "quarterly", dt.date(2025, 12, 31))
    g = d.grid
    assert g[d.last[0]] == pd.Timestamp("2025-06-30") and d.first[0] == d.last[0]
    assert g[d.first[1]] == pd.Timestamp("2024-03-31") and g[d.last[1]] == pd.Timestamp(
        "2024-09-30"
    )
    assert d.last[2] - d.first[2] == 3 and g[d.first[2]] == pd.Timestamp("2023-03-31")
    assert g[-1] == pd.Timestamp("2025-12-31")
    # a quarterly figure on an annual grid covers a quarter of a period
    d2 = snap(
        frame(
            [{"period_end": "2024-06-30", "period_start": "2024-04-01", "value": 1, "source": "a"}]
        ),
        "annual",
        dt.date(2025, 1, 1),
    )
    assert d2.frac[0] == pytest.approx(0.25, abs=0.01)


def test_registry():
    assert set(FAMILIES) >= {"share", "growth", "count", "level"}
    assert "none" not in FAMILIES
    with pytest.raises(KeyError):
        get_family("none")

    class Dummy:
        name = "dummy"
        version = "0"

        def fit(self, *a, **k):
            raise NotImplementedError

        def prior_predictive(self, *a, **k):
            raise NotImplementedError

    try:
        register(Dummy())
        assert get_family("dummy").version == "0"
    finally:
        FAMILIES.pop("dummy", None)
    with pytest.raises(TypeError):
        register(object())  # type: ignore[arg-type]


def test_fit_indicator_none_and_empty():
    obs = frame([{"period_end": "2024-12-31", "value": 0.2, "source": "a"}])
    assert (
        fit_indicator(
            obs,
            indicator("share").model_copy(update={"family": "none"}),
            AS_OF,
            dt.date(2026, 12, 31),
            1,
        )
        is None
    )
    # nothing public yet on as_of
    assert (
        fit_indicator(obs, indicator("share"), dt.date(2020, 1, 1), dt.date(2026, 12, 31), 1)
        is None
    )


def _level_obs():
    return frame(
        [
            {"period_end": "2023-03-31", "value": 10, "source": "ustr"},
            {"period_end": "2023-12-31", "value": 10, "source": "ustr"},
            {"period_end": "2024-06-30", "value": 25, "source": "ustr"},
            {"period_end": "2025-03-31", "value": 5, "source": "ustr"},
        ]
    )


def test_level_family_bounds_reproducible_and_passes_trivially():
    ind = indicator("level", "quarterly")
    as_of = dt.date(2025, 5, 30)  # the day the last figure was published
    t1 = fit_indicator(_level_obs(), ind, as_of, dt.date(2028, 12, 31), 7, TEST_SETTINGS)
    t2 = fit_indicator(_level_obs(), ind, as_of, dt.date(2028, 12, 31), 7, TEST_SETTINGS)
    assert t1 is not None and t2 is not None
    np.testing.assert_array_equal(t1.latent.values, t2.latent.values)
    assert (
        t1.diagnostics.passed
        and t1.diagnostics.sampler == "exact-monte-carlo"
        and t1.diagnostics.notes
    )
    assert float(t1.latent.min()) >= 0.0  # a big downward jump history still respects bounds
    past = t1.latent.sel(period="2024-09-30")
    assert float(past.min()) == float(past.max()) == 25.0
    # two jumps in two years: rate ~0.75/yr a posteriori, so P(no jump in 3 quarters) ~ 0.55
    soon = t1.latent.sel(period="2025-12-31").values
    assert 0.35 < np.mean(soon == 5.0) < 0.8
    late = t1.latent.isel(period=-1).values
    assert np.mean(late == 5.0) < np.mean(soon == 5.0)
    assert NEW_SOURCE in t1.reported["source"].values


@pytest.mark.parametrize("family", ["share", "growth", "count", "level"])
def test_prior_predictive_shapes(family):
    fam = get_family(family)
    freq = "annual" if family == "share" else "quarterly"
    val = {"share": 0.2, "growth": 100.0, "count": 12.0, "level": 10.0}[family]
    obs = frame(
        [
            {"period_end": "2024-12-31", "value": val, "source": "a"},
            {"period_end": "2025-12-31", "value": val, "source": "a"},
        ]
    )
    pp = fam.prior_predictive(obs, indicator(family, freq), dt.date(2027, 12, 31), 3, samples=300)
    assert pp.dims == ("sample", "period") and pp.sizes["sample"] == 300
    assert pd.Timestamp(pp["period"].values[-1]) == pd.Timestamp("2027-12-31")
    assert np.isfinite(pp.values).all() and (pp.values >= 0).all()
    if family == "share":
        assert (pp.values <= 1).all()
        # weakly informative: the prior spreads over most of [0, 1] by 2027
        q = np.quantile(pp.isel(period=-1), [0.1, 0.9])
        assert q[0] < 0.15 and q[1] > 0.85


def test_trajectory_save_load_round_trip(tmp_path):
    ind = indicator("level", "quarterly")
    t = fit_indicator(
        _level_obs(), ind, dt.date(2025, 6, 1), dt.date(2026, 12, 31), 3, TEST_SETTINGS
    )
    assert t is not None
    t.save(tmp_path / "traj")
    u = Trajectory.load(tmp_path / "traj")
    np.testing.assert_array_equal(t.latent.values, u.latent.values)
    np.testing.assert_array_equal(t.reported.values, u.reported.values)
    assert list(u.reported["source"].values) == list(t.reported["source"].values)
    assert u.periods.equals(t.periods)
    assert (u.indicator, u.family, u.model_version, u.as_of, u.seed) == (
        t.indicator,
        t.family,
        t.model_version,
        t.as_of,
        t.seed,
    )
    assert u.diagnostics == t.diagnostics
    # old diagnostics JSON without the new fields still loads
    d = t.diagnostics.to_dict()
    d.pop("sampler"), d.pop("notes")
    assert Diagnostics.from_dict(d).sampler == "pymc-nuts"


def test_level_known_until_as_of_and_the_rest_of_the_current_period_is_open() -> None:
    """A figure recorded mid-quarter does not settle the quarter's end; a quiet spell up to the
    as-of date is known (no change) and lowers the jump rate."""
    ind = indicator("level", "quarterly")
    obs = frame(
        [
            {"period_end": "2025-01-15", "value": 10, "source": "wh", "published": "2025-01-15"},
            {"period_end": "2025-04-10", "value": 145, "source": "wh", "published": "2025-04-10"},
        ]
    )
    fresh = fit_indicator(obs, ind, dt.date(2025, 4, 10), dt.date(2026, 6, 30), 1, TEST_SETTINGS)
    q2 = fresh.latent.sel(period="2025-06-30").values
    assert 0.05 < np.mean(q2 != 145.0) < 0.95  # 81 days of exposure left in the quarter
    assert float(fresh.latent.sel(period="2025-03-31").min()) == 10.0  # in force at its end
    later = fit_indicator(obs, ind, dt.date(2026, 1, 20), dt.date(2026, 6, 30), 1, TEST_SETTINGS)
    for p in ("2025-06-30", "2025-09-30", "2025-12-31"):  # known: nothing changed until as-of
        assert set(np.unique(later.latent.sel(period=p).values)) == {145.0}
    # 70 days to the end of 2026Q1, at a rate learnt over a year instead of three months
    assert np.mean(later.latent.sel(period="2026-03-31").values != 145.0) < np.mean(q2 != 145.0)


def test_level_counts_every_change_in_continuous_time() -> None:
    """Five changes inside one quarter are five jumps, over the time the figures span."""
    import numpy as np
    import pandas as pd

    from chipcast.models import level

    dates = ["2025-01-15", "2025-04-02", "2025-04-08", "2025-04-09", "2025-04-10", "2025-05-14"]
    seq = level.changes(
        pd.DataFrame(
            {
                "period_end": pd.to_datetime(dates),
                "value": [10.0, 30.0, 54.0, 104.0, 145.0, 30.0],
                "lower": np.nan,
                "upper": np.nan,
                "censor": "point",
            }
        )
    )
    lam, *_ = level.posterior_draws(seq, 0.25, 20000, np.random.default_rng(0))
    years = (pd.Timestamp(dates[-1]) - pd.Timestamp(dates[0])).days / 365.25
    a0, b0 = level.PRIORS["rate_a0"], level.PRIORS["rate_b0"]
    assert lam.mean() == pytest.approx((a0 + 5) / (b0 + years), rel=0.03)


def test_damped_slope_matches_its_recursion_and_reverts() -> None:
    """llt_path's closed form equals the step-by-step recursion; rho = 1 is the classic trend;
    a simulated slope forgets its start and settles at the long-run rate."""
    from chipcast.models import _trend as C

    rng = np.random.default_rng(3)
    n, dt_, rho, mu = 12, 0.25, 0.7**0.25, 0.2
    z, u = rng.standard_normal(n), rng.standard_normal(n)
    level, slope = C.llt_path(1.0, 2.0, 0.1, 0.3, z, u, dt_, np, n, rho, mu)
    lv, sl = [1.0], [2.0]
    for k in range(n):
        lv.append(lv[-1] + sl[-1] * dt_ + 0.1 * np.sqrt(dt_) * z[k])
        sl.append(mu + rho * (sl[-1] - mu) + 0.3 * np.sqrt(dt_) * u[k])
    np.testing.assert_allclose(level, lv, rtol=1e-12)
    np.testing.assert_allclose(slope, sl, rtol=1e-12)
    _, classic = C.llt_path(1.0, 2.0, 0.1, 0.3, z, u, dt_, np, n)
    np.testing.assert_allclose(classic, 2.0 + np.concatenate([[0], np.cumsum(0.3 * 0.5 * u)]))

    # from a slope of 2/yr, 40 years out at rho 0.7/yr: growth is back at mu (here per step)
    path = C.extend_llt(rng, np.zeros(4000), np.full(4000, 2.0), 0.0, 0.0, 161, 0.25, rho, mu)
    np.testing.assert_allclose(np.diff(path[:, -2:], axis=1) / 0.25, mu, atol=1e-4)


def test_policy_shocks_are_compound_poisson_jumps_in_the_forecast() -> None:
    """With no trend or Gaussian shocks, a forecast moves only by policy shocks: unchanged with
    probability exp(-rate * years), variance rate * years * sd^2 (a compound Poisson sum)."""
    from chipcast.models import _trend as C
    from chipcast.models._priors import PolicyShocks

    n, rate, sd, years = 200_000, 0.5, 0.7, 2.0
    shocks = PolicyShocks(rate_per_year=rate, sd=sd)
    rng = np.random.default_rng(11)
    path = C.extend_llt(rng, np.zeros(n), np.zeros(n), 0.0, 0.0, 8, 0.25, policy_shocks=shocks)
    end = path[:, -1]
    assert (end == 0).mean() == pytest.approx(np.exp(-rate * years), abs=0.005)
    assert end.var() == pytest.approx(rate * years * sd**2, rel=0.02)
    assert abs(end.mean()) < 0.01  # no direction: a shock is as likely to lift as to cut


@pytest.mark.parametrize("family", ["share", "growth"])
def test_only_exposed_indicators_forecast_with_policy_shocks(family) -> None:
    """An indicator marked `policy_shocks: false` is forecast without them: same seed, same
    trend, less spread three years out (the prior predictive shows the forecast's terms)."""
    fam = get_family(family)
    value = 0.2 if family == "share" else 100.0
    obs = frame([{"period_end": "2024-12-31", "value": value, "source": "a"}])

    def spread(exposed: bool) -> float:
        ind = indicator(family, "annual", policy_shocks=exposed)
        pp = fam.prior_predictive(obs, ind, dt.date(2027, 12, 31), 3, samples=4000)
        end = pp.isel(period=-1).values
        return float(np.std(np.log(end / (1 - end)) if family == "share" else np.log(end)))

    # the extra variance three years out is the compound-Poisson sum's, rate * years * sd^2
    p = fam.PRIORS.policy_shocks
    extra = spread(True) ** 2 - spread(False) ** 2
    assert extra == pytest.approx(p.rate_per_year * 3 * p.sd**2, rel=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["share", "growth"])
def test_a_figure_carries_one_reporting_error_whatever_its_span(family, fitted) -> None:
    """A source's report differs from the latent path by one error per draw, shared by the
    periods, so a four-quarter total has the noise of one figure (the likelihood's), not an
    average of four independent errors."""
    tr = fitted[family]
    for s in ["a", NEW_SOURCE]:
        rep, lat = tr.series(s).values, tr.latent.values
        gap = (
            np.log(rep / (1 - rep)) - np.log(lat / (1 - lat))
            if family == "share"
            else (np.log(rep / lat))
        )
        np.testing.assert_allclose(gap, gap[:, :1] * np.ones_like(gap), atol=1e-9)
        assert gap[:, 0].std() > 0.01  # ...and it is an error, not zero


@pytest.mark.slow
@pytest.mark.parametrize("family", ["share", "growth", "count", "level"])
def test_every_family_keeps_the_contract(family, fitted, tmp_path) -> None:
    """The shared fit of each family: gated in, a path from the first figure to the horizon,
    the source's and a new source's reports, stored quantiles in the store's columns, and a
    save/load round trip that keeps every draw."""
    from conftest import FIT_HORIZON

    from chipcast.store import QUANTILE_COLUMNS

    tr = fitted[family]
    assert tr.diagnostics.passed and tr.family == family
    assert tr.latent.dims == ("sample", "period")
    assert tr.periods[0] == pd.Timestamp("2024-03-31")
    assert tr.periods[-1] == pd.Timestamp(FIT_HORIZON)
    assert {"a", NEW_SOURCE} <= set(tr.reported["source"].values)
    q = tr.quantile_frame()
    assert set(QUANTILE_COLUMNS) <= set(q.columns) and set(q["series"]) >= {"latent", "a"}
    assert (np.diff(q[list(QUANTILE_COLUMNS)].to_numpy(), axis=1) >= -1e-9).all()
    tr.save(tmp_path)
    back = Trajectory.load(tmp_path)
    np.testing.assert_array_equal(back.latent.values, tr.latent.values)
    np.testing.assert_array_equal(back.reported.values, tr.reported.values)


@pytest.mark.slow
def test_a_series_known_only_through_bounds_is_read_near_its_bounds() -> None:
    """'More than X' figures: the latent flow stays near the bounds instead of the prior's tail."""
    obs = frame(
        [
            {"period_end": "2023-12-31", "censor": "lower", "lower": 500.0, "source": "idc"},
            {"period_end": "2024-12-31", "censor": "lower", "lower": 800.0, "source": "idc"},
        ]
    )
    tr = fit_indicator(obs, indicator("growth"), AS_OF, dt.date(2024, 12, 31), 5, TEST_SETTINGS)
    med = tr.latent.median("sample").values
    assert (med >= np.array([500.0, 800.0]) * 0.9).all()  # bounds still bind
    assert (med <= np.array([500.0, 800.0]) * 2.0).all()  # ...and are read as near the value


def test_level_jumps_are_revocations_or_proportional_moves() -> None:
    """The history splits into revocations (to 0) and log moves; the conjugate posteriors are
    the ones the docstring states."""
    from chipcast.models import level

    dates = pd.to_datetime(["2025-01-01", "2025-03-01", "2025-04-01", "2025-06-01", "2025-09-01"])
    seq = pd.Series([10.0, 20.0, 0.0, 40.0, 40.0], index=dates)
    n_jumps, n_revoked, moves, gaps = level.jump_history(seq)
    ref = np.exp(np.mean(np.log([10.0, 20.0, 40.0, 40.0])))
    assert (n_jumps, n_revoked) == (3, 1)
    np.testing.assert_allclose(moves, [np.log(2.0), np.log(40.0 / ref)])
    np.testing.assert_allclose(gaps, [np.log(ref / 10.0), 0.0])  # from 0: a move from ref
    assert level.reference_level(seq) == pytest.approx(ref)
    lam, q, s, kappa, _ = level.posterior_draws(seq, 0.25, 200_000, np.random.default_rng(1))
    P = level.PRIORS
    a, b = P["revoke_a0"] + 1, P["revoke_b0"] + 2
    assert q.mean() == pytest.approx(a / (a + b), rel=0.02)
    # given kappa, s^2 is InvGamma(c0 + 2/2, c0 s0^2 + sum(r^2)/2), r = moves - kappa gaps
    c = P["size_a0"] + 1
    d0 = P["size_a0"] * P["size_log_sd"] ** 2
    near = np.abs(kappa - 0.5) < 0.01
    r = moves - 0.5 * gaps
    assert (s[near] ** 2).mean() == pytest.approx((d0 + 0.5 * (r**2).sum()) / (c - 1), rel=0.1)


def test_level_pull_towards_the_usual_level_is_learnt() -> None:
    """Moves simulated with a known pull kappa and jump sd: the grid posterior recovers them;
    moves with no gap to the reference say nothing about kappa (the posterior is the prior)."""
    from chipcast.models import level

    rng = np.random.default_rng(4)
    kappa, sd, ref = 0.5, 0.3, 20.0
    x = [ref]
    for _ in range(200):
        x.append(float(np.exp(np.log(x[-1]) + kappa * np.log(ref / x[-1]) + sd * rng.normal())))
    seq = pd.Series(x, index=pd.date_range("2020-01-01", periods=len(x), freq="7D"))
    _, _, s, k, _ = level.posterior_draws(seq, 0.25, 20_000, np.random.default_rng(5))
    assert k.mean() == pytest.approx(kappa, abs=0.15)
    assert np.median(s) == pytest.approx(sd, rel=0.25)
    w = level.kappa_posterior(np.array([0.3, -0.2]), np.zeros(2))
    P = level.PRIORS
    assert (P["revert_a0"], P["revert_b0"]) == (1.0, 1.0)  # uniform prior: flat posterior
    np.testing.assert_allclose(w, 1 / len(level.KAPPA_GRID))


def test_level_revocation_is_final_and_moves_are_proportional() -> None:
    from chipcast.models import level

    rng = np.random.default_rng(0)
    start = np.full(20_000, 50.0)
    years = np.full(8, 0.25)
    # every path jumps about twice a quarter and every jump revokes: all end at 0 and stay there
    gone = level.simulate(rng, start, 8.0, 1.0, 0.5, 0.0, 30.0, years, 0.0, np.inf)
    assert (gone[:, -1] == 0).all() and (np.diff(gone, axis=1) <= 0).all()
    # no revocations and no pull: moves by exp(N(0, s^2)) keep the median and never reach 0
    moved = level.simulate(rng, start, 2.0, 0.0, 0.5, 0.0, 30.0, years, 0.0, np.inf)
    assert (moved > 0).all()
    assert np.median(moved[:, -1]) == pytest.approx(50.0, rel=0.05)
    # a path at 0 that was never revoked (a measure not yet imposed) is imposed around the
    # reference; one revoked before the start stays revoked
    back = level.simulate(rng, np.zeros(20_000), 2.0, 0.0, 0.5, 0.0, 30.0, years, 0.0, np.inf)
    assert np.median(back[back[:, -1] > 0, -1]) == pytest.approx(30.0, rel=0.1)
    ended = level.simulate(
        rng, np.zeros(20_000), 2.0, 0.0, 0.5, 0.0, 30.0, years, 0.0, np.inf, revoked=True
    )
    assert (ended == 0).all()
    # with a pull, many jumps forget the start: log levels settle around log(ref) with the
    # autoregression's stationary sd s / sqrt(kappa (2 - kappa)), however long the horizon
    kappa, s = 0.5, 0.5
    far = level.simulate(rng, start, 6.0, 0.0, s, kappa, 30.0, np.full(20, 0.5), 0.0, np.inf)
    logs = np.log(far[:, -1])
    assert np.median(logs) == pytest.approx(np.log(30.0), abs=0.03)
    assert logs.std() == pytest.approx(s / np.sqrt(kappa * (2 - kappa)), rel=0.05)
    assert np.log(far[:, 9]).std() == pytest.approx(logs.std(), rel=0.05)  # spread stops growing


def test_a_level_revoked_before_the_as_of_date_stays_revoked() -> None:
    """A court struck the tariff down (20 -> 0): the forecast is 0 over the whole horizon, as a
    revocation inside the simulation would be (a successor measure is a new indicator)."""
    obs = frame(
        [
            {"period_end": "2025-02-04", "value": 10, "source": "wh"},
            {"period_end": "2025-03-04", "value": 20, "source": "wh"},
            {"period_end": "2026-02-20", "value": 0, "source": "court", "published": "2026-02-20"},
        ]
    )
    ind = indicator("level", "quarterly", id="tariff")
    tr = fit_indicator(obs, ind, dt.date(2026, 3, 1), dt.date(2028, 12, 31), 3, TEST_SETTINGS)
    future = tr.latent.sel(period=slice("2026-03-31", None)).values
    assert future.size and (future == 0).all()


def test_level_family_refuses_negative_levels() -> None:
    obs = frame(
        [
            {"period_end": "2024-12-31", "value": -5, "source": "a"},
            {"period_end": "2025-12-31", "value": 5, "source": "a"},
        ]
    )
    ind = indicator("level", "quarterly", bounds=(None, None), id="net_balance")
    with pytest.raises(ValueError, match="net_balance.*>= 0"):
        fit_indicator(obs, ind, dt.date(2026, 1, 1), dt.date(2026, 12, 31), 1, TEST_SETTINGS)


def test_level_returns_to_a_rate_on_record_are_their_own_component() -> None:
    """A change to a level held before is a return (not a move, not a revocation): counted
    only where one was possible, with the Beta posterior the docstring states; in the
    simulation a return picks uniformly among the other levels on record."""
    from chipcast.models import level

    dates = pd.to_datetime(["2025-04-05", "2025-04-09", "2025-04-10", "2025-04-11", "2025-05-14"])
    seq = pd.Series([10.0, 34.0, 84.0, 125.0, 10.0], index=dates)
    at_risk, returned = level.returns_history(seq)
    assert list(at_risk) == [False, True, True, True]  # the first change had nothing to return to
    assert list(returned) == [False, False, False, True]
    n_jumps, n_revoked, moves, _ = level.jump_history(seq)
    assert (n_jumps, n_revoked) == (4, 0)
    np.testing.assert_allclose(moves, np.log([34 / 10, 84 / 34, 125 / 84]))  # not the return
    *_, r = level.posterior_draws(seq, 0.25, 200_000, np.random.default_rng(2))
    P = level.PRIORS
    a, b = P["return_a0"] + 1, P["return_b0"] + 2
    assert r.mean() == pytest.approx(a / (a + b), rel=0.02)

    rng = np.random.default_rng(3)
    held = np.array([10.0, 20.0, 40.0])
    start = np.full(30_000, 40.0)
    # every jump returns: the paths only visit the levels on record, and after many jumps each
    # is equally likely (a uniform choice among the other two is a chain with a uniform limit)
    paths = level.simulate(rng, start, 40.0, 0.0, 0.5, 0.5, 20.0, np.full(4, 0.25), 0.0, np.inf,
                           r=1.0, held=held)  # fmt: skip
    assert set(np.unique(paths)) <= set(held)
    np.testing.assert_allclose([(paths[:, -1] == v).mean() for v in held], 1 / 3, atol=0.02)
    # no returns: proportional moves never land exactly on a rate on record
    moved = level.simulate(rng, start, 40.0, 0.0, 0.5, 0.5, 20.0, np.full(4, 0.25), 0.0, np.inf,
                           r=0.0, held=held)  # fmt: skip
    assert not np.isin(moved[:, -1], held).any()


@pytest.mark.parametrize("family", ["share", "growth"])
def test_a_growth_slope_starts_in_its_stationary_state(family) -> None:
    """Growth: the first period's slope is the long-run rate plus the damped excess's stationary
    spread, so under the prior the excess has the same spread at the first and the last period
    (with an independent N(0, 1) first slope it shrinks along the series, as shares keep it)."""
    import pymc as pm

    from chipcast.models import _grid as G
    from chipcast.models import _trend as C

    fam = get_family(family)
    assert C.stationary_start(fam.PRIORS) == (family == "growth")
    value = 0.2 if family == "share" else 100.0
    obs = frame(
        [{"period_end": f"{y}-12-31", "value": value, "source": "a"} for y in range(2017, 2025)]
    )
    design = G.snap(G.modelled(obs), "annual", dt.date(2024, 12, 31))
    model = fam.build_model(design)
    with model:
        prior = pm.sample_prior_predictive(
            draws=4000, random_seed=1, var_names=["slope", "mu_slope", "sig_slope"]
        ).prior
    slope = prior["slope"].values.reshape(-1, G.SizeClass.of(design).periods)[:, : design.n_fit]
    mu, sig = (prior[v].values.ravel() for v in ("mu_slope", "sig_slope"))
    rho = fam.PRIORS.slope_reversion.rho_per_year  # annual grid: one step is a year
    excess = (slope - mu[:, None]) / C.stationary_slope_sd(sig, rho, 1.0)[:, None]
    if family == "growth":
        assert np.std(excess[:, 0]) == pytest.approx(1.0, rel=0.05)
        assert np.std(excess[:, -1]) == pytest.approx(1.0, rel=0.05)
    else:
        assert np.std(excess[:, 0]) > 2 * np.std(excess[:, -1])
