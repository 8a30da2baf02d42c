"""The registry: a project's sources, indicators, claims and observations, validated."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from chipcast.data import empty_observations
from chipcast.paths import Paths
from chipcast.schema import Claim, Indicator, Source


@dataclass
class Registry:
    """The whole project's data, validated, as Python objects and tidy frames."""

    paths: Paths
    sources: dict[str, Source] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    observations: pd.DataFrame = field(default_factory=empty_observations)

    def claims_frame(self) -> pd.DataFrame:
        """One row per claim: what it says and how it is checked."""
        rows = [
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
            for c in self.claims.values()
        ]
        return pd.DataFrame(rows)

    def indicator_observations(self, indicator: str) -> pd.DataFrame:
        df = self.observations
        return df[df["indicator"] == indicator].reset_index(drop=True)

    def indicator_claims(self, indicator: str) -> list[Claim]:
        """The checkable claims an indicator settles (they set how far its forecast reaches)."""
        return [
            c
            for c in self.claims.values()
            if c.indicator == indicator and c.status != "not_checkable"
        ]
