"""Shared fixtures: a small project copied into a temporary directory for each test, and one
small fit per model family made once per test run and shared (as bambi shares fitted models).

A test that is not marked `slow` may not sample: nutpie's and PyMC's samplers raise there, so a
test that fits an MCMC model without the mark fails and says so.
"""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "mini"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from test_models_helpers import AS_OF, frame, indicator  # noqa: E402

# One small series per family: four quarterly figures from one source, fitted with the
# test-small profile to the end of 2025 (level: a rate that changed twice).
FIT_VALUES = {"share": 0.2, "growth": 100.0, "count": 40.0}
FIT_HORIZON = dt.date(2025, 12, 31)
FIT_SEED = 5


def fit_rows(family: str) -> list[dict]:
    quarters = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    if family == "level":
        levels = (10.0, 10.0, 25.0, 20.0)
        return [
            {"period_end": q, "value": v, "source": "a"}
            for q, v in zip(quarters, levels, strict=True)
        ]
    value = FIT_VALUES[family]
    return [
        {"period_end": q, "value": round(value * (1 + 0.05 * k), 6), "source": "a"}
        for k, q in enumerate(quarters)
    ]


class Fits:
    """Trajectories by family, each fitted at its first use and kept for the session."""

    def __init__(self) -> None:
        self._fits: dict[str, object] = {}

    def __getitem__(self, family: str):  # noqa: ANN204 - a Trajectory
        if family not in self._fits:
            from chipcast.models import fit_indicator
            from chipcast.models.base import TEST_SETTINGS

            ind = indicator(family, "quarterly")
            obs = frame(fit_rows(family))
            self._fits[family] = fit_indicator(
                obs, ind, AS_OF, FIT_HORIZON, FIT_SEED, TEST_SETTINGS
            )
        return self._fits[family]


@pytest.fixture(scope="session")
def fitted() -> Fits:
    """`fitted["share"]` etc.: one small fit per family, shared by every test that asks."""
    return Fits()


SAMPLERS = (("nutpie", "compile_pymc_model"), ("nutpie", "sample"), ("pymc", "sample"))


@pytest.fixture(scope="session")
def _sampler_modules() -> list[object]:
    mods = []
    for name in {m for m, _ in SAMPLERS}:
        try:
            mods.append(importlib.import_module(name))
        except ImportError:
            continue
    return mods


@pytest.fixture(autouse=True)
def _no_sampling_unless_slow(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("slow") is not None:
        return
    request.getfixturevalue("_sampler_modules")

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"{request.node.nodeid} samples a model: mark it slow")

    for module, name in SAMPLERS:
        if module in sys.modules:
            monkeypatch.setattr(sys.modules[module], name, refuse)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of the fixture registry (3 indicators, 6 claims)."""
    dest = tmp_path / "proj"
    shutil.copytree(FIXTURE, dest)
    return dest


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes, to assert that nothing was written."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
