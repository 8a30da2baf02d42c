"""`chipcast ingest sec-edgar`: a replayed run on the shipped data, derivations and faults.

HTTP is replayed with respx from the real filings in tests/fixtures/ingest; nothing touches
the network. EDGAR's submissions JSON is not among the fixtures, so `submissions()` builds a
minimal one in EDGAR's documented format. The Q2 FY2026 10-Q's accession number is not known
offline: the one used here (0001045810-25-999999) is made up for the test.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx

from chipcast.cli import main
from chipcast.ingest import IngestFailed, run_ingest
from chipcast.ingest.http import HttpSettings
from chipcast.ingest.raw import RawDocument
from chipcast.ingest.sec_edgar import ARCHIVES_URL, SUBMISSIONS_URL, SecEdgar
from chipcast.registry import load
from tests.conftest import snapshot

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
UA = "chipcast tests tests@example.org"
TODAY = dt.date(2025, 11, 23)
FILINGS = [  # accession, form, filed, period, primary document, fixture
    ("0001045810-24-000029", "10-K", "2024-02-21", "2024-01-28", "nvda-20240128_htm.xml",
     "nvda-10k-fy2024-xbrl-instance.xml.gz"),
    ("0001045810-25-000023", "10-K", "2025-02-26", "2025-01-26", "nvda-20250126.htm",
     "nvda-10k-fy2025-inline-xbrl.html.gz"),
    ("0001045810-25-999999", "10-Q", "2025-08-27", "2025-07-27", "nvda-20250727.htm",
     "nvda-10q-q2fy2026-inline-xbrl.html.gz"),
]  # fmt: skip
EDGAR_VIA = "SEC EDGAR (XBRL)"


def submissions() -> bytes:
    rows = [*FILINGS, ("0001045810-25-000100", "4", "2025-09-01", "", "form4.xml", None)]
    recent = {
        "accessionNumber": [r[0] for r in rows],
        "form": [r[1] for r in rows],
        "filingDate": [r[2] for r in rows],
        "reportDate": [r[3] for r in rows],
        "acceptanceDateTime": [f"{r[2]}T16:30:00.000Z" for r in rows],
        "primaryDocument": [r[4] for r in rows],
        "isXBRL": [1, 1, 1, 0],
        "isInlineXBRL": [1, 1, 1, 0],
    }
    return json.dumps(
        {"cik": "1045810", "name": "NVIDIA CORP", "filings": {"recent": recent}}
    ).encode()


def doc_url(accession: str, primary: str) -> str:
    return f"{ARCHIVES_URL}{accession.replace('-', '')}/{primary}"


def read(rel: str) -> bytes:
    return gzip.decompress((FIXTURES / rel).read_bytes())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped data as hand-curated: without the rows and raw documents a
    previous sec-edgar ingest added."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns("raw"))
    shutil.copytree(REPO / "forecasts" / "claims", root / "forecasts" / "claims")
    for ind in ("nvda_rev_china", "nvda_rev_china_share_q", "nvda_rev_china_share_fy"):
        path = root / "data" / "observations" / f"{ind}.csv"
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = list(rows[0].keys())
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            w.writeheader()
            w.writerows(r for r in rows if r["via"] != EDGAR_VIA)
    return root


@pytest.fixture
def edgar():
    with respx.mock(assert_all_called=False) as mock:
        mock.get(SUBMISSIONS_URL).respond(200, content=submissions())
        for acc, _, _, _, primary, fixture in FILINGS:
            mock.get(doc_url(acc, primary)).respond(200, content=read(fixture))
        yield mock


def rows(root: Path, ind: str) -> list[dict[str, str]]:
    with (root / "data" / "observations" / f"{ind}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def ingested(root: Path, ind: str) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (r["period_start"], r["period_end"]): r for r in rows(root, ind) if r["via"] == EDGAR_VIA
    }


def run(root: Path, **kw):
    kw.setdefault("user_agent", UA)
    return run_ingest(root, "sec-edgar", today=TODAY, sleep=lambda s: None, **kw)


def test_replayed_run_adds_what_is_not_on_record_and_a_second_run_adds_nothing(
    project, edgar
) -> None:
    result = run(project)
    rev = ingested(project, "nvda_rev_china")
    assert {k: r["value"] for k, r in rev.items()} == {
        ("2021-02-01", "2022-01-30"): "7.111",
        ("2022-01-31", "2023-01-29"): "5.785",
        ("2023-01-30", "2024-01-28"): "10.306",
        ("2024-01-29", "2025-01-26"): "17.108",
        ("", "2025-07-27"): "2.769",
    }
    q2 = rev[("", "2025-07-27")]
    assert q2["published"] == "2025-08-27" and q2["source"] == "nvidia"
    assert q2["url"].endswith("/000104581025999999/0001045810-25-999999-index.htm")
    assert "0001045810-25-999999" in q2["note"]
    assert (
        rev[("2021-02-01", "2022-01-30")]["published"] == "2024-02-21"
    )  # read from the FY2024 10-K
    assert rev[("2024-01-29", "2025-01-26")]["published"] == "2025-02-26"
    # Q2 FY2025 is on record as 3.67 (a news summary): 3,667 in the filing adds nothing.
    same = {(d.row.indicator, d.row.period_end) for d in result.decisions if d.action == "same"}
    assert ("nvda_rev_china", dt.date(2024, 7, 28)) in same
    assert [
        r["value"] for r in rows(project, "nvda_rev_china") if r["period_end"] == "2024-07-28"
    ] == ["3.67"]
    share_q = ingested(project, "nvda_rev_china_share_q")
    assert share_q[("", "2025-07-27")]["value"] == str(
        (Decimal(2769) / 46743).quantize(Decimal("0.0001"))
    )
    assert set(ingested(project, "nvda_rev_china_share_fy")) == {
        ("", "2023-01-29")
    }  # the rest on record
    # Raw documents, with provenance.
    raw = project / "data" / "raw" / "sec-edgar"
    meta = json.loads((raw / "0001045810-25-999999_nvda-20250727.htm.meta.json").read_text())
    assert meta["url"] == doc_url("0001045810-25-999999", "nvda-20250727.htm")
    assert (
        meta["filing_date"] == "2025-08-27" and meta["retrieved_at"] and len(meta["sha256"]) == 64
    )
    assert gzip.decompress(
        (raw / "0001045810-25-999999_nvda-20250727.htm.gz").read_bytes()
    ) == read(FILINGS[2][5])
    assert load(project)  # the whole project still validates
    before = snapshot(project)
    calls = edgar.calls.call_count
    again = run(project)
    assert again.count("add") == again.count("revision") == 0
    assert snapshot(project) == before
    assert edgar.calls.call_count - calls == 1  # only the filing list: the filings are cached


def test_offline_parses_only_the_cache_and_needs_no_user_agent(project, edgar) -> None:
    offline = run_ingest(project, "sec-edgar", today=TODAY, offline=True)
    assert offline.count("add") == 0 and edgar.calls.call_count == 0
    run(project)
    before = snapshot(project)
    assert run_ingest(project, "sec-edgar", today=TODAY, offline=True).count("add") == 0
    assert snapshot(project) == before


def test_q1_is_h1_minus_q2_on_the_real_10q() -> None:
    doc = RawDocument(
        "q2.htm",
        read(FILINGS[2][5]),
        {"kind": "filing", "form": "10-Q", "filing_date": "2025-08-27", "accession": None},
    )
    adapter = SecEdgar()
    filings = adapter.parse([doc])
    china = {
        f.period: f.value for f in filings[0].facts if f.member == "ChinaIncludingHongKongMember"
    }
    h1, q2 = (
        china[(dt.date(2025, 1, 27), dt.date(2025, 7, 27))],
        china[(dt.date(2025, 4, 28), dt.date(2025, 7, 27))],
    )
    proposal = adapter.propose(filings, None, None, TODAY)  # type: ignore[arg-type]
    q1 = {(r.indicator, r.period_end): r for r in proposal.observations}
    assert (
        q1[("nvda_rev_china", dt.date(2025, 1, 26) + dt.timedelta(days=91))].value
        == (h1 - q2) / 10**9
    )
    assert q1[("nvda_rev_china", dt.date(2025, 4, 27))].value == Decimal("5.522")  # 8,291 - 2,769
    assert q1[("nvda_rev_china", dt.date(2024, 4, 28))].value == Decimal("2.491")  # 6,158 - 3,667
    assert "Derived: H1" in q1[("nvda_rev_china", dt.date(2025, 4, 27))].note
    # Total revenue Q1 FY2026 = 90,805 - 46,743 = 44,062: the derived share.
    share = q1[("nvda_rev_china_share_q", dt.date(2025, 4, 27))].value
    assert share == (Decimal(5522) / 44062).quantize(Decimal("0.0001"))


# A small document built in the real inline XBRL format (the namespaces, contexts, explicit
# member and ix:nonFraction attributes of the Q2 FY2026 10-Q), trimmed to one year's facts. The
# fixtures hold no Q3 10-Q and no FY2026 10-K, so the figures below are made up for the test.
INLINE = """<?xml version='1.0' encoding='ASCII'?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"
 xmlns:ixt="http://www.xbrl.org/inlineXBRL/transformation/2020-02-12"
 xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:xbrldi="http://xbrl.org/2006/xbrldi"
 xmlns:us-gaap="http://fasb.org/us-gaap/2025" xmlns:srt="http://fasb.org/srt/2025"
 xmlns:nvda="http://www.nvidia.com/20260125"><head><title>t</title></head><body>
