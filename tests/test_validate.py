"""Each validation rule, shown with a bad file, reported as path:line: field: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipcast.cli import main
from chipcast.registry import check_project


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_project(root)[1]]


def test_fixture_is_clean(mini: Path, capsys) -> None:
    assert problems(mini) == []
    assert main(["validate", "--root", str(mini)]) == 0


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CLAIM = "forecasts/claims/dom-share-55-2027.yaml"
SHARE = "data/observations/dom_share.csv"


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        # malformed YAML
        (CLAIM, "kind: threshold", "kind: [threshold", f"{CLAIM}:3: yaml: malformed YAML"),
        # unknown field
        (CLAIM, "status: open", "status: open\ncolour: blue", f"{CLAIM}:12: colour: unknown field"),
        # missing required field
        (CLAIM, "claimant: Bernstein\n", "", f"{CLAIM}:1: claimant: required field missing"),
        # wrong type
        (CLAIM, "threshold: 0.55", "threshold: lots", f"{CLAIM}:15: threshold:"),
        # wrong date format
        (
            CLAIM,
            "made_on: 2024-07-17",
            "made_on: 17/07/2024",
            f"{CLAIM}:7: made_on: expected a date YYYY-MM-DD",
        ),
        # a date that is not a date
        (
            CLAIM,
            "made_on: 2024-07-17",
            "made_on: '2024-02-30'",
            f"{CLAIM}:7: made_on: not a valid date",
        ),
        # unknown indicator
        (
            CLAIM,
            "indicator: dom_share",
            "indicator: nope",
            f"{CLAIM}:13: indicator: unknown indicator 'nope'",
        ),
        # unknown source
        (
            CLAIM,
            "source: bernstein",
            "source: nobody",
            f"{CLAIM}:8: source: unknown source 'nobody'",
        ),
        # threshold outside the indicator's bounds
        (
            CLAIM,
            "threshold: 0.55",
            "threshold: 55",
            f"{CLAIM}:15: threshold: 55.0 is outside the indicator's bounds",
        ),
        # target period before the claim was made
        (
            CLAIM,
            "target_period: 2027-12-31",
            "target_period: 2020-12-31",
            f"{CLAIM}:16: target_period: 2020-12-31 is before the claim was made",
        ),
        # id not a slug
        (
            CLAIM,
            "id: dom-share-55-2027",
            "id: Dom Share!",
            f"{CLAIM}:1: id: String should match pattern",
        ),
        # id differs from the file name
        (
            CLAIM,
            "id: dom-share-55-2027",
            "id: other-id",
            f"{CLAIM}:1: id: id 'other-id' differs from the file name",
        ),
        # a share of 1.3
        (SHARE, "0.21,idc", "1.3,idc", f"{SHARE}:4: value: 1.3 is outside the indicator's bounds"),
        # a bad value
        (SHARE, "0.21,idc", "about 21,idc", f"{SHARE}:4: value: expected a number, >N, <N or N..M"),
        # unknown source in a CSV
        (SHARE, "0.21,idc", "0.21,gartner", f"{SHARE}:4: source: unknown source 'gartner'"),
        # a measured figure published before its period ended
        (
            SHARE,
            "0.21,idc,2024-03-15",
            "0.21,idc,2023-06-15",
            f"{SHARE}:4: published: 2023-06-15 is before the period ends",
        ),
        # not a date in a CSV
        (
            SHARE,
            "0.21,idc,2024-03-15",
            "0.21,idc,March 2024",
            f"{SHARE}:4: published: expected a date YYYY-MM-DD",
        ),
        # a missing required value in a CSV
        (
            SHARE,
            "0.21,idc,2024-03-15",
            "0.21,,2024-03-15",
            f"{SHARE}:4: source: required field is empty",
        ),
        # unknown column
        (SHARE, "title,note", "title,colour", f"{SHARE}:1: colour: unknown column"),
        # duplicate figure
        (
            SHARE,
            "2022-12-31,,0.16,idc,2023-03-15",
            "2021-12-31,,0.16,idc,2022-03-15",
            f"{SHARE}:3: published: duplicate",
        ),
        # malformed CSV (too many fields)
        (
            SHARE,
            "0.21,idc,2024-03-15,,,",
            "0.21,idc,2024-03-15,,,,,,,,,",
            f"{SHARE}:4: row: more fields than the header",
        ),
    ],
)
def test_each_rule_names_file_line_and_field(
    mini: Path, path: str, old: str, new: str, expected: str
) -> None:
    _edit(mini / path, old, new)
    found = problems(mini)
    assert any(p.startswith(expected) for p in found), found


def test_policy_level_may_be_announced_ahead(mini: Path) -> None:
    # tariff_rate.csv has a level published before its period ends: valid for kind policy
    assert (
        "2023-03-31,,10,ustr,2023-01-15" in (mini / "data/observations/tariff_rate.csv").read_text()
    )
    assert problems(mini) == []


def test_duplicate_claim_id(mini: Path) -> None:
    src = mini / CLAIM
    (mini / "forecasts/claims/dom-share-55-2027.yml").write_text(src.read_text())
    found = problems(mini)
    assert any("duplicate claim id 'dom-share-55-2027'" in p for p in found), found


def test_duplicate_source_id(mini: Path) -> None:
    path = mini / "data/sources.yaml"
    path.write_text(path.read_text() + "  - id: idc\n    publisher: Again\n    kind: analyst\n")
    assert any(
        p.startswith("data/sources.yaml:18: id: duplicate source id 'idc'") for p in problems(mini)
    )


def test_observations_of_unknown_indicator(mini: Path) -> None:
    (mini / "data/observations/ghost.csv").write_text("period_end,value,source,published\n")
    assert (
        "data/observations/ghost.csv:1: file: unknown indicator 'ghost': no data/indicators/ghost.yaml"
        in problems(mini)
    )


def test_resolved_claim_must_be_settled_by_data(mini: Path) -> None:
    _edit(mini / CLAIM, "status: open", "status: resolved")
    assert any(
        p.startswith(f"{CLAIM}:11: status: resolved, but no observation") for p in problems(mini)
    ), problems(mini)


def test_event_needs_probability_and_deadline(mini: Path) -> None:
    path = mini / "forecasts/claims/rule-replacement.yaml"
    _edit(path, "probability: 0.4\n", "")
    assert any("probability: required for a event claim" in p for p in problems(mini))


def test_validate_cli_prints_lines_and_exits_2(mini: Path, capsys) -> None:
    _edit(mini / SHARE, "0.16,idc", "1.3,idc")
    assert main(["validate", "--root", str(mini)]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{SHARE}:3: value: 1.3 is outside the indicator's bounds [0.0, 1.0] (fraction)"]


def test_bad_today_is_usage_error(mini: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["list", "--root", str(mini), "--today", "tomorrow"])
    assert exc.value.code == 2
