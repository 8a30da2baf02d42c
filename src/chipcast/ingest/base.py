"""The adapter interface every public source implements: fetch, parse, propose.

An adapter is a small class with a `name` (the `chipcast ingest SOURCE` argument and the folder
under `data/raw/`), a `title`, the request rate its publisher allows, and three steps:

- `fetch` downloads what is new through the shared `HttpClient` and returns the documents
  (it writes nothing: the runner stores them once the whole run has succeeded);
- `parse` reads every document, cached or fetched, into the adapter's own facts;
- `propose` turns the facts into observation rows (and rows of a tracked record, if the source
  keeps one); the runner reconciles them with the data on record and writes them.

A subclass that forgets its name or title fails when it is defined, not when it is run.
"""

from __future__ import annotations

import datetime as dt
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from chipcast.ingest.http import HttpClient
from chipcast.ingest.raw import RawCache, RawDocument
from chipcast.ingest.reconcile import ProposedRow
from chipcast.registry import Registry


@dataclass(frozen=True)
class RecordAppend:
    """New rows for a tracked record file (`data/records/...`), appended, never edited."""

    path: str  # relative to the project root
    columns: tuple[str, ...]
    rows: list[dict[str, str]]


@dataclass
class Proposal:
    observations: list[ProposedRow] = field(default_factory=list)
    records: list[RecordAppend] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


class Adapter(ABC):
    """One public source of figures."""

    name: ClassVar[str]
    title: ClassVar[str]
    rate_per_second: ClassVar[float] = 5.0
    # The publisher requires contact details in the User-Agent (the SEC does).
    requires_contact: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls):
            return
        for attr in ("name", "title"):
            if not isinstance(getattr(cls, attr, None), str) or not getattr(cls, attr):
                raise TypeError(f"adapter {cls.__name__} must set a non-empty `{attr}`")

    def __init__(self) -> None:
        self.messages: list[str] = []

    @abstractmethod
    def fetch(
        self, http: HttpClient, cache: RawCache, since: dt.date | None, today: dt.date
    ) -> list[RawDocument]:
        """Download the documents that are new or changed; write nothing."""

    @abstractmethod
    def parse(self, documents: list[RawDocument]) -> object:
        """Read every document (cached and fetched) into the adapter's facts."""

    @abstractmethod
    def propose(
        self, parsed: object, reg: Registry, since: dt.date | None, today: dt.date
    ) -> Proposal:
        """Observation rows (and record rows) from the parsed facts."""
