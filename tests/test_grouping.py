"""Workers get fits grouped by compiled model (family and size class)."""

from __future__ import annotations

from pathlib import Path

from chipcast.pipeline import execute as E
from chipcast.pipeline.execute import assign, compile_group
from chipcast.pipeline.kernel import Job


def _job(i: str, group: str) -> Job:
    return Job(i, "indicator", "nb", f"out-{i}", {"group": group}, ".")


def _group(job: Job) -> str:
    return str(job.parameters["group"])


def test_groups_stay_whole_and_workers_balance() -> None:
    jobs = [_job(f"s{k}", "share/T4-N4-S2") for k in range(4)]
    jobs += [_job(f"g{k}", "growth/T8-N4-S2") for k in range(3)]
    jobs += [_job("c0", "count/T16-N16-S2")] + [_job(f"l{k}", "") for k in range(4)]
    queues = assign(jobs, 2, _group)
    assert sorted(j.id for q in queues for j in q) == sorted(j.id for j in jobs)
    for g in {_group(j) for j in jobs if _group(j)}:
        holders = [w for w, q in enumerate(queues) if any(_group(j) == g for j in q)]
        assert len(holders) == 1, g  # each compiled model on one worker: compiled once
        q = [_group(j) for j in queues[holders[0]]]
        first = q.index(g)
        assert q[first : first + q.count(g)] == [g] * q.count(g)  # back to back
    # 4 shares (cost 3 + 4) on one worker; growth (3 + 3), count (3 + 1) and levels share the other
    sizes = sorted(len(q) for q in queues)
    assert sizes == [4, 8]


def test_a_worker_that_compiled_a_group_gets_its_later_fits() -> None:
    seen = [set(), {"share/T4-N4-S2"}]
    queues = assign([_job("s9", "share/T4-N4-S2")], 2, _group, seen)
    assert [j.id for j in queues[1]] == ["s9"] and not queues[0]


def test_an_idle_worker_steals_a_group_it_knows_first(monkeypatch) -> None:
    monkeypatch.setattr(E, "compile_group", _group)
    queues = [[], [_job("a", "x"), _job("b", "y"), _job("c", "x"), _job("d", "z")]]
    assert E._next_job(queues, 0, {"y"}).id == "b"
    assert E._next_job(queues, 0, set()).id == "d"  # else the back of the longest queue
    assert E._next_job(queues, 1, set()).id == "a"  # its own queue, in order
    assert E._next_job([[], []], 0, set()) is None


def test_compile_group_reads_the_fit_the_notebook_will_make(mini: Path) -> None:
    params = {"indicator_id": "dom_share", "root": str(mini), "as_of": "2026-11-23"}
    job = Job("dom_share", "indicator", "nb", str(mini / "x.ipynb"), params, ".")
    assert compile_group(job).startswith("share/T")
    level = Job("tariff_rate", "indicator", "nb", str(mini / "y.ipynb"),
                {**params, "indicator_id": "tariff_rate"}, ".")  # fmt: skip
    assert compile_group(level) == ""  # exact Monte Carlo: nothing to compile
    assert compile_group(Job("scoreboard", "scoreboard", "nb", "z", {}, ".")) == ""
