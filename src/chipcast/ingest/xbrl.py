"""Read revenue facts from an XBRL instance or an inline XBRL (iXBRL) document.

Both forms carry contexts (`xbrli:context`: a period and, for a dimensional fact, explicit
members on axes) and facts that point at them. The instance gives `us-gaap:Revenues` elements
in dollars; inline XBRL gives `ix:nonFraction name="us-gaap:Revenues"` with a `scale` (6 =
millions), a display `format` (`ixt:num-dot-decimal`, ...) and an optional `sign`. QNames are
resolved through the document's own namespace prefixes, so a new taxonomy year (us-gaap/2025)
reads the same.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from chipcast.ingest.errors import MalformedDocument
from chipcast.ingest.safexml import parse_xml

XBRLI = "http://www.xbrl.org/2003/instance"
XBRLDI = "http://xbrl.org/2006/xbrldi"
IX = ("http://www.xbrl.org/2013/inlineXBRL", "http://www.xbrl.org/2008/inlineXBRL")
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
US_GAAP = "http://fasb.org/us-gaap/"
SRT = "http://fasb.org/srt/"
GEO_AXIS = "StatementGeographicalAxis"
CONCEPT = "Revenues"


@dataclass(frozen=True)
class Fact:
    """One revenue fact: `member` is the geographic member's local name, None for the total."""

    member: str | None
    start: dt.date
    end: dt.date
    value: Decimal  # dollars

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return (self.start, self.end)


@dataclass(frozen=True)
class _Context:
    start: dt.date
    end: dt.date
    member: str | None  # geographic member; None = no dimension
    other_dims: bool


def _local(tag: str) -> tuple[str, str]:
    uri, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return uri, local


def _qname(text: str, prefixes: dict[str, str], name: str) -> tuple[str, str]:
    prefix, _, local = text.strip().rpartition(":")
    if prefix not in prefixes:
        raise MalformedDocument(f"{name}: undeclared namespace prefix {prefix!r} in {text!r}")
    return prefixes[prefix], local


def _date(el: ET.Element | None, name: str) -> dt.date | None:
    if el is None or not (el.text or "").strip():
        return None
    try:
        return dt.date.fromisoformat(el.text.strip()[:10])
    except ValueError:
        raise MalformedDocument(f"{name}: bad date {el.text!r} in a context") from None


def _contexts(root: ET.Element, prefixes: dict[str, str], name: str) -> dict[str, _Context]:
    out = {}
    for ctx in root.iter(f"{{{XBRLI}}}context"):
        period = ctx.find(f"{{{XBRLI}}}period")
        if period is None:
            raise MalformedDocument(f"{name}: context {ctx.get('id')!r} has no period")
        start = _date(period.find(f"{{{XBRLI}}}startDate"), name)
        end = _date(period.find(f"{{{XBRLI}}}endDate"), name)
        if start is None or end is None:
            continue  # an instant: balances, not revenue
        members, other = [], False
        for el in ctx.iter():
            uri, local = _local(el.tag)
            if uri == XBRLDI and local == "explicitMember":
                axis = _qname(el.get("dimension", ""), prefixes, name)
                member = _qname(el.text or "", prefixes, name)
                members.append((axis, member))
            elif uri == XBRLDI and local == "typedMember":
                other = True
        geo = [
            m for (a_uri, a_local), m in members if a_uri.startswith(SRT) and a_local == GEO_AXIS
        ]
        other = other or len(members) != len(geo) or len(geo) > 1
        out[ctx.get("id", "")] = _Context(start, end, geo[0][1] if geo else None, other)
    return out


_ZERO_FORMATS = {"fixed-zero", "fixedzero", "zerodash", "fixed-empty"}
_DOT_DECIMAL = {"num-dot-decimal", "numdotdecimal", "numcommadot", "num-dot-decimal-apos"}
_COMMA_DECIMAL = {"num-comma-decimal", "numcommadecimal", "numdotcomma"}


def ix_number(text: str, fmt: str | None, name: str) -> Decimal:
    """The number an `ix:nonFraction` displays, before `scale` and `sign`."""
    local = (fmt or "").rpartition(":")[2]
    t = text.strip()
    if local in _ZERO_FORMATS or t in {"-", "—", "–"}:
        return Decimal(0)
    if local in _DOT_DECIMAL:
        t = t.replace(",", "").replace(" ", "").replace("'", "")
    elif local in _COMMA_DECIMAL:
        t = t.replace(".", "").replace(" ", "").replace(",", ".")
    elif local:
        raise MalformedDocument(f"{name}: unsupported inline XBRL number format {fmt!r}")
    try:
        return Decimal(t)
    except InvalidOperation:
        raise MalformedDocument(f"{name}: {text!r} is not a number ({fmt})") from None


def revenue_facts(data: bytes, name: str) -> list[Fact]:
    """Every `us-gaap:Revenues` duration fact with no dimension or one geographic member."""
    root, prefixes = parse_xml(data, name)
    ctxs = _contexts(root, prefixes, name)
    uri, local = _local(root.tag)
    raw: list[tuple[str, Decimal]] = []
    if uri == XBRLI and local == "xbrl":
        for el in root:
            e_uri, e_local = _local(el.tag)
            if e_uri.startswith(US_GAAP) and e_local == CONCEPT and el.get(XSI_NIL) != "true":
                try:
                    raw.append((el.get("contextRef", ""), Decimal((el.text or "").strip())))
                except InvalidOperation:
                    raise MalformedDocument(f"{name}: {el.text!r} is not a number") from None
    elif local == "html":
        for ix in IX:
            for el in root.iter(f"{{{ix}}}nonFraction"):
                c_uri, c_local = _qname(el.get("name", ""), prefixes, name)
                if not (c_uri.startswith(US_GAAP) and c_local == CONCEPT):
                    continue
                if el.get(XSI_NIL) == "true":
                    continue
                v = ix_number("".join(el.itertext()), el.get("format"), name)
                v = v.scaleb(int(el.get("scale", "0")))
                raw.append((el.get("contextRef", ""), -v if el.get("sign") == "-" else v))
    else:
        raise MalformedDocument(f"{name}: neither an XBRL instance nor an inline XBRL document")
    facts: dict[tuple, Fact] = {}
    for ref, value in raw:
        ctx = ctxs.get(ref)
        if ctx is None:
            raise MalformedDocument(f"{name}: a fact refers to an unknown context {ref!r}")
        if ctx.other_dims:
            continue
        fact = Fact(ctx.member, ctx.start, ctx.end, value)
        key = (fact.member, fact.start, fact.end)
        if key in facts and facts[key].value != value:
            raise MalformedDocument(
                f"{name}: two different Revenues facts for {fact.member or 'total'} "
                f"{fact.start}..{fact.end}: {facts[key].value} and {value}"
            )
        facts[key] = fact
    return sorted(facts.values(), key=lambda f: (f.member or "", f.start, f.end))
