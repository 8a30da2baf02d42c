"""What the scoreboard notebook shows, recomputed from the history and the data by `evaluate`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chipcast.analysis.indicator import as_date
from chipcast.analysis.voi import who_runs_hot
from chipcast.evaluate import scoreboard as sb_eval
from chipcast.evaluate.backtest import bayesian_rows, event_reliability
from chipcast.evaluate.calibration import RELIABILITY_BINS, pit_counts
from chipcast.evaluate.hindcast_scoring import (
    hindcast_reliability_inputs,
    hindcast_scores,
    hindcast_summary,
    hindcast_verdict,
)
from chipcast.evaluate.scoreboard import claim_scores, score_summary
from chipcast.paths import find_root
from chipcast.registry import Registry, load
from chipcast.store import (
    HINDCAST_LABEL,
    read_backtest,
    read_backtest_detail,
    read_hindcasts,
    read_history,
)


@dataclass
class Scoreboard:
    registry: Registry
    today: dt.date
    history: pd.DataFrame
    scores: pd.DataFrame
    backtest: pd.DataFrame
    hindcasts: pd.DataFrame
    hindcast_scores: pd.DataFrame
    backtest_detail: pd.DataFrame


def scoreboard(root: str | Path, today: str | dt.date | None = None) -> Scoreboard:
    """Everything the scoreboard shows, recomputed from history, hindcasts and data."""
    reg = load(find_root(root))
    date = as_date(today)
    hist = read_history(reg.paths)
    bt = read_backtest(reg.paths)
    bt = pd.DataFrame() if bt is None else bt
    detail = read_backtest_detail(reg.paths)
    hc = read_hindcasts(reg.paths)
    return Scoreboard(
        reg,
        date,
        hist,
        claim_scores(reg, hist, date),
        bt,
        hc,
        hindcast_scores(reg, hc, date, hist),
        pd.DataFrame() if detail is None else detail,
    )


def verdict(sb: Scoreboard) -> str:
    """The computed plain-language verdict at the top of the scoreboard, with its caveats."""
    return hindcast_verdict(sb.hindcast_scores)


def hindcast_comparison(sb: Scoreboard) -> pd.DataFrame:
    """The model (hindcast) beside naive, statsmodels and the claimants, on the common windows:
    binary claims' mean Brier and log score, value claims' CRPS relative to naive (geometric
    mean), each with its n. Labelled: a hindcast is today's model on the data public then."""
    table = hindcast_summary(sb.hindcast_scores)
    table.attrs["label"] = HINDCAST_LABEL
    return table


def hindcast_claims(sb: Scoreboard) -> pd.DataFrame:
    """Per resolved claim with hindcasts: each forecaster's score on the common window."""
    return sb.hindcast_scores


def claims_reliability(sb: Scoreboard) -> pd.DataFrame:
    """The claims' own reliability points: the last hindcast before each binary claim resolved."""
    return hindcast_reliability_inputs(sb.hindcast_scores)


def backtest_calibration(sb: Scoreboard, bins: int = 5) -> tuple[pd.DataFrame, int]:
    """Reliability of the Bayesian models' P(next figure above the last one public) over the
    backtest targets, with Jeffreys intervals, and n."""
    return event_reliability(sb.backtest_detail, bins=bins)


def pit_table(sb: Scoreboard) -> pd.DataFrame:
    """PIT histogram of the Bayesian models' backtest targets (counts per decile, expected range)."""
    rows = bayesian_rows(sb.backtest_detail)
    pits = pd.to_numeric(rows["pit"], errors="coerce").dropna() if "pit" in rows else []
    return pit_counts(pits)


def score_comparison(sb: Scoreboard) -> pd.DataFrame:
    """Mean scores per forecaster over the resolved claims each one forecast."""
    return score_summary(sb.scores)


def reliability(sb: Scoreboard, bins: int = RELIABILITY_BINS) -> pd.DataFrame:
    """The calibration table the site draws: last forecast before each binary claim resolved."""
    return sb_eval.reliability(sb.history, sb.registry, sb.today, bins)


def source_bias(sb: Scoreboard) -> pd.DataFrame:
    """Who runs hot: each fitted source's offset from the latent series and its noise, posterior
    medians with 90% intervals, from the share and growth fits' tracked summaries."""
    return who_runs_hot(sb.registry)
