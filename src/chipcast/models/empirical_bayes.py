"""Priors learned from a reference class: empirical Bayes for the growth family's trend.

The growth family (`growth`) is a damped local linear trend on the log scale. Its trend priors
(the level shocks' scale, the slope's drift, its damping and its long-run rate) were set by
hand; here they are estimated from many real series of the same kind, as the prior a new series
starts from (how a hierarchical model borrows strength when one series has five figures).

The estimate maximises the marginal likelihood of the reference series, summed over series,
with each series' own shock scales integrated out under the hyperprior:

    x_t = log(y_t / median y)       (the family's scaled log; one figure a year)
    x_t = L_t + eps_t,                        eps_t ~ N(0, h)       (reporting noise)
    L_{t+1} = L_t + m + e_t + sig_level z_t                         (level, shocks)
    e_{t+1} = rho e_t + sig_slope u_t,        e_0 ~ its stationary law (slope excess)
    m ~ N(mu_mean, mu_sigma^2)                                       (the long-run rate)
    L_0 ~ N(0, level0_sd^2)
    sig_level ~ LogNormal(log median, log_sd),  sig_slope ~ HalfNormal(sigma)   per series

This is the family's own model (`_trend.trend_and_sources`) with its Student-t(30) noise read
as Gaussian, h = floor^2 + sigma_pop^2 with sigma_pop from its hand-set prior (`Noise`):
linear and Gaussian given the three scales, so a Kalman filter gives each series' likelihood
exactly, with m in the state (integrated analytically), and the scales are integrated by
quadrature on a fixed grid. (Fixing the noise at its prior median instead, sd 0.058, sent the
level shocks to the grid's floor: the filter read the persistent moves as noise and drift.) rho, mu_mean and mu_sigma are found by Nelder-Mead, and for each
of their values the three scale hyperparameters are profiled (a cheap reweighting of the grid).
A refit of NUTS per series would cost hours; the filter costs seconds, and the benchmark
(`benchmarks/skill.py`) then checks the real family with these priors on held-out series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

# Quadrature grids of the per-series scales (per sqrt(year), log scale): wide enough for both
# GDP (a few percent a year) and the registry's jumping revenues (tens of percent).
SIG_LEVEL_GRID = np.geomspace(0.003, 1.2, 16)
SIG_SLOPE_GRID = np.linspace(0.0, 0.6, 11)


@dataclass(frozen=True)
class Hyper:
    """The learned trend hyperparameters (rates per year, log scale)."""

    sig_level_median: float
    sig_level_log_sd: float
    sig_slope_sigma: float
    rho: float
    mu_mean: float
    mu_sigma: float


def scaled_log(values: np.ndarray) -> np.ndarray:
    """(series, T) log(y / the series' median y): the family's data scale (`growth.data_scale`)."""
    v = np.asarray(values, dtype=float)
    return np.log(v / np.nanmedian(v, axis=1, keepdims=True))


def kalman_loglik(
    x: np.ndarray,
    sig_level: np.ndarray,
    sig_slope: np.ndarray,
    rho: float,
    mu_mean: float,
    mu_sigma: float,
    obs_var: float | np.ndarray,
    level0_sd: float,
) -> np.ndarray:
    """Log likelihood of each series under each (sig_level, sig_slope, obs_var) grid point.

    x: (S, T) scaled logs (NaN: missing, skipped); sig_level, sig_slope, obs_var: (G,) grid
    points (obs_var may be one number).
    Returns (S, G). One year a step."""
    S, T = x.shape
    G = len(sig_level)
    sl = np.broadcast_to(np.asarray(sig_level, float), (S, G)).reshape(-1)
    ss = np.broadcast_to(np.asarray(sig_slope, float), (S, G)).reshape(-1)
    h = np.broadcast_to(np.asarray(obs_var, float), (S, G)).reshape(-1)
    y = np.repeat(x, G, axis=0)  # (S*G, T)
    B = S * G
    a = np.zeros((B, 3))
    a[:, 2] = mu_mean
    P = np.zeros((B, 3, 3))
    P[:, 0, 0] = level0_sd**2
    P[:, 1, 1] = ss**2 / max(1.0 - rho**2, 1e-9)
    P[:, 2, 2] = mu_sigma**2
    F = np.array([[1.0, 1.0, 1.0], [0.0, rho, 0.0], [0.0, 0.0, 1.0]])
    Q = np.zeros((B, 3, 3))
    Q[:, 0, 0] = sl**2
    Q[:, 1, 1] = ss**2
    ll = np.zeros(B)
    for t in range(T):
        yt = y[:, t]
        ok = np.isfinite(yt)
        v = np.where(ok, yt - a[:, 0], 0.0)
        f = P[:, 0, 0] + h
        ll += np.where(ok, -0.5 * (np.log(2 * np.pi * f) + v**2 / f), 0.0)
        K = P[:, :, 0] / f[:, None]
        K = np.where(ok[:, None], K, 0.0)
        a = a + K * v[:, None]
        P = P - K[:, :, None] * K[:, None, :] * f[:, None, None]
        a = a @ F.T
        P = F @ P @ F.T + Q
    return ll.reshape(S, G)


@dataclass(frozen=True)
class Noise:
    """The reporting noise's variance as quadrature nodes and log weights: floor^2 + sigma^2,
    sigma ~ LogNormal(median, log_sd) (the family's hand-set `sigma_pop`, not learned: a
    reference series has one source, so it says nothing of how analysts disagree)."""

    variance: np.ndarray
    log_weight: np.ndarray

    @classmethod
    def of(cls, floor: float, median: float, log_sd: float, nodes: int = 5) -> Noise:
        z, w = np.polynomial.hermite_e.hermegauss(nodes)
        sigma = median * np.exp(log_sd * z)
        return cls(floor**2 + sigma**2, np.log(w / w.sum()))

    @classmethod
    def fixed(cls, variance: float) -> Noise:
        return cls(np.array([variance]), np.zeros(1))


def _grid(noise: Noise) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L, Sg, H = np.meshgrid(SIG_LEVEL_GRID, SIG_SLOPE_GRID, noise.variance, indexing="ij")
    return L.reshape(-1), Sg.reshape(-1), H.reshape(-1)


def grid_log_weights(median: float, log_sd: float, hn_sigma: float, noise: Noise) -> np.ndarray:
    """(G,) log prior mass of each grid point: LogNormal(median, log_sd) on the log-spaced level
    grid, HalfNormal(hn_sigma) on the even slope grid, each normalised over its grid, times the
    noise nodes' weights."""
    lg = np.log(SIG_LEVEL_GRID)
    wl = -0.5 * ((lg - np.log(median)) / log_sd) ** 2
    wl -= logsumexp(wl)
    ws = -0.5 * (SIG_SLOPE_GRID / hn_sigma) ** 2
    ws -= logsumexp(ws)
    w = wl[:, None, None] + ws[None, :, None] + noise.log_weight[None, None, :]
    return w.reshape(-1)


def marginal(ll: np.ndarray, median: float, log_sd: float, hn_sigma: float, noise: Noise) -> float:
    """Sum over series of log sum over the grid of prior mass x likelihood."""
    w = grid_log_weights(median, log_sd, hn_sigma, noise)
    return float(logsumexp(ll + w[None, :], axis=1).sum())


def _profile_scales(ll: np.ndarray, start: np.ndarray, noise: Noise) -> tuple[float, np.ndarray]:
    lo = np.log([SIG_LEVEL_GRID[0], 0.05, 0.005])
    hi = np.log([SIG_LEVEL_GRID[-1], 3.0, 1.0])

    def neg(p: np.ndarray) -> float:
        # kept inside the grid's range, where the weights are defined (outside: a flat penalty)
        q = np.clip(p, lo, hi)
        return -marginal(ll, *np.exp(q), noise) + 1e3 * float(np.sum(np.abs(p - q)))

    start = np.clip(start, lo, hi)
    simplex = start[None, :] + np.vstack([np.zeros(3), 0.3 * np.eye(3)])
    res = minimize(
        neg, start, method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-3, "initial_simplex": simplex},
    )  # fmt: skip
    return -float(res.fun), np.clip(res.x, lo, hi)


