"""The curated dataset that ships with the project."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chipcast.cli import main
from chipcast.evaluate.resolution import resolve
from chipcast.registry import load

REPO = Path(__file__).resolve().parents[1]


def test_shipped_data_validates(capsys) -> None:
    assert main(["validate", "--root", str(REPO)]) == 0


def test_shipped_data_has_the_agreed_size() -> None:
    reg = load(REPO)
    assert len(reg.indicators) >= 10
    assert len(reg.observations) >= 60
    assert len(reg.claims) >= 15
    assert {ind.family for ind in reg.indicators.values()} >= {
        "share",
        "growth",
        "count",
        "level",
        "none",
    }
    assert {c.kind for c in reg.claims.values()} == {"threshold", "value", "event"}


def test_every_figure_has_a_vintage_and_bounds_are_kept() -> None:
    obs = load(REPO).observations
    assert obs["published"].notna().all()
    assert (obs["censor"] != "point").sum() >= 3  # ">30%", ">820000", ... stay bounds


def test_founding_claims_are_in_the_registry() -> None:
    reg = load(REPO)
    c = reg.claims["bernstein-cn-domestic-share-55pct-2027"]
    assert (c.kind, c.operator, c.threshold, c.target_period) == (
        "threshold",
        ">=",
        0.55,
        dt.date(2027, 12, 31),
    )
    assert reg.indicators[c.indicator].measures == "value"
    alibaba = reg.claims["alibaba-ai-cloud-capex-380bn-3y"]
    assert alibaba.aggregate == "sum" and alibaba.threshold == 380
    assert reg.claims["bis-ai-diffusion-replacement-rule-by-2026-06-30"].kind == "event"
    assert (
        reg.claims["oracle-glueck-chinese-majority-global-ai-gpu-market-2030"].kind == "threshold"
    )
    assert reg.claims["tighter-controls-independent-cn-ai-industry-2027"].indicator


def test_resolved_claims_are_settled_by_shipped_data() -> None:
    reg = load(REPO)
    today = dt.date(2026, 11, 23)
    for c in reg.claims.values():
        if c.status == "resolved":
            assert resolve(c, reg.observations, today).status == "resolved", c.id
