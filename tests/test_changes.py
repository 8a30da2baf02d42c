"""The change log, the Atom feed and the downloads: derived from the tracked files alone."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from chipcast.evaluate.resolution import resolve_claims
from chipcast.registry import load
from chipcast.report.changes import _moved, change_log, latest
from chipcast.report.site import build_site
from chipcast.store import read_history
from tests.conftest import FIXTURE
from tests.test_report import RUN_NEW, RUN_OLD, TODAY, write_synthetic

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("changes") / "proj"
    shutil.copytree(FIXTURE, root)
    write_synthetic(root, notebook=False)
    build_site(root, TODAY, run_id=RUN_NEW)
    return root


def test_the_rule() -> None:
    assert _moved("threshold", {"probability": 0.30}, {"probability": 0.35})
    assert not _moved("threshold", {"probability": 0.30}, {"probability": 0.349})
    before = {"q500": 100.0, "q100": 95.0, "q900": 105.0}  # 80% interval 10 wide
    assert _moved("value", before, {"q500": 101.0})
    assert not _moved("value", before, {"q500": 100.9})
    assert not _moved("threshold", {"probability": None}, {"probability": 0.9})


def test_change_log_from_the_history(site: Path) -> None:
    reg = load(site)
    history = read_history(reg.paths)
    changes = change_log(reg, history, resolve_claims(reg.claims, reg.observations, TODAY))
    by = {(c.kind, c.claim_id): c for c in changes}
    moved = by[("moved", "dom-share-55-2027")]  # 30% -> 42%
    assert moved.run_id == RUN_NEW and moved.previous_run == RUN_OLD
    assert "30% → 42%" in moved.text
    obs = reg.indicator_observations("dom_share")
    pub = pd.to_datetime(obs["published"])
    expected = ((pub > "2025-03-01") & (pub <= "2025-08-01")).sum()
    assert expected > 0 and len(moved.figures) == expected
    assert {"value", "source", "published", "period_end"} <= set(moved.figures[0])
    assert ("new", "acme-revenue-2025q2") in by  # first forecast in the newer run, listed once
    assert sum(1 for c in changes if c.claim_id == "acme-revenue-2025q2") == 1
    assert ("resolved", "share-2023-above-15") in by
    assert ("moved", "rule-replacement") not in by  # one forecast only
    run, before, mine = latest(changes, history)
    assert (run, before) == (RUN_NEW, RUN_OLD) and moved in mine
    assert len({c.id for c in changes}) == len(changes)


def test_a_judgment_beside_the_model_forecast_is_not_a_move(site: Path) -> None:
    """The log follows the forecast the claim page shows: a researcher's judgment issued in a
    later run beside a model forecast that still stands changes nothing a reader sees."""
    reg = load(site)
    history = read_history(reg.paths)
    model = history[
        (history["claim_id"] == "dom-share-55-2027") & (history["run_id"] == RUN_NEW)
    ].iloc[-1]
    judged = model.copy()
    judged["run_id"], judged["forecaster"], judged["model"] = (
        "29991231T000000Z-judged",
        "judgment",
        "researcher",
    )
    judged["probability"] = 0.05
    grown = pd.concat([history, judged.to_frame().T], ignore_index=True)
    resolutions = resolve_claims(reg.claims, reg.observations, TODAY)
    later = [c for c in change_log(reg, grown, resolutions) if c.run_id == judged["run_id"]]
    assert not [c for c in later if c.claim_id == "dom-share-55-2027"]


def test_the_feed_is_atom_with_stable_ids(site: Path) -> None:
    feed = site / "reports" / "site" / "feed.xml"
    root = ET.parse(feed).getroot()
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for e in entries:
        for tag in ("id", "title", "updated", "summary"):
            assert (e.find(f"{ATOM}{tag}").text or "").strip(), tag
        href = e.find(f"{ATOM}link").get("href")
        assert (feed.parent / href).is_file(), href
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids)
    build_site(site, TODAY, run_id=RUN_NEW)  # a rebuild gives the same ids
    again = [e.find(f"{ATOM}id").text for e in ET.parse(feed).getroot().findall(f"{ATOM}entry")]
    assert again == ids
    assert "tag:chipcast,2026:dom-share-55-2027/" + RUN_NEW + "/moved" in ids


def test_downloads_and_where_they_are_linked(site: Path) -> None:
    out = site / "reports" / "site"
    claims = pd.read_csv(out / "data" / "claims.csv")
    assert set(claims["id"]) == set(load(site).claims)
    row = claims.set_index("id").loc["dom-share-55-2027"]
    assert row["status"] == "open" and abs(row["probability"] - 0.42) < 1e-9
    assert len(json.loads((out / "data" / "claims.json").read_text())) == len(claims)
    hist = pd.read_csv(out / "data" / "history" / "dom-share-55-2027.csv")
    assert list(hist["probability"]) == [0.30, 0.42]
    traj = json.loads((out / "data" / "trajectories" / "dom_share.json").read_text())
    assert traj and {"series", "period_end", "q500"} <= set(traj[0])
    assert json.loads((out / "data" / "changes.json").read_text())
    page = (out / "claims" / "dom-share-55-2027.html").read_text()
    for href in (
        "../data/history/dom-share-55-2027.csv",
        "../data/history/dom-share-55-2027.json",
        "../data/trajectories/dom_share.csv",
    ):
        assert f'href="{href}"' in page, href
    assert "What changed, refresh by refresh" in page and "30% → 42%" in page
    index = (out / "index.html").read_text()
    assert "What changed since the refresh of 2025-03-01" in index
    assert 'href="data/claims.csv"' in index and 'href="feed.xml"' in index
    assert "Methodology" in index and (out / "methodology.html").is_file()
