"""Schemas of the files a researcher edits: sources, indicators, observations, claims.

The pydantic models are the single statement of what a valid record is; `chipcast validate`
turns their errors into `path:line: field: message` lines.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ID_RE = re.compile(ID_PATTERN)

Family = Literal["share", "growth", "count", "level", "none"]
Frequency = Literal["annual", "semiannual", "quarterly", "monthly", "irregular"]
ClaimKind = Literal["threshold", "value", "event"]
Status = Literal["open", "overdue", "resolved", "annulled", "not_checkable"]
Operator = Literal[">", ">=", "<", "<="]

STATUSES: tuple[str, ...] = ("open", "overdue", "resolved", "annulled", "not_checkable")
DEFAULT_GRACE_DAYS = 180
# Months in one period of each regular frequency; `irregular` has none.
FREQUENCY_MONTHS: dict[str, int] = {"annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}


QUANTILES: tuple[float, ...] = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)
"""The predictive quantiles stored for every forecast and trajectory (and a judgment's levels)."""


def quantile_column(level: float) -> str:
    """The column a quantile level is stored in: 0.025 -> q025, 0.5 -> q500."""
    return f"q{round(level * 1000):03d}"


def today_utc() -> dt.date:
    """Today as the design defines it: the UTC date (`--today` overrides it)."""
    return dt.datetime.now(dt.UTC).date()


def _strict_date(value: object) -> object:
    """Accept only real ISO dates (YAML may already have parsed them)."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, not a timestamp")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not a valid date: {value!r}") from exc
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


Date = Annotated[dt.date, BeforeValidator(_strict_date)]
Slug = Annotated[str, Field(pattern=ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A publisher, analyst house, agency or company that made a figure or a statement."""

    id: Slug
    publisher: str
    kind: Literal["analyst", "press", "official", "company", "aggregator", "academic", "other"]
    url: str | None = None
    title: str | None = None
    published: Annotated[
        dt.date | None, BeforeValidator(lambda v: None if v is None else _strict_date(v))
    ] = None
    note: str | None = None


class Indicator(_Strict):
    """One precisely defined measured quantity, and the model family that forecasts it."""

    id: Slug
    name: str
    description: str
    unit: str
    display_scale: float = 1.0
    display_unit: str | None = None
    bounds: tuple[float | None, float | None] = (None, None)
    measures: Literal["units", "value", "rate", "count", "level", "other"]
    frequency: Frequency
    kind: Literal["measured", "policy"] = "measured"
    family: Family
    tags: list[str] = Field(default_factory=list)
    # Whether one policy action (an export-control rule, a licence ban) can move this series by
    # a large factor: the share and growth families then forecast with policy shocks (their
    # `policy_shocks` prior). False for aggregates that no single action moves that far (all of
    # China's IC imports).
    policy_shocks: bool = True
    # Why a series with figures is tracked but deliberately not modelled (family `none` only):
    # shown on its page and by `chipcast forecast`; `chipcast validate` asks for it when a
    # `none` series has figures.
    not_modelled: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Indicator:
        lo, hi = self.bounds
        if lo is not None and hi is not None and lo >= hi:
            raise ValueError(f"bounds: lower {lo} must be below upper {hi}")
        if self.family == "share" and (lo is None or hi is None):
            raise ValueError("bounds: a share indicator needs both bounds, e.g. [0, 1]")
        if self.not_modelled is not None and self.family != "none":
            raise ValueError(
                f"not_modelled: only a `family: none` indicator is not modelled "
                f"(this one is {self.family!r})"
            )
        if self.not_modelled is not None and not self.not_modelled.strip():
            raise ValueError("not_modelled: give the reason the series is not modelled")
        return self

    def within_bounds(self, x: float) -> bool:
        lo, hi = self.bounds
        return (lo is None or x >= lo) and (hi is None or x <= hi)

    @property
    def label(self) -> str:
        """Unit as shown to readers (after display scaling)."""
        return self.display_unit or self.unit


class ParsedValue(BaseModel):
    """A figure as published: a point, a one-sided bound, or a range."""

    model_config = ConfigDict(frozen=True)
    censor: Literal["point", "lower", "upper", "interval"]
    value: float | None
    lower: float | None
    upper: float | None

    @property
    def mid(self) -> float:
        """A single number for display and for checks that need one (never for fitting)."""
        if self.value is not None:
            return self.value
        if self.lower is not None and self.upper is not None:
            return (self.lower + self.upper) / 2
        return self.lower if self.lower is not None else self.upper  # type: ignore[return-value]

    def text(self) -> str:
        """The figure as it is written in an observation file: `41`, `>30`, `<5`, `4..6`."""
        return bounded_text(self.censor, self.value, self.lower, self.upper)


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.10g}"


