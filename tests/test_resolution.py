"""Resolution edge cases and claim probabilities worked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from chipcast.evaluate.probability import forecast_claim
from chipcast.evaluate.resolution import resolve
from chipcast.models.base import NEW_SOURCE, Diagnostics, Trajectory
from chipcast.record import record_observation
from chipcast.registry import load

D = dt.date


def test_settled_at_record_time(mini: Path) -> None:
    reg = load(mini)
    r = resolve(reg.claims["share-2023-above-15"], reg.observations, D(2026, 11, 23))
    assert (r.status, r.outcome, r.value) == ("resolved", True, 0.21)
    assert r.observation["source"] == "idc" and r.resolved_on == D(2024, 3, 15)


def test_open_overdue_annulled_by_date(mini: Path) -> None:
    reg = load(mini)
    c = reg.claims["acme-revenue-2025q2"]  # due 2025-08-31, 180 days grace
    assert resolve(c, reg.observations, D(2025, 8, 31)).status == "open"
    r = resolve(c, reg.observations, D(2025, 9, 1))
    assert r.status == "overdue" and "due 2025-08-31" in r.note
    assert resolve(c, reg.observations, D(2026, 2, 27)).status == "overdue"
    r = resolve(c, reg.observations, D(2026, 2, 28))
    assert r.status == "annulled" and "180 days after it was due" in r.note


def test_late_data_resolves_an_overdue_claim(mini: Path) -> None:
    assert (
        record_observation(
            mini,
            indicator="acme_revenue",
            period_end=D(2025, 6, 30),
            value="310",
            source="acme",
            published=D(2025, 9, 15),
        )
        == []
    )
    reg = load(mini)
    c = reg.claims["acme-revenue-2025q2"]
    assert resolve(c, reg.observations, D(2025, 9, 14)).status == "overdue"
    r = resolve(c, reg.observations, D(2025, 9, 15))
    assert (r.status, r.value) == ("resolved", 310.0)


def test_revised_figure_re_resolves_and_says_so(mini: Path) -> None:
    # IDC first says 0.14 for 2023 (claim > 0.15 false), then revises to 0.21 (true)
    path = mini / "data/observations/dom_share.csv"
    text = path.read_text().replace(
        "2023-12-31,,0.21,idc,2024-03-15", "2023-12-31,,0.21,idc,2024-09-01"
    )
    text += "2023-12-31,,0.14,idc,2024-03-15,,,,,first estimate\n"
    path.write_text(text)
    reg = load(mini)
    c = reg.claims["share-2023-above-15"]
    first = resolve(c, reg.observations, D(2024, 6, 1))
    assert (first.status, first.outcome, first.revised) == ("resolved", False, False)
    later = resolve(c, reg.observations, D(2024, 9, 1))
    assert (later.status, later.outcome, later.revised) == ("resolved", True, True)
    assert "revised from the figure published 2024-03-15" in later.note


def test_a_bound_settles_only_when_it_decides(mini: Path) -> None:
    reg = load(mini)
    c = reg.claims["dom-share-55-2027"].model_copy(
        update={"target_period": D(2024, 12, 31), "threshold": 0.25}
    )
    # IDC's first 2024 figure was ">0.30": that already settles ">= 0.25" as true
    r = resolve(c, reg.observations, D(2025, 4, 1))
    assert (r.status, r.outcome) == ("resolved", True)
    c2 = c.model_copy(update={"threshold": 0.35})
    assert (
        resolve(c2, reg.observations, D(2025, 4, 1)).status == "open"
    )  # >0.30 says nothing about >=0.35


def test_event_resolves_by_hand(mini: Path) -> None:
    from chipcast.schema import ResolutionOutcome

    reg = load(mini)
    c = reg.claims["rule-replacement"]
    assert resolve(c, reg.observations, D(2025, 6, 1)).status == "open"
    assert resolve(c, reg.observations, D(2026, 1, 5)).status == "overdue"
    done = c.model_copy(
        update={
            "status": "resolved",
            "resolution_outcome": ResolutionOutcome(
                outcome=False,
                resolved_on=D(2026, 1, 2),
                note="No rule by the deadline.",
                source="ustr",
            ),
        }
    )
    r = resolve(done, reg.observations, D(2026, 1, 5))
    assert (r.status, r.outcome) == ("resolved", False)


def test_not_checkable_is_never_resolved(mini: Path) -> None:
    reg = load(mini)
    r = resolve(reg.claims["vague-claim"], reg.observations, D(2030, 1, 1))
    assert r.status == "not_checkable" and r.note


def _trajectory(values_by_source: dict[str, np.ndarray], periods: list[str]) -> Trajectory:
    per = pd.DatetimeIndex(periods)
    sources = [*values_by_source, NEW_SOURCE]
    data = np.stack(
        [np.repeat(v[:, None], len(per), axis=1) for v in values_by_source.values()]
        + [np.repeat(next(iter(values_by_source.values()))[:, None], len(per), axis=1)]
    )
    reported = xr.DataArray(
        data, dims=("source", "sample", "period"), coords={"source": sources, "period": per}
    )
    latent = reported.sel(source=NEW_SOURCE).drop_vars("source")
    diag = Diagnostics(family="share", passed=True)
    return Trajectory("dom_share", "share", "t1", D(2025, 1, 1), 1, latent, reported, diag)


def test_threshold_probability_worked_by_hand(mini: Path) -> None:
    reg = load(mini)
    claim = reg.claims["dom-share-55-2027"]  # >= 0.55, resolution source idc
    # 10 draws of IDC's 2027 figure: 4 at or above 0.55 -> P = 0.4; Bernstein's draws differ
    idc = np.array([0.40, 0.45, 0.50, 0.52, 0.54, 0.549, 0.55, 0.60, 0.70, 0.80])
    bern = np.full(10, 0.9)
    traj = _trajectory({"idc": idc, "bernstein": bern}, ["2026-12-31", "2027-12-31"])
    f = forecast_claim(claim, traj)
    assert f is not None and f.probability == pytest.approx(0.4)
    assert f.quantiles["q500"] == pytest.approx(np.median(idc))


def _sum_at_least_600(claim, start: D, target: D | None = None):
    """`claim` turned into "the sum over start..target is at least 600"."""
    update = {
        "kind": "threshold",
        "operator": ">=",
        "threshold": 600.0,
        "aggregate": "sum",
        "window_start": start,
        "value": None,
    }
    if target is not None:
        update["target_period"] = target
    return claim.model_copy(update=update)


def test_value_claim_pit_and_aggregate(mini: Path) -> None:
    reg = load(mini)
    claim = reg.claims["acme-revenue-2025q2"]  # value 300
    draws = np.arange(100, dtype=float) * 5 + 100  # 100..595
    traj = _trajectory({"acme": draws}, ["2025-03-31", "2025-06-30"])
    f = forecast_claim(claim, traj)
    assert f.probability is None and f.claimant_pit == pytest.approx(
        0.41
    )  # 100..300 is 41 of 100 draws
    summed = _sum_at_least_600(claim, D(2025, 1, 1))
    g = forecast_claim(summed, traj)  # sum of two equal quarters = 2*draw >= 600 <=> draw >= 300
    assert g.probability == pytest.approx(0.60)


def test_event_probability_is_the_researchers(mini: Path) -> None:
    reg = load(mini)
    f = forecast_claim(reg.claims["rule-replacement"], None)
    assert (f.forecaster, f.probability) == ("judgment", 0.4)


def test_fiscal_window_covers_the_grid_periods_its_figures_would(mini: Path) -> None:
    """A window over fiscal quarters (27 Jan .. 27 Jul) is the two calendar quarters those
    quarters snap to when fitted (ending 30 Jun and 30 Sep), not the three its dates touch."""
    reg = load(mini)
    claim = reg.claims["acme-revenue-2025q2"]
    draws = np.arange(100, dtype=float) * 5 + 100
    traj = _trajectory({"acme": draws}, ["2025-03-31", "2025-06-30", "2025-09-30"])
    fiscal = _sum_at_least_600(claim, D(2025, 1, 27), D(2025, 7, 27))
    g = forecast_claim(fiscal, traj)  # 2*draw >= 600, as for two quarters; 3*draw would be 0.8
    assert g.probability == pytest.approx(0.60)
