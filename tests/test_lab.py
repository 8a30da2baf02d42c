"""JupyterLab, the researchers' tool: the server starts (as root too), opens claim.ipynb, runs
every cell in a real browser, and the notebook it saves holds no error output."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM

REPO = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).with_name("jupyter")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path: Path):  # noqa: ANN201
    """A JupyterLab server on a copy of the project, as `make lab` starts it."""
    if not (JUPYTER.parent / "jupyter-lab").exists():
        pytest.skip("JupyterLab not installed: pip install -e '.[lab]'")
    root = tmp_path / "proj"
    for part in ("data", "forecasts", "notebooks"):
        shutil.copytree(REPO / part, root / part)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        str(JUPYTER),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--notebook-dir={root / 'notebooks'}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: its commands drive the test
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config")}
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("jupyter lab did not start:\n" + (tmp_path / "lab.log").read_text())
                time.sleep(1)
        yield url, token, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_claim_notebook_runs_in_jupyterlab(lab) -> None:  # noqa: ANN001
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    url, token, root = lab
    saved = root / "notebooks" / "claim.ipynb"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(300_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.goto(f"{url}/lab/tree/claim.ipynb?token={token}")
        try:
            # ready: the notebook's cells are laid out and its kernel is up and idle
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " const k = w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel;"
                " return w && w.context.isReady && w.content.widgets.length > 0"
                " && k && k.status === 'idle'; }"
            )
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-open.png"))
            # Run > Run All Cells, as a researcher would: the menu bar, then the item
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            page.wait_for_function(
                "() => /\\[\\d+\\]/.test(document.querySelector('.jp-CodeCell .jp-InputPrompt')"
                ".textContent)"
            )
            page.wait_for_function(
                "() => ![...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                ".some(p => p.textContent.includes('*'))"
                " && document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")"
            )
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab.png"))
            raise
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.time() + 60
        while True:
            nb = json.loads(saved.read_text())
            cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
            if any(c.get("execution_count") for c in cells) or time.time() > deadline:
                break
            time.sleep(1)
        browser.close()
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == [], [f"{e['ename']}: {e['evalue']}" for e in errors]
    assert all(c.get("execution_count") for c in cells), f"not every cell ran: {prompts}"
    assert any(
        o.get("output_type") in ("display_data", "execute_result")
        for c in cells
        for o in c["outputs"]
    )
