"""Compile once per family and size class: padded designs, the compile cache, typed priors."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from chipcast.models import (
    COMPILED,
    TEST_SETTINGS,
    SizeClass,
    compile_stats,
    fit_indicator,
    get_family,
    size_class,
)
from chipcast.models import _grid as G
from chipcast.models._priors import CountPriors, TrendPriors, priors_from_mapping, priors_to_mapping
from tests.test_models_helpers import frame, indicator

AS_OF = dt.date(2025, 8, 1)
SHARES = [
    {"period_end": "2021-12-31", "value": 0.12, "source": "idc"},
    {"period_end": "2022-12-31", "value": 0.16, "source": "idc"},
    {"period_end": "2023-12-31", "value": 0.21, "source": "idc"},
    {"period_end": "2023-12-31", "value": 0.17, "source": "bernstein"},
    {"period_end": "2024-12-31", "value": 0.27, "source": "bernstein"},
    {"period_end": "2024-12-31", "censor": "lower", "lower": 0.30, "source": "idc"},
]


def test_size_classes_are_powers_of_two_with_floors() -> None:
    design = G.snap(G.modelled(frame(SHARES)), "annual", dt.date(2027, 12, 31))
    assert (design.n_fit, design.n_obs, len(design.sources)) == (4, 6, 2)
    assert SizeClass.of(design) == SizeClass(periods=8, points=8, bounds=2, sources=2)
    one = G.snap(G.modelled(frame(SHARES[:1])), "annual", dt.date(2027, 12, 31))
    assert SizeClass.of(one) == SizeClass(8, 8, 0, 2)  # the floors; no bound, no bound block
    many = frame(
        [
            {"period_end": q.strftime("%Y-%m-%d"), "value": 1.0 + k, "source": f"s{k % 3}"}
            for k, q in enumerate(pd.date_range("2020-03-31", periods=17, freq="QE"))
        ]
    )
    big = G.snap(G.modelled(many), "quarterly", dt.date(2027, 12, 31))
    assert SizeClass.of(big) == SizeClass(32, 32, 0, 4)


def test_padding_masks_every_padded_figure_and_source() -> None:
    design = G.snap(G.modelled(frame(SHARES)), "annual", dt.date(2027, 12, 31))
    p = G.pad(design, SizeClass(8, 16, 4, 4))
    pts, bds = p.points, p.bounds
    assert pts.weights.shape == (16, 8) and bds.weights.shape == (4, 8) and pts.n == 5
    np.testing.assert_array_equal(pts.weights[:5, : design.n_fit], design.weights()[:5])
    np.testing.assert_array_equal(bds.weights[:1, : design.n_fit], design.weights()[5:])
    assert not pts.weights[:5, design.n_fit :].any()  # no real figure reads a padded period
    assert pts.point[:5].all() and not pts.point[5:].any()
    assert bds.lower_bound[0] and not bds.lower_bound[1:].any()
    for block in (pts, bds):
        assert not (block.upper_bound | block.interval).any()
    np.testing.assert_array_equal(p.free_source, [1, 1, 0, 0])
    np.testing.assert_array_equal(p.fitted_steps, [1, 1, 1, 0, 0, 0, 0])
    lone = G.pad(G.snap(G.modelled(frame(SHARES[:3])), "annual", dt.date(2027, 12, 31)))
    np.testing.assert_array_equal(lone.free_source, [0, 0])  # a lone source is the reference
    assert lone.size.bounds == 0 and lone.bounds.weights.shape == (0, 8)
    with pytest.raises(ValueError, match="does not fit"):
        G.pad(design, SizeClass(8, 16, 0, 4))  # a bound needs a bound block


def test_compile_group_of_a_fit_needs_no_sampler() -> None:
    ind = indicator("share", "annual")
    obs = frame(SHARES)
    assert size_class(obs, ind, AS_OF, dt.date(2027, 12, 31)) == "share/T8-P8-B2-S2"
    assert size_class(obs.iloc[0:0], ind, AS_OF, dt.date(2027, 12, 31)) == ""
    assert size_class(obs, indicator("level", "quarterly"), AS_OF, dt.date(2027, 12, 31)) == ""


@pytest.mark.parametrize("family", ["share", "growth"])
def test_priors_round_trip_through_plain_data(family) -> None:
    """Priors can come from a small file: plain data in, the same typed priors out; a misspelt
    prior is an error, not a silent default."""
    P = get_family(family).PRIORS
    data = priors_to_mapping(P)
    assert priors_from_mapping(TrendPriors, data) == P
    assert hash(priors_from_mapping(TrendPriors, data)) == hash(P)  # a compile-cache key
    bad = {**data, "sig_levle": data["sig_level"]}
    with pytest.raises(ValueError, match="sig_levle"):
        priors_from_mapping(TrendPriors, bad)
    count = get_family("count").PRIORS
    assert priors_from_mapping(CountPriors, priors_to_mapping(count)) == count


@pytest.mark.slow
def test_a_second_fit_in_the_same_size_class_compiles_nothing() -> None:
    """Other figures and another seed in the same size class reuse the compiled model; another
    class (a quarterly grid: more periods) compiles once."""
    ind = indicator("share", "annual")
    horizon = dt.date(2027, 12, 31)
    COMPILED.clear()
    start = compile_stats()
    first = fit_indicator(frame(SHARES), ind, AS_OF, horizon, 1, TEST_SETTINGS)
    assert first.diagnostics.compiles == 1
    before = compile_stats()
    assert before.compiles == start.compiles + 1
    moved = [{**r, "value": r["value"] + 0.02} if "value" in r else r for r in SHARES]
    second = fit_indicator(frame(moved), ind, AS_OF, horizon, 2, TEST_SETTINGS)
    after = compile_stats()
    assert first.diagnostics.size_class == second.diagnostics.size_class == "T8-P8-B2-S2"
    assert second.diagnostics.compiles == 0 and after.compiles == before.compiles
    assert after.reuses == before.reuses + 1 + second.diagnostics.retried
    assert second.diagnostics.passed
    # the reused graph fits the new figures, not the old ones
    assert float(second.latent.isel(period=3).median()) > float(
        first.latent.isel(period=3).median()
    )
    quarterly = frame([{**r, "period_end": r["period_end"][:4] + "-09-30"} for r in SHARES[:5]])
    third = fit_indicator(
        quarterly, indicator("share", "quarterly"), AS_OF, horizon, 3, TEST_SETTINGS
    )
    assert third.diagnostics.size_class == "T16-P8-B0-S2" and third.diagnostics.compiles == 1
    assert compile_stats().compiles == after.compiles + 1
    assert len(COMPILED) >= 2
    # reproducible whatever the process compiled before: the reused graph gives the draws a
    # fresh compile gave for the same figures and seed
    again = fit_indicator(frame(SHARES), ind, AS_OF, horizon, 1, TEST_SETTINGS)
    assert again.diagnostics.compiles == 0
    np.testing.assert_array_equal(again.latent.values, first.latent.values)
    np.testing.assert_array_equal(again.reported.values, first.reported.values)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["share", "growth", "count"])
def test_padded_and_exact_designs_give_the_same_posterior(family) -> None:
    """The same figures fitted in their exact shapes and padded to a larger class: the latent
    path's posterior agrees within Monte Carlo error at every fitted and forecast period. A
    padded figure that leaked into the likelihood (value 0 on the model scale, read at the first
    period) or a padded source with an offset would move it by many standard errors."""
    scale = {"share": 1.0, "growth": 100.0, "count": 40.0}[family]
    base = {"share": [0.12, 0.16, 0.21, 0.17, 0.27], "growth": [1.0, 1.3, 1.6, 1.5, 2.2]}.get(
        family, [1.0, 1.4, 1.1, 0.9, 1.6]
    )
    rows = [
        {"period_end": f"{2020 + k}-12-31", "value": round(v * scale, 3), "source": s}
        for k, (v, s) in enumerate(zip(base, ["a", "a", "b", "a", "b"], strict=True))
    ]
    rows.append({"period_end": "2024-12-31", "censor": "lower", "lower": base[-1] * scale * 1.1,
                 "source": "a"})  # fmt: skip
    if family == "count":
        rows = [{**r, "value": round(r["value"])} if "value" in r else r for r in rows]
        rows[-1]["lower"] = round(rows[-1]["lower"])
    obs = G.modelled(frame(rows))
    ind = indicator(family, "annual")
    horizon = dt.date(2026, 12, 31)
    design = G.snap(obs, "annual", horizon)
    exact = SizeClass(design.n_fit, design.n_obs - 1, 1, len(design.sources))
    padded = SizeClass(16, 16, 4, 8)
    settings = replace(TEST_SETTINGS, draws=1000, tune=1000, chains=2)
    fam = get_family(family)
    fits = {}
    for label, size in (("exact", exact), ("padded", padded)):
        fits[label] = fam.fit(obs, ind, AS_OF, horizon, 11, settings, size=size)
        assert fits[label].diagnostics.size_class == size.label
        assert fits[label].diagnostics.divergences == 0
    a, b = fits["exact"], fits["padded"]
    ess = min(a.diagnostics.ess_bulk_min, b.diagnostics.ess_bulk_min)
    lat_a, lat_b = a.latent.values, b.latent.values
    if family == "share":
        lat_a, lat_b = np.log(lat_a / (1 - lat_a)), np.log(lat_b / (1 - lat_b))
    elif family == "growth":
        lat_a, lat_b = np.log(lat_a), np.log(lat_b)
    else:  # realised counts: compare the log rate's posterior through their means
        lat_a, lat_b = np.log1p(lat_a), np.log1p(lat_b)
    sd = np.sqrt((lat_a.var(axis=0) + lat_b.var(axis=0)) / 2)
    se = sd * np.sqrt(2.0 / ess)  # the mean's MC error, from the gate's (smallest) bulk ESS
    z = np.abs(lat_a.mean(axis=0) - lat_b.mean(axis=0)) / se
    assert z.max() < 4.5, (family, z.round(2))
    spread = lat_a.std(axis=0) / lat_b.std(axis=0)
    assert np.all((spread > 0.8) & (spread < 1.25)), (family, spread.round(3))


def test_centring_anchors_each_level_on_the_last_centred_one() -> None:
    from chipcast.models._trend import centring

    fitted = np.array([1, 1, 1, 1, 0, 0, 0], float)  # 5 fitted periods of 8
    pinned = np.array([1, 1, 0, 1, 1, 0, 1, 0], bool)  # period 6 is padding: never centred
    c, anchor = centring(fitted, pinned)
    np.testing.assert_array_equal(c, [1, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(anchor, [0, 1, 1, 3, 4, 4, 4, 4])
    c, anchor = centring(fitted, np.zeros(8, bool))
    assert not c.any() and not anchor.any()  # non-centred: every level builds on level0
