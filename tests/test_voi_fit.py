"""Source offsets and the value of information from real fits (sampling: slow, small draws).

Recovery: simulated data with known source biases, the setting of the share recovery test in
test_models_recovery.py (two sources 0.35 logit above and below one truth), and its growth
analogue; the 90% intervals of the fitted offsets must contain the truth. Then one fit of the
fixture registry: its summary reads like a value-of-information table should.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_models_helpers import AS_OF, expit, frame, indicator, sim_share_path  # noqa: E402

from chipcast.data import as_of  # noqa: E402
from chipcast.evaluate.voi import indicator_summary, source_offsets  # noqa: E402
from chipcast.models import fit_indicator  # noqa: E402
from chipcast.models.base import TEST_SETTINGS  # noqa: E402
from chipcast.registry import load  # noqa: E402

pytestmark = pytest.mark.slow
YEARS = [f"{y}-12-31" for y in range(2018, 2030)]
QUARTERS = [d.strftime("%Y-%m-%d") for d in pd.date_range("2022-03-31", periods=16, freq="QE")]


def _inside(row: dict, key: str, truth: float) -> bool:
    return row[key]["lo"] <= truth <= row[key]["hi"]


def test_share_offsets_cover_known_biases() -> None:
    hits, total = 0, 0
    for seed in (11, 12):
        rng = np.random.default_rng(seed)
        x = sim_share_path(rng, 6)
        rows = [
            {"period_end": YEARS[t], "value": expit(x[t] + b + 0.05 * rng.standard_normal()),
             "source": s}
            for t in range(6)
            for s, b in (("hi", 0.35), ("lo", -0.35))
        ]  # fmt: skip
        tr = fit_indicator(
            frame(rows), indicator("share"), AS_OF, dt.date(2023, 12, 31), seed, TEST_SETTINGS
        )
        assert tr is not None and tr.diagnostics.passed, tr.diagnostics.reasons
        assert tr.sources is not None and tr.sources.attrs["at_period"] == "2023-12-31"
        by = {r["source"]: r for r in source_offsets(tr)}
        for s, b in (("hi", 0.35), ("lo", -0.35)):
            hits += _inside(by[s], "offset_link", b)
            # in points of share at the last fitted year's truth
            hits += _inside(by[s], "offset", float(expit(x[5] + b) - expit(x[5])))
            total += 2
        assert by["hi"]["offset"]["median"] > 0 > by["lo"]["offset"]["median"]
        assert not by["hi"]["reference"]
    assert hits >= total - 1, f"90% intervals covered the true offset {hits}/{total} times"


def test_growth_offsets_cover_known_biases() -> None:
    rng = np.random.default_rng(21)
    level = np.log(100.0) + 0.08 * np.arange(10)
    rows = [
        {"period_end": QUARTERS[t], "value": float(np.exp(level[t] + b + 0.03 * rng.standard_normal())),
         "source": s}
        for t in range(10)
        for s, b in (("hi", 0.15), ("lo", -0.15))
    ]  # fmt: skip
    tr = fit_indicator(
        frame(rows), indicator("growth", "quarterly"), AS_OF, dt.date(2024, 12, 31), 3,
        TEST_SETTINGS,
    )  # fmt: skip
    assert tr is not None and tr.diagnostics.passed, tr.diagnostics.reasons
    by = {r["source"]: r for r in source_offsets(tr)}
    for s, b in (("hi", 0.15), ("lo", -0.15)):
        assert _inside(by[s], "offset_link", b), by[s]
        assert _inside(by[s], "offset", float(np.exp(b) - 1)), by[s]  # percent above the latent
    assert tr.sources.attrs["effect"] == "ratio"


def test_fixture_fit_summary_reads_as_a_value_of_information_table(mini: Path) -> None:
    """dom-share-55-2027 (IDC's 2027 figure >= 55%) against IDC's next figure (2025)."""
    reg = load(mini)
    date = dt.date(2025, 9, 1)
    obs = as_of(reg.indicator_observations("dom_share"), date)
    tr = fit_indicator(
        obs, reg.indicators["dom_share"], date, dt.date(2027, 12, 31), 7, TEST_SETTINGS
    )
    assert tr is not None and tr.diagnostics.passed, tr.diagnostics.reasons
    s = indicator_summary(tr, list(reg.claims.values()), obs)
    (c,) = s["claims"]
    assert c["next"]["source"] == "idc" and c["next"]["period_end"] == "2025-12-31"
    assert c["p_lower"] <= c["probability"] <= c["p_upper"] and c["increasing"]
    assert c["p_lower"] < c["p_upper"]  # IDC's 2025 figure informs its 2027 one
    assert 0 < c["expected_change"] < 0.5
    lo, hi = c["interval"]
    assert c["crossing"] is None or lo <= c["crossing"] <= hi
    assert {r["source"] for r in s["sources"]} == {"idc", "bernstein"}
    json.dumps(s)
