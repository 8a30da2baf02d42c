"""Where a project keeps each kind of file: every path is built here from the project root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """The files of one project (fixed by the design's Contracts), from its root (`--root`)."""

    root: Path

    @property
    def sources(self) -> Path:
        return self.root / "data" / "sources.yaml"

    @property
    def indicators(self) -> Path:
        return self.root / "data" / "indicators"

    @property
    def observations(self) -> Path:
        return self.root / "data" / "observations"

    @property
    def claims(self) -> Path:
        return self.root / "forecasts" / "claims"

    @property
    def history(self) -> Path:
        return self.root / "forecasts" / "history"

    @property
    def trajectories(self) -> Path:
        return self.root / "forecasts" / "trajectories"

    @property
    def hindcasts(self) -> Path:
        """What today's model would have said about each claim on the data public then."""
        return self.root / "forecasts" / "hindcasts"

    @property
    def backtest(self) -> Path:
        """The backtest table (`chipcast backtest --out`), shown by the site and scoreboard."""
        return self.root / "forecasts" / "backtest.csv"

    @property
    def backtest_detail(self) -> Path:
        """The same backtest, one row per origin, target and forecaster (`--detail`)."""
        return self.root / "forecasts" / "backtest-targets.csv"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def site(self) -> Path:
        return self.root / "reports" / "site"

    @property
    def runs(self) -> Path:
        return self.root / "reports" / "runs"

    @property
    def state(self) -> Path:
        """Local, untracked bookkeeping (fingerprint cache, lock)."""
        return self.root / ".chipcast"

    @property
    def chart_cache(self) -> Path:
        """Rendered chart SVGs keyed by a hash of their spec (untracked; safe to delete)."""
        return self.state / "charts"

    def observation_file(self, indicator: str) -> Path:
        return self.observations / f"{indicator}.csv"

    def trajectory_file(self, indicator: str) -> Path:
        return self.trajectories / f"{indicator}.csv"

    def hindcast_file(self, claim_id: str) -> Path:
        return self.hindcasts / f"{claim_id}.csv"

    def summary_file(self, indicator: str) -> Path:
        """The fit's summary beside its trajectory: source offsets, value of information."""
        return self.trajectories / f"{indicator}.summary.json"

    def rel(self, path: Path) -> str:
        """`path` relative to the root, as problems and logs name files."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def find_root(start: str | Path = "") -> Path:
    """The project directory: `start` if given, else the nearest parent holding data/sources.yaml."""
    if str(start):
        return Path(start).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "data" / "sources.yaml").exists():
            return candidate
    raise FileNotFoundError(f"no chipcast project (data/sources.yaml) in {here} or its parents")
