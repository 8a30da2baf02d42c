"""Add figures from public records: `chipcast ingest SOURCE [--since DATE] [--dry-run] [--offline]`.

`ADAPTERS` is the registry: a new public source is one adapter module (see `base.Adapter`)
and one line here. The runner fetches (unless offline), parses every cached and fetched
document, reconciles the proposed rows with the data on record, validates them exactly as
`chipcast observe` does, and only then writes: raw documents, record rows, observations. Any
failure before that point writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from chipcast.fileio import atomic_write_text
from chipcast.ingest.base import Adapter, Proposal
from chipcast.ingest.errors import IngestFailed, IngestUsageError
from chipcast.ingest.federal_register import FederalRegister
from chipcast.ingest.http import DEFAULT_USER_AGENT, HttpClient, HttpSettings
from chipcast.ingest.raw import RawCache, RawDocument
from chipcast.ingest.reconcile import Decision, reconcile
from chipcast.ingest.sec_edgar import SecEdgar
from chipcast.registry import Registry, load

ADAPTERS: dict[str, type[Adapter]] = {
    SecEdgar.name: SecEdgar,
    FederalRegister.name: FederalRegister,
}
USER_AGENT_ENV = "CHIPCAST_USER_AGENT"
_CONTACT_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

__all__ = [
    "ADAPTERS",
    "USER_AGENT_ENV",
    "IngestFailed",
    "IngestResult",
    "IngestUsageError",
    "run_ingest",
]


@dataclass
class IngestResult:
    source: str
    decisions: list[Decision]
    raw_written: list[str]
    record_rows: int
    dry_run: bool
    offline: bool
    messages: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(d.action == action for d in self.decisions)

    def lines(self) -> list[str]:
        """What the run did (or would do), one line a figure, then a summary."""
        out = list(self.messages)
        for d in self.decisions:
            r = d.row
            span = f"{r.period_start}..{r.period_end}" if r.period_start else f"{r.period_end}"
            if d.action == "same":
                out.append(
                    f"= {r.indicator} {span}: {r.value_text} is on record as {d.recorded} "
                    f"(published {d.recorded_published})"
                )
            else:
                mark = "+" if d.action == "add" else "~"
                was = f", revises {d.recorded} of {d.recorded_published}" if d.recorded else ""
                out.append(
                    f"{mark} {r.indicator} {span}: {r.value_text} from {r.source}, published "
                    f"{r.published}{was}"
                )
        would = "would add" if self.dry_run else "added"
        out.append(
            f"{self.source}: {would} {self.count('add')} new and {self.count('revision')} revised "
            f"figure(s), {self.count('same')} already on record; {len(self.raw_written)} raw "
            f"document(s) and {self.record_rows} record row(s) {'to write' if self.dry_run else 'written'}"
            f"{' (offline: cached documents only)' if self.offline else ''}"
        )
        return out


def get_adapter(source: str) -> Adapter:
    cls = ADAPTERS.get(source)
    if cls is None:
        raise IngestUsageError(f"unknown source {source!r}: expected one of {', '.join(ADAPTERS)}")
    return cls()


def _check_user_agent(adapter: Adapter, user_agent: str) -> None:
    if adapter.requires_contact and not _CONTACT_RE.search(user_agent):
        raise IngestUsageError(
            f"{adapter.name} needs a User-Agent with your name and e-mail address (the SEC "
            "refuses anonymous clients): set it with --user-agent 'Jane Doe jane@example.org' "
            f"or the environment variable {USER_AGENT_ENV}; --offline needs none"
        )


def run_ingest(
    root: Path,
    source: str,
    *,
    today: dt.date,
    since: dt.date | None = None,
    dry_run: bool = False,
    offline: bool = False,
    user_agent: str | None = None,
    http_settings: HttpSettings | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> IngestResult:
    """Run one source end to end; raise IngestUsageError (exit 2) or IngestFailed (exit 1)."""
    from chipcast.record import record_observations

    adapter = get_adapter(source)
    ua = (user_agent or "").strip()
    if not offline:
        _check_user_agent(adapter, ua)
    root = Path(root).resolve()
    reg = load(root)
    cache = RawCache(root / "data" / "raw" / adapter.name)
    fetched: list[RawDocument] = []
    if not offline:
        settings = replace(
            http_settings or HttpSettings(),
            user_agent=ua or DEFAULT_USER_AGENT,
            rate_per_second=adapter.rate_per_second,
        )
        with HttpClient(settings, sleep=sleep) as http:
            fetched = adapter.fetch(http, cache, since, today)
    documents = {n: cache.load(n) for n in cache.names()}
    documents.update({d.name: d for d in fetched})
    parsed = adapter.parse([documents[n] for n in sorted(documents)])
    proposal: Proposal = adapter.propose(parsed, reg, since, today)
    decisions = reconcile(
        proposal.observations,
        reg.observations,
        reg.indicators,
        _value_texts(reg, {r.indicator for r in proposal.observations}),
    )
    rows = [(d.row.indicator, d.row.csv_row()) for d in decisions if d.action != "same"]
    problems = record_observations(root, rows, write=False)
    if problems:
        raise IngestFailed(
            "the figures read do not validate:\n" + "\n".join(f"  {p}" for p in problems)
        )
    changed = [d for d in fetched if not cache.is_current(d)]
    result = IngestResult(
        adapter.name,
        decisions,
        [d.name for d in changed],
        sum(len(r.rows) for r in proposal.records),
        dry_run,
        offline,
        list(proposal.messages),
    )
    if dry_run:
        return result
    for doc in changed:
        cache.store(doc)
    for rec in proposal.records:
        path = root / rec.path
        atomic_write_text(path, _appended_csv(path, rec.columns, rec.rows))
    if rows and record_observations(root, rows):
        raise IngestFailed("the data changed while the ingest ran: run it again")
    return result


def _value_texts(reg: Registry, indicators: set[str]) -> dict[tuple[str, int], str]:
    """The values as written in the observation files (their precision), by (indicator, line)."""
    out = {}
    for ind in indicators:
        path = reg.paths.observation_file(ind)
        if path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                for raw in reader:
                    out[(ind, reader.line_num)] = raw.get("value") or ""
    return out


def _appended_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    """The record file's text with `rows` appended (and a header first if the file is new)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    if not old:
        writer.writeheader()
    writer.writerows(rows)
    if old and not old.endswith("\n"):
        old += "\n"
    return old + buf.getvalue()
