"""`chipcast ingest federal-register`: paginated API pages to the record and the quarterly count.

The pages are built to the API's documented fields (`count`, `total_pages`, `results[]`,
`next_page_url`; `document_number`, `title`, `type`, `publication_date`, `effective_on`,
`html_url`, `abstract`) from real BIS documents in the shipped record; they are replayed with
respx, nothing touches the network. html_url here is federalregister.gov's /d/ short form.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import httpx
import pytest
import respx

from chipcast.cli import main
from chipcast.ingest import run_ingest
from chipcast.ingest.federal_register import API_URL, adds_entities, entities_added
from chipcast.registry import load
from tests.conftest import snapshot

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2025, 11, 23)
SINCE = "2025-01-01"


def doc(number: str, title: str, pub: str, eff: str | None, abstract: str | None) -> dict:
    return {"document_number": number, "title": title, "type": "Rule", "abstract": abstract,
            "publication_date": pub, "effective_on": eff, "html_url": f"https://www.federalregister.gov/d/{number}"}  # fmt: skip


PAGE_1 = [
    doc("2025-00480", "Additions to the Entity List", "2025-01-16", "2025-01-16",
        "In this rule, the Bureau of Industry and Security (BIS) amends the Export Administration Regulations (EAR) by adding 16 entities to the Entity List, under the destinations of China, People's Republic of (China) (14) and Singapore (2)."),
    doc("2025-00704", "Addition of Entities to and Revision of Entry on the Entity List", "2025-01-16", "2025-01-16",
        "In this rule, the Bureau of Industry and Security (BIS) amends the Export Administration Regulations (EAR) by adding 11 entities under 11 entries to the Entity List. These entries are listed on the Entity List under the destination of China, People's Republic of (China) (11)."),
]  # fmt: skip
PAGE_2 = [
    doc("2025-05427", "Additions to the Entity List", "2025-03-28", "2025-03-25",
        "In this rule, the Bureau of Industry and Security (BIS) amends the Export Administration Regulations (EAR) by adding 12 entities to the Entity List, under the destinations of China, People's Republic of (China) (11) and Taiwan (1)."),
    doc("2025-19001", "Expansion of End-User Controls To Cover Affiliates of Certain Listed Entities", "2025-09-30", "2025-09-29", None),
]  # fmt: skip
PAGE_2_URL = f"{API_URL}?page=2&per_page=2"


def page(results: list[dict], next_url: str | None) -> bytes:
    body = {"count": 4, "total_pages": 2, "results": results}
    if next_url:
        body["next_page_url"] = next_url
    return json.dumps(body).encode()


def responder(request: httpx.Request) -> httpx.Response:
    params = request.url.params
    if params.get("page") == "2":
        return httpx.Response(200, content=page(PAGE_2, None))
    assert params.get("conditions[agencies][]") == "industry-and-security-bureau"
    assert params.get("conditions[type][]") == "RULE"
    assert params.get("conditions[publication_date][gte]") == SINCE
    assert "abstract" in params.get_list("fields[]")
    return httpx.Response(200, content=page(PAGE_1, PAGE_2_URL))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped data, whose record was rebuilt from searches (lower bounds)."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "forecasts" / "claims", root / "forecasts" / "claims")
    return root


@pytest.fixture
def api():
    with respx.mock() as mock:
        mock.get(url__startswith=API_URL).mock(side_effect=responder)
        yield mock


def counts(root: Path) -> list[dict[str, str]]:
    with (root / "data" / "observations" / "bis_entity_list_rules.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def run(root: Path):
    return run_ingest(root, "federal-register", today=TODAY, since=dt.date.fromisoformat(SINCE),
                      sleep=lambda s: None)  # fmt: skip


def test_pages_are_followed_and_a_complete_listing_turns_bounds_into_counts(project, api) -> None:
    record_before = (project / "data" / "records" / "federal-register.csv").read_text()
    result = run(project)
    assert api.calls.call_count == 2  # page 1, then next_page_url
    # All four documents are on the shipped record already: nothing appended, never edited.
    assert (project / "data" / "records" / "federal-register.csv").read_text() == record_before
    assert result.record_rows == 0
    by_quarter = {}
    for r in counts(project):
        by_quarter.setdefault(r["period_end"], []).append(r)
    # 2025Q1 was ">2" (at least three found); the complete listing says exactly 3: a revision
    # dated the day it was read. Q2 and Q3 had nothing on record: 0 each (the affiliates rule
    # does not add entities), dated at quarter end.
    q1 = by_quarter["2025-03-31"]
    assert [r["value"] for r in q1] == [">2", "3"]
    assert (
        q1[1]["published"] == TODAY.isoformat()
        and "2025-00480, 2025-00704, 2025-05427" in q1[1]["note"]
    )
    assert [(r["value"], r["published"]) for r in by_quarter["2025-06-30"]] == [("0", "2025-06-30")]
    assert [(r["value"], r["published"]) for r in by_quarter["2025-09-30"]] == [("0", "2025-09-30")]
    assert "2025-12-31" not in by_quarter  # the current quarter is not over
    assert [r["value"] for r in by_quarter["2024-12-31"]] == [">0"]  # before --since: untouched
    raw = project / "data" / "raw" / "federal-register"
    meta = json.loads((raw / f"documents-since-{SINCE}-page-002.json.meta.json").read_text())
    assert meta["covers"] == [SINCE, TODAY.isoformat()] and meta["url"] == PAGE_2_URL
    assert load(project)
    before = snapshot(project)
    again = run(project)
    assert again.count("add") == again.count("revision") == 0 and again.record_rows == 0
    assert snapshot(project) == before


def test_new_documents_are_appended_to_the_record(project, api) -> None:
    path = project / "data" / "records" / "federal-register.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("2025-05427")) + "\n")
    result = run(project)
    assert result.record_rows == 1
    with path.open(newline="") as fh:
        added = [r for r in csv.DictReader(fh) if r["document_number"] == "2025-05427"]
    assert added == [{
        "document_number": "2025-05427", "type": "Rule", "title": "Additions to the Entity List",
        "publication_date": "2025-03-28", "effective_on": "2025-03-25",
        "html_url": "https://www.federalregister.gov/d/2025-05427", "counted": "true",
        "entities_added": "12", "entities_added_china": "11",
        "raw": f"documents-since-{SINCE}-page-002.json", "first_recorded": TODAY.isoformat(),
    }]  # fmt: skip


def test_a_truncated_page_fails_the_source_and_writes_nothing(project, capsys) -> None:
    before = snapshot(project)
    with respx.mock() as mock:
        mock.get(url__startswith=API_URL).respond(200, content=page(PAGE_1, PAGE_2_URL)[:120])
        code = main(["ingest", "federal-register", "--root", str(project), "--since", SINCE])
    err = capsys.readouterr().err
    assert code == 1 and "not valid JSON" in err and "nothing written for federal-register" in err
    assert snapshot(project) == before


def test_a_result_without_a_documented_field_is_named(project, capsys) -> None:
    broken = [dict(PAGE_1[0], publication_date="16 Jan 2025")]
    with respx.mock() as mock:
        mock.get(url__startswith=API_URL).respond(
            200, content=json.dumps({"count": 1, "results": broken}).encode()
        )
        code = main(["ingest", "federal-register", "--root", str(project), "--since", SINCE])
    assert code == 1
    assert "results[0].publication_date: '16 Jan 2025' is not a date" in capsys.readouterr().err


def test_a_listing_shorter_than_its_count_is_refused(project) -> None:
    from chipcast.ingest import IngestFailed

    with respx.mock() as mock:
        mock.get(url__startswith=API_URL).respond(200, content=page(PAGE_1, None))
        with pytest.raises(IngestFailed, match="counts 4 documents, its pages gave 2"):
            run(project)


@pytest.mark.parametrize(
    ("abstract", "expected"),
    [
        (PAGE_1[0]["abstract"], (16, 14)),
        (PAGE_1[1]["abstract"], (11, 11)),
        ("... by adding 13 entities to the Entity List under the destination of the People's Republic of China (China).", (13, 13)),
        ("... by adding seventy-seven entities, under a total of seventy-eight entries, to the Entity List.", (77, None)),
        ("... by adding two entities under seven entries to the Entity List. ... the People's Republic of China (China) (1), India (1)", (2, 1)),
        (None, (None, None)),
    ],
)  # fmt: skip
def test_entity_counts_read_from_abstracts(abstract, expected) -> None:
    assert entities_added(abstract) == expected


def test_which_rules_count() -> None:
    assert adds_entities("Entity List Additions", None)
    assert adds_entities("Addition of Entities to and Revision of Entry on the Entity List", None)
    assert not adds_entities("Entity List Removals", None)
    assert not adds_entities("Additions to the Entity List; Correction", None)
    assert not adds_entities(
        "Expansion of End-User Controls To Cover Affiliates of Certain Listed Entities",
        "adding x to the Entity List",
    )
    assert adds_entities("Revisions to the Entity List", "In this rule, BIS is adding 3 entities to the Entity List.")  # fmt: skip
