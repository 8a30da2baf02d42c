"""Staleness: a series is current, then due, then overdue on the days its own lag says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from chipcast.cli import main
from chipcast.evaluate.staleness import (
    DEFAULT_LAG_DAYS,
    next_period_end,
    series_status,
    status_table,
)
from chipcast.registry import load


def test_next_period_end_keeps_month_ends_and_fiscal_days() -> None:
    assert next_period_end(dt.date(2025, 6, 30), "quarterly") == dt.date(2025, 9, 30)
    assert next_period_end(dt.date(2025, 9, 30), "quarterly") == dt.date(2025, 12, 31)
    assert next_period_end(dt.date(2025, 12, 31), "annual") == dt.date(2026, 12, 31)
    assert next_period_end(dt.date(2025, 6, 30), "semiannual") == dt.date(2025, 12, 31)
    assert next_period_end(dt.date(2025, 10, 26), "quarterly") == dt.date(2026, 1, 26)  # fiscal
    assert next_period_end(dt.date(2025, 10, 26), "irregular") is None


@pytest.mark.parametrize(
    ("today", "state", "days"),
    [
        ("2025-06-30", "current", 0),  # the next quarter (to 2025-06-30) has not ended
        ("2025-07-01", "due", 0),  # ended: due until 2025-06-30 + 20 days
        ("2025-07-20", "due", 0),
        ("2025-07-21", "overdue", 1),
        ("2025-12-31", "overdue", 164),
    ],
)
def test_acme_revenue_is_due_then_overdue_from_its_own_lag(
    mini: Path, today: str, state: str, days: int
) -> None:
    # Acme's figures are public 20 days after each quarter ends (its own vintages); the last is
    # 2025Q1 (published 2025-04-20), so 2025Q2 is expected on 2025-07-20.
    reg = load(mini)
    s = series_status(reg, reg.indicators["acme_revenue"], dt.date.fromisoformat(today))
    assert (s.last_period, s.last_published) == (dt.date(2025, 3, 31), dt.date(2025, 4, 20))
    assert (s.next_period, s.next_expected, s.lag_days) == (
        dt.date(2025, 6, 30),
        dt.date(2025, 7, 20),
        20,
    )
    assert s.lag_basis.startswith("observed")
    assert (s.state, s.days_overdue) == (state, days)


def test_a_revision_and_an_estimated_date_do_not_set_the_lag(mini: Path) -> None:
    # dom_share: IDC's first vintages are 74-75 days after each year ends; the 2024 revision
    # (published 2025-06-01, estimated) is not a first publication
    reg = load(mini)
    s = series_status(reg, reg.indicators["dom_share"], dt.date(2026, 1, 1))
    assert s.lag_days in (74, 75)  # the median of the first vintages: IDC 74-75, Bernstein 198-199
    assert s.next_period == dt.date(2025, 12, 31)


def test_no_figure_yet_waits_for_its_claims_target_with_a_default_lag(mini: Path) -> None:
    import yaml

    ind = yaml.safe_load((mini / "data/indicators/dom_share.yaml").read_text())
    ind.update(id="new_share", name="Nobody has measured it")
    (mini / "data/indicators/new_share.yaml").write_text(yaml.safe_dump(ind))
    claim = yaml.safe_load((mini / "forecasts/claims/dom-share-55-2027.yaml").read_text())
    claim.update(id="new-share-2027", indicator="new_share")
    (mini / "forecasts/claims/new-share-2027.yaml").write_text(yaml.safe_dump(claim))
    reg = load(mini)
    s = series_status(reg, reg.indicators["new_share"], dt.date(2026, 12, 3))
    lag = DEFAULT_LAG_DAYS["analyst"]  # IDC settles the claim
    assert (s.last_period, s.next_period, s.lag_days) == (None, dt.date(2027, 12, 31), lag)
    assert s.lag_basis == "default for analyst sources"
    assert (s.state, s.claims) == ("current", ("new-share-2027",))
    late = series_status(reg, reg.indicators["new_share"], dt.date(2028, 6, 1))
    assert (
        late.state == "overdue"
        and late.days_overdue
        == (dt.date(2028, 6, 1) - dt.date(2027, 12, 31) - dt.timedelta(days=lag)).days
    )


def test_status_command_sorted_by_lateness_and_moved_by_today(mini: Path, capsys) -> None:
    assert main(["status", "--root", str(mini), "--today", "2025-07-10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["indicator", "last"]
    acme = next(x for x in out if x.startswith("acme_revenue"))
    assert " due " in acme and "2025-07-20" in acme and "acme-revenue-2025q2" in acme
    assert main(["status", "--root", str(mini), "--today", "2025-08-01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("acme_revenue") and " overdue " in out[1] and " 12 " in out[1]
    tariff = next(x for x in out if x.startswith("tariff_rate"))
    assert " current " in tariff  # quarterly policy level, but its next figure came early


def test_status_table_is_pure(mini: Path) -> None:
    reg = load(mini)
    a = status_table(reg, dt.date(2025, 8, 1))
    b = status_table(reg, dt.date(2025, 8, 1))
    assert a == b
    assert [s.state for s in a] == sorted(
        (s.state for s in a), key=("overdue", "due", "current").index
    )
