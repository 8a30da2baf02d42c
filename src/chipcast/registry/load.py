"""Assemble a project's registry from its files: every file checked, every problem kept."""

from __future__ import annotations

from pathlib import Path

from chipcast.paths import Paths
from chipcast.registry.checks import (
    check_claims,
    check_indicators,
    check_observations,
    check_sources,
)
from chipcast.registry.problems import InvalidData, Problem
from chipcast.registry.project import Registry


def check_project(root: Path | str) -> tuple[Registry, list[Problem]]:
    """Load every file under `root`, collecting (not raising) every problem found."""
    paths = Paths(Path(root).resolve())
    reg = Registry(paths=paths)
    problems: list[Problem] = []
    problems += check_sources(paths, reg)
    problems += check_indicators(paths, reg)
    problems += check_observations(paths, reg)
    problems += check_claims(paths, reg)
    return reg, sorted(set(problems))


def load(root: Path | str = ".") -> Registry:
    """Load and validate the project at `root`; raise `InvalidData` listing every problem."""
    registry, problems = check_project(Path(root))
    if problems:
        raise InvalidData(problems)
    return registry