def bounded_text(
    censor: str,
    value: float | None,
    lower: float | None,
    upper: float | None,
    fmt: Callable[[float | None], str] = _fmt,
    range_sep: str = "..",
) -> str:
    """A figure as published, a bound kept a bound: `41`, `>30`, `<5`, `4..6`.

    `fmt` writes one number (display scaling and rounding are the caller's); `range_sep` joins
    the ends of a range.
    """
    if censor == "point":
        return fmt(value)
    if censor == "lower":
        return f">{fmt(lower)}"
    if censor == "upper":
        return f"<{fmt(upper)}"
    return f"{fmt(lower)}{range_sep}{fmt(upper)}"


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def parse_value(text: str) -> ParsedValue:
    """Parse `41`, `>30`, `<5` or `4..6`; raise ValueError with what is expected."""
    s = str(text).strip().replace(",", "")
    if m := re.fullmatch(rf"({_NUM})", s):
        v = float(m.group(1))
        _finite(v, text)
        return ParsedValue(censor="point", value=v, lower=v, upper=v)
    if m := re.fullmatch(rf">=?\s*({_NUM})", s):
        v = float(m.group(1))
        _finite(v, text)
        return ParsedValue(censor="lower", value=None, lower=v, upper=None)
    if m := re.fullmatch(rf"<=?\s*({_NUM})", s):
        v = float(m.group(1))
        _finite(v, text)
        return ParsedValue(censor="upper", value=None, lower=None, upper=v)
    if m := re.fullmatch(rf"({_NUM})\s*\.\.\s*({_NUM})", s):
        lo, hi = float(m.group(1)), float(m.group(2))
        _finite(lo, text)
        _finite(hi, text)
        if lo >= hi:
            raise ValueError(f"range {text!r}: lower end must be below upper end")
        return ParsedValue(censor="interval", value=None, lower=lo, upper=hi)
    raise ValueError(f"expected a number, >N, <N or N..M, got {text!r}")


def _finite(v: float, text: str) -> None:
    if not math.isfinite(v):
        raise ValueError(f"expected a finite number, got {text!r}")


OBSERVATION_COLUMNS: tuple[str, ...] = (
    "period_end",
    "period_start",
    "value",
    "source",
    "published",
    "published_estimated",
    "via",
    "url",
    "title",
    "note",
)
REQUIRED_OBSERVATION_COLUMNS: tuple[str, ...] = ("period_end", "value", "source", "published")


def _blank_to_none(v: object) -> object:
    return None if isinstance(v, str) and not v.strip() else v


def _parse_bool(v: object) -> object:
    if v is None or isinstance(v, bool):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("", "false", "no", "0"):
        return False
    if s in ("true", "yes", "1"):
        return True
    raise ValueError(f"expected true or false, got {v!r}")


OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptDate = Annotated[dt.date | None, BeforeValidator(_blank_to_none), BeforeValidator(_strict_date)]


