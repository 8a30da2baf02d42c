"""Reading Nvidia's real filings (both XBRL forms), safe XML, and the reconciliation rule."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from chipcast.ingest.errors import MalformedDocument, UnsafeDocument
from chipcast.ingest.reconcile import same_to_precision, span_months
from chipcast.ingest.safexml import parse_xml
from chipcast.ingest.xbrl import ix_number, revenue_facts

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
FY2024_INSTANCE = "nvda-10k-fy2024-xbrl-instance.xml.gz"
FY2025_INLINE = "nvda-10k-fy2025-inline-xbrl.html.gz"
Q2FY2026_INLINE = "nvda-10q-q2fy2026-inline-xbrl.html.gz"
CHINA = "ChinaIncludingHongKongMember"

# The table in shared/fixtures/sec/README.md: what a correct parser reads (USD mn), and from which.
README_TABLE = [
    ("2022-01-31", "2023-01-29", 5785, (FY2024_INSTANCE, FY2025_INLINE)),
    ("2023-01-30", "2024-01-28", 10306, (FY2024_INSTANCE, FY2025_INLINE)),
    ("2024-01-29", "2025-01-26", 17108, (FY2025_INLINE,)),
    ("2021-02-01", "2022-01-30", 7111, (FY2024_INSTANCE,)),
    ("2024-04-29", "2024-07-28", 3667, (Q2FY2026_INLINE,)),
    ("2025-04-28", "2025-07-27", 2769, (Q2FY2026_INLINE,)),
    ("2024-01-29", "2024-07-28", 6158, (Q2FY2026_INLINE,)),
    ("2025-01-27", "2025-07-27", 8291, (Q2FY2026_INLINE,)),
]


def load(name: str) -> bytes:
    return gzip.decompress((FIXTURES / name).read_bytes())


@pytest.fixture(scope="module")
def facts() -> dict[str, dict]:
    out = {}
    for name in (FY2024_INSTANCE, FY2025_INLINE, Q2FY2026_INLINE):
        out[name] = {
            (f.member, f.start.isoformat(), f.end.isoformat()): f.value
            for f in revenue_facts(load(name), name)
        }
    return out


@pytest.mark.parametrize(("start", "end", "mn", "files"), README_TABLE)
def test_parser_reads_the_readme_table_exactly(facts, start, end, mn, files) -> None:
    for name in files:
        assert facts[name][(CHINA, start, end)] == Decimal(mn) * 10**6, name


def test_each_filing_has_exactly_the_china_periods_of_the_table(facts) -> None:
    for name, table in facts.items():
        china = {(s, e) for (m, s, e) in table if m == CHINA}
        expected = {(s, e) for s, e, _, files in README_TABLE if name in files}
        assert china == expected, name


def test_totals_come_from_facts_without_dimensions(facts) -> None:
    # Total revenue, the same concept with no dimension: Q2 FY2026 46,743 and FY2025 130,497.
    assert facts[Q2FY2026_INLINE][(None, "2025-04-28", "2025-07-27")] == Decimal(46743) * 10**6
    assert facts[FY2025_INLINE][(None, "2024-01-29", "2025-01-26")] == Decimal(130497) * 10**6
    assert facts[FY2024_INSTANCE][(None, "2021-02-01", "2022-01-30")] == Decimal(26914) * 10**6


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2,769", "ixt:num-dot-decimal", Decimal(2769)),
        ("1.234,5", "ixt:num-comma-decimal", Decimal("1234.5")),
        ("—", "ixt:fixed-zero", Decimal(0)),
        ("12", None, Decimal(12)),
    ],
)
def test_inline_number_formats(text, fmt, expected) -> None:
    assert ix_number(text, fmt, "doc") == expected


def test_unknown_inline_format_is_refused_by_name() -> None:
    with pytest.raises(MalformedDocument, match="unsupported inline XBRL number format"):
        ix_number("12", "ixt:num-unit-decimal", "doc")


def test_a_truncated_filing_is_a_malformed_document() -> None:
    data = load(Q2FY2026_INLINE)
    with pytest.raises(MalformedDocument, match="not well-formed XML.*truncated"):
        revenue_facts(data[: len(data) // 2], "q2.htm")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xbrl xmlns="http://www.xbrl.org/2003/instance">&lol9;</xbrl>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xbrl xmlns="http://www.xbrl.org/2003/instance">&xxe;</xbrl>
"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_hostile_xml_is_refused_with_a_clear_message(doc) -> None:
    with pytest.raises(UnsafeDocument, match="DTD.*refused"):
        parse_xml(doc, "evil.xml")


def test_an_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeDocument, match="over the 100-byte limit.*refused"):
        parse_xml(b"<a>" + b"x" * 200 + b"</a>", "big.xml", max_bytes=100)


def test_precision_rule_and_spans() -> None:
    assert same_to_precision(3.67, Decimal("3.667"))
    assert same_to_precision(0.096, Decimal("0.0956"))
    assert not same_to_precision(3.67, Decimal("3.676"))
    assert not same_to_precision(5.4, Decimal("5.46"))
    assert not same_to_precision("2.80", Decimal("2.769"))  # the precision as written
    assert same_to_precision("2.8", Decimal("2.769"))
    assert span_months(dt.date(2024, 10, 28), dt.date(2025, 1, 26)) == 3
    assert span_months(dt.date(2024, 1, 29), dt.date(2025, 1, 26)) == 12
    assert span_months(dt.date(2024, 1, 29), dt.date(2024, 10, 27)) == 9
