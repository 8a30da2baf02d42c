"""From trajectories to claim probabilities; resolution, scores, baselines and backtests.

Importing this package is cheap (no model code): the command line reads `DEFAULT_SEED` here.
"""

DEFAULT_SEED = 20250717
"""The base seed of every fit, baseline and backtest unless `--seed` says otherwise."""
