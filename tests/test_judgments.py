"""A researcher's judgment on a threshold or value claim: validated, issued into the history from
its date, revised as a new row, shown with its issuer, and scored beside the model on resolution.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from chipcast.cli import main
from chipcast.evaluate.probability import current_forecast, forecast_claim, judgment_forecast
from chipcast.evaluate.scoreboard import claim_scores, common_summary
from chipcast.pipeline.decide import judgment_rows
from chipcast.registry import check_project, load
from chipcast.store import read_history, write_history

VALUE_JUDGMENT = {
    "quantiles": {0.1: 250.0, 0.5: 290.0, 0.9: 330.0},
    "judged_on": "2025-05-01",
    "rationale": "Acme's last four quarters grew 8-10% a quarter; the CFO guides to 300.",
    "sources": ["acme"],
}


def set_claim(root: Path, claim_id: str, **fields: object) -> None:
    path = root / "forecasts" / "claims" / f"{claim_id}.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_project(root)[1]]


def test_a_judgment_is_validated(mini: Path) -> None:
    set_claim(mini, "acme-revenue-2025q2", judgment=VALUE_JUDGMENT)
    assert problems(mini) == []
    # a value claim's judgment is quantiles, with 10/50/90% at least
    set_claim(mini, "acme-revenue-2025q2", judgment={**VALUE_JUDGMENT, "quantiles": {0.5: 290.0}})
    assert any("judgment" in p and "0.1" in p and "required" in p for p in problems(mini))
    set_claim(
        mini,
        "acme-revenue-2025q2",
        judgment={**VALUE_JUDGMENT, "quantiles": {0.1: 300.0, 0.5: 290.0, 0.9: 330.0}},
    )
    assert any("must not decrease" in p for p in problems(mini))
    set_claim(mini, "acme-revenue-2025q2", judgment={**VALUE_JUDGMENT, "sources": ["nobody"]})
    assert any("judgment.sources" in p and "nobody" in p for p in problems(mini))
    # a threshold claim's judgment is a probability; never before the claim was made
    set_claim(
        mini, "dom-share-55-2027", judgment={**VALUE_JUDGMENT, "quantiles": None, "probability": 2}
    )
    assert any("probability" in p for p in problems(mini))
    set_claim(
        mini,
        "dom-share-55-2027",
        judgment={
            **VALUE_JUDGMENT,
            "quantiles": None,
            "probability": 0.3,
            "judged_on": "2020-01-01",
        },
    )
    assert any("judged_on" in p and "before the claim was made" in p for p in problems(mini))


def test_a_judgment_enters_the_history_and_a_revision_is_a_new_row(mini: Path) -> None:
    set_claim(mini, "acme-revenue-2025q2", judgment=VALUE_JUDGMENT)
    reg = load(mini)
    # not issued before its date
    assert [r for r in judgment_rows(reg, "r0", dt.date(2025, 4, 30)) if r["kind"] == "value"] == []
    rows = [r for r in judgment_rows(reg, "r1", dt.date(2025, 5, 2)) if r["kind"] == "value"]
    assert len(rows) == 1
    r = rows[0]
    assert (r["forecaster"], r["model"], r["issued_on"]) == ("judgment", "researcher", "2025-05-01")
    assert (r["q100"], r["q500"], r["q900"], r["q050"]) == (250.0, 290.0, 330.0, None)
    first = write_history(reg.paths, "r1", judgment_rows(reg, "r1", dt.date(2025, 5, 2)))
    before = first.read_bytes()
    # unchanged: nothing new
    again = judgment_rows(load(mini), "r2", dt.date(2025, 5, 20))
    assert [x for x in again if x["kind"] == "value"] == []
    # edited: one new row, from its new date; the old file is untouched
    set_claim(
        mini,
        "acme-revenue-2025q2",
        judgment={**VALUE_JUDGMENT, "quantiles": {0.1: 260.0, 0.5: 300.0, 0.9: 340.0},
                  "judged_on": "2025-06-01"},
    )  # fmt: skip
    reg = load(mini)
    new = judgment_rows(reg, "r3", dt.date(2025, 6, 2))
    assert [(x["claim_id"], x["issued_on"], x["q500"]) for x in new if x["kind"] == "value"] == [
        ("acme-revenue-2025q2", "2025-06-01", 300.0)
    ]
    write_history(reg.paths, "r3", new)
    assert first.read_bytes() == before
    hist = read_history(reg.paths)
    mine = hist[hist["claim_id"] == "acme-revenue-2025q2"]
    assert list(mine["q500"]) == [290.0, 300.0]


def test_the_shown_forecast_and_its_issuer(mini: Path) -> None:
    set_claim(mini, "dom-share-55-2027", judgment={**VALUE_JUDGMENT, "quantiles": None,
                                                  "probability": 0.35})  # fmt: skip
    c = load(mini).claims["dom-share-55-2027"]
    j = judgment_forecast(c)
    assert (j.forecaster, j.model, j.probability) == ("judgment", "researcher", 0.35)
    # no trajectory: the judgment; a gated model gives way to it too
    assert current_forecast(forecast_claim(c, None), c) == j
    gated = type(j)(c.id, "threshold", "model", "share", "v", 0.9, gated=True)
    assert current_forecast(gated, c) == j
    published = type(j)(c.id, "threshold", "model", "share", "v", 0.9)
    assert current_forecast(published, c) is published
    # without a judgment: the claimant's stated probability (0.7 in the fixture)
    c2 = c.model_copy(update={"judgment": None})
    assert current_forecast(None, c2).forecaster == "claimant"


def test_forecast_prints_the_judgment_of_a_series_with_no_figures(mini: Path, capsys) -> None:
    ind = yaml.safe_load((mini / "data/indicators/dom_share.yaml").read_text())
    ind.update(id="new_share", name="A share nobody has measured yet")
    (mini / "data/indicators/new_share.yaml").write_text(yaml.safe_dump(ind))
    claim = yaml.safe_load((mini / "forecasts/claims/dom-share-55-2027.yaml").read_text())
    claim.update(
        id="new-share-50-2027",
        indicator="new_share",
        threshold=0.5,
        stated_probability=None,
        judgment={**VALUE_JUDGMENT, "quantiles": None, "probability": 0.2, "sources": ["idc"]},
    )
    (mini / "forecasts/claims/new-share-50-2027.yaml").write_text(yaml.safe_dump(claim))
    args = ["forecast", "--root", str(mini), "--today", "2025-08-01", "new-share-50-2027"]
    assert main(args) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "new-share-50-2027" in x)
    assert "0.20" in line and "researcher" in line


def test_a_judgment_is_scored_beside_the_model_on_the_common_window(mini: Path) -> None:
    set_claim(mini, "acme-revenue-2025q2", judgment=VALUE_JUDGMENT)
    with (mini / "data/observations/acme_revenue.csv").open("a") as f:
        f.write("2025-06-30,,292,acme,2025-07-20,,,,,\n")
    reg = load(mini)
    model = {
        "run_id": "m1",
        "issued_on": "2025-04-20",
        "claim_id": "acme-revenue-2025q2",
        "kind": "value",
        "forecaster": "model",
        "model": "growth",
        "model_version": "1",
        "indicator": "acme_revenue",
        **{q: v for q, v in zip(
            ("q025", "q050", "q100", "q250", "q500", "q750", "q900", "q950", "q975"),
            (230, 240, 250, 265, 280, 295, 310, 320, 330), strict=True)},
    }  # fmt: skip
    write_history(reg.paths, "m1", [model])
    write_history(reg.paths, "r1", judgment_rows(reg, "r1", dt.date(2025, 5, 2)))
    scores = claim_scores(reg, read_history(reg.paths), dt.date(2025, 8, 1))
    s = scores[scores["claim_id"] == "acme-revenue-2025q2"].set_index("forecaster")
    assert {"model", "judgment", "naive", "statsmodels", "claimant"} <= set(s.index)
    # each over the part of the claim's life it covers: model from 04-20, judgment from 05-01
    assert (s.loc["model", "days"], s.loc["judgment", "days"]) == (91, 80)
    # the judgment gives only 10/50/90%: its 80% interval is scored, the others are not stored
    assert s.loc["judgment", "coverage_80"] == 1.0 and pd.isna(s.loc["judgment", "coverage_50"])
    assert s.loc["judgment", "crps"] > 0
    # the comparison on the common window: every forecaster from 2025-05-01
    assert set(s["common_from"]) == {"2025-05-01"}
    assert set(s["common_days"]) == {80}
    summary = common_summary(scores).set_index("forecaster")
    assert summary.loc["judgment", "claims"] == 1 and summary.loc["model", "days"] == 80


@pytest.mark.parametrize("status", ["open", "overdue"])
def test_no_open_claim_of_the_shipped_data_is_left_blank(status: str) -> None:
    """Every open or overdue threshold or value claim has a model, a judgment or a claimant's
    probability to show (the model once a refresh fits its series)."""
    from chipcast.evaluate.resolution import resolve

    reg = load(Path(__file__).resolve().parents[1])
    today = dt.date(2026, 12, 3)
    blank = []
    for c in reg.claims.values():
        if c.kind == "event" or resolve(c, reg.observations, today).status != status:
            continue
        ind = reg.indicators[c.indicator]
        has_figures = len(reg.indicator_observations(c.indicator)) > 0
        unmodelled = ind.family == "none" or not has_figures
        if unmodelled and judgment_forecast(c) is None and c.stated_probability is None:
            blank.append(c.id)
    assert blank == []


def test_the_site_shows_a_judgment_with_its_issuer_before_any_refresh(mini: Path) -> None:
    import re

    from chipcast.report.site import build_site

    set_claim(
        mini,
        "dom-share-55-2027",
        judgment={**VALUE_JUDGMENT, "quantiles": None, "probability": 0.35, "sources": ["idc"]},
    )
    set_claim(mini, "acme-revenue-2025q2", judgment=VALUE_JUDGMENT)
    index = build_site(mini, dt.date(2025, 7, 1)).read_text()
    row = re.search(r'<tr data-id="dom-share-55-2027".*?</tr>', index, re.S).group(0)
    assert "35%" in row and "researcher" in row
    value = re.search(r'<tr data-id="acme-revenue-2025q2".*?</tr>', index, re.S).group(0)
    assert "290 RMB mn [250–330 80%]" in value and "researcher" in value
    page = (mini / "reports/site/claims/dom-share-55-2027.html").read_text()
    assert "Researcher&#39;s judgment" in page and "CFO guides to 300" in page
