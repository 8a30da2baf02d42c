"""The refresh's local bookkeeping (.chipcast/state.json): the inputs the site and the
scoreboard notebook were last built from, so an unchanged refresh does nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from chipcast.fileio import atomic_write_text
from chipcast.paths import Paths
from chipcast.pipeline.fingerprint import data_fingerprint, notebook_code
from chipcast.registry import Registry


def site_key(reg: Registry, today: dt.date) -> str:
    """Everything the site shows: data, claims, history, trajectories, notebooks, backtest, today.

    Read from the files as they are now, so a key taken after a run's writes covers them.
    """
    h = hashlib.sha256()
    h.update(today.isoformat().encode())
    h.update(data_fingerprint(reg.observations).encode())
    for d in (reg.paths.claims, reg.paths.history, reg.paths.trajectories):
        for f in sorted(d.glob("*")):
            if f.is_file():
                h.update(f.name.encode())
                h.update(f.read_bytes())
    for nb in sorted(reg.paths.notebooks.glob("*.ipynb")):
        h.update(notebook_code(nb).encode())
    if reg.paths.backtest.exists():
        h.update(reg.paths.backtest.read_bytes())
    return h.hexdigest()


def read_state(paths: Paths) -> dict[str, object]:
    try:
        return json.loads((paths.state / "state.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def save_state(paths: Paths, **update: object) -> None:
    state = read_state(paths)
    state.update(update)
    atomic_write_text(paths.state / "state.json", json.dumps(state, indent=2) + "\n")
