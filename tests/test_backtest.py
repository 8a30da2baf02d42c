"""The rolling-origin backtest: origins, targets, the contract CSV; a reduced run on the shipped data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chipcast.cli import main
from chipcast.evaluate.backtest import origins_for, summary_table
from chipcast.registry import load

REPO = Path(__file__).resolve().parents[1]
COLUMNS = [
    "indicator",
    "model",
    "n",
    "crps",
    "crps_rel_naive",
    "coverage_50",
    "coverage_80",
    "coverage_95",
]


def test_origins_see_only_what_was_public(mini: Path) -> None:
    obs = load(mini).indicator_observations("dom_share")
    origins = origins_for(obs)
    assert origins, "no origin"
    for o in origins:
        assert (o.targets["published"] > pd.Timestamp(o.date)).all()
    # at the 2024-03-15 origin, Bernstein's 2023 figure (published 2024-07-17) is a target
    o = next(o for o in origins if o.date == dt.date(2024, 3, 15))
    assert ("bernstein", pd.Timestamp("2023-12-31")) in set(
        zip(o.targets["source"], o.targets["period_end"], strict=True)
    )
    # a revision of a figure already seen is not a target
    o = next(o for o in origins if o.date == dt.date(2025, 3, 15))
    assert not ((o.targets["source"] == "idc") & (o.targets["period_end"] == "2024-12-31")).any()


def test_an_old_figure_published_late_is_not_a_target(mini: Path) -> None:
    """huawei_910c_yield's shape: a 2024-09-30 figure first published after two later ones is
    a backcast at their origin (the model's grid starts at the first public figure)."""
    csv = mini / "data" / "observations" / "dom_share.csv"
    with csv.open("a") as f:
        f.write("2020-12-31,,0.10,bernstein,2025-08-01,,,,,an old year published late\n")
    obs = load(mini).indicator_observations("dom_share")
    for o in origins_for(obs):
        assert (o.targets["period_end"] >= pd.Timestamp("2021-12-31")).all(), o.date


def test_summary_relative_to_naive_on_common_targets() -> None:
    scores = pd.DataFrame(
        {
            "indicator": ["x"] * 4,
            "origin": [1, 1, 2, 2],
            "source": ["s"] * 4,
            "period_end": [1, 1, 2, 2],
            "model": ["naive", "share", "naive", "share"],
            "crps": [2.0, 1.0, 2.0, 2.0],
            "coverage_50": [1, 0, 1, 1],
            "coverage_80": [1, 1, 1, 0],
            "coverage_95": [1, 1, 1, 1],
        }
    )
    t = summary_table(scores).set_index("model")
    assert t.loc["share", "crps_rel_naive"] == pytest.approx(0.75)
    assert t.loc["share", "coverage_80"] == pytest.approx(0.5)
    assert t.loc["naive", "n"] == 2


# one or two per family, each with targets after its last origin in the shipped backtest
SAMPLE_INDICATORS = [
    "alibaba_capex",
    "cn_ic_imports_value",
    "bis_entity_list_additions",
    "cn_ai_accel_domestic_share_units",
    "nvda_rev_china_share_q",
    "us_tariff_cn_ieepa_total",
]


@pytest.mark.slow
def test_reduced_backtest_on_shipped_data(tmp_path: Path) -> None:
    """One origin on a fixed sample of indicators (every family), small draws: matched scores."""
    out, detail = tmp_path / "bt.csv", tmp_path / "detail.csv"
    assert (
        main(
            [
                "backtest",
                *SAMPLE_INDICATORS,
                "--root",
                str(REPO),
                "--max-origins",
                "1",
                "--profile",
                "test-small",
                "--out",
                str(out),
                "--detail",
                str(detail),
                "--today",
                "2026-11-23",
            ]
        )
        == 0
    )
    # the per-target rows: the outcome beside its central 80% interval, which the hit agrees with
    rows = pd.read_csv(detail).dropna(subset=["crps"])
    assert len(rows) and (rows["q10"] <= rows["q50"]).all() and (rows["q50"] <= rows["q90"]).all()
    inside = (rows["q10"] <= rows["value"]) & (rows["value"] <= rows["q90"])
    assert (inside.astype(float) == rows["coverage_80"]).all()
    assert rows["pit"].between(0, 1).all()
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS
    assert (df["n"] > 0).all()
    assert {"naive", "statsmodels"} <= set(df["model"])
    bayes = df[~df["model"].isin(["naive", "statsmodels"])]
    assert set(bayes["indicator"]) == set(SAMPLE_INDICATORS)
    assert {"share", "growth", "count", "level"} <= set(bayes["model"])
    rel = bayes["crps_rel_naive"].dropna()
    assert len(rel) >= 5 and np.isfinite(rel).all() and (rel > 0).all()
    assert (
        df[["coverage_50", "coverage_80", "coverage_95"]]
        .apply(lambda c: c.between(0, 1))
        .all()
        .all()
    )


def test_origin_a_baseline_cannot_forecast_is_skipped_for_everyone(
    mini: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scores stay on common targets: no naive forecast, no model fit, no rows for that origin."""
    import chipcast.evaluate.backtest as bt
    import chipcast.models as models

    class Blind:
        def forecast(self, *args, **kwargs):
            raise ValueError("no usable observations to forecast from")

    fits: list[object] = []
    monkeypatch.setitem(bt.BASELINES, "naive", Blind())
    monkeypatch.setattr(models, "fit_indicator", lambda *a, **k: fits.append(a))
    rows = bt.backtest_indicator(load(mini), "dom_share", profile="test-small", max_origins=2)
    assert rows.empty and fits == []


SHIPPED_BACKTEST = REPO / "forecasts" / "backtest.csv"
SHIPPED_DETAIL = REPO / "forecasts" / "backtest-targets.csv"


def test_the_shipped_table_is_the_summary_of_the_shipped_targets() -> None:
    """The committed backtest table is what `summary_table` makes of the committed per-target
    rows (to the six figures the detail file keeps): the two files come from one run of the
    current scoring code, not from two runs or an older summary (the results themselves are in
    the README)."""
    from chipcast.evaluate.backtest import SUMMARY_COLUMNS

    detail = pd.read_csv(SHIPPED_DETAIL)
    shipped = pd.read_csv(SHIPPED_BACKTEST)
    table = summary_table(detail)[SUMMARY_COLUMNS]
    assert list(shipped.columns) == SUMMARY_COLUMNS
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), shipped, check_dtype=False, atol=5e-5, rtol=1e-5
    )


def test_policy_levels_are_scored_at_the_level_in_force(mini: Path) -> None:
    """Level targets: every grid period end after the origin, with the level then in force."""
    from chipcast.evaluate.backtest import in_force_targets

    reg = load(mini)
    obs = reg.indicator_observations("tariff_rate")
    origin = next(o for o in origins_for(obs) if o.date == dt.date(2023, 10, 1))
    targets = in_force_targets(obs, reg.indicators["tariff_rate"], origin, dt.date(2026, 11, 23))
    got = dict(zip(targets["period_end"].dt.date, targets["value"], strict=True))
    # quarter ends after the origin up to the last new figure (2025-06-30); 10 until the rise
    # dated 2024-06-30, 25 from then on: the quarters without a new figure are targets too
    assert got[dt.date(2023, 12, 31)] == 10
    assert got[dt.date(2024, 3, 31)] == 10
    assert got[dt.date(2024, 6, 30)] == 25
    assert got[dt.date(2025, 3, 31)] == 25
    assert max(got) == dt.date(2025, 6, 30)
    assert all(d > origin.date for d in got)


@pytest.mark.parametrize(
    ("frequency", "start", "end", "expected"),
    [
        # a fiscal quarter ending 27 Oct is the calendar quarter ending 31 Dec, where it was fitted
        ("quarterly", "2024-07-29", "2024-10-27", 4.0),
        # a nine-month fiscal total: three grid quarters
        ("quarterly", "2024-01-29", "2024-10-27", 2.0 + 3.0 + 4.0),
        # an annual total on a quarterly grid sums its four quarters
        ("quarterly", "2024-01-01", "2024-12-31", 1.0 + 2.0 + 3.0 + 4.0),
        # a quarter on an annual grid is its days' fraction of the year's flow
        ("annual", "2024-10-01", "2024-12-31", 92 / 365.25),
    ],
)
def test_flow_targets_use_the_fitting_snapping_rule(frequency, start, end, expected) -> None:
    import xarray as xr

    from chipcast.evaluate.backtest import _target_draws
    from chipcast.models import period_grid
    from tests.test_models_helpers import indicator

    grid = period_grid(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"), frequency)
    values = np.arange(1.0, len(grid) + 1.0)  # 1, 2, 3, 4 per quarter (1 for the year)
    arr = xr.DataArray(np.tile(values, (3, 1)), dims=("sample", "period"), coords={"period": grid})
    row = pd.Series({"period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end)})
    got = _target_draws(arr, indicator("growth", frequency), row)
    assert got == pytest.approx(np.full(3, expected))


def test_a_gated_fit_is_not_scored_and_the_table_says_so(mini: Path, monkeypatch) -> None:
    """A fit that fails the gate publishes nothing: its targets are kept as rows marked gated,
    with no score, out of n and coverage, and the printed table names the origins."""
    import chipcast.models as models
    from chipcast.evaluate.backtest import backtest_indicator, format_backtest

    real = models.fit_indicator

    def gated_fit(*args, **kwargs):
        traj = real(*args, **kwargs)
        traj.diagnostics.passed = False
        return traj

    monkeypatch.setattr(models, "fit_indicator", gated_fit)
    scores = backtest_indicator(load(mini), "tariff_rate", profile="test-small")
    mine = scores[scores["model"] == "level"]
    assert len(mine) and mine["gated"].all() and mine["crps"].isna().all()
    assert not scores.loc[scores["model"] != "level", "gated"].any()
    table = summary_table(scores)
    assert "level" not in set(table["model"]) and "naive" in set(table["model"])
    text = format_backtest(table, scores)
    assert f"not scored: {len(mine)} target(s) whose fit failed the convergence gate" in text
    assert "tariff_rate" in text.split("not scored:")[1]
