"""Record a new figure or a new claim: validate against the whole project, then write atomically.

On any problem nothing is written, so a file is always either as it was or complete.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import yaml
from pydantic import ValidationError

from chipcast.fileio import atomic_write_text
from chipcast.paths import Paths
from chipcast.registry import Problem, check_project
from chipcast.registry.checks import check_claim_references, check_observation_text
from chipcast.registry.problems import Located, pydantic_problems
from chipcast.schema import OBSERVATION_COLUMNS, Claim


def _csv_line(row: dict[str, str], columns: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([row.get(c, "") for c in columns])
    return buf.getvalue()


def record_observation(
    root: Path,
    *,
    indicator: str,
    period_end: dt.date,
    value: str,
    source: str,
    published: dt.date,
    published_estimated: bool = False,
    period_start: dt.date | None = None,
    url: str | None = None,
    via: str | None = None,
    title: str | None = None,
    note: str | None = None,
) -> list[Problem]:
    """Append one figure to `data/observations/<indicator>.csv`; return the problems (if any)."""
    reg, problems = check_project(root)
    paths = reg.paths
    path = paths.observation_file(indicator)
    rel = paths.rel(path)
    ind = reg.indicators.get(indicator)
    if ind is None:
        return [
            Problem(
                rel,
                1,
                "indicator",
                f"unknown indicator {indicator!r} (no data/indicators/{indicator}.yaml)",
            )
        ]
    row = {
        "period_end": period_end.isoformat(),
        "period_start": period_start.isoformat() if period_start else "",
        "value": str(value),
        "source": source,
        "published": published.isoformat(),
        "published_estimated": "true" if published_estimated else "",
        "via": via or "",
        "url": url or "",
        "title": title or "",
        "note": note or "",
    }
    text, header = _file_text(path)
    missing = [c for c, v in row.items() if v and c not in header]
    if missing:
        return [
            Problem(rel, 1, missing[0], "the file has no such column: add it to the header first")
        ]
    new_text = text + _csv_line(row, header)
    new_line = new_text.count("\n")
    file_problems, _ = check_observation_text(new_text, rel, ind, reg.sources)
    own = [p for p in file_problems if p.line == new_line]
    if own:
        return own
    if file_problems:
        return file_problems
    atomic_write_text(path, new_text)
    return []


def _file_text(path: Path) -> tuple[str, list[str]]:
    """An observation file's text (ending in a newline) and header; a header alone if new."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        header = next(csv.reader(io.StringIO(text)), list(OBSERVATION_COLUMNS))
        return (text if text.endswith("\n") else text + "\n"), header
    header = list(OBSERVATION_COLUMNS)
    return _csv_line({c: c for c in header}, header), header


def record_observations(
    root: Path, rows: list[tuple[str, dict[str, str]]], *, write: bool = True
) -> list[Problem]:
    """Append (indicator, row) figures, maybe to several files: every file is validated with
    its new rows first, as `record_observation` does; on any problem nothing is written. Each
    file is then replaced atomically (a crash between two files leaves whole files, and a
    rerun adds what is missing)."""
    reg, _ = check_project(root)
    new_texts: dict[Path, str] = {}
    problems: list[Problem] = []
    for indicator in dict.fromkeys(ind for ind, _ in rows):
        path = reg.paths.observation_file(indicator)
        rel = reg.paths.rel(path)
        ind = reg.indicators.get(indicator)
        if ind is None:
            problems.append(Problem(rel, 1, "indicator", f"unknown indicator {indicator!r}"))
            continue
        text, header = _file_text(path)
        mine = [row for i, row in rows if i == indicator]
        missing = sorted({c for row in mine for c, v in row.items() if v and c not in header})
        if missing:
            problems.append(Problem(rel, 1, missing[0], "the file has no such column"))
            continue
        new_texts[path] = text + "".join(_csv_line(row, header) for row in mine)
        problems += check_observation_text(new_texts[path], rel, ind, reg.sources)[0]
    if problems or not write:
        return problems
    for path, text in new_texts.items():
        atomic_write_text(path, text)
    return []


CLAIM_FIELDS: tuple[str, ...] = (
    "id",
    "kind",
    "statement",
    "quote",
    "claimant",
    "claimant_type",
    "made_on",
    "source",
    "url",
    "via",
    "indicator",
    "operator",
    "threshold",
    "value",
    "target_period",
    "resolution_source",
    "expected_by",
    "interpretation",
    "tags",
    "stated_probability",
    "probability",
    "deadline",
)


def required_claim_fields(kind: str) -> list[str]:
    base = ["id", "kind", "statement", "quote", "claimant", "made_on", "source"]
    if kind == "threshold":
        return base + [
            "indicator",
            "operator",
            "threshold",
            "target_period",
            "resolution_source",
            "expected_by",
        ]
    if kind == "value":
        return base + ["indicator", "value", "target_period", "resolution_source", "expected_by"]
    return base + ["deadline", "probability"]


def claim_document(values: dict[str, object]) -> dict[str, object]:
    """The YAML mapping of a new claim from flat command-line values (status starts open)."""
    doc: dict[str, object] = {}
    for name in (
        "id",
        "kind",
        "statement",
        "quote",
        "claimant",
        "claimant_type",
        "made_on",
        "source",
        "url",
        "via",
    ):
        if values.get(name) not in (None, ""):
            doc[name] = values[name]
    doc["status"] = "open"
    doc["tags"] = list(values.get("tags") or [])
    for name in ("indicator", "operator", "threshold", "value", "target_period"):
        if values.get(name) not in (None, ""):
            doc[name] = values[name]
    if values.get("resolution_source") or values.get("expected_by"):
        doc["resolution"] = {
            "source": values.get("resolution_source"),
            "expected_by": values.get("expected_by"),
        }
    doc["interpretation"] = list(values.get("interpretation") or [])
    for name in ("stated_probability", "probability", "deadline"):
        if values.get(name) not in (None, ""):
            doc[name] = values[name]
    return doc


def record_claim(
    root: Path, values: dict[str, object], force: bool = False
) -> tuple[Path | None, list[Problem]]:
    """Write `forecasts/claims/<id>.yaml` from flag values after validating it."""
    paths = Paths(Path(root).resolve())
    cid = str(values.get("id") or "")
    path = paths.claims / f"{cid or 'new'}.yaml"
    rel = paths.rel(path)
    doc = claim_document(values)
    # YAML round trip: the file we write is exactly what we validated.
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    try:
        claim = Claim.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        return None, pydantic_problems(exc, rel, Located.of_text(text))
    if path.exists() and not force:
        return None, [
            Problem(rel, 1, "id", f"claim {cid!r} already exists (use --force to overwrite)")
        ]
    reg, _ = check_project(root)
    problems = check_claim_references(claim, reg, rel, Located.of_text(text))
    if problems:
        return None, problems
    atomic_write_text(path, text)
    return path, []
