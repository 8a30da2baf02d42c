"""Shared fixtures: a small project copied into a temporary directory for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "mini"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of the fixture registry (3 indicators, 6 claims)."""
    dest = tmp_path / "proj"
    shutil.copytree(FIXTURE, dest)
    return dest


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes, to assert that nothing was written."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
