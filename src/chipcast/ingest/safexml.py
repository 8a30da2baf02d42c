"""Parse XML and XHTML from the network safely.

No DTD at all (so no entity expansion, no "billion laughs", no external entities), no external
references, and a size cap before parsing. defusedxml wraps the standard library's expat parser
with these switches; its refusals become `UnsafeDocument`, a document that is not well-formed
(a truncated download) becomes `MalformedDocument`.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as DET

from chipcast.ingest.errors import MalformedDocument, UnsafeDocument

MAX_XML_BYTES = 64 * 2**20


def parse_xml(
    data: bytes, name: str, max_bytes: int = MAX_XML_BYTES
) -> tuple[ET.Element, dict[str, str]]:
    """The root element and the namespace prefixes declared in the document (first wins)."""
    if len(data) > max_bytes:
        raise UnsafeDocument(
            f"{name}: {len(data)} bytes, over the {max_bytes}-byte limit for XML: refused"
        )
    prefixes: dict[str, str] = {}
    try:
        events = DET.iterparse(
            io.BytesIO(data),
            events=("start-ns",),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        for _, (prefix, uri) in events:
            prefixes.setdefault(prefix, uri)
        root = events.root
    except DTDForbidden:
        raise UnsafeDocument(
            f"{name}: declares a DTD (<!DOCTYPE ...>): refused (no DTD, entity expansion or "
            "external entities are allowed in documents from the network)"
        ) from None
    except EntitiesForbidden:
        raise UnsafeDocument(f"{name}: declares entities: refused (no entity expansion)") from None
    except ExternalReferenceForbidden:
        raise UnsafeDocument(f"{name}: refers to an external resource: refused") from None
    except ET.ParseError as exc:
        raise MalformedDocument(
            f"{name}: not well-formed XML ({exc}): truncated or damaged document"
        ) from None
    if root is None:
        raise MalformedDocument(f"{name}: empty document")
    return root, prefixes