@dataclass(frozen=True)
class Fit:
    hyper: Hyper
    log_marginal: float
    series: int
    evaluations: int


def fit_hyper(
    values: np.ndarray,
    noise: Noise,
    level0_sd: float,
    start: Hyper,
    maxiter: int = 150,
) -> Fit:
    """Maximise the marginal likelihood of the reference series `values` (S, T; NaN missing)."""
    x = scaled_log(values)
    L, Sg, H = _grid(noise)
    cache: dict[tuple, tuple[float, np.ndarray]] = {}
    scale_start = np.log([start.sig_level_median, start.sig_level_log_sd, start.sig_slope_sigma])
    best: dict[str, object] = {"x": scale_start}

    def outer(p: np.ndarray) -> float:
        rho = 1 / (1 + np.exp(-p[0]))
        key = tuple(np.round(p, 6))
        if key not in cache:
            ll = kalman_loglik(x, L, Sg, rho, p[1], np.exp(p[2]), H, level0_sd)
            cache[key] = _profile_scales(ll, best["x"], noise)  # type: ignore[arg-type]
            best["x"] = cache[key][1]
        return -cache[key][0]

    p0 = np.array([np.log(start.rho / (1 - start.rho)), start.mu_mean, np.log(start.mu_sigma)])
    # an explicit first simplex: scipy's default perturbs a zero start (mu_mean) by 0.00025
    steps = np.diag([0.5, 0.05, 0.5])
    res = minimize(
        outer, p0, method="Nelder-Mead",
        options={"maxiter": maxiter, "xatol": 1e-3, "fatol": 1e-2,
                 "initial_simplex": p0[None, :] + np.vstack([np.zeros(3), steps])},
    )  # fmt: skip
    p = res.x
    value, scales = cache[tuple(np.round(p, 6))]
    hyper = Hyper(
        sig_level_median=float(np.exp(scales[0])),
        sig_level_log_sd=float(np.exp(scales[1])),
        sig_slope_sigma=float(np.exp(scales[2])),
        rho=float(1 / (1 + np.exp(-p[0]))),
        mu_mean=float(p[1]),
        mu_sigma=float(np.exp(p[2])),
    )
    return Fit(hyper, value, int(x.shape[0]), len(cache))


def log_marginal_at(values: np.ndarray, hyper: Hyper, noise: Noise, level0_sd: float) -> float:
    """The marginal likelihood of `values` at given hyperparameters (e.g. the hand-set ones)."""
    x = scaled_log(values)
    L, Sg, H = _grid(noise)
    ll = kalman_loglik(x, L, Sg, hyper.rho, hyper.mu_mean, hyper.mu_sigma, H, level0_sd)
    h = hyper
    return marginal(ll, h.sig_level_median, h.sig_level_log_sd, h.sig_slope_sigma, noise)
