"""What the notebooks call: one indicator's context and fit, one claim, the scoreboard.

Notebooks stay thin (markdown and calls); everything they compute lives here so that the
refresh, the command line and a researcher in JupyterLab all get the same numbers. The fit
(`indicator`) is what the refresh fingerprints; tables and plots only show.
"""

import warnings

from chipcast.analysis.claim import (
    ClaimContext,
    claim_card,
    claim_context,
    claim_figures,
    claim_hindcast_scores,
    claim_scores_table,
    claim_timeline_frame,
)
from chipcast.analysis.indicator import (
    IndicatorContext,
    fit,
    indicator_context,
    sampler_settings,
    write_outputs,
)
from chipcast.analysis.plots import (
    PALETTE,
    plot_backtest_events,
    plot_claim,
    plot_claim_path,
    plot_fan,
    plot_observations,
    plot_pit,
    plot_prior_predictive,
    plot_probability_history,
    plot_reliability,
)
from chipcast.analysis.scoreboard import (
    Scoreboard,
    backtest_calibration,
    claims_reliability,
    hindcast_claims,
    hindcast_comparison,
    pit_table,
    reliability,
    score_comparison,
    scoreboard,
    source_bias,
    verdict,
)
from chipcast.analysis.tables import claim_forecasts, diagnostics_table, observations_table
from chipcast.analysis.voi import (
    claim_voi_table,
    claim_what_would_move,
    source_offsets,
    value_of_information,
    who_runs_hot,
)

# pytensor's PyPI build warns that it found no BLAS: noise in a researcher's notebook.
warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")

__all__ = [
    "PALETTE",
    "ClaimContext",
    "IndicatorContext",
    "Scoreboard",
    "backtest_calibration",
    "claim_card",
    "claim_context",
    "claim_figures",
    "claim_hindcast_scores",
    "claim_timeline_frame",
    "claims_reliability",
    "claim_forecasts",
    "claim_scores_table",
    "claim_voi_table",
    "claim_what_would_move",
    "diagnostics_table",
    "fit",
    "hindcast_claims",
    "hindcast_comparison",
    "indicator_context",
    "observations_table",
    "pit_table",
    "plot_backtest_events",
    "plot_claim",
    "plot_claim_path",
    "plot_fan",
    "plot_observations",
    "plot_pit",
    "plot_prior_predictive",
    "plot_probability_history",
    "plot_reliability",
    "reliability",
    "sampler_settings",
    "score_comparison",
    "scoreboard",
    "source_bias",
    "source_offsets",
    "value_of_information",
    "verdict",
    "who_runs_hot",
    "write_outputs",
]
