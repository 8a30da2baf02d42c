"""Load sources, indicators, observations and claims into tidy pandas objects; as-of views.

Everything downstream (models, backtests, resolution) reads observations through `as_of`, so
no computation can see a figure before the date it became public.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from chipcast.schema import Claim, Indicator, ObservationRow, Source

OBS_FRAME_COLUMNS: tuple[str, ...] = (
    "indicator",
    "line",
    "period_start",
    "period_end",
    "value",
    "lower",
    "upper",
    "censor",
    "source",
    "published",
    "published_estimated",
    "via",
    "url",
    "title",
    "note",
)


@dataclass(frozen=True)
class Paths:
    """Where a project keeps each kind of file (fixed by the design's Contracts)."""

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

    def observation_file(self, indicator: str) -> Path:
        return self.observations / f"{indicator}.csv"

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def period_start_for(period_end: dt.date, frequency: str) -> dt.date:
    """First day of the period named by its last day, for the indicator's frequency."""
    months = {"annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}.get(frequency)
    if months is None:
        return period_end
    start = pd.Timestamp(period_end) + pd.Timedelta(days=1) - pd.DateOffset(months=months)
    return start.date()


@dataclass
class Registry:
    """The whole project's data, validated, as Python objects and tidy frames."""

    paths: Paths
    sources: dict[str, Source] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    observations: pd.DataFrame = field(default_factory=lambda: empty_observations())

    def claims_frame(self) -> pd.DataFrame:
        rows = []
        for c in self.claims.values():
            rows.append(
                {
                    "id": c.id,
                    "kind": c.kind,
                    "claimant": c.claimant,
                    "made_on": c.made_on,
                    "indicator": c.indicator,
                    "operator": c.operator,
                    "threshold": c.threshold,
                    "value": c.value,
                    "target_period": c.target_period or c.deadline,
                    "status": c.status,
                    "statement": c.statement,
                }
            )
        return pd.DataFrame(rows)

    def indicator_observations(self, indicator: str) -> pd.DataFrame:
        df = self.observations
        return df[df["indicator"] == indicator].reset_index(drop=True)


def empty_observations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OBS_FRAME_COLUMNS})


def read_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_observation_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, raw row) pairs; the header is line 1."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        out = []
        for row in reader:
            out.append((reader.line_num, row))
        return out


def observation_record(indicator: Indicator, line: int, row: ObservationRow) -> dict[str, object]:
    v = row.value
    start = row.period_start or period_start_for(row.period_end, indicator.frequency)
    return {
        "indicator": indicator.id,
        "line": line,
        "period_start": pd.Timestamp(start),
        "period_end": pd.Timestamp(row.period_end),
        "value": v.value,
        "lower": v.lower,
        "upper": v.upper,
        "censor": v.censor,
        "source": row.source,
        "published": pd.Timestamp(row.published),
        "published_estimated": row.published_estimated,
        "via": row.via,
        "url": row.url,
        "title": row.title,
        "note": row.note,
    }


def frame_from_records(records: list[dict[str, object]]) -> pd.DataFrame:
    if not records:
        return empty_observations()
    df = pd.DataFrame.from_records(records, columns=list(OBS_FRAME_COLUMNS))
    for col in ("value", "lower", "upper"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df.sort_values(["indicator", "period_end", "source", "published"]).reset_index(drop=True)


def load(root: Path | str = ".") -> Registry:
    """Load and validate the project at `root`; raise `InvalidData` listing every problem."""
    from chipcast.validate import InvalidData, check_project

    registry, problems = check_project(Path(root))
    if problems:
        raise InvalidData(problems)
    return registry


def as_of(observations: pd.DataFrame, date: dt.date | str | pd.Timestamp) -> pd.DataFrame:
    """The figures public on `date`: latest vintage per indicator, source and period.

    A revision published after `date` is invisible; one published on or before it replaces the
    earlier figure for the same source and period.
    """
    cutoff = pd.Timestamp(date)
    visible = observations[observations["published"] <= cutoff]
    if visible.empty:
        return visible.reset_index(drop=True)
    key = ["indicator", "source", "period_start", "period_end"]
    latest = visible.sort_values([*key, "published", "line"]).groupby(key, sort=False).tail(1)
    return latest.sort_values(["indicator", "period_end", "source"]).reset_index(drop=True)


def vintages(observations: pd.DataFrame) -> list[pd.Timestamp]:
    """Every distinct publication date, in order: the dates on which the data changed."""
    return sorted(pd.to_datetime(observations["published"]).dropna().unique())


def find_root(start: str | Path = "") -> Path:
    """The project directory: `start` if given, else the nearest parent holding data/sources.yaml."""
    if str(start):
        return Path(start).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "data" / "sources.yaml").exists():
            return candidate
    raise FileNotFoundError(f"no chipcast project (data/sources.yaml) in {here} or its parents")


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
