"""The numbers behind the site, for readers to take away (reports/site/data/, see docs/outputs.md).

- `claims.csv` / `claims.json`: the registry, one row a claim, with its latest forecast and status;
- `history/<claim id>.csv` / `.json`: every forecast issued for the claim (the history's columns);
- `trajectories/<indicator id>.csv` / `.json`: the indicator's latest trajectory quantiles;
- `changes.json`: the change log (also the Atom feed, `feed.xml`);
- `scores.csv` (written by the build beside them): the scores of the resolved claims.

Everything is copied or derived from tracked files; nothing here is new information.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from chipcast.report.changes import Change
from chipcast.report.inputs import SiteInputs

CLAIM_COLUMNS = (
    "id",
    "kind",
    "statement",
    "claimant",
    "made_on",
    "source",
    "indicator",
    "operator",
    "threshold",
    "value",
    "target_period",
    "deadline",
    "status",
    "outcome",
    "resolved_on",
    "issued_on",
    "forecaster",
    "probability",
    "q050",
    "q500",
    "q950",
    "stated_probability",
)


def _write(df: pd.DataFrame, path: Path) -> None:
    """The same table as CSV and as JSON records (dates as ISO strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path.with_suffix(".csv"), index=False, float_format="%.6g")
    path.with_suffix(".json").write_text(
        df.to_json(orient="records", date_format="iso", indent=1, double_precision=6) + "\n",
        encoding="utf-8",
    )


def claims_table(inp: SiteInputs) -> pd.DataFrame:
    """One row a claim: what it says, how it settles, its status and its latest forecast."""
    rows = []
    for v in inp.claims:
        c, res, latest = v.claim, v.resolution, v.latest or {}
        rows.append(
            {
                "id": c.id,
                "kind": c.kind,
                "statement": c.statement,
                "claimant": c.claimant,
                "made_on": c.made_on,
                "source": c.source,
                "indicator": c.indicator,
                "operator": c.operator,
                "threshold": c.threshold,
                "value": c.value,
                "target_period": c.target_period,
                "deadline": c.deadline,
                "status": res.status,
                "outcome": res.outcome if res.status == "resolved" else None,
                "resolved_on": res.resolved_on,
                "issued_on": latest.get("issued_on"),
                "forecaster": latest.get("forecaster"),
                "probability": latest.get("probability"),
                "q050": latest.get("q050"),
                "q500": latest.get("q500"),
                "q950": latest.get("q950"),
                "stated_probability": c.stated_probability,
            }
        )
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def changes_records(changes: list[Change]) -> list[dict[str, Any]]:
    return [
        {
            "id": ch.id,
            "kind": ch.kind,
            "claim_id": ch.claim_id,
            "run_id": ch.run_id,
            "previous_run": ch.previous_run,
            "when": ch.when.isoformat(),
            "text": ch.text,
            "figures": ch.figures,
        }
        for ch in changes
    ]


def write_downloads(inp: SiteInputs, out: Path) -> dict[str, dict[str, str]]:
    """Write every download under `out/data/`; return, per claim id, the links its page shows."""
    data = out / "data"
    _write(claims_table(inp), data / "claims.csv")
    (data / "changes.json").write_text(
        json.dumps(changes_records(inp.changes), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    links: dict[str, dict[str, str]] = {}
    for v in inp.claims:
        c = v.claim
        mine: dict[str, str] = {}
        if len(v.history):
            _write(v.history.reset_index(drop=True), data / "history" / f"{c.id}.csv")
            mine["history"] = f"data/history/{c.id}"
        q, _meta = inp.trajectories.get(c.indicator or "", (None, None))
        if q is not None and not q.empty:
            mine["trajectory"] = f"data/trajectories/{c.indicator}"
        links[c.id] = mine
    for ind_id, (q, _meta) in inp.trajectories.items():
        if q is not None and not q.empty:
            _write(q, data / "trajectories" / f"{ind_id}.csv")
    return links