class ObservationRow(_Strict):
    """One CSV row: one figure, for one period, from one source, as published on one date."""

    period_end: Date
    period_start: Annotated[
        dt.date | None,
        BeforeValidator(lambda v: None if v is None else _strict_date(v)),
        BeforeValidator(_blank_to_none),
    ] = None
    value: ParsedValue
    source: Slug
    published: Date
    published_estimated: Annotated[bool, BeforeValidator(_parse_bool)] = False
    via: OptStr = None
    url: OptStr = None
    title: OptStr = None
    note: OptStr = None

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: object) -> object:
        if isinstance(v, ParsedValue):
            return v
        return parse_value(str(v))

    @model_validator(mode="after")
    def _span(self) -> ObservationRow:
        if self.period_start is not None and self.period_start > self.period_end:
            raise ValueError("period_start: must not be after period_end")
        return self


class ClaimResolution(_Strict):
    """Which source settles a threshold or value claim, and when its data is expected."""

    source: str
    expected_by: Date
    grace_days: int = Field(default=DEFAULT_GRACE_DAYS, ge=0)

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v != "any" and not ID_RE.match(v):
            raise ValueError(f"expected a source id or 'any', got {v!r}")
        return v


class ResolutionOutcome(_Strict):
    """A hand resolution (events) recorded with its note and source."""

    outcome: bool | float
    resolved_on: Date
    note: str
    source: str
    url: str | None = None


JUDGMENT_LEVELS_REQUIRED: tuple[float, ...] = (0.1, 0.5, 0.9)
"""The quantile levels a value claim's judgment must give at least."""


