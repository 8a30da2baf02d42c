"""What can go wrong in an ingest, split by the exit status it earns (DESIGN: 1 or 2)."""

from __future__ import annotations


class IngestUsageError(Exception):
    """Bad usage (unknown source, a missing User-Agent): exit 2, nothing fetched or written."""


class IngestFailed(Exception):
    """A source failed (network, HTTP status, a malformed or hostile document): exit 1, nothing
    written for that source."""


class FetchError(IngestFailed):
    """The network or the server refused: a status, a timeout, too many retries, too many bytes."""


class MalformedDocument(IngestFailed):
    """A document that does not parse or lacks what the adapter needs (truncated, changed format)."""


class UnsafeDocument(IngestFailed):
    """A document refused for safety: a DTD, entity declarations, external references, its size."""
