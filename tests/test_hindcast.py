"""Hindcasts (issue 15): the right dates, only the data public then, determinism, incremental
runs, the scoring on a hand-worked case with the common window, and the labels.

A fake fit (draws centred on the last figure the view holds) stands in for the samplers, so
these tests are fast and see exactly which data each fit was given; the level family, drawn
by exact Monte Carlo, runs for real.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chipcast.evaluate.hindcast import hindcast_dates, window
from chipcast.evaluate.hindcast_scoring import (
    hindcast_claim_scores,
    hindcast_scores,
    hindcast_summary,
    hindcast_verdict,
)
from chipcast.evaluate.resolution import resolve
from chipcast.models import period_grid
from chipcast.models.base import Diagnostics, make_trajectory
from chipcast.pipeline.hindcast import rows_from_refresh, run_hindcasts
from chipcast.record import record_observation
from chipcast.registry import load
from chipcast.store import HINDCAST_COLUMNS, HINDCAST_LABEL, HISTORY_COLUMNS, read_hindcasts

TODAY = dt.date(2025, 12, 1)
D = dt.date


class FakeFit:
    """A deterministic stand-in for `models.fit_indicator` that records what it was shown."""

    def __init__(self, passed: bool = True) -> None:
        self.calls: list[tuple[str, dt.date, pd.Timestamp]] = []
        self.passed = passed

    def __call__(self, view, ind, as_of, horizon, seed, settings):  # noqa: ANN001, ANN204
        self.calls.append((ind.id, as_of, pd.Timestamp(view["published"].max())))
        pts = view[view["censor"] == "point"].sort_values("period_end")
        grid = period_grid(view["period_end"].min(), pd.Timestamp(horizon), ind.frequency)
        rng = np.random.default_rng(seed)
        centre = float(pts["value"].iloc[-1])
        spread = 0.05 if ind.family == "share" else 0.1 * abs(centre)
        draws = centre + spread * rng.standard_normal((400, len(grid)))
        if ind.family == "share":
            draws = np.clip(draws, 0, 1)
        diag = Diagnostics(ind.family, self.passed, rhat_max=1.0, ess_bulk_min=500.0)
        if not self.passed:
            diag.reasons = ["r_hat 1.050 > 1.01"]
        reported = {s: draws for s in sorted(view["source"].unique())} | {"_new": draws}
        return make_trajectory(ind, ind.family, "fake-1", as_of, seed, grid, draws, reported, diag)


def test_dates_run_from_made_on_over_every_publication_until_resolution(mini: Path) -> None:
    reg = load(mini)
    # made 2024-07-17 (a Bernstein figure came out that day), open: every later vintage date
    assert hindcast_dates(reg, reg.claims["dom-share-55-2027"], TODAY) == [
        D(2024, 7, 17),
        D(2025, 3, 15),
        D(2025, 6, 1),
        D(2025, 7, 17),
    ]
    # resolved by the figure published 2024-03-15: that day and later are out of the window
    c = reg.claims["share-2023-above-15"]
    assert window(reg, c, TODAY).end == D(2024, 3, 15)
    assert hindcast_dates(reg, c, TODAY) == [D(2023, 3, 15)]
    # today bounds an open claim; events and uncheckable claims get none
    assert hindcast_dates(reg, reg.claims["dom-share-55-2027"], D(2025, 3, 14)) == [D(2024, 7, 17)]
    assert hindcast_dates(reg, reg.claims["rule-replacement"], TODAY) == []
    assert hindcast_dates(reg, reg.claims["vague-claim"], TODAY) == []


def test_each_fit_sees_only_the_data_public_on_its_date(mini: Path) -> None:
    fit = FakeFit()
    run_hindcasts(load(mini), TODAY, ["dom-share-55-2027"], fit=fit)
    assert [c[1] for c in fit.calls] == [
        D(2024, 7, 17),
        D(2025, 3, 15),
        D(2025, 6, 1),
        D(2025, 7, 17),
    ]
    assert all(latest <= pd.Timestamp(d) for _, d, latest in fit.calls)
    rows = read_hindcasts(load(mini).paths, "dom-share-55-2027")
    assert list(rows.columns) == list(HINDCAST_COLUMNS)
    assert list(HINDCAST_COLUMNS[: len(HISTORY_COLUMNS)]) == list(HISTORY_COLUMNS)
    assert set(rows["forecaster"]) == {"model", "naive", "statsmodels"}
    model = rows[rows["forecaster"] == "model"]
    assert (
        model["probability"].notna().all() and (model["computed_on"] == pd.Timestamp(TODAY)).all()
    )
    assert model["data_fingerprint"].nunique() == 4 and (model["seed"].notna()).all()


def test_a_figure_published_the_next_day_changes_nothing(mini: Path) -> None:
    run_hindcasts(load(mini), TODAY, ["dom-share-55-2027"], fit=FakeFit())
    before = read_hindcasts(load(mini).paths, "dom-share-55-2027")
    problems = record_observation(
        mini, indicator="dom_share", period_end=D(2024, 12, 31), value="0.9", source="bernstein",
        published=D(2025, 3, 16),
    )  # fmt: skip
    assert problems == []
    fit = FakeFit()
    result = run_hindcasts(load(mini), TODAY, ["dom-share-55-2027"], fit=fit)
    after = read_hindcasts(load(mini).paths, "dom-share-55-2027")
    # a new date (2025-03-16), and 2025-06-01, whose view now holds the figure (until Bernstein's
    # revision of 2025-07-17 replaces it): those two fits only; the other rows are untouched,
    # 2025-03-15's included (the figure came a day later)
    assert [c[1] for c in fit.calls] == [D(2025, 3, 16), D(2025, 6, 1)]
    assert result.rows_new == 6 and len(after) == len(before) + 3
    keep = ["issued_on", "forecaster", "probability", "fingerprint", "computed_on"]
    changed = after["issued_on"].isin([pd.Timestamp(D(2025, 3, 16)), pd.Timestamp(D(2025, 6, 1))])
    same = before[before["issued_on"] != pd.Timestamp(D(2025, 6, 1))]
    pd.testing.assert_frame_equal(
        after[~changed][keep].reset_index(drop=True), same[keep].reset_index(drop=True)
    )


def test_same_seed_same_rows(mini: Path, tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "copy"
    shutil.copytree(mini, other)
    for root in (mini, other):
        run_hindcasts(load(root), TODAY, fit=FakeFit())
    files = sorted(p.name for p in (mini / "forecasts" / "hindcasts").glob("*.csv"))
    assert files == [
        "acme-revenue-2025q2.csv",
        "dom-share-55-2027.csv",
        "share-2023-above-15.csv",
        "xss-claim.csv",
    ]
    for f in files:
        assert (mini / "forecasts/hindcasts" / f).read_text() == (
            other / "forecasts/hindcasts" / f
        ).read_text()


def test_nothing_new_writes_nothing_and_fits_nothing(mini: Path) -> None:
    run_hindcasts(load(mini), TODAY, fit=FakeFit())
    stamp = {p: p.stat().st_mtime_ns for p in (mini / "forecasts" / "hindcasts").glob("*.csv")}
    fit = FakeFit()
    result = run_hindcasts(load(mini), D(2025, 12, 2), fit=fit)
    assert fit.calls == [] and result.written == [] and result.rows_new == 0
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp


def test_a_gated_fit_writes_no_probability_and_says_so(mini: Path) -> None:
    result = run_hindcasts(load(mini), TODAY, ["share-2023-above-15"], fit=FakeFit(passed=False))
    assert result.gated == ["dom_share 2023-03-15"]
    rows = read_hindcasts(load(mini).paths, "share-2023-above-15")
    m = rows[rows["forecaster"] == "model"].iloc[0]
    assert np.isnan(m["probability"]) and m["note"].startswith("gated:") and m["rhat_max"] == 1.0
    # the references still forecast on that date
    assert rows[rows["forecaster"] == "naive"]["probability"].notna().all()


def test_value_claims_get_quantiles_and_the_claimants_pit(mini: Path) -> None:
    run_hindcasts(load(mini), TODAY, ["acme-revenue-2025q2"], fit=FakeFit())
    rows = read_hindcasts(load(mini).paths, "acme-revenue-2025q2")
    m = rows[rows["forecaster"] == "model"].iloc[0]
    assert m["issued_on"] == pd.Timestamp(D(2025, 4, 20)) and np.isnan(m["probability"])
    assert m["q025"] < m["q500"] < m["q975"] and 0 <= m["claimant_pit"] <= 1


def test_level_family_for_real(mini: Path) -> None:
    """The level family is drawn by exact Monte Carlo: the real fit, no sampler."""
    result = run_hindcasts(load(mini), TODAY, ["xss-claim"])
    assert result.fits == 2 and result.gated == []
    rows = read_hindcasts(load(mini).paths, "xss-claim")
    assert sorted(set(rows["issued_on"].dt.date)) == [D(2024, 11, 1), D(2025, 5, 1)]
    assert rows[rows["forecaster"] == "model"]["probability"].between(0, 1).all()


def test_a_refresh_fit_adds_its_dates_rows(mini: Path) -> None:
    reg = load(mini)
    fit = FakeFit()
    view = reg.indicator_observations("dom_share")
    from chipcast.evaluate.probability import horizon_for, indicator_seed
    from chipcast.models.base import TEST_SETTINGS

    traj = fit(
        view[view["published"] <= pd.Timestamp(TODAY)], reg.indicators["dom_share"], TODAY,
        horizon_for(reg.indicator_claims("dom_share"), TODAY), indicator_seed(20250717, "dom_share"),
        TEST_SETTINGS,
    )  # fmt: skip
    rows = rows_from_refresh(reg, traj, TODAY, "run-1", 20250717, "default", TODAY)
    # the data last changed on 2025-07-17: that date's rows, for the open claim only
    assert set(rows) == {"dom-share-55-2027"}
    new = [r for r in rows["dom-share-55-2027"] if r["run_id"] == "run-1"]
    assert {r["issued_on"] for r in new} == {"2025-07-17"} and len(new) == 3


# --- scoring ---------------------------------------------------------------------------------


def _hc(claim: str, forecaster: str, day: str, p: float) -> dict:
    return {
        "claim_id": claim,
        "forecaster": forecaster,
        "issued_on": pd.Timestamp(day),
        "probability": p,
    }


def test_hand_worked_scores_on_the_common_window(mini: Path) -> None:
    reg = load(mini)
    c = reg.claims["share-2023-above-15"]  # true, settled by the figure of 2024-03-15
    res = resolve(c, reg.observations, TODAY)
    assert res.outcome is True and res.resolved_on == D(2024, 3, 15)
    h = pd.DataFrame(
        [
            _hc(c.id, "model", "2023-03-15", 0.6),
            _hc(c.id, "model", "2023-09-15", 0.8),
            _hc(c.id, "naive", "2023-06-15", 0.5),  # naive starts later: the window starts here
            _hc(c.id, "model", "2024-03-15", 0.0),  # on the resolution day: not counted
        ]
    )
    for q in ("q025", "q050", "q100", "q250", "q500", "q750", "q900", "q950", "q975"):
        h[q] = np.nan
    rows = {r["forecaster"]: r for r in hindcast_claim_scores(c, res, h)}
    assert set(rows) == {"model", "naive", "claimant"}
    # window 2023-06-15 .. 2024-03-15 = 274 days: 0.6 for 92 days, then 0.8 for 182
    assert rows["model"]["days"] == 274 and rows["model"]["window_start"] == D(2023, 6, 15)
    assert rows["model"]["brier"] == pytest.approx((92 * 0.4**2 + 182 * 0.2**2) / 274)
    assert rows["model"]["log_score"] == pytest.approx(
        -(92 * np.log(0.6) + 182 * np.log(0.8)) / 274
    )
    assert rows["model"]["n_forecasts"] == 2 and rows["model"]["last_probability"] == 0.8
    assert rows["naive"]["brier"] == pytest.approx(0.25) and rows["naive"]["days"] == 274
    assert rows["claimant"]["brier"] == pytest.approx(0.0)  # asserted it: p = 1, and it held
    summary = hindcast_summary(pd.DataFrame(list(rows.values())))
    assert summary.set_index("forecaster").loc["model", "binary_n"] == 1
    verdict = hindcast_verdict(pd.DataFrame(list(rows.values())))
    assert "Over 1 resolved threshold claim" in verdict and f"{22 / 274:.3f}" in verdict
    assert "today's model on the data public then" in verdict


def test_value_claims_score_crps_relative_to_naive(mini: Path) -> None:
    reg = load(mini)
    record_observation(
        mini, indicator="acme_revenue", period_end=D(2025, 6, 30), value="280", source="acme",
        published=D(2025, 7, 20),
    )  # fmt: skip
    run_hindcasts(load(mini), TODAY, ["acme-revenue-2025q2"], fit=FakeFit())
    reg = load(mini)
    scores = hindcast_scores(reg, read_hindcasts(reg.paths), TODAY)
    s = scores.set_index("forecaster")
    assert s.loc["naive", "crps_rel_naive"] == pytest.approx(1.0)
    assert s.loc["claimant", "crps"] == pytest.approx(20.0)  # |300 - 280|
    assert s.loc["model", "window_start"] == D(2025, 4, 20) and s.loc["model", "days"] == 91


# --- labels -----------------------------------------------------------------------------------


def test_the_site_labels_every_hindcast(mini: Path) -> None:
    from chipcast.report.site import build_site

    run_hindcasts(load(mini), TODAY, ["dom-share-55-2027", "share-2023-above-15"], fit=FakeFit())
    site = build_site(mini, today=TODAY).parent
    page = html.unescape((site / "claims" / "dom-share-55-2027.html").read_text())
    assert HINDCAST_LABEL in page and "What the model would have said" in page
    board = html.unescape((site / "scoreboard.html").read_text())
    assert HINDCAST_LABEL in board
    # the resolved claim's hindcast is scored, and the verdict says so with its caveats
    assert "Over 1 resolved threshold claim" in board and "Caveats" in board


def test_the_timeline_shows_hindcasts_then_issued_forecasts_labelled(mini: Path) -> None:
    from chipcast.report.views import claim_timeline, figure_marks

    reg = load(mini)
    c = reg.claims["dom-share-55-2027"]
    hc = pd.DataFrame(
        [
            _hc(c.id, "model", d, p)
            for d, p in (("2024-07-17", 0.2), ("2025-03-15", 0.3), ("2025-07-17", 0.4))
        ]
        + [_hc(c.id, "naive", "2024-07-17", 0.1)]
    )
    issued = pd.DataFrame([_hc(c.id, "model", "2025-06-01", 0.35)])
    t = claim_timeline(c, hc, issued)
    # hindcasts up to the first issued forecast, then what was issued; every hindcast labelled
    assert list(t["basis"]) == ["hindcast", "hindcast", "issued"]
    assert (t.loc[t["basis"] == "hindcast", "label"] == HINDCAST_LABEL).all()
    marks = figure_marks(
        reg.indicator_observations("dom_share"),
        reg.indicators["dom_share"],
        {"idc": "IDC"},
        since=c.made_on,
    )
    assert "2025-03-15: IDC, >30% for 2024-12-31" in list(marks["text"])


def test_a_judgment_in_force_on_the_window_is_scored_beside(mini: Path) -> None:
    reg = load(mini)
    c = reg.claims["share-2023-above-15"]
    res = resolve(c, reg.observations, TODAY)
    h = pd.DataFrame([_hc(c.id, "model", "2023-03-15", 0.6), _hc(c.id, "naive", "2023-03-15", 0.5)])
    judged = pd.DataFrame([_hc(c.id, "judgment", "2023-03-15", 0.9)])
    late = pd.DataFrame([_hc(c.id, "judgment", "2023-06-01", 0.9)])  # after the window opened
    for df in (h, judged, late):
        for q in ("q025", "q050", "q100", "q250", "q500", "q750", "q900", "q950", "q975"):
            df[q] = np.nan
    rows = {r["forecaster"]: r for r in hindcast_claim_scores(c, res, h, judged)}
    assert rows["judgment"]["brier"] == pytest.approx(0.01) and rows["judgment"]["days"] == 366
    assert "judgment" not in {r["forecaster"] for r in hindcast_claim_scores(c, res, h, late)}


def test_the_fingerprint_hashes_what_a_hindcast_runs_and_nothing_else(monkeypatch) -> None:
    from chipcast.pipeline import hindcast as H

    seen: list[str] = []
    real = H.code_text

    def spy(source: str) -> str:
        seen.append(source)
        return real(source)

    H.hindcast_code.cache_clear()
    monkeypatch.setattr(H, "code_text", spy)
    H.hindcast_code("share")
    H.hindcast_code.cache_clear()
    lib = H.LIBRARY
    texts = set(seen)
    for rel in (
        "models/share.py",
        "models/base.py",
        "evaluate/probability.py",
        "evaluate/baselines.py",
    ):
        assert (lib / rel).read_text() in texts
    for rel in ("evaluate/voi.py", "analysis/indicator.py", "models/growth.py"):
        assert (lib / rel).read_text() not in texts
