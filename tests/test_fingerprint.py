"""Fingerprints hash what changes a forecast: code (not its docstrings or comments), data,
parameters, package versions; presentation code is not hashed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chipcast.pipeline import fingerprint as fp

LIBRARY = Path(fp.__file__).resolve().parents[1]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    dest = tmp_path / "chipcast"
    shutil.copytree(LIBRARY, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def code(family: str, library: Path) -> str:
    fp.model_code.cache_clear()
    return fp.model_code(family, library)


def test_a_docstring_or_comment_edit_changes_nothing(library: Path) -> None:
    before = code("share", library)
    share = library / "models" / "share.py"
    text = share.read_text()
    start = text.index('"""') + 3
    share.write_text(text[:start] + "Reworded. " + text[start:] + "\n# a comment at the end\n")
    _edit(library / "analysis" / "indicator.py", '"""Fit the', '"""Fit, as before, the')
    assert code("share", library) == before


def test_a_code_edit_changes_the_fingerprint(library: Path) -> None:
    before = code("share", library)
    _edit(library / "models" / "share.py", "EPS = 1e-4", "EPS = 2e-4")
    edited = code("share", library)
    assert edited != before
    _edit(
        library / "analysis" / "indicator.py",
        "seed = DEFAULT_SEED if",
        "seed = 1 + DEFAULT_SEED if",
    )
    assert code("share", library) != edited


def test_the_fit_path_is_hashed_and_presentation_is_not(library: Path) -> None:
    before = {f: code(f, library) for f in ("share", "growth")}
    (library / "analysis" / "plots.py").write_text("PALETTE = ()\n")
    (library / "report" / "charts.py").write_text("")
    assert {f: code(f, library) for f in before} == before
    _edit(library / "evaluate" / "probability.py", "years_ahead: int = 2", "years_ahead: int = 3")
    after = {f: code(f, library) for f in before}
    assert all(after[f] != before[f] for f in before)


def test_one_familys_module_does_not_touch_anothers(library: Path) -> None:
    before = code("growth", library)
    _edit(library / "models" / "share.py", "EPS = 1e-4", "EPS = 2e-4")
    assert code("growth", library) == before


def test_notebook_code_ignores_comments_and_markdown(tmp_path: Path) -> None:
    from tests.pipeline_support import write_notebook

    a = write_notebook(tmp_path / "a.ipynb", "%matplotlib inline\nx = 1  # one\ny = f(x)")
    b = write_notebook(tmp_path / "b.ipynb", "%matplotlib inline\nx = 1\n\n# why\ny = f(x)")
    c = write_notebook(tmp_path / "c.ipynb", "%matplotlib inline\nx = 2\ny = f(x)")
    d = write_notebook(tmp_path / "d.ipynb", "x = 1\ny = f(x)")
    assert fp.notebook_code(a) == fp.notebook_code(b)
    assert fp.notebook_code(a) != fp.notebook_code(c)
    assert fp.notebook_code(a) != fp.notebook_code(d)  # the magic counts


def test_packages_include_the_sampler() -> None:
    versions = fp.package_versions()
    assert {"python", "pymc", "nutpie", "numba", "numpy"} <= set(versions)
