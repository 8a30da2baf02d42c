"""Value of information and source offsets: the pure functions on known joint draws, the next
figure of a source, the summary file's round trip (no sampling)."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from chipcast.data import as_of
from chipcast.evaluate.voi import (
    expected_figure,
    indicator_summary,
    next_figure,
    source_offsets,
    value_of_information,
)
from chipcast.models.base import (
    NEW_SOURCE,
    Diagnostics,
    Trajectory,
    make_trajectory,
    source_effects,
)
from chipcast.paths import Paths
from chipcast.registry import load
from chipcast.store import read_summary, write_summary

D = dt.date


def test_terciles_worked_by_hand() -> None:
    """Nine draws: the next figure 0..8; the claim holds in 1 of the lowest three, 2 of the
    middle three and all of the highest three."""
    nxt = np.arange(9.0)
    outcome = np.array([0, 0, 1, 0, 1, 1, 1, 1, 1], bool)
    t = value_of_information(outcome, nxt, bins=3)
    assert t.probability == pytest.approx(6 / 9)
    assert (t.p_lower, t.p_middle, t.p_upper) == pytest.approx((1 / 3, 2 / 3, 1.0))
    assert t.tercile_edges == pytest.approx((8 / 3, 16 / 3))
    # three bins, monotone already: |1/3 - 2/3|, |2/3 - 2/3|, |1 - 2/3| averaged
    assert t.expected_change == pytest.approx((1 / 3 + 0 + 1 / 3) / 3)
    assert t.increasing


def _gaussian(n: int = 60_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Next figure X ~ N(0, 1); the settling figure Y = X + N(0, 1): P(Y > 0 | X = x) = Phi(x)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    return x, x + rng.standard_normal(n)


def test_known_joint_matches_the_integrals() -> None:
    x, y = _gaussian()
    t = value_of_information(y > 0, x)
    z1, z2 = stats.norm.ppf([1 / 3, 2 / 3])

    def cond(a: float, b: float) -> float:  # E[Phi(X) | a < X < b]
        num = integrate.quad(lambda u: stats.norm.cdf(u) * stats.norm.pdf(u), a, b)[0]
        return num / (stats.norm.cdf(b) - stats.norm.cdf(a))

    assert t.p_lower == pytest.approx(cond(-np.inf, z1), abs=0.01)
    assert t.p_middle == pytest.approx(cond(z1, z2), abs=0.01)
    assert t.p_upper == pytest.approx(cond(z2, np.inf), abs=0.01)
    assert t.p_lower < t.p_middle < t.p_upper and t.increasing
    assert t.crossing == pytest.approx(0.0, abs=0.05)  # Phi(x) = 0.5 at x = 0
    assert t.expected_change == pytest.approx(0.25, abs=0.01)  # E|U - 1/2|, U uniform
    assert t.interval == pytest.approx(stats.norm.ppf([0.05, 0.95]), abs=0.03)


def test_a_below_claim_falls_as_the_figure_rises() -> None:
    x, y = _gaussian()
    t = value_of_information(y < 0.5, x)
    assert not t.increasing and t.p_lower > t.p_middle > t.p_upper
    assert t.crossing == pytest.approx(0.5, abs=0.05)


def test_the_settling_figure_itself_is_exact() -> None:
    _, y = _gaussian()
    t = value_of_information(y >= 0.3, y, settles_at=0.3)
    p = float(np.mean(y >= 0.3))
    assert t.crossing == 0.3 and t.expected_change == pytest.approx(2 * p * (1 - p))
    assert t.p_lower == 0.0 and t.p_upper == 1.0


def test_no_crossing_inside_the_interval_says_which_side() -> None:
    x, y = _gaussian()
    t = value_of_information(y > -4, x)
    assert t.crossing is None and "above 50%" in t.crossing_note
    assert t.expected_change < 0.03
    t = value_of_information(np.zeros(len(x), bool), x)
    assert t.crossing is None and t.expected_change == 0 and "below" in t.crossing_note


def test_expected_date_and_lateness_of_a_next_figure() -> None:
    assert expected_figure(D(2025, 12, 31), 74, D(2026, 1, 5)) == (D(2026, 3, 15), 0)
    assert expected_figure(D(2025, 12, 31), 74, D(2026, 3, 25)) == (D(2026, 3, 15), 10)
    assert expected_figure(D(2025, 12, 31), None, D(2026, 3, 25)) == (None, 0)


def test_mismatched_draws_are_refused() -> None:
    with pytest.raises(ValueError):
        value_of_information(np.ones(3, bool), np.ones(4))


# --- the next figure and a trajectory's table ---------------------------------------------


def test_next_figure_of_the_settling_source(mini: Path) -> None:
    reg = load(mini)
    obs = as_of(reg.observations, D(2025, 9, 1))
    nf = next_figure(reg.claims["dom-share-55-2027"], obs)  # IDC's last: 2024 (a revision)
    assert (nf.source, nf.period_start, nf.period_end, nf.settles) == (
        "idc",
        D(2025, 1, 1),
        D(2025, 12, 31),
        False,
    )
    # Acme's last quarter is 2025Q1: its next is the target quarter, which settles the claim
    nf = next_figure(reg.claims["acme-revenue-2025q2"], obs)
    assert (nf.period_start, nf.period_end, nf.settles) == (D(2025, 4, 1), D(2025, 6, 30), True)
    # nothing after the target: the source has reported it already
    late = obs[obs["indicator"] == "acme_revenue"].copy()
    late.loc[late.index[-1], "period_end"] = pd.Timestamp("2025-09-30")
    assert next_figure(reg.claims["acme-revenue-2025q2"], late) is None


def _share_trajectory(seed: int = 1, n: int = 4000) -> Trajectory:
    """IDC and Bernstein over 2021..2027 with known joint draws: latent 2025 L ~ U(0.2, 0.6),
    2027 = L + 0.1 +- noise; IDC's second report of 2025 = L + noise."""
    rng = np.random.default_rng(seed)
    grid = pd.date_range("2021-12-31", periods=7, freq="YE")
    lat = np.tile(np.linspace(0.12, 0.4, 7), (n, 1))
    lat[:, 4] = rng.uniform(0.2, 0.6, n)
    lat[:, 5] = lat[:, 4] + 0.05
    lat[:, 6] = lat[:, 4] + 0.1 + 0.05 * rng.standard_normal(n)
    reported = {"idc": lat.copy(), "bernstein": lat - 0.03, NEW_SOURCE: lat.copy()}
    nxt = {
        "idc": lat + 0.02 * rng.standard_normal((n, 1)),
        "bernstein": lat - 0.03,
        NEW_SOURCE: lat.copy(),
    }
    off = np.stack([np.full(n, 0.01), rng.normal(-0.03, 0.01, n)], axis=1)
    sig = np.abs(rng.normal(0.05, 0.01, (n, 2)))
    sources = source_effects(
        ["idc", "bernstein"], off, sig, off, sig, "difference", pd.Timestamp("2024-12-31")
    )
    return make_trajectory(
        SimpleNamespace(id="dom_share"),  # type: ignore[arg-type]  # only its id is read
        "share",
        "t1",
        D(2025, 9, 1),
        seed,
        grid,
        lat,
        reported,
        Diagnostics(family="share", passed=True),
        nxt,
        sources,
    )


