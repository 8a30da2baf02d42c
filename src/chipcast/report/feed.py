"""The change log as an Atom feed (reports/site/feed.xml): notifications with no server.

One entry per change, resolution and new claim (`chipcast.report.changes`), newest first, each
linking to its claim page. Entry ids come from the claim and the run, so a rebuild from the same
history gives the same ids and a feed reader shows nothing twice. Written with ElementTree, so
every text is escaped and the document is well-formed.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from chipcast.report.changes import Change

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:chipcast,2026:feed"
TITLES = {"moved": "Forecast moved", "new": "New claim", "resolved": "Resolved"}
MAX_ENTRIES = 200


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        e.text = text
    return e


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed_xml(changes: list[Change], statements: dict[str, str]) -> bytes:
    """The Atom document for `changes` (newest first); `statements`: claim id -> statement."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _el(root, "title", "chipcast: what changed")
    _el(root, "subtitle", "Forecasts that moved, new claims and resolutions, refresh by refresh.")
    _el(root, "id", FEED_ID)
    _el(root, "link", rel="alternate", href="index.html")
    _el(root, "link", rel="self", href="feed.xml")
    newest = max((c.when for c in changes), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    _el(root, "updated", _stamp(newest))
    author = _el(root, "author")
    _el(author, "name", "chipcast")
    for ch in changes[:MAX_ENTRIES]:
        entry = _el(root, "entry")
        _el(entry, "id", ch.id)
        _el(
            entry,
            "title",
            f"{TITLES.get(ch.kind, ch.kind)}: {statements.get(ch.claim_id, ch.claim_id)}",
        )
        _el(entry, "link", rel="alternate", href=f"claims/{ch.claim_id}.html")
        _el(entry, "updated", _stamp(ch.when))
        text = ch.text
        if ch.figures:
            text += " New figures: " + "; ".join(
                f"{f['value']} for {f['period_end']} ({f['source']}, published {f['published']})"
                for f in ch.figures
            )
        _el(entry, "summary", text)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_feed(path: Path, changes: list[Change], statements: dict[str, str]) -> Path:
    path.write_bytes(feed_xml(changes, statements))
    return path
