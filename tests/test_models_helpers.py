"""Simulated observation frames for the model tests (helpers only: no tests here)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from chipcast.schema import Indicator


def indicator(family: str, frequency: str = "annual", **kw) -> Indicator:
    bounds = kw.pop("bounds", (0, 1) if family == "share" else (0, None))
    return Indicator(
        id=kw.pop("id", f"sim_{family}"),
        name="simulated",
        description="simulated series for tests",
        unit="fraction" if family == "share" else "units",
        bounds=bounds,
        measures={"share": "units", "growth": "value", "count": "count", "level": "level"}[family],
        frequency=frequency,
        kind="policy" if family == "level" else "measured",
        family=family,
        **kw,
    )


def frame(rows: list[dict]) -> pd.DataFrame:
    """rows: dicts with period_end, source, value | lower | upper, optional period_start, censor."""
    out = []
    for i, r in enumerate(rows):
        end = pd.Timestamp(r["period_end"])
        censor = r.get("censor", "point")
        v = r.get("value")
        lo = r.get("lower", v if censor == "point" else None)
        hi = r.get("upper", v if censor == "point" else None)
        out.append(
            {
                "indicator": r.get("indicator"),
                "line": i + 2,
                "period_start": pd.Timestamp(r["period_start"]) if r.get("period_start") else end,
                "period_end": end,
                "value": np.nan if v is None else float(v),
                "lower": np.nan if lo is None else float(lo),
                "upper": np.nan if hi is None else float(hi),
                "censor": censor,
                "source": r["source"],
                "published": pd.Timestamp(r.get("published", end + pd.Timedelta(days=60))),
            }
        )
    return pd.DataFrame(out)


def expit(x):
    return 1 / (1 + np.exp(-x))


def sim_share_path(rng, n: int, level0=-1.8, slope0=0.35, sig_slope=0.2):
    slope = slope0 + np.concatenate([[0.0], np.cumsum(sig_slope * rng.standard_normal(n - 1))])
    return level0 + np.concatenate([[0.0], np.cumsum(slope[:-1])])


AS_OF = dt.date(2030, 1, 1)