def test_summary_of_a_trajectory_counts_its_joint_draws(mini: Path) -> None:
    reg = load(mini)
    traj = _share_trajectory()
    obs = as_of(reg.observations, D(2025, 9, 1))
    obs = obs[obs["indicator"] == "dom_share"]
    s = indicator_summary(traj, list(reg.claims.values()), obs)
    (c,) = s["claims"]  # dom-share-55-2027 (share-2023-above-15 is resolved)
    assert c["claim_id"] == "dom-share-55-2027"
    assert c["next"] == {
        "source": "idc",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "settles": False,
    }
    # by hand from the same draws: the claim (IDC's 2027 >= 0.55) by terciles of IDC's next 2025
    outcome = traj.reported.sel(source="idc").isel(period=6).values >= 0.55
    nxt = traj.reported_next.sel(source="idc").isel(period=4).values
    t1, t2 = np.quantile(nxt, [1 / 3, 2 / 3])
    for key, m in (
        ("p_lower", nxt <= t1),
        ("p_middle", (nxt > t1) & (nxt <= t2)),
        ("p_upper", nxt > t2),
    ):
        assert c[key] == pytest.approx(outcome[m].mean(), abs=1e-3)
    assert c["p_lower"] < c["p_middle"] < c["p_upper"]
    assert c["probability"] == pytest.approx(outcome.mean(), abs=1e-3)
    # 2027 = L + 0.1 + noise >= 0.55 crosses 50% near L = 0.45 (the next figure reads L)
    assert c["crossing"] == pytest.approx(0.45, abs=0.02)
    # who runs hot: Bernstein 3 points below, IDC 1 point above, with their intervals
    by = {r["source"]: r for r in s["sources"]}
    assert by["bernstein"]["offset"]["median"] == pytest.approx(-0.03, abs=0.002)
    assert by["bernstein"]["offset"]["lo"] < -0.03 < by["bernstein"]["offset"]["hi"]
    assert by["idc"]["figures"] == 4 and not by["idc"]["reference"]
    assert s["effect"] == "difference" and s["at_period"] == "2024-12-31"
    json.dumps(s)  # plain JSON types only


