"""The site in a real browser: headless Chromium over file://, no network, no server."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from chipcast.registry import load
from chipcast.report.site import build_site
from tests.test_report import RUN_NEW, TODAY, XSS, write_synthetic

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Visit:
    """One page load with every console error, page error, dialog and network request recorded."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.remote: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("dialog", self._dialog)
        page.route(re.compile(r"^(https?|wss?)://"), self._block)

    def _dialog(self, d) -> None:  # noqa: ANN001
        self.dialogs.append(d.message)
        d.dismiss()

    def _block(self, route) -> None:  # noqa: ANN001
        self.remote.append(route.request.url)
        route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")


def local_targets(page, site: Path, here: Path) -> list[Path]:  # noqa: ANN001
    """Every local href/src on the page, as a path (fragment and query dropped)."""
    refs = page.eval_on_selector_all(
        "[href], [src]", "els => els.map(e => e.getAttribute('href') ?? e.getAttribute('src'))"
    )
    out = []
    for ref in refs:
        if not ref or ref.startswith(("#", "http://", "https://", "mailto:", "data:")):
            continue
        u = urlparse(ref)
        assert not u.scheme, f"unexpected link scheme on {here.name}: {ref}"
        out.append((here.parent / unquote(u.path)).resolve())
    return out


def test_site_in_chromium(browser, mini: Path) -> None:  # noqa: ANN001
    write_synthetic(mini)
    index = build_site(mini, TODAY, run_id=RUN_NEW)
    site = index.parent
    reg = load(mini)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    v = Visit(page)

    # the index: every claim listed, markup shown as text, no dialog
    v.open(index)
    ids = page.eval_on_selector_all("#claims tbody tr", "rows => rows.map(r => r.dataset.id)")
    assert sorted(ids) == sorted(reg.claims)
    xss_cell = page.locator('tr[data-id="xss-claim"] td').first
    assert XSS in xss_cell.inner_text()
    assert page.get_by_text(XSS, exact=False).first.is_visible()

    # sorting: click a header, the order changes and follows the column; again, it reverses
    def order() -> list[str]:
        return page.eval_on_selector_all("#claims tbody tr", "rows => rows.map(r => r.dataset.id)")

    def keys(col: int) -> list[float]:
        return [
            float(x)
            for x in page.eval_on_selector_all(
                f"#claims tbody tr td:nth-child({col})", "tds => tds.map(t => t.dataset.sort)"
            )
        ]

    before = order()
    page.get_by_role("button", name="Forecast now").click()
    asc = order()
    assert asc != before
    assert keys(4) == sorted(keys(4))
    assert (
        page.locator("th", has=page.get_by_role("button", name="Forecast now")).get_attribute(
            "aria-sort"
        )
        == "ascending"
    )
    page.get_by_role("button", name="Forecast now").click()
    assert keys(4) == sorted(keys(4), reverse=True)

    # filtering by status and by tag
    page.select_option("#filter-status", "resolved")
    visible = page.eval_on_selector_all(
        "#claims tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.id)"
    )
    assert visible == ["share-2023-above-15"]
    page.select_option("#filter-status", "")
    page.select_option("#filter-tag", "market-share")
    visible = page.eval_on_selector_all(
        "#claims tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.id)"
    )
    assert sorted(visible) == ["dom-share-55-2027", "share-2023-above-15"]
    page.select_option("#filter-tag", "")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)

    # every page: loads cleanly, links resolve, images decode, nothing remote
    targets = [
        index,
        site / "scoreboard.html",
        site / "runs.html",
        *(site / "claims" / f"{c}.html" for c in sorted(reg.claims)),
        *(site / "indicators" / f"{i}.html" for i in sorted(reg.indicators)),
        *sorted((site / "notebooks").glob("*.html")),
    ]
    checked = set()
    for path in targets:
        v.open(path)
        for t in local_targets(page, site, path):
            assert t.exists(), f"broken link on {path.relative_to(site)}: {t}"
            checked.add(t)
        broken = page.eval_on_selector_all(
            "img",
            "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))",
        )
        assert broken == [], f"broken images on {path.name}: {broken}"
        assert page.locator("svg").count() == 0 or page.locator("svg title").count() > 0
        if path.name == "xss-claim.html":
            assert page.get_by_role("heading", level=1).inner_text().startswith(XSS)
            assert "<b>Mallory</b>" in page.inner_text("main")
    assert v.errors == [] and v.dialogs == [] and v.remote == [], (v.errors, v.dialogs, v.remote)
    assert site / "assets" / "site.js" in checked and site / "assets" / "site.css" in checked

    v.open(site / "claims" / "dom-share-55-2027.html")
    page.screenshot(path=str(ARTIFACTS / "claim.png"), full_page=True)
    assert (ARTIFACTS / "index.png").stat().st_size > 10_000
    page.close()


WIDTHS = (1280, 390)  # a laptop and a phone
READER_PAGES = (
    "index.html",
    "claims/dom-share-55-2027.html",
    "indicators/dom_share.html",
    "scoreboard.html",
    "watch.html",
)


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_read_at_a_laptops_and_a_phones_width(browser, mini: Path, width: int) -> None:  # noqa: ANN001
    """The index, a claim page, an indicator page and the scoreboard at 1280 and 390 px: no page
    is wider than the window (tables scroll in their own box), every chart fits its container
    with its title whole and its SVG file linked, every page carries the Content-Security-Policy,
    and none logs an error or a policy violation."""
    write_synthetic(mini)
    index = build_site(mini, TODAY, run_id=RUN_NEW)
    site = index.parent
    page = browser.new_page(viewport={"width": width, "height": 900})
    v = Visit(page)
    ARTIFACTS.mkdir(exist_ok=True)
    for rel in READER_PAGES:
        v.open(site / rel)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{rel} is {wide} px wide at {width} px"
        csp = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
        assert csp and "script-src 'self'" in csp and "unsafe-inline" not in csp, rel
        charts = page.eval_on_selector_all(
            "svg.chart",
            """els => els.map(e => ({w: e.getBoundingClientRect().width,
                                   box: e.parentElement.getBoundingClientRect().width,
                                   title: e.querySelector('title')?.textContent || ''}))""",
        )
        if rel.startswith(("claims/", "indicators/")):
            assert charts, f"no chart on {rel}"
        for c in charts:
            assert c["w"] <= c["box"] + 0.5, (rel, width, c)
            assert c["w"] > 0.8 * min(c["box"], 600), (rel, width, c)  # fills the column
            assert c["title"] and not c["title"].endswith("…"), (rel, c)
        links = page.eval_on_selector_all(
            "figcaption a[href$='.svg']", "as => as.map(a => a.getAttribute('href'))"
        )
        assert len(links) == len(charts), (rel, links)
        for href in links:
            assert (site / rel).parent.joinpath(href).is_file(), href
        name = rel.split("/")[0].removesuffix(".html").rstrip("s")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    assert v.errors == [] and v.remote == [], (v.errors, v.remote)
    page.close()
