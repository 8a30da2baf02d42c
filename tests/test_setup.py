"""The project's set-up files agree with each other."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    reqs = [*meta["dependencies"], *(r for extra in extras.values() for r in extra)]
    out = {}
    for text in reqs:
        req = Requirement(text)
        spec = ",".join(sorted(str(s) for s in req.specifier))
        out[req.name.lower()] = spec
        for extra in req.extras:  # dask[distributed] is two conda packages
            out[extra.lower()] = spec
    return out


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str) or dep.startswith("python"):
            continue
        name, _, spec = dep.partition(" ")
        out[name.lower()] = ",".join(sorted(s.strip() for s in spec.split(",") if s.strip()))
    return out


def test_environment_yml_matches_pyproject() -> None:
    assert _conda_requirements() == _pyproject_requirements()


def test_jupyterlab_is_an_extra_and_pinned() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert [Requirement(r).name for r in meta["optional-dependencies"]["lab"]] == ["jupyterlab"]
    assert "jupyterlab==" in (REPO / "requirements.lock").read_text()


def test_major_versions_pinned_for_the_stack() -> None:
    reqs = _pyproject_requirements()
    assert reqs["pymc"] == "<6,>=5"
    assert reqs["pytensor"] == "<3,>=2"
    assert reqs["arviz"].startswith("<0.24")


def test_lock_file_pins_every_package_exactly() -> None:
    lines = [
        ln.strip()
        for ln in (REPO / "requirements.lock").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines, "requirements.lock is empty"
    for ln in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^\s;]+(\s*;.*)?", ln), ln
    pinned = {ln.split("==")[0].lower().replace("_", "-") for ln in lines}
    for name in ("pymc", "pytensor", "arviz", "papermill", "pandas"):
        assert name in pinned


def test_notebooks_use_python3_kernel_and_are_stripped() -> None:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, path
                assert not re.search(r"^\s*(def|class)\s", "".join(cell["source"]), re.M), path


def test_an_unmarked_test_may_not_sample() -> None:
    """The conftest guard: sampling outside a `slow` test fails and says what to do."""
    import pymc
    import pytest

    with pytest.raises(RuntimeError, match="mark it slow"):
        pymc.sample(draws=10)


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(".ci/run" in s for s in steps)
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_lock_file_pins_every_direct_requirement_within_its_range() -> None:
    """pyproject.toml, environment.yml and requirements.lock name the same packages: each
    direct requirement is pinned in the lock at a version its range allows."""
    pins = {}
    for ln in (REPO / "requirements.lock").read_text().splitlines():
        if ln.strip() and not ln.startswith("#"):
            name, _, version = ln.split(";")[0].strip().partition("==")
            pins[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version
    for name, spec in _pyproject_requirements().items():
        key = re.sub(r"[-_.]+", "-", name)
        assert key in pins, f"{name} is not pinned in requirements.lock"
        assert Requirement(f"{key}{spec}").specifier.contains(pins[key], prereleases=True), (
            f"requirements.lock pins {name}=={pins[key]}, outside {spec}"
        )


def test_charts_stack_is_declared() -> None:
    """The one chart implementation (Vega-Lite specs drawn to SVG by vl-convert) is a direct
    dependency with a pinned major; matplotlib, which draws nothing of ours, is not."""
    reqs = _pyproject_requirements()
    assert reqs["vl-convert-python"] == "<2,>=1.7"
    assert "matplotlib" not in reqs
