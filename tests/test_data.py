"""Loaders, bounds and the as-of (vintage) view."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chipcast.data import as_of, period_start_for
from chipcast.registry import load
from chipcast.schema import parse_value


def test_load_returns_tidy_frames(mini: Path) -> None:
    reg = load(mini)
    assert set(reg.indicators) == {"dom_share", "acme_revenue", "tariff_rate"}
    obs = reg.observations
    assert len(obs) == 20
    assert obs["period_end"].dtype.kind == "M" and obs["published"].dtype.kind == "M"
    assert set(reg.claims_frame()["id"]) == set(reg.claims)


def test_bounds_are_kept_as_bounds() -> None:
    assert parse_value(">30").model_dump() == {
        "censor": "lower",
        "value": None,
        "lower": 30.0,
        "upper": None,
    }
    assert parse_value("<5").censor == "upper"
    v = parse_value("0.04..0.06")
    assert (v.censor, v.lower, v.upper, v.value) == ("interval", 0.04, 0.06, None)
    assert parse_value("1,200").value == 1200.0
    with pytest.raises(ValueError, match="expected a number"):
        parse_value("mid-single-digit")
    with pytest.raises(ValueError, match="lower end must be below"):
        parse_value("6..4")


def test_bound_in_frame_is_not_a_point(mini: Path) -> None:
    obs = load(mini).observations
    row = obs[(obs["indicator"] == "dom_share") & (obs["censor"] == "lower")].iloc[0]
    assert row["lower"] == 0.30 and np.isnan(row["value"]) and np.isnan(row["upper"])


def _idc_2024(df):
    return df[
        (df["indicator"] == "dom_share")
        & (df["source"] == "idc")
        & (df["period_end"] == "2024-12-31")
    ]


def test_as_of_hides_later_revisions(mini: Path) -> None:
    obs = load(mini).observations
    idc_2024 = _idc_2024
    # before the revision (published 2025-06-01) the bound is what IDC had said
    before = idc_2024(as_of(obs, dt.date(2025, 5, 31)))
    assert len(before) == 1 and before.iloc[0]["censor"] == "lower"
    # on and after the revision's date only the revised figure is visible
    after = idc_2024(as_of(obs, dt.date(2025, 6, 1)))
    assert len(after) == 1 and after.iloc[0]["value"] == pytest.approx(0.33)
    # nothing before its publication
    assert idc_2024(as_of(obs, dt.date(2025, 3, 14))).empty


def test_as_of_keeps_every_source(mini: Path) -> None:
    view = as_of(load(mini).observations, dt.date(2026, 1, 1))
    share_2024 = view[(view["indicator"] == "dom_share") & (view["period_end"] == "2024-12-31")]
    assert sorted(share_2024["source"]) == ["bernstein", "idc"]


def test_period_start_from_frequency_and_explicit_span(mini: Path) -> None:
    assert period_start_for(dt.date(2025, 6, 30), "quarterly") == dt.date(2025, 4, 1)
    assert period_start_for(dt.date(2025, 12, 31), "annual") == dt.date(2025, 1, 1)
    obs = load(mini).observations
    h1 = obs[(obs["indicator"] == "acme_revenue") & (obs["period_end"] == "2024-06-30")].iloc[0]
    assert h1["period_start"] == pd.Timestamp("2024-01-01")


def test_round_trip_through_observe(mini: Path, tmp_path: Path) -> None:
    """Rows written by `observe` load back to the same values."""
    from chipcast.record import record_observation

    before = load(mini).observations
    assert (
        record_observation(
            mini,
            indicator="dom_share",
            period_end=dt.date(2025, 12, 31),
            value="0.40..0.45",
            source="idc",
            published=dt.date(2026, 4, 1),
            url="https://example.org/x",
            note='a "quoted", note',
        )
        == []
    )
    after = load(mini).observations
    assert len(after) == len(before) + 1
    new = after[after["published"] == "2026-04-01"].iloc[0]
    assert (new["lower"], new["upper"], new["censor"], new["note"]) == (
        0.40,
        0.45,
        "interval",
        'a "quoted", note',
    )