<div style="display:none"><ix:header><ix:resources>{contexts}</ix:resources></ix:header></div>
{facts}</body></html>"""
CTX = """<xbrli:context id="{id}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0001045810</xbrli:identifier>{seg}</xbrli:entity><xbrli:period><xbrli:startDate>{start}</xbrli:startDate><xbrli:endDate>{end}</xbrli:endDate></xbrli:period></xbrli:context>"""
SEG = """<xbrli:segment><xbrldi:explicitMember dimension="srt:StatementGeographicalAxis">nvda:ChinaIncludingHongKongMember</xbrldi:explicitMember></xbrli:segment>"""
FACT = """<ix:nonFraction unitRef="usd" contextRef="{id}" decimals="-6" name="us-gaap:Revenues" format="ixt:num-dot-decimal" scale="6">{v}</ix:nonFraction>"""


def built(start: str, end: str, china: str, total: str) -> bytes:
    contexts = CTX.format(id="c-1", seg="", start=start, end=end) + CTX.format(
        id="c-2", seg=SEG, start=start, end=end
    )
    facts = FACT.format(id="c-1", v=total) + FACT.format(id="c-2", v=china)
    return INLINE.format(contexts=contexts, facts=facts).encode("ascii")


def test_q4_is_the_year_minus_nine_months_recorded_as_derived() -> None:
    q3 = RawDocument("q3.htm", built("2025-01-27", "2025-10-26", "9,000", "100,000"),
                     {"kind": "filing", "form": "10-Q", "filing_date": "2025-11-19", "accession": "0001045810-25-000001"})  # fmt: skip
    fy = RawDocument("fy.htm", built("2025-01-27", "2026-01-25", "11,500", "140,000"),
                     {"kind": "filing", "form": "10-K", "filing_date": "2026-02-25", "accession": "0001045810-26-000002"})  # fmt: skip
    adapter = SecEdgar()
    proposal = adapter.propose(adapter.parse([fy, q3]), None, None, TODAY)  # type: ignore[arg-type]
    by_key = {(r.indicator, r.period_start, r.period_end): r for r in proposal.observations}
    q4 = by_key[("nvda_rev_china", None, dt.date(2026, 1, 25))]
    assert q4.value == Decimal("2.5") and q4.published == dt.date(2026, 2, 25)
    assert q4.note.startswith("Derived: the year 2025-01-27..2026-01-25 minus the nine months")
    assert "0001045810-25-000001" in q4.note and "0001045810-26-000002" in q4.note
    assert by_key[("nvda_rev_china_share_q", None, dt.date(2026, 1, 25))].value == Decimal("0.0625")
    fy_row = by_key[("nvda_rev_china", dt.date(2025, 1, 27), dt.date(2026, 1, 25))]
    assert fy_row.value == Decimal("11.5")
    assert (
        "nvda_rev_china",
        dt.date(2025, 1, 27),
        dt.date(2025, 10, 26),
    ) not in by_key  # 9M: not recorded


