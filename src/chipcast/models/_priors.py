"""Typed priors: one frozen dataclass per family, built from plain distributions.

Each family states its prior values once, as an instance of its dataclass (`TrendPriors` for
share and growth, `CountPriors` for counts), with the reasons beside them in the family's module.
`priors_from_mapping` builds an instance from nested plain data (what a YAML or JSON file of
priors would hold) and `priors_to_mapping` goes back, so priors can later be read from a small
committed file without touching the models: `learned` lays a family's file
(`priors/<family>.json`, estimated offline from a reference class) over its hand-set values. Instances are hashable: the compile cache keys on
them, because prior values are constants of the compiled graph.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

# Learned priors, one JSON file a family (`priors/<family>.json`), written offline by
# `benchmarks/learn_priors.py` with their provenance; package data, read at import.
PRIORS_DIR = Path(__file__).resolve().with_name("priors")


@dataclass(frozen=True)
class Normal:
    mu: float
    sigma: float


@dataclass(frozen=True)
class Spread:
    """A normal prior's sd around a centre the data sets (e.g. the mean observed count)."""

    sigma: float


@dataclass(frozen=True)
class HalfNormal:
    sigma: float


@dataclass(frozen=True)
class LogNormal:
    """A zero-avoiding scale: median and the sd of its log."""

    median: float
    log_sd: float


@dataclass(frozen=True)
class Fixed:
    value: float


@dataclass(frozen=True)
class BoundDistance:
    """The likelihood of a latent value beyond a reported bound falls by exp(-d / scale)."""

    scale: float


@dataclass(frozen=True)
class SlopeReversion:
    """A damped slope: its excess over the long-run rate mu_slope ~ N(mu_mean, mu_sigma)
    decays by rho_per_year a year; `stationary_start` draws the first slope from the stationary
    law."""

    rho_per_year: float
    mu_sigma: float
    stationary_start: bool = False
    mu_mean: float = 0.0


@dataclass(frozen=True)
class PolicyShocks:
    """Compound-Poisson jumps of the forecast's level: rate per year, sd of one jump."""

    rate_per_year: float
    sd: float


@dataclass(frozen=True)
class TrendPriors:
    """The priors of a local linear trend with per-source offsets and noise (share, growth)."""

    level0: Normal
    slope0: Normal
    sig_slope: HalfNormal
    slope_reversion: SlopeReversion
    sig_level: LogNormal
    policy_shocks: PolicyShocks
    tau_offset: HalfNormal
    sigma_pop: LogNormal
    omega: HalfNormal
    noise_floor: Fixed
    bound_distance: BoundDistance
    nu: Fixed | None = None  # Student-t noise (growth); None: Gaussian noise (share)


@dataclass(frozen=True)
class CountPriors:
    """The priors of the negative-binomial count family."""

    r0: Spread
    sig_rw: HalfNormal
    inv_sqrt_alpha: LogNormal
    tau_offset: HalfNormal


P = TypeVar("P")


def priors_from_mapping(cls: type[P], data: Mapping[str, Any]) -> P:
    """An instance of the priors dataclass `cls` from nested plain data; unknown or missing keys
    raise (a misspelt prior must not silently fall back to a default)."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown prior(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name in names & set(data):
        value, hint = data[name], hints[name]
        target = next(
            (a for a in typing.get_args(hint) or (hint,) if dataclasses.is_dataclass(a)), None
        )
        kwargs[name] = (
            priors_from_mapping(target, value)
            if target is not None and isinstance(value, Mapping)
            else value
        )
    return cls(**kwargs)


def priors_to_mapping(priors: object) -> dict[str, Any]:
    """Nested plain data of a priors instance (the inverse of `priors_from_mapping`)."""
    return dataclasses.asdict(priors)  # type: ignore[call-overload]


def _overlay(base: dict[str, Any], top: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if k not in base:
            raise ValueError(f"learned priors: unknown prior {where}{k}")
        out[k] = _overlay(base[k], v, f"{where}{k}.") if isinstance(v, Mapping) else v
    return out


def learned_file(family: str, directory: Path = PRIORS_DIR) -> dict[str, Any]:
    """The parsed learned-priors file of `family`: {"priors": {...}, "provenance": {...}}."""
    return json.loads((directory / f"{family}.json").read_text(encoding="utf-8"))


def learned(base: P, family: str, directory: Path = PRIORS_DIR) -> P:
    """`base` (a family's hand-set priors) with the values its learned file states replaced:
    the file's "priors" mapping is nested like `priors_to_mapping`, and names only the learned
    values; an unknown name raises."""
    data = learned_file(family, directory)
    merged = _overlay(priors_to_mapping(base), data["priors"])
    return priors_from_mapping(type(base), merged)