class Judgment(_Strict):
    """A researcher's judgmental forecast for a threshold (`probability`) or value claim
    (`quantiles`, at least 10/50/90%), with the rationale and the sources it rests on.

    It is a forecast like the model's, never a measurement: it enters the history as
    `forecaster=judgment, model=researcher` from `judged_on`, and editing it issues a new row.
    """

    probability: float | None = Field(default=None, ge=0, le=1)
    quantiles: dict[float, float] | None = None
    judged_on: Date
    rationale: Annotated[str, Field(min_length=20)]
    sources: Annotated[list[Slug], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_kind(self) -> Judgment:
        if (self.probability is None) == (self.quantiles is None):
            raise ValueError(
                "judgment: give either probability (a threshold claim) or quantiles (a value "
                "claim), not both"
            )
        if self.quantiles is not None:
            levels = sorted(self.quantiles)
            bad = [lv for lv in levels if not any(abs(lv - q) < 1e-9 for q in QUANTILES)]
            if bad:
                raise ValueError(
                    f"judgment.quantiles: level {bad[0]:g} is not stored (use some of "
                    f"{', '.join(f'{q:g}' for q in QUANTILES)})"
                )
            missing = [
                lv for lv in JUDGMENT_LEVELS_REQUIRED if not any(abs(lv - q) < 1e-9 for q in levels)
            ]
            if missing:
                raise ValueError(
                    f"judgment.quantiles: level {missing[0]:g} is required (at least 0.1, 0.5, 0.9)"
                )
            values = [self.quantiles[lv] for lv in levels]
            if any(not math.isfinite(v) for v in values):
                raise ValueError("judgment.quantiles: values must be finite numbers")
            if any(b < a for a, b in zip(values, values[1:], strict=False)):
                raise ValueError("judgment.quantiles: values must not decrease with the level")
        return self

    def quantile_columns(self) -> dict[str, float]:
        """The quantiles under the history's column names (q100, q500, ...)."""
        return {quantile_column(lv): float(v) for lv, v in sorted((self.quantiles or {}).items())}


class Claim(_Strict):
    """One checkable statement someone made, and how it is operationalised."""

    id: Slug
    kind: ClaimKind
    statement: str
    quote: str
    claimant: str
    claimant_type: Literal["analyst", "official", "company", "journalist", "academic", "other"] = (
        "other"
    )
    made_on: Date
    source: Slug
    url: str | None = None
    via: str | None = None
    status: Status
    tags: list[str] = Field(default_factory=list)

    indicator: Slug | None = None
    operator: Operator | None = None
    threshold: float | None = None
    value: float | None = None
    target_period: Date | None = None
    aggregate: Literal["sum", "mean"] | None = None
    window_start: Date | None = None
    resolution: ClaimResolution | None = None
    interpretation: list[str] = Field(default_factory=list)
    stated_probability: float | None = Field(default=None, ge=0, le=1)

    probability: float | None = Field(default=None, ge=0, le=1)
    probability_note: str | None = None
    judgment: Judgment | None = None
    deadline: Date | None = None

    resolution_outcome: ResolutionOutcome | None = None
    annulled_reason: str | None = None
    not_checkable_reason: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Claim:
        missing: list[str] = []
        if self.kind in ("threshold", "value") and self.status != "not_checkable":
            for name in ("indicator", "target_period", "resolution"):
                if getattr(self, name) is None:
                    missing.append(name)
            if self.kind == "threshold":
                missing += [n for n in ("operator", "threshold") if getattr(self, n) is None]
            if self.kind == "value" and self.value is None:
                missing.append("value")
        needs_indicator = self.kind in ("threshold", "value") and self.status != "not_checkable"
        if needs_indicator and self.indicator is None and "indicator" not in missing:
            missing.append("indicator")
        if self.kind == "event" and self.status in ("open", "overdue") and self.probability is None:
            missing.append("probability")
        if self.kind == "event" and self.deadline is None and self.status != "not_checkable":
            missing.append("deadline")
        if missing:
            raise ValueError(f"{missing[0]}: required for a {self.kind} claim")
        if self.aggregate and self.window_start is None:
            raise ValueError("window_start: required with aggregate")
        if self.status == "not_checkable" and not self.not_checkable_reason:
            raise ValueError("not_checkable_reason: required when status is not_checkable")
        if self.status == "annulled" and not self.annulled_reason:
            raise ValueError("annulled_reason: required when status is annulled")
        if self.kind == "event" and self.status == "resolved" and self.resolution_outcome is None:
            raise ValueError(
                "resolution_outcome: an event resolves by hand, with a note and source"
            )
        if self.target_period is not None and self.target_period < self.made_on:
            raise ValueError(
                f"target_period: {self.target_period} is before the claim was made ({self.made_on})"
            )
        if self.judgment is not None:
            if self.kind == "event":
                raise ValueError(
                    "judgment: an event claim carries its judgment as probability and "
                    "probability_note"
                )
            if self.kind == "threshold" and self.judgment.probability is None:
                raise ValueError(
                    "judgment.probability: a threshold claim's judgment is a probability"
                )
            if self.kind == "value" and self.judgment.quantiles is None:
                raise ValueError(
                    "judgment.quantiles: a value claim's judgment is quantiles (0.1, 0.5, 0.9 at least)"
                )
            if self.judgment.judged_on < self.made_on:
                raise ValueError(
                    f"judgment.judged_on: {self.judgment.judged_on} is before the claim was made "
                    f"({self.made_on})"
                )
        if self.deadline is not None and self.deadline < self.made_on:
            raise ValueError(
                f"deadline: {self.deadline} is before the claim was made ({self.made_on})"
            )
        return self

    @property
    def due(self) -> dt.date | None:
        """The date the claim's resolution data (or event) is expected by."""
        if self.resolution is not None:
            return self.resolution.expected_by
        return self.deadline

    @property
    def grace_days(self) -> int:
        return self.resolution.grace_days if self.resolution else DEFAULT_GRACE_DAYS

    def holds(self, x: float) -> bool:
        """Whether a figure x makes a threshold claim true."""
        assert self.operator is not None and self.threshold is not None
        t = self.threshold
        return {">": x > t, ">=": x >= t, "<": x < t, "<=": x <= t}[self.operator]