# --- faults ---------------------------------------------------------------------------------


def test_429_then_success_retries_with_backoff(project) -> None:
    slept: list[float] = []
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(SUBMISSIONS_URL).mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "3"}),
                httpx.Response(200, content=submissions()),
            ]
        )
        for acc, _, _, _, primary, fixture in FILINGS:
            mock.get(doc_url(acc, primary)).respond(200, content=read(fixture))
        result = run_ingest(project, "sec-edgar", today=TODAY, user_agent=UA, sleep=slept.append)
    assert result.count("add") == 7
    assert 3.0 in slept  # the server's Retry-After, not a guess
    assert route.call_count == 2


def test_429_every_time_fails_after_the_retries_and_writes_nothing(project) -> None:
    before = snapshot(project)
    with respx.mock() as mock:
        mock.get(SUBMISSIONS_URL).respond(429)
        with pytest.raises(IngestFailed, match="HTTP 429 after 3 attempts"):
            run_ingest(project, "sec-edgar", today=TODAY, user_agent=UA, sleep=lambda s: None,
                       http_settings=HttpSettings(retries=2))  # fmt: skip
    assert snapshot(project) == before


def test_403_exits_1_says_why_and_writes_nothing(project, capsys) -> None:
    before = snapshot(project)
    with respx.mock() as mock:
        mock.get(SUBMISSIONS_URL).respond(403)
        code = main(["ingest", "sec-edgar", "--root", str(project), "--user-agent", UA])
    err = capsys.readouterr().err
    assert code == 1
    assert "HTTP 403" in err and "User-Agent" in err and "nothing written for sec-edgar" in err
    assert snapshot(project) == before


