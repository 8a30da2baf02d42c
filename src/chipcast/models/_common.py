"""The names this module used to hold, re-exported from their homes (for callers written
before the split): `_grid` (period grid, design, size classes), `_sampling` (compile cache,
NUTS, gate), `_trend` (trend building blocks), `base.make_trajectory`."""

from chipcast.models._grid import *  # noqa: F403
from chipcast.models._grid import Design, covered, grid_frequency, modelled, period_grid, snap
from chipcast.models._sampling import COMPILED, compile_stats, flat, gate_diagnostics, sample
from chipcast.models._trend import *  # noqa: F403
from chipcast.models.base import make_trajectory

__all__ = [
    "COMPILED",
    "Design",
    "compile_stats",
    "covered",
    "flat",
    "gate_diagnostics",
    "grid_frequency",
    "make_trajectory",
    "modelled",
    "period_grid",
    "sample",
    "snap",
]
