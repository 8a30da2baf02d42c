"""SEC EDGAR: Nvidia's revenue from China (incl. Hong Kong) from its 10-Q and 10-K XBRL.

The filing list is EDGAR's submissions JSON for CIK 1045810; each 10-Q and 10-K in it is read
from its inline XBRL primary document (the XBRL instance form parses the same way, for cached
documents). `companyfacts` and `frames` carry no dimensional facts, so the geographic split has
to come from each filing. From every filing:

- a three-month figure is a quarter of `nvda_rev_china` and, with the same period's total
  revenue, of `nvda_rev_china_share_q`;
- a fiscal-year figure is a total on `nvda_rev_china` (with `period_start`) and a year of
  `nvda_rev_china_share_fy`;
- Q1 is also H1 - Q2 (the second quarter's 10-Q), Q4 is the 10-K's year minus the third
  quarter's nine months; both are marked derived. Year-to-date totals themselves are not
  recorded: they are sums of quarters that are on record, and the growth model would count the
  same dollars twice.

Comparative periods are proposed too: the reconciliation rule skips those on record and turns a
restated one into a revision. `published` is the filing date, `url` the filing index, and the
note names the accession number (or, for a document whose accession is not known, its name and
sha256).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from chipcast.ingest.base import Adapter, Proposal
from chipcast.ingest.errors import MalformedDocument
from chipcast.ingest.http import HttpClient
from chipcast.ingest.raw import RawCache, RawDocument, sha256
from chipcast.ingest.reconcile import ProposedRow, span_months
from chipcast.ingest.xbrl import Fact, revenue_facts
from chipcast.registry import Registry

CIK = "0001045810"
SUBMISSIONS_URL = f"https://data.sec.gov/submissions/CIK{CIK}.json"
ARCHIVES_URL = f"https://www.sec.gov/Archives/edgar/data/{int(CIK)}/"
COMPANY_FILINGS_URL = f"https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={CIK}&type=10-&dateb=&owner=include&count=40"
FORMS = frozenset({"10-Q", "10-K"})
CHINA_MEMBER = "ChinaIncludingHongKongMember"
SOURCE_ID = "nvidia"
REVENUE, SHARE_Q, SHARE_FY = "nvda_rev_china", "nvda_rev_china_share_q", "nvda_rev_china_share_fy"
VIA = "SEC EDGAR (XBRL)"
_BN, _MN = Decimal(10) ** 9, Decimal(10) ** 6
_SHARE_DP = Decimal("0.0001")


def index_url(accession: str) -> str:
    return f"{ARCHIVES_URL}{accession.replace('-', '')}/{accession}-index.htm"


@dataclass(frozen=True)
class Filing:
    doc: RawDocument
    facts: list[Fact]

    @property
    def form(self) -> str:
        return str(self.doc.meta["form"])

    @property
    def filing_date(self) -> dt.date:
        return dt.date.fromisoformat(str(self.doc.meta["filing_date"]))

    @property
    def accession(self) -> str | None:
        return self.doc.meta.get("accession") or None  # type: ignore[return-value]

    @property
    def url(self) -> str:
        return index_url(self.accession) if self.accession else COMPANY_FILINGS_URL

    @property
    def provenance(self) -> str:
        if self.accession:
            return f"accession {self.accession}"
        return (
            f"document {self.doc.meta.get('primary_document', self.doc.name)}, sha256 "
            f"{sha256(self.doc.content)[:16]}... (accession not known offline)"
        )

    @property
    def title(self) -> str:
        return f"NVIDIA Corp {self.form} for the period ended {self.doc.meta.get('report_date')}"


def _mn(x: Decimal) -> str:
    return f"{(x / _MN).normalize():,f}"


class SecEdgar(Adapter):
    name = "sec-edgar"
    title = "SEC EDGAR: Nvidia 10-Q/10-K revenue by geography (XBRL)"
    rate_per_second = 10.0  # the SEC's published ceiling
    requires_contact = True

    # --- fetch ----------------------------------------------------------------------------

    def fetch(
        self, http: HttpClient, cache: RawCache, since: dt.date | None, today: dt.date
    ) -> list[RawDocument]:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        r = http.get(SUBMISSIONS_URL)
        name = f"submissions-CIK{CIK}.json"
        docs = [
            RawDocument(
                name, r.content, {"kind": "filing-index", "url": r.url, "retrieved_at": now}
            )
        ]
        for filing in self._filings(r.content, name):
            if since is not None and filing["filing_date"] < since.isoformat():
                continue
            if not filing["inline"]:
                self.messages.append(
                    f"skipped {filing['form']} {filing['accession']}: not inline XBRL"
                )
                continue
            doc_name = f"{filing['accession']}_{filing['primary_document']}"
            if cache.has(doc_name):
                continue
            url = (
                f"{ARCHIVES_URL}{filing['accession'].replace('-', '')}/{filing['primary_document']}"
            )
            got = http.get(url)
            meta = {
                "kind": "filing",
                "url": got.url,
                "retrieved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "form": filing["form"],
                "filing_date": filing["filing_date"],
                "report_date": filing["report_date"],
                "acceptance_time": filing["acceptance_time"],
                "accession": filing["accession"],
                "primary_document": filing["primary_document"],
                "index_url": index_url(filing["accession"]),
                "provenance": "fetched from EDGAR",
            }
            docs.append(RawDocument(doc_name, got.content, meta))
        return docs

    def _filings(self, content: bytes, name: str) -> list[dict]:
        try:
            recent = json.loads(content)["filings"]["recent"]
            cols = {
                "accession": recent["accessionNumber"],
                "form": recent["form"],
                "filing_date": recent["filingDate"],
                "report_date": recent["reportDate"],
                "acceptance_time": recent.get("acceptanceDateTime", [""] * len(recent["form"])),
                "primary_document": recent["primaryDocument"],
                "inline": recent.get("isInlineXBRL", [1] * len(recent["form"])),
            }
        except json.JSONDecodeError as exc:
            raise MalformedDocument(f"{name}: not valid JSON ({exc}): truncated?") from None
        except (KeyError, TypeError) as exc:
            raise MalformedDocument(f"{name}: no filings.recent.{exc} list") from None
        n = len(cols["form"])
        if any(len(v) != n for v in cols.values()):
            raise MalformedDocument(f"{name}: filings.recent lists of different lengths")
        rows = [{k: v[i] for k, v in cols.items()} for i in range(n)]
        return [r for r in rows if r["form"] in FORMS]

    # --- parse ----------------------------------------------------------------------------

    def parse(self, documents: list[RawDocument]) -> list[Filing]:
        filings = []
        for doc in documents:
            if doc.meta.get("kind") != "filing":
                continue
            for key in ("form", "filing_date"):
                if not doc.meta.get(key):
                    raise MalformedDocument(f"sec-edgar/{doc.name}: metadata lacks {key!r}")
            filings.append(Filing(doc, revenue_facts(doc.content, f"sec-edgar/{doc.name}")))
        return sorted(filings, key=lambda f: (f.filing_date, f.doc.name))

    # --- propose --------------------------------------------------------------------------

    def propose(
        self, parsed: object, reg: Registry, since: dt.date | None, today: dt.date
    ) -> Proposal:
        filings: list[Filing] = parsed  # type: ignore[assignment]
        out = Proposal(messages=self.messages)
        nine_months: dict[dt.date, tuple[Filing, Fact, Fact | None]] = {}
        for f in filings:
            china = {x.period: x for x in f.facts if x.member == CHINA_MEMBER}
            total = {x.period: x for x in f.facts if x.member is None}
            if not china:
                raise MalformedDocument(
                    f"sec-edgar/{f.doc.name}: no us-gaap:Revenues fact on "
                    f"srt:StatementGeographicalAxis = nvda:{CHINA_MEMBER} (has the member changed?)"
                )
            emit = since is None or f.filing_date >= since
            current_end = max(end for _, end in china)
            rows: list[ProposedRow] = []
            for (start, end), c in sorted(china.items()):
                months = span_months(start, end)
                t = total.get((start, end))
                comparative = end != current_end
                if months in (3, 12):
                    rows += self._rows(f, start, end, c.value, t and t.value, "", comparative)
                if months == 6:
                    q2 = next(
                        (x for p, x in china.items() if p[1] == end and span_months(*p) == 3), None
                    )
                    if q2 is not None:
                        q2t = total.get(q2.period)
                        q1_end = q2.start - dt.timedelta(days=1)
                        q1_total = (
                            t.value - q2t.value if t is not None and q2t is not None else None
                        )
                        rows += self._rows(
                            f,
                            start,
                            q1_end,
                            c.value - q2.value,
                            q1_total,
                            f"H1 {start}..{end} minus Q2 {q2.start}..{end}",
                            comparative,
                        )
                if months == 9:
                    nine_months[start] = (f, c, t)
                if months == 12 and f.form == "10-K" and start in nine_months:
                    f9, c9, t9 = nine_months[start]
                    q4_total = t.value - t9.value if t is not None and t9 is not None else None
                    rows += self._rows(
                        f,
                        c9.end + dt.timedelta(days=1),
                        end,
                        c.value - c9.value,
                        q4_total,
                        f"the year {start}..{end} minus the nine months to {c9.end} "
                        f"({f9.form} filed {f9.filing_date}, {f9.provenance})",
                        comparative,
                    )
            if emit:
                out.observations += rows
        return out

    def _rows(
        self,
        f: Filing,
        start: dt.date,
        end: dt.date,
        china: Decimal,
        total: Decimal | None,
        derived: str,
        comparative: bool,
    ) -> list[ProposedRow]:
        months = span_months(start, end)
        basis = f"{f.form} filed {f.filing_date}, {f.provenance}"
        what = (
            f"Derived: {derived}"
            if derived
            else f"us-gaap:Revenues, srt:StatementGeographicalAxis = nvda:{CHINA_MEMBER}"
        )
        tail = "; a comparative period in this filing" if comparative else ""
        common = dict(source=SOURCE_ID, published=f.filing_date, via=VIA, url=f.url, title=f.title)
        rows = [
            ProposedRow(
                REVENUE,
                end,
                china / _BN,
                period_start=start if months != 3 else None,
                note=f"{what}, {start}..{end}: USD {_mn(china)} mn ({basis}){tail}.",
                **common,
            )
        ]
        share_ind = SHARE_Q if months == 3 else SHARE_FY if months == 12 else None
        if share_ind and total:
            rows.append(
                ProposedRow(
                    share_ind,
                    end,
                    (china / total).quantize(_SHARE_DP),
                    note=f"China {_mn(china)} / total {_mn(total)} USD mn, {start}..{end}"
                    f"{' (' + derived + ')' if derived else ''} ({basis}){tail}.",
                    **common,
                )
            )
        return rows
