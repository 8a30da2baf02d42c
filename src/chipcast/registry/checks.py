"""The checks `chipcast validate` runs on each kind of file, collecting every problem found.

Each check adds what validates to the registry it is given and returns the problems of the
rest; cross-file rules (known sources and indicators, a resolved claim settled by data) run
once the files they refer to are loaded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from chipcast.data import frame_from_records, observation_record
from chipcast.paths import Paths
from chipcast.registry.problems import Located, Problem, load_yaml, parse
from chipcast.registry.project import Registry
from chipcast.registry.settle import settling_observation
from chipcast.schema import (
    ID_RE,
    OBSERVATION_COLUMNS,
    REQUIRED_OBSERVATION_COLUMNS,
    Claim,
    Indicator,
    ObservationRow,
    Source,
)


def check_sources(paths: Paths, reg: Registry) -> list[Problem]:
    rel = paths.rel(paths.sources)
    if not paths.sources.exists():
        return [Problem(rel, 1, "file", "missing: the list of sources is required")]
    data, where, problems = load_yaml(paths.sources, rel)
    if problems:
        return problems
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        return [Problem(rel, 1, "sources", "expected a mapping with a list under 'sources'")]
    for i, entry in enumerate(data["sources"]):
        src, errs = parse(Source, entry, rel, where, ("sources", i))
        problems += errs
        if src is None:
            continue
        if src.id in reg.sources:
            problems.append(
                Problem(
                    rel, where.line(("sources", i, "id")), "id", f"duplicate source id {src.id!r}"
                )
            )
        reg.sources[src.id] = src
    return problems


def _record_files(
    directory: Path, paths: Paths, model: type[Indicator] | type[Claim], kind: str
) -> Iterator[tuple[str, Located, Indicator | Claim | None, list[Problem]]]:
    """Each `<id>.yaml` in `directory`: (relative path, line locator, record or None, problems)."""
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        rel = paths.rel(path)
        if path.suffix not in (".yaml", ".yml"):
            yield (
                rel,
                Located(None),
                None,
                [Problem(rel, 1, "file", f"unexpected file: {kind} are <id>.yaml")],
            )
            continue
        data, where, errs = load_yaml(path, rel)
        if not errs and not isinstance(data, dict):
            errs = [Problem(rel, 1, "record", "expected a mapping of fields")]
        if errs:
            yield rel, where, None, errs
            continue
        record, errs = parse(model, data, rel, where)
        yield rel, where, record, errs + _check_stem(path, rel, data, where)


def check_indicators(paths: Paths, reg: Registry) -> list[Problem]:
    problems: list[Problem] = []
    for rel, where, ind, errs in _record_files(paths.indicators, paths, Indicator, "indicators"):
        problems += errs
        if ind is None:
            continue
        if ind.id in reg.indicators:
            problems.append(
                Problem(rel, where.line(("id",)), "id", f"duplicate indicator id {ind.id!r}")
            )
        reg.indicators[ind.id] = ind
    return problems


def _check_stem(path: Path, rel: str, data: dict, where: Located) -> list[Problem]:
    stem_ok = ID_RE.match(path.stem) is not None
    out = []
    if not stem_ok:
        out.append(
            Problem(rel, 1, "file", f"file name {path.stem!r} is not a valid id (lowercase slug)")
        )
    if isinstance(data.get("id"), str) and data["id"] != path.stem:
        out.append(
            Problem(
                rel,
                where.line(("id",)),
                "id",
                f"id {data['id']!r} differs from the file name {path.stem!r}",
            )
        )
    return out


def check_observation_row(
    raw: dict[str, str],
    line: int,
    rel: str,
    indicator: Indicator,
    sources: dict[str, Source],
) -> tuple[ObservationRow | None, list[Problem]]:
    """Validate one CSV row against the schema, the sources and the indicator's rules."""
    problems: list[Problem] = []
    cleaned = {k: v for k, v in raw.items() if k is not None and v is not None}
    for col in REQUIRED_OBSERVATION_COLUMNS:
        if not str(cleaned.get(col, "")).strip():
            problems.append(Problem(rel, line, col, "required field is empty"))
    if problems:
        return None, problems
    cleaned = {k: v for k, v in cleaned.items() if k in OBSERVATION_COLUMNS}
    try:
        row = ObservationRow.model_validate(cleaned)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"][0] if err["loc"] else "row"
            msg = err["msg"].removeprefix("Value error, ")
            if ": " in msg and not err["loc"]:
                loc, msg = msg.split(": ", 1)
            problems.append(Problem(rel, line, str(loc), msg))
        return None, problems
    if row.source not in sources:
        problems.append(
            Problem(
                rel, line, "source", f"unknown source {row.source!r} (not in data/sources.yaml)"
            )
        )
    v = row.value
    for bound in (v.lower, v.upper):
        if bound is not None and not indicator.within_bounds(bound):
            lo, hi = indicator.bounds
            problems.append(
                Problem(
                    rel,
                    line,
                    "value",
                    f"{v.text()} is outside the indicator's bounds [{lo}, {hi}] ({indicator.unit})",
                )
            )
            break
    if indicator.kind == "measured" and row.published < row.period_end:
        problems.append(
            Problem(
                rel,
                line,
                "published",
                f"{row.published} is before the period ends ({row.period_end}): a measured figure "
                "cannot be public before its period ends (policy levels may be announced ahead)",
            )
        )
    return (row if not problems else None), problems