def test_a_truncated_filing_fails_the_source_and_writes_nothing(project, capsys) -> None:
    before = snapshot(project)
    with respx.mock(assert_all_called=False) as mock:
        mock.get(SUBMISSIONS_URL).respond(200, content=submissions())
        for acc, _, _, _, primary, fixture in FILINGS:
            content = read(fixture)
            mock.get(doc_url(acc, primary)).respond(200, content=content[: len(content) * 2 // 3])
        code = main(["ingest", "sec-edgar", "--root", str(project), "--user-agent", UA])
    err = capsys.readouterr().err
    assert code == 1 and "not well-formed XML" in err and "truncated" in err
    assert snapshot(project) == before


def test_hostile_filings_are_refused_and_nothing_is_written(project, capsys) -> None:
    from tests.test_ingest_parse import BILLION_LAUGHS, EXTERNAL_ENTITY

    for evil in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        before = snapshot(project)
        with respx.mock(assert_all_called=False) as mock:
            mock.get(SUBMISSIONS_URL).respond(200, content=submissions())
            for acc, _, _, _, primary, _ in FILINGS:
                mock.get(doc_url(acc, primary)).respond(200, content=evil)
            code = main(["ingest", "sec-edgar", "--root", str(project), "--user-agent", UA])
        err = capsys.readouterr().err
        assert code == 1 and "DTD" in err and "refused" in err, err
        assert snapshot(project) == before


def test_an_oversized_filing_is_refused_and_nothing_is_written(project, edgar) -> None:
    before = snapshot(project)
    with pytest.raises(IngestFailed, match="over the 500000-byte limit: refused"):
        run(project, http_settings=HttpSettings(max_bytes=500_000))
    assert snapshot(project) == before


def test_a_figure_that_differs_from_the_record_is_a_revision_row(project, edgar) -> None:
    path = project / "data" / "observations" / "nvda_rev_china.csv"
    text = path.read_text()
    # On record: Q2 FY2025 as 3.60 (a mistyped summary) and Q2 FY2026 as 2.80 on the 10-Q's date.
    path.write_text(text.replace(",3.67,nvidia,2024-08-28,", ",3.60,nvidia,2024-08-28,")
                    + "2025-07-27,,2.80,nvidia,2025-08-27,,news,https://example.org,,hand-entered\n")  # fmt: skip
    result = run(project)
    revisions = {(d.row.period_end, d.row.published, d.row.value_text, d.recorded) for d in result.decisions
                 if d.action == "revision" and d.row.indicator == "nvda_rev_china"}  # fmt: skip
    assert revisions == {
        (dt.date(2024, 7, 28), dt.date(2025, 8, 27), "3.667", "3.60"),  # the 10-Q's comparative
        (dt.date(2025, 7, 27), dt.date(2025, 8, 28), "2.769", "2.80"),  # tie broken by a day
    }
    after = rows(project, "nvda_rev_china")
    assert [r["value"] for r in after if r["period_end"] == "2024-07-28"] == ["3.60", "3.667"]
    tie = [r for r in after if r["period_end"] == "2025-07-27" and r["via"] == EDGAR_VIA][0]
    assert tie["published_estimated"] == "true" and "Published set to 2025-08-28" in tie["note"]
    assert load(project)
    assert run(project).count("revision") == 0  # and it stays a single revision


def test_missing_user_agent_is_a_usage_error_with_the_fix(project, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CHIPCAST_USER_AGENT", raising=False)
    before = snapshot(project)
    with respx.mock() as mock:
        code = main(["ingest", "sec-edgar", "--root", str(project)])
        assert mock.calls.call_count == 0
    err = capsys.readouterr().err
    assert (
        code == 2
        and "--user-agent 'Jane Doe jane@example.org'" in err
        and "CHIPCAST_USER_AGENT" in err
    )
    assert main(["ingest", "nasdaq", "--root", str(project)]) == 2
    assert snapshot(project) == before


def test_dry_run_prints_the_rows_and_writes_nothing(project, edgar, capsys) -> None:
    before = snapshot(project)
    code = main(["ingest", "sec-edgar", "--root", str(project), "--dry-run", "--user-agent", UA])
    out = capsys.readouterr().out
    assert code == 0
    assert "+ nvda_rev_china 2025-07-27: 2.769 from nvidia, published 2025-08-27" in out
    assert "= nvda_rev_china 2024-07-28: 3.667 is on record as 3.67 (published 2024-08-28)" in out
    assert "would add 7 new" in out
    assert snapshot(project) == before


def test_since_limits_the_filings_read(project, edgar) -> None:
    result = run(project, since=dt.date(2025, 3, 1))
    assert {d.row.published for d in result.decisions} == {dt.date(2025, 8, 27)}
    assert not (
        project / "data" / "raw" / "sec-edgar" / "0001045810-24-000029_nvda-20240128_htm.xml.gz"
    ).exists()
