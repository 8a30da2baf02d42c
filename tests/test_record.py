"""`chipcast observe` and `chipcast claim new`: validated, atomic, nothing written on error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import chipcast.fileio
from chipcast.cli import main
from tests.conftest import snapshot

OBS = [
    "observe",
    "dom_share",
    "--period",
    "2025-12-31",
    "--value",
    "0.41",
    "--source",
    "idc",
    "--published",
    "2026-04-01",
]


def test_observe_appends_one_row(mini: Path) -> None:
    path = mini / "data/observations/dom_share.csv"
    before = path.read_text()
    assert main([*OBS, "--root", str(mini), "--url", "https://example.org/idc-2025"]) == 0
    after = path.read_text()
    assert after.startswith(before)
    assert (
        after[len(before) :] == "2025-12-31,,0.41,idc,2026-04-01,,,https://example.org/idc-2025,,\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--value", "1.3"], "value: 1.3 is outside the indicator's bounds"),
        (["--value", "lots"], "value: expected a number"),
        (["--source", "nobody"], "source: unknown source 'nobody'"),
        (["--published", "2025-06-01"], "published: 2025-06-01 is before the period ends"),
    ],
)
def test_observe_rejects_bad_input_and_writes_nothing(
    mini: Path, capsys, args: list[str], message: str
) -> None:
    cmd = list(OBS)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        cmd[cmd.index(flag) + 1] = value
    before = snapshot(mini)
    assert main([*cmd, "--root", str(mini)]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(mini) == before


def test_observe_twice_is_an_error(mini: Path, capsys) -> None:
    assert main([*OBS, "--root", str(mini)]) == 0
    before = snapshot(mini)
    assert main([*OBS, "--root", str(mini)]) == 2
    assert "duplicate" in capsys.readouterr().err
    assert snapshot(mini) == before


def test_observe_unknown_indicator(mini: Path, capsys) -> None:
    cmd = list(OBS)
    cmd[1] = "ghost"
    assert main([*cmd, "--root", str(mini)]) == 2
    assert "unknown indicator 'ghost'" in capsys.readouterr().err


def test_failing_write_leaves_csv_byte_identical(mini: Path, monkeypatch) -> None:
    path = mini / "data/observations/dom_share.csv"
    before = path.read_bytes()

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(chipcast.fileio.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        main([*OBS, "--root", str(mini)])
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


CLAIM = [
    "claim",
    "new",
    "--id",
    "ms-selfsuff",
    "--kind",
    "threshold",
    "--statement",
    "Share reaches 82% in 2027",
    "--quote",
    "82% by 2027",
    "--claimant",
    "Morgan Stanley",
    "--made-on",
    "2025-06-21",
    "--source",
    "bernstein",
    "--indicator",
    "dom_share",
    "--operator",
    ">=",
    "--threshold",
    "0.82",
    "--target-period",
    "2027-12-31",
    "--resolution-source",
    "idc",
    "--expected-by",
    "2028-06-30",
    "--tag",
    "market-share",
    "--interpretation",
    "Units, as IDC counts them.",
]


def test_claim_new_writes_a_valid_claim(mini: Path) -> None:
    assert main([*CLAIM, "--root", str(mini)]) == 0
    doc = yaml.safe_load((mini / "forecasts/claims/ms-selfsuff.yaml").read_text())
    assert (
        doc["status"] == "open"
        and doc["threshold"] == 0.82
        and doc["resolution"]["source"] == "idc"
    )
    assert main(["validate", "--root", str(mini)]) == 0


def test_claim_new_rejects_and_writes_nothing(mini: Path, capsys) -> None:
    bad = list(CLAIM)
    bad[bad.index("--target-period") + 1] = "2020-12-31"
    before = snapshot(mini)
    assert main([*bad, "--root", str(mini)]) == 2
    assert "target_period: 2020-12-31 is before the claim was made" in capsys.readouterr().err
    assert snapshot(mini) == before


def test_claim_new_refuses_to_overwrite(mini: Path, capsys) -> None:
    assert main([*CLAIM, "--root", str(mini)]) == 0
    assert main([*CLAIM, "--root", str(mini)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_claim_new_interactive_asks_for_missing(mini: Path, monkeypatch) -> None:
    answers = iter(["Share reaches 82% in 2027"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    cmd = list(CLAIM)
    i = cmd.index("--statement")
    del cmd[i : i + 2]
    assert main([*cmd, "--interactive", "--root", str(mini)]) == 0


def test_every_command_has_help_with_example(capsys) -> None:
    for cmd in (
        ["validate"],
        ["observe"],
        ["claim", "new"],
        ["list"],
        ["forecast"],
        ["backtest"],
        ["refresh"],
        ["report"],
    ):
        with pytest.raises(SystemExit) as exc:
            main([*cmd, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "example:" in out and "--root" in out


def test_list_prints_registry(mini: Path, capsys) -> None:
    assert main(["list", "--root", str(mini), "--today", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "share-2023-above-15" in out and "resolved (true)" in out
    assert main(["list", "--root", str(mini), "--today", "2026-11-23", "--status", "open"]) == 0
    out = capsys.readouterr().out
    assert "dom-share-55-2027" in out and "share-2023-above-15" not in out
