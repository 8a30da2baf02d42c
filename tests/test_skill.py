"""The skill benchmark: its sample, forecasters and scores, and the learned priors' file."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from chipcast.evaluate import skill as SK
from chipcast.models import _priors, empirical_bayes, growth

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))

import skill as bench  # noqa: E402  (benchmarks/skill.py)


@pytest.fixture(scope="module")
def gdp() -> pd.DataFrame:
    return bench.load_gdp()


def toy_task(n: int = 10, growth_rate: float = 0.05, horizons: int = 6) -> SK.Task:
    rng = np.random.default_rng(3)
    z = np.cumsum(growth_rate + 0.03 * rng.standard_normal(n + horizons)) + np.log(1e10)
    v = np.exp(z)
    return SK.Task("XXX", 2000, np.arange(2000 - n + 1, 2001), v[:n], v[n:], "test")


# --- data and sample -----------------------------------------------------------------------


def test_benchmark_data_holds_economies_only(gdp):
    codes = set(gdp["economy"])
    assert not codes & {"WLD", "HIC", "EAS", "EUU", "OED", "LMY", "SSF"}  # aggregates removed
    assert len(codes) == 217 and {"USA", "CHN", "DEU"} <= codes


def test_sample_is_the_fixed_draw(gdp):
    """The committed sample is what `--draw-sample` draws: fixed before any result, halves
    split by economy."""
    committed = pd.read_csv(bench.SAMPLE)
    drawn = SK.draw_sample(
        gdp, bench.ECONOMIES, bench.ORIGINS, bench.SAMPLE_SEED, max(bench.HISTORIES), bench.HORIZONS
    )
    pd.testing.assert_frame_equal(committed, drawn, check_dtype=False)
    halves = committed.groupby("economy")["half"].nunique()
    assert (halves == 1).all()
    assert committed.groupby("half")["economy"].nunique().to_dict() == {"dev": 50, "test": 50}


def test_tasks_cut_history_and_outcomes(gdp):
    sample = pd.read_csv(bench.SAMPLE).head(2)
    tasks = SK.tasks_from_sample(gdp, sample, (6, 10), 6)
    assert [t.history for t in tasks] == [6, 10] * 2
    s = SK.runs(gdp)[tasks[1].economy]
    t = tasks[1]
    assert list(t.years) == list(range(t.origin - 9, t.origin + 1))
    np.testing.assert_allclose(t.actual, s.loc[t.origin + 1 : t.origin + 6].to_numpy())


def test_runs_take_the_longest_consecutive_positive_stretch():
    df = pd.DataFrame(
        {
            "economy": ["A"] * 7,
            "year": [1, 2, 3, 5, 6, 7, 8],
            "value": [1.0, 2.0, 3.0, 1.0, np.nan, 2.0, 3.0],
        }
    )
    assert list(SK.runs(df)["A"].index) == [1, 2, 3]


# --- scores ---------------------------------------------------------------------------------


def test_smape_and_score_task():
    assert SK.smape(np.array([100.0]), np.array([100.0]))[0] == 0.0
    assert SK.smape(np.array([50.0]), np.array([150.0]))[0] == pytest.approx(100.0)
    task = toy_task()
    draws = np.repeat(task.actual[None, :], 50, axis=0) * np.linspace(0.9, 1.1, 50)[:, None]
    rows = SK.score_task(task, "m", draws)
    assert len(rows) == 6 and (rows["cov80"] == 1).all() and (rows["smape"] < 1e-6).all()
    with pytest.raises(ValueError, match="bad draws"):
        SK.score_task(task, "m", draws[:, :3])


def test_summary_relative_crps_and_cluster_interval():
    rows = []
    for e, economy in enumerate("ABCD"):
        for model, crps, hit in (("naive", 2.0, 1.0), ("ets", 1.0, 0.0), ("growth", 0.5, 1.0)):
            rows.append(
                {
                    "economy": economy,
                    "origin": 2000,
                    "history": 6,
                    "horizon": 1,
                    "model": model,
                    "crps": crps * (e + 1),
                    "smape": 10.0,
                    "cov50": hit,
                    "cov80": hit if economy != "D" else 0.0,
                    "cov95": hit,
                }
            )
    s = SK.summarise(pd.DataFrame(rows)).set_index("model")
    assert s.loc["growth", "crps_rel_naive"] == pytest.approx(0.25)
    assert s.loc["growth", "crps_rel_ets"] == pytest.approx(0.5)
    assert s.loc["growth", "cov80"] == pytest.approx(0.75)
    assert 0.0 <= s.loc["growth", "cov80_lo"] <= 0.75 <= s.loc["growth", "cov80_hi"] <= 1.0
    line = SK.contract_line(s.reset_index(), "growth")
    assert line.startswith("series=4 crps_rel_naive=0.250 crps_rel_ets=0.500 cov80=0.750")


# --- baselines on a real-looking series --------------------------------------------------------


@pytest.mark.parametrize("name", ["naive", "ets", "theta"])
@pytest.mark.parametrize("n", [6, 10])
def test_baselines_give_finite_positive_draws(name, n):
    task = toy_task(n)
    draws = SK.BASELINE_FORECASTERS[name](task, 400, 1)
    assert draws.shape == (400, 6) and np.isfinite(draws).all() and (draws > 0).all()
    med = np.median(draws, axis=0)
    assert np.all(np.abs(np.log(med / task.values[-1])) < 1.0)
    again = SK.BASELINE_FORECASTERS[name](task, 400, 1)
    np.testing.assert_array_equal(draws, again)


# --- learned priors -------------------------------------------------------------------------


def test_learned_priors_file_and_code_agree():
    """growth.LEARNED_PRIORS is the hand-set priors with exactly the file's values laid over them;
    the family still fits with the hand-set ones until our own backtest has been run with them."""
    doc = _priors.learned_file("growth")
    learned = doc["priors"]
    assert set(learned) <= set(growth.LEARNED)
    assert growth.PRIORS == growth.HANDSET_PRIORS
    got = _priors.priors_to_mapping(growth.LEARNED_PRIORS)
    hand = _priors.priors_to_mapping(growth.HANDSET_PRIORS)
    for name, values in learned.items():
        for k, v in values.items():
            assert got[name][k] == v, (name, k)
    for name in set(got) - set(learned):
        assert got[name] == hand[name], name
    prov = doc["provenance"]
    if not learned:
        return
    data = REPO / "benchmarks" / "data" / "wdi-gdp-economies.csv"
    assert prov["data_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    sample = REPO / "benchmarks" / "data" / "skill-sample.csv"
    assert prov["sample_sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    assert {"method", "code", "git_commit", "computed_on", "economies", "windows"} <= set(prov)


def test_learned_overlay_rejects_unknown_names(tmp_path):
    (tmp_path / "growth.json").write_text('{"priors": {"sig_levle": {"median": 0.1}}}')
    with pytest.raises(ValueError, match="unknown prior sig_levle"):
        _priors.learned(growth.HANDSET_PRIORS, "growth", tmp_path)


def test_kalman_loglik_equals_the_gaussian_likelihood():
    """With no slope drift the trend is Gaussian in closed form: x_t = L0 + t m + sum of level
    shocks + noise; the filter's likelihood must equal the multivariate normal's."""
    T, sl, h, l0, mm, ms = 7, 0.1, 0.01, 1.5, 0.05, 0.2
    x = np.random.default_rng(0).normal(size=(1, T)) * 0.3
    t = np.arange(T, dtype=float)
    cov = l0**2 + np.outer(t, t) * ms**2 + sl**2 * np.minimum.outer(t, t) + h * np.eye(T)
    want = multivariate_normal(mean=mm * t, cov=cov).logpdf(x[0])
    got = empirical_bayes.kalman_loglik(x, np.array([sl]), np.array([0.0]), 0.5, mm, ms, h, l0)
    assert got[0, 0] == pytest.approx(want, rel=1e-9)


def test_empirical_bayes_improves_on_its_start():
    rng = np.random.default_rng(1)
    S, T = 30, 12
    lv = np.cumsum(0.06 + 0.05 * rng.standard_normal((S, T)), axis=1)
    values = np.exp(lv + 0.01 * rng.standard_normal((S, T)))
    start = empirical_bayes.Hyper(0.2, 0.75, 0.3, 0.7, 0.0, 0.5)
    noise = empirical_bayes.Noise.of(0.005, 0.01, 0.4, nodes=3)
    fit = empirical_bayes.fit_hyper(values, noise, 1.5, start, maxiter=40)
    assert fit.log_marginal > empirical_bayes.log_marginal_at(values, start, noise, 1.5)
    assert 0.025 < fit.hyper.sig_level_median < 0.1  # simulated: 0.05
    assert 0.03 < fit.hyper.mu_mean < 0.09  # simulated: 0.06


# --- the script end to end -------------------------------------------------------------------


def test_skill_script_baselines_tiny():
    out = subprocess.run(
        [sys.executable, str(BENCH / "skill.py"), "--half", "test", "--economies", "2"]
        + ["--models", "naive,ets,theta", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    )
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("series=6 crps_rel_naive=1.000 crps_rel_ets=")
    assert "| theta |" in out.stdout


@pytest.mark.slow
def test_skill_script_growth_tiny():
    out = subprocess.run(
        [sys.executable, str(BENCH / "skill.py"), "--half", "test", "--economies", "1"]
        + ["--models", "growth,naive,ets", "--draws", "100", "--tune", "150", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    )
    last = out.stdout.strip().splitlines()[-1]
    keys = [kv.split("=")[0] for kv in last.split()]
    assert keys == ["series", "crps_rel_naive", "crps_rel_ets", "cov80", "cov80_lo", "cov80_hi"]
    assert last.startswith("series=4 ")


def test_run_tasks_stops_at_economy_boundaries_after_the_deadline():
    import time

    a, b = toy_task(6), toy_task(10)
    c = SK.Task("YYY", 2000, a.years, a.values, a.actual, "test")
    calls = []

    def fc(task, n, seed):
        calls.append(task.economy)
        return np.repeat(task.actual[None, :], n, axis=0)

    scores = SK.run_tasks([a, b, c], {"naive": fc}, 10, 1, deadline=time.monotonic() + 3600)
    assert scores.groupby(["economy", "history"]).ngroups == 3
    calls.clear()
    with pytest.raises(ValueError, match="deadline"):
        SK.run_tasks([a, b, c], {"naive": fc}, 10, 1, deadline=time.monotonic() - 1)
    assert calls == []