def check_observations(paths: Paths, reg: Registry) -> list[Problem]:
    problems: list[Problem] = []
    records: list[dict[str, object]] = []
    if not paths.observations.is_dir():
        reg.observations = frame_from_records([])
        return problems
    for path in sorted(paths.observations.iterdir()):
        rel = paths.rel(path)
        if path.suffix != ".csv":
            problems.append(
                Problem(rel, 1, "file", "unexpected file: observations are <indicator id>.csv")
            )
            continue
        indicator = reg.indicators.get(path.stem)
        if indicator is None:
            problems.append(
                Problem(
                    rel,
                    1,
                    "file",
                    f"unknown indicator {path.stem!r}: no data/indicators/{path.stem}.yaml",
                )
            )
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, 1, "file", f"cannot read: {exc}"))
            continue
        file_problems, file_records = check_observation_text(text, rel, indicator, reg.sources)
        problems += file_problems
        records += file_records
        if file_records and indicator.family == "none" and not indicator.not_modelled:
            problems.append(_unexplained_none(paths, indicator, len(file_records)))
    reg.observations = frame_from_records(records)
    return problems


def _unexplained_none(paths: Paths, indicator: Indicator, n: int) -> Problem:
    """A `family: none` series with figures must say why it is not modelled."""
    path = paths.indicators / f"{indicator.id}.yaml"
    line = 1
    try:
        for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if text.startswith("family:"):
                line = i
                break
    except OSError:
        pass
    return Problem(
        paths.rel(path),
        line,
        "family",
        f"none, but {n} figure(s) are on record: model it in its family (share, growth, count, "
        "level) or give the reason in not_modelled",
    )


def check_observation_text(
    text: str, rel: str, indicator: Indicator, sources: dict[str, Source]
) -> tuple[list[Problem], list[dict[str, object]]]:
    """Validate a whole observation CSV held in memory (used by validate and by observe)."""
    problems: list[Problem] = []
    records: list[dict[str, object]] = []
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_OBSERVATION_COLUMNS if c not in header]
        unknown = [c for c in header if c not in OBSERVATION_COLUMNS]
        if missing:
            return [Problem(rel, 1, missing[0], "required column missing from the header")], []
        for col in unknown:
            problems.append(
                Problem(
                    rel,
                    1,
                    col,
                    f"unknown column (expected some of {', '.join(OBSERVATION_COLUMNS)})",
                )
            )
        seen: dict[tuple, int] = {}
        for raw in reader:
            line = reader.line_num
            if None in raw:
                problems.append(
                    Problem(rel, line, "row", f"more fields than the header has ({len(header)})")
                )
                continue
            if all(not (v or "").strip() for v in raw.values()):
                continue
            row, errs = check_observation_row(raw, line, rel, indicator, sources)
            problems += errs
            if row is None:
                continue
            key = (row.period_start, row.period_end, row.source, row.published)
            if key in seen:
                problems.append(
                    Problem(
                        rel,
                        line,
                        "published",
                        f"duplicate: period {row.period_end}, source {row.source!r}, published "
                        f"{row.published} already on line {seen[key]} (a revision needs a later published date)",
                    )
                )
                continue
            seen[key] = line
            records.append(observation_record(indicator, line, row))
    except csv.Error as exc:
        problems.append(
            Problem(rel, getattr(reader, "line_num", 1) or 1, "csv", f"malformed CSV: {exc}")
        )
    return problems, records


