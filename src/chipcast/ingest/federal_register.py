"""Federal Register: BIS rules on the Entity List, a tracked record, and a count per quarter.

The API (`/api/v1/documents.json`) is asked for the Bureau of Industry and Security's rules
that mention the Entity List, published since a date, oldest first (so a page, once full, never
changes and only the last page grows), following `next_page_url`. Every page is kept in
`data/raw/federal-register/`. Its results become rows of `data/records/federal-register.csv`
(one row a document, appended, never edited): document number, title, type, publication and
effective dates, URL, and, where the abstract states them, the number of entities added and
how many of them are in China, so a curator can extend the entity counts.

From the record comes `bis_entity_list_rules`: the rules published in each calendar quarter
whose title names the Entity List and which add entities to it (corrections excluded). A
quarter is counted exactly only when a complete API listing covered it (the pages' metadata
says which dates a listing covers); a quarter known only from a partial record (one built from
searches) gets a lower bound, "at least the rules found".
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from chipcast.ingest.base import Adapter, Proposal, RecordAppend
from chipcast.ingest.errors import MalformedDocument
from chipcast.ingest.http import HttpClient
from chipcast.ingest.raw import RawCache, RawDocument
from chipcast.registry import Registry

API_URL = "https://www.federalregister.gov/api/v1/documents.json"
AGENCY = "industry-and-security-bureau"
AGENCY_URL = f"https://www.federalregister.gov/agencies/{AGENCY}"
FIELDS = (
    "document_number",
    "title",
    "type",
    "abstract",
    "publication_date",
    "effective_on",
    "html_url",
    "pdf_url",
)
DEFAULT_SINCE = dt.date(2023, 1, 1)
MAX_PAGES = 100
RECORD_PATH = "data/records/federal-register.csv"
RECORD_COLUMNS = (
    "document_number",
    "type",
    "title",
    "publication_date",
    "effective_on",
    "html_url",
    "counted",
    "entities_added",
    "entities_added_china",
    "raw",
    "first_recorded",
)
INDICATOR = "bis_entity_list_rules"
SOURCE_ID = "bis"
DOC_NUMBER_RE = re.compile(r"[A-Z0-9]{1,4}-?\d{1,6}(-\d+)?")

_ADDS_TITLE = re.compile(r"\badd(?:s|ing|ition|itions)?\b", re.I)
_ADDS_ABSTRACT = re.compile(r"\badding\b[^.]{0,120}\bto the Entity List", re.I)
_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_ADDED = re.compile(
    r"\badding\s+(\d[\d,]*|[a-z]+(?:-[a-z]+)?)\s+(?:additional\s+|new\s+)?(?:entities|entity|persons)\b",
    re.I,
)
_CHINA_COUNT = re.compile(
    r"(?:China, People's Republic of \(China\)|People's Republic of China \(China\))\s*\((\d+)\)"
)
_CHINA_ONLY = re.compile(
    r"under the destination of (?:the )?(?:People's Republic of China|China, People's Republic of)"
)


def _number(text: str) -> int | None:
    t = text.lower().replace(",", "")
    if t.isdigit():
        return int(t)
    if t in _WORDS:
        return _WORDS[t]
    tens, _, unit = t.partition("-")
    if tens in _TENS and (not unit or unit in _WORDS):
        return _TENS[tens] + (_WORDS[unit] if unit else 0)
    return None


def adds_entities(title: str, abstract: str | None) -> bool:
    """Whether a rule adds entities to the Entity List (its title names the list)."""
    t = title.lower()
    if "entity list" not in t or "correction" in t:
        return False
    return bool(_ADDS_TITLE.search(title) or _ADDS_ABSTRACT.search(abstract or ""))


def entities_added(abstract: str | None) -> tuple[int | None, int | None]:
    """(entities added, of which in China) where the abstract states them, else None."""
    if not abstract:
        return None, None
    m = _ADDED.search(abstract)
    total = _number(m.group(1)) if m else None
    china = _CHINA_COUNT.search(abstract)
    if china:
        return total, int(china.group(1))
    if total is not None and _CHINA_ONLY.search(abstract):
        return total, total
    return total, None


@dataclass(frozen=True)
class Listing:
    """The results of the cached listing pages, and the date ranges that complete listings covered."""

    results: list[tuple[str, dict]]  # (raw document name, result)
    covers: list[tuple[dt.date, dt.date]]


def _quarters(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    periods = pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq="Q")
    return [(p.start_time.date(), p.end_time.date()) for p in periods]


def read_record(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class FederalRegister(Adapter):
    name = "federal-register"
    title = "Federal Register: BIS Entity List rules"
    rate_per_second = 5.0

    def query(self, since: dt.date) -> list[tuple[str, str]]:
        return [
            ("conditions[agencies][]", AGENCY),
            ("conditions[type][]", "RULE"),
            ("conditions[term]", '"Entity List"'),
            ("conditions[publication_date][gte]", since.isoformat()),
            *[("fields[]", f) for f in FIELDS],
            ("order", "oldest"),
            ("per_page", "100"),
        ]

    # --- fetch ----------------------------------------------------------------------------

    def fetch(
        self, http: HttpClient, cache: RawCache, since: dt.date | None, today: dt.date
    ) -> list[RawDocument]:
        since = since or DEFAULT_SINCE
        pages: list[tuple[str, bytes]] = []
        url, params = API_URL, self.query(since)
        expected = None
        n_results = 0
        while url:
            if len(pages) >= MAX_PAGES:
                raise MalformedDocument(f"{API_URL}: more than {MAX_PAGES} pages: stopped")
            r = http.get(url, params=params)
            name = f"documents-since-{since.isoformat()}-page-{len(pages) + 1:03d}.json"
            body = _json(r.content, name)
            expected = body.get("count", expected)
            n_results += len(_results(body, name))
            pages.append((r.url, r.content))
            url, params = body.get("next_page_url") or "", None
        if expected is not None and n_results != expected:
            raise MalformedDocument(
                f"{API_URL}: the listing counts {expected} documents, its pages gave {n_results}"
            )
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return [
            RawDocument(
                f"documents-since-{since.isoformat()}-page-{i:03d}.json",
                content,
                {
                    "kind": "listing",
                    "url": page_url,
                    "retrieved_at": now,
                    "page": i,
                    "pages": len(pages),
                    "covers": [since.isoformat(), today.isoformat()],
                    "provenance": "fetched from the Federal Register API",
                },
            )
            for i, (page_url, content) in enumerate(pages, start=1)
        ]

    # --- parse ----------------------------------------------------------------------------

    def parse(self, documents: list[RawDocument]) -> Listing:
        results, covers = [], set()
        for doc in documents:
            if doc.meta.get("kind") != "listing":
                continue
            name = f"federal-register/{doc.name}"
            for i, res in enumerate(_results(_json(doc.content, name), name)):
                _check_result(res, name, i)
                results.append((doc.name, res))
            if doc.meta.get("covers"):
                lo, hi = doc.meta["covers"]  # type: ignore[misc]
                covers.add((dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)))
        return Listing(results, sorted(covers))

    # --- propose --------------------------------------------------------------------------

    def propose(
        self, parsed: object, reg: Registry, since: dt.date | None, today: dt.date
    ) -> Proposal:
        listing: Listing = parsed  # type: ignore[assignment]
        out = Proposal(messages=self.messages)
        record = read_record(reg.paths.root / RECORD_PATH)
        on_record = {r["document_number"] for r in record}
        new: list[dict[str, str]] = []
        for raw_name, res in sorted(
            listing.results, key=lambda x: (x[1]["publication_date"], x[1]["document_number"])
        ):
            if res["document_number"] in on_record or res.get("type") != "Rule":
                continue
            on_record.add(res["document_number"])
            total, china = entities_added(res.get("abstract"))
            new.append(
                {
                    "document_number": res["document_number"],
                    "type": res["type"],
                    "title": " ".join(res["title"].split()),
                    "publication_date": res["publication_date"],
                    "effective_on": res.get("effective_on") or "",
                    "html_url": res["html_url"],
                    "counted": "true"
                    if adds_entities(res["title"], res.get("abstract"))
                    else "false",
                    "entities_added": "" if total is None else str(total),
                    "entities_added_china": "" if china is None else str(china),
                    "raw": raw_name,
                    "first_recorded": today.isoformat(),
                }
            )
        if new:
            out.records.append(RecordAppend(RECORD_PATH, RECORD_COLUMNS, new))
        out.observations = self._counts(record + new, listing.covers, since, today)
        return out

    def _counts(
        self,
        record: list[dict[str, str]],
        covers: list[tuple[dt.date, dt.date]],
        since: dt.date | None,
        today: dt.date,
    ) -> list:
        from chipcast.ingest.reconcile import ProposedRow

        adding = [r for r in record if r["counted"] == "true"]
        dates = [dt.date.fromisoformat(r["publication_date"]) for r in adding]
        starts = dates + [lo for lo, _ in covers]
        if not starts:
            return []
        last_done = (pd.Timestamp(today).to_period("Q") - 1).end_time.date()
        rows = []
        for q_start, q_end in _quarters(min(starts), last_done):
            if since is not None and q_end < since:
                continue
            docs = [
                r["document_number"]
                for r, d in zip(adding, dates, strict=True)
                if q_start <= d <= q_end
            ]
            complete = any(lo <= q_start and q_end <= hi for lo, hi in covers)
            if not complete and not docs:
                continue
            n = len(docs)
            listed = f" ({', '.join(docs)})" if docs else ""
            if complete:
                value: Decimal | str = Decimal(n)
                how = "a complete Federal Register API listing covered the quarter"
            else:
                value = f">{n - 1}"
                how = (
                    "at least: the record for this quarter is not from a complete API listing "
                    "(see docs/curation.md)"
                )
            rows.append(
                ProposedRow(
                    INDICATOR,
                    q_end,
                    value,
                    SOURCE_ID,
                    published=q_end,
                    published_estimated=True,
                    via="Federal Register",
                    url=AGENCY_URL,
                    title=f"BIS rules adding entities to the Entity List, {q_start}..{q_end}",
                    note=f"{n} rule(s) in {RECORD_PATH}{listed}; {how}. Published set to the "
                    "quarter's end (the count is complete only then).",
                    revision_published=today,
                )
            )
        return rows


def _json(content: bytes, name: str) -> dict:
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedDocument(f"{name}: not valid JSON ({exc}): truncated?") from None
    if not isinstance(body, dict):
        raise MalformedDocument(f"{name}: expected a JSON object with `results`")
    return body


def _results(body: dict, name: str) -> list[dict]:
    results = body.get("results", [])
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise MalformedDocument(f"{name}: `results` is not a list of documents")
    return results


def _check_result(res: dict, name: str, i: int) -> None:
    for key in ("document_number", "title", "type", "publication_date", "html_url"):
        if not isinstance(res.get(key), str) or not res[key].strip():
            raise MalformedDocument(f"{name}: results[{i}].{key}: missing or not text")
    if not DOC_NUMBER_RE.fullmatch(res["document_number"]):
        raise MalformedDocument(
            f"{name}: results[{i}].document_number: {res['document_number']!r} is not a document number"
        )
    for key in ("publication_date", "effective_on"):
        v = res.get(key)
        if v is None and key == "effective_on":
            continue
        try:
            dt.date.fromisoformat(str(v))
        except ValueError:
            raise MalformedDocument(f"{name}: results[{i}].{key}: {v!r} is not a date") from None
    if not res["html_url"].startswith(("https://", "http://")):
        raise MalformedDocument(f"{name}: results[{i}].html_url: not an http(s) URL")