def test_summary_file_round_trips_and_is_deterministic(mini: Path) -> None:
    reg = load(mini)
    obs = as_of(reg.observations, D(2025, 9, 1))
    a = indicator_summary(_share_trajectory(), list(reg.claims.values()), obs)
    b = indicator_summary(_share_trajectory(), list(reg.claims.values()), obs)
    path = Paths(mini).summary_file("dom_share")
    write_summary(path, a)
    first = path.read_bytes()
    write_summary(path, b)
    assert path.read_bytes() == first
    assert read_summary(path) == a
    path.write_text("{not json")
    assert read_summary(path) is None
    assert read_summary(Paths(mini).summary_file("nothing")) is None


def test_trajectory_keeps_second_reports_and_sources_through_save(tmp_path: Path) -> None:
    traj = _share_trajectory(n=50)
    traj.save(tmp_path)
    back = Trajectory.load(tmp_path)
    np.testing.assert_array_equal(back.reported_next.values, traj.reported_next.values)
    assert back.sources is not None and back.sources.attrs == traj.sources.attrs
    np.testing.assert_array_equal(
        back.sources["offset_units"].values, traj.sources["offset_units"].values
    )
    assert source_offsets(back) == source_offsets(traj)
    assert list(back.sources["source"].values) == ["idc", "bernstein"]


# --- the site ------------------------------------------------------------------------------


def test_site_shows_what_would_move_it_watch_list_and_offsets(mini: Path) -> None:
    from chipcast.report.site import build_site
    from tests.test_report import RUN_NEW, TODAY, write_synthetic

    write_synthetic(mini, notebook=False)
    reg = load(mini)
    obs = as_of(reg.observations, TODAY)
    summary = indicator_summary(_share_trajectory(), list(reg.claims.values()), obs)
    summary["sources"][0]["source"] = "<b>x</b>"  # text from a file is escaped
    write_summary(Paths(mini).summary_file("dom_share"), summary)
    site = mini / "reports" / "site"
    build_site(mini, TODAY, run_id=RUN_NEW)

    def read(rel: str) -> str:
        return html.unescape((site / rel).read_text())

    claim = read("claims/dom-share-55-2027.html")
    assert "What would move it" in claim
    assert "If IDC's 2025 figure comes in below" in claim and "P(claim) passes 50%" in claim
    assert "falls to" in claim and "rises to" in claim
    assert "IDC's 2025 figure is expected about 2026-03-15." in claim
    watch = read("watch.html")
    assert 'href="claims/dom-share-55-2027.html"' in watch and "IDC's 2025 figure" in watch
    # IDC's 2025 figure is expected at its period's end plus IDC's observed lag (74 days)
    assert "2026-03-15" in watch and "days late" not in watch
    assert 'href="watch.html"' in (site / "index.html").read_text()
    ind = (site / "indicators" / "dom_share.html").read_text()  # escaped
    assert "Who runs hot" in ind and "Bernstein reports 3 points (−4.6 to −1.3) below" in ind
    assert "&lt;b&gt;x&lt;/b&gt; reports 1 point (+1 to +1) above" in ind and "<b>x</b>" not in ind
    sb = (site / "scoreboard.html").read_text()
    assert "Who runs hot" in sb and 'href="indicators/dom_share.html"' in sb
    # a claim without a summary entry says nothing about it
    other = (site / "claims" / "acme-revenue-2025q2.html").read_text()
    assert "What would move it" not in other


def test_notebook_tables_read_the_summary(mini: Path) -> None:
    from chipcast import analysis

    reg = load(mini)
    obs = as_of(reg.observations, D(2025, 9, 1))
    write_summary(
        Paths(mini).summary_file("dom_share"),
        indicator_summary(_share_trajectory(), list(reg.claims.values()), obs),
    )
    ctx = analysis.claim_context(mini, "dom-share-55-2027", "2025-09-01")
    assert analysis.claim_what_would_move(ctx).startswith("If IDC's 2025 figure comes in below")
    row = analysis.claim_voi_table(ctx)
    assert list(row["claim"]) == ["dom-share-55-2027"] and row["P | upper third"][0] > 0.5
    hot = analysis.who_runs_hot(reg)
    assert set(hot["source"]) == {"IDC", "Bernstein"} and set(hot["indicator"]) == {"dom_share"}
    assert "Bernstein reports 3 points" in " ".join(hot["reads"])
    other = analysis.claim_context(mini, "rule-replacement", "2025-09-01")
    assert "event claim" in analysis.claim_what_would_move(other)
