"""What the scoreboard notebook shows, recomputed from the history and the data by `evaluate`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chipcast.analysis.indicator import as_date
from chipcast.analysis.voi import who_runs_hot
from chipcast.evaluate import scoreboard as sb_eval
from chipcast.evaluate.calibration import RELIABILITY_BINS
from chipcast.evaluate.scoreboard import claim_scores, score_summary
from chipcast.paths import find_root
from chipcast.registry import Registry, load
from chipcast.store import read_backtest, read_history


@dataclass
class Scoreboard:
    registry: Registry
    today: dt.date
    history: pd.DataFrame
    scores: pd.DataFrame
    backtest: pd.DataFrame


def scoreboard(root: str | Path, today: str | dt.date | None = None) -> Scoreboard:
    """Everything the scoreboard shows, recomputed from history and data."""
    reg = load(find_root(root))
    date = as_date(today)
    hist = read_history(reg.paths)
    bt = read_backtest(reg.paths)
    bt = pd.DataFrame() if bt is None else bt
    return Scoreboard(reg, date, hist, claim_scores(reg, hist, date), bt)


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
