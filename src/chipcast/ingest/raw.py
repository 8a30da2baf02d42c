"""The raw-document cache: `data/raw/<source>/<name>.gz` with `<name>.meta.json` beside it.

Every document an adapter fetches is kept gzipped (deterministically: no timestamp in the gzip
header) with its URL, retrieval time and sha256 (of the document as served, after transfer
decoding), so re-parsing never needs the network and a reader can check what a figure came
from. A document is rewritten only when its content changed (a listing that grew); filings never
change. Names are plain file names, never paths.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from chipcast.fileio import atomic_write_bytes, atomic_write_text
from chipcast.ingest.errors import MalformedDocument, UnsafeDocument

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
MAX_RAW_BYTES = 64 * 2**20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RawDocument:
    """One document as served, with what is known of where and when it came from."""

    name: str
    content: bytes
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not NAME_RE.fullmatch(self.name) or self.name.endswith((".gz", ".meta.json")):
            raise ValueError(f"not a valid raw document name: {self.name!r}")


def _gunzip(data: bytes, name: str, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise MalformedDocument(f"{name}: damaged gzip file ({exc})") from None
    if len(out) > limit:
        raise UnsafeDocument(f"{name}: expands to more than {limit} bytes: refused")
    return out


class RawCache:
    """The cached documents of one source."""

    def __init__(self, directory: Path, max_bytes: int = MAX_RAW_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes

    def gz_path(self, name: str) -> Path:
        return self.directory / f"{name}.gz"

    def meta_path(self, name: str) -> Path:
        return self.directory / f"{name}.meta.json"

    def has(self, name: str) -> bool:
        return self.gz_path(name).exists() and self.meta_path(name).exists()

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name.removesuffix(".meta.json") for p in self.directory.glob("*.meta.json"))

    def load(self, name: str) -> RawDocument:
        """A cached document, its sha256 checked against its metadata."""
        rel = f"{self.directory.name}/{name}"
        try:
            meta = json.loads(self.meta_path(name).read_text(encoding="utf-8"))
            content = _gunzip(self.gz_path(name).read_bytes(), rel, self.max_bytes)
        except (OSError, json.JSONDecodeError) as exc:
            raise MalformedDocument(f"{rel}: cannot read the cached document: {exc}") from None
        if meta.get("sha256") != sha256(content):
            raise MalformedDocument(
                f"{rel}: content does not match the sha256 in its metadata (edited or damaged)"
            )
        return RawDocument(name, content, meta)

    def load_all(self) -> list[RawDocument]:
        return [self.load(n) for n in self.names()]

    def is_current(self, doc: RawDocument) -> bool:
        """Whether the cache already holds `doc`: the same content and the same metadata (a
        listing's `covers` moves on even when its content does not), retrieval time aside."""
        if not self.has(doc.name):
            return False
        old = json.loads(self.meta_path(doc.name).read_text(encoding="utf-8"))
        ignore = {"sha256", "bytes", "retrieved_at"}
        return old.get("sha256") == sha256(doc.content) and {
            k: v for k, v in old.items() if k not in ignore
        } == {k: v for k, v in doc.meta.items() if k not in ignore}

    def store(self, doc: RawDocument) -> bool:
        """Write `doc` unless the cache already holds it; True if written."""
        if self.is_current(doc):
            return False
        meta = {**doc.meta, "sha256": sha256(doc.content), "bytes": len(doc.content)}
        atomic_write_bytes(self.gz_path(doc.name), gzip.compress(doc.content, mtime=0))
        atomic_write_text(
            self.meta_path(doc.name), json.dumps(meta, indent=2, sort_keys=True) + "\n"
        )
        return True
