"""The refresh: plan stale notebook jobs, run them, turn trajectories into history, render."""
