"""What the scoreboard notebook shows, recomputed from the history and the data by `evaluate`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chipcast.analysis.indicator import as_date
from chipcast.evaluate import scoreboard as sb_eval
from chipcast.evaluate.calibration import RELIABILITY_BINS
from chipcast.evaluate.scoreboard import claim_scores, score_summary
from chipcast.paths import find_root
from chipcast.registry import Registry, load
from chipcast.store import read_backtest, read_history, read_quantiles


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
    """Who runs hot: each source's median report minus the latent median, per share indicator."""
    rows = []
    for ind_id, ind in sb.registry.indicators.items():
        q = read_quantiles(sb.registry.paths.trajectory_file(ind_id))
        if ind.family != "share" or q is None:
            continue
        latent = q[q["series"] == "latent"].set_index("period_end")["q500"]
        for src, df in q[~q["series"].isin(["latent", "_new"])].groupby("series"):
            d = (df.set_index("period_end")["q500"] - latent).dropna()
            spread = (df["q950"] - df["q050"]).mean() - (
                q[q["series"] == "latent"]["q950"] - q[q["series"] == "latent"]["q050"]
            ).mean()
            rows.append(
                {
                    "indicator": ind_id,
                    "source": src,
                    "bias (pp)": 100 * d.mean(),
                    "extra 90% width (pp)": 100 * spread,
                }
            )
    return pd.DataFrame(rows)