def check_claims(paths: Paths, reg: Registry) -> list[Problem]:
    problems: list[Problem] = []
    for rel, where, claim, errs in _record_files(paths.claims, paths, Claim, "claims"):
        problems += errs
        if claim is None:
            continue
        problems += check_claim_references(claim, reg, rel, where)
        if claim.id in reg.claims:
            problems.append(
                Problem(rel, where.line(("id",)), "id", f"duplicate claim id {claim.id!r}")
            )
        reg.claims[claim.id] = claim
    return problems


def check_claim_references(
    claim: Claim, reg: Registry, rel: str, where: Located | None = None
) -> list[Problem]:
    """Cross-file checks: known indicator and sources, threshold within bounds, settled claims."""
    where = where or Located(None)
    out: list[Problem] = []
    if claim.source not in reg.sources:
        out.append(
            Problem(rel, where.line(("source",)), "source", f"unknown source {claim.source!r}")
        )
    res = claim.resolution
    if res is not None and res.source != "any" and res.source not in reg.sources:
        out.append(
            Problem(
                rel,
                where.line(("resolution", "source")),
                "resolution.source",
                f"unknown source {res.source!r}",
            )
        )
    if claim.indicator is not None:
        ind = reg.indicators.get(claim.indicator)
        if ind is None:
            out.append(
                Problem(
                    rel,
                    where.line(("indicator",)),
                    "indicator",
                    f"unknown indicator {claim.indicator!r}",
                )
            )
        else:
            for name in ("threshold", "value"):
                x = getattr(claim, name)
                if x is not None and claim.aggregate is None and not ind.within_bounds(x):
                    out.append(
                        Problem(
                            rel,
                            where.line((name,)),
                            name,
                            f"{x} is outside the indicator's bounds {list(ind.bounds)} ({ind.unit})",
                        )
                    )
    out += _check_judgment(claim, reg, rel, where)
    settled_by_data = claim.kind in ("threshold", "value") and claim.status == "resolved"
    if settled_by_data and not out and settling_observation(claim, reg.observations) is None:
        out.append(
            Problem(
                rel,
                where.line(("status",)),
                "status",
                "resolved, but no observation from the resolution source covers the target period",
            )
        )
    return out


def _check_judgment(claim: Claim, reg: Registry, rel: str, where: Located) -> list[Problem]:
    """A judgment's sources are known, and its quantiles lie within the indicator's bounds."""
    j = claim.judgment
    if j is None:
        return []
    out = [
        Problem(
            rel,
            where.line(("judgment", "sources", i)),
            "judgment.sources",
            f"unknown source {s!r} (not in data/sources.yaml)",
        )
        for i, s in enumerate(j.sources)
        if s not in reg.sources
    ]
    ind = reg.indicators.get(claim.indicator) if claim.indicator else None
    if ind is not None and j.quantiles and claim.aggregate is None:
        for level, x in sorted(j.quantiles.items()):
            if not ind.within_bounds(x):
                out.append(
                    Problem(
                        rel,
                        where.line(("judgment", "quantiles")),
                        "judgment.quantiles",
                        f"{x} (level {level:g}) is outside the indicator's bounds "
                        f"{list(ind.bounds)} ({ind.unit})",
                    )
                )
                break
    return out
