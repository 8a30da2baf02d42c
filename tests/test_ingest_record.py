"""The batch append `chipcast ingest` writes through: all rows validated, or nothing written."""

from __future__ import annotations

from pathlib import Path

from chipcast.record import record_observations
from tests.conftest import snapshot


def row(period: str, value: str, source: str, published: str) -> dict[str, str]:
    return {"period_end": period, "value": value, "source": source, "published": published}


def test_rows_for_several_files_are_appended_together(mini: Path) -> None:
    rows = [
        ("acme_revenue", row("2024-03-31", "130", "acme", "2024-04-20")),
        ("dom_share", row("2025-12-31", "0.2", "idc", "2026-03-15")),
        ("acme_revenue", row("2024-06-30", "140", "acme", "2024-07-20")),
    ]
    assert record_observations(mini, rows) == []
    acme = (mini / "data" / "observations" / "acme_revenue.csv").read_text().splitlines()
    assert acme[-2:] == [
        "2024-03-31,,130,acme,2024-04-20,,,,,",
        "2024-06-30,,140,acme,2024-07-20,,,,,",
    ]
    assert (
        (mini / "data" / "observations" / "dom_share.csv")
        .read_text()
        .endswith("2025-12-31,,0.2,idc,2026-03-15,,,,,\n")
    )


def test_one_bad_row_writes_nothing_and_names_file_line_and_field(mini: Path) -> None:
    before = snapshot(mini)
    n_acme = len((mini / "data" / "observations" / "acme_revenue.csv").read_text().splitlines())
    rows = [
        ("acme_revenue", row("2024-03-31", "130", "acme", "2024-04-20")),
        ("dom_share", row("2025-12-31", "1.3", "idc", "2026-03-15")),  # a share of 1.3
    ]
    problems = record_observations(mini, rows)
    assert [(p.path, p.field) for p in problems] == [("data/observations/dom_share.csv", "value")]
    assert "outside the indicator's bounds" in problems[0].message
    assert snapshot(mini) == before
    # write=False validates only, even when every row is good.
    assert record_observations(mini, rows[:1], write=False) == []
    assert snapshot(mini) == before
    assert n_acme == len(
        (mini / "data" / "observations" / "acme_revenue.csv").read_text().splitlines()
    )


def test_a_duplicate_key_is_refused(mini: Path) -> None:
    problems = record_observations(
        mini, [("acme_revenue", row("2023-03-31", "101", "acme", "2023-04-20"))]
    )
    assert problems and problems[0].field == "published" and "duplicate" in problems[0].message
