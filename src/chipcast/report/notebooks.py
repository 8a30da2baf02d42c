"""The executed indicator notebooks as pages of the site: code hidden, nothing active or remote.

A notebook's HTML comes from nbconvert and then passes nh3 (the Ammonia sanitiser) with an
allow-list: ordinary text, table and image markup survives; scripts, styles, event handlers,
forms, frames and embeds do not; links keep http(s) and mailto targets; an image keeps its
source only when it is a `data:` URI (the notebook's own plots), so no page fetches anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import nh3
from markupsafe import Markup

from chipcast.paths import Paths
from chipcast.schema import Indicator

RENDERER_VERSION = "3"  # part of each page's cache key: a new sanitiser re-renders every page

TAGS = nh3.ALLOWED_TAGS - {"map", "area"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Keep `data:` sources for images only, and never as a link target."""
    is_data = value.strip().lower().startswith("data:")
    if tag == "img" and name == "src":
        return value if is_data else None
    if name == "href" and is_data:
        return None
    return value


# nh3 can drop an attribute, not its element: an image left without a source (it pointed
# elsewhere) would show as broken, so it goes too. nh3's output quotes every attribute, so this
# tidies sanitised markup; it is not what makes the page safe.
_SOURCELESS_IMG = re.compile(r'<img(?![^>]*\ssrc=")[^>]*>')


def offline_html(body: str) -> str:
    """`body` through the allow-list: what may show, nothing that runs or loads."""
    clean = nh3.clean(
        body,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        attribute_filter=_attribute,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return _SOURCELESS_IMG.sub("", clean)


def svg_outputs_as_images(nb: Any) -> Any:
    """Charts (SVG outputs) as `<img>` with a `data:` source: the allow-list keeps an image, not
    inline SVG markup, and an SVG shown as an image runs nothing. The live Vega-Lite copy of a
    chart is dropped (nbconvert cannot show it without JavaScript)."""
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data") or {}
            svg = data.get("image/svg+xml")
            if not svg:
                continue
            text = "".join(svg) if isinstance(svg, list) else svg
            src = "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode()
            alt = html.escape(str(data.get("text/plain", "chart")), quote=True)
            out["data"] = type(data)({"text/html": f'<img src="{src}" alt="{alt}">'})
    return nb


def executed_notebooks(paths: Paths, indicators: Iterable[str]) -> dict[str, Path]:
    """The newest executed notebook of each indicator (runs are named in time order)."""
    found: dict[str, Path] = {}
    if not paths.runs.is_dir():
        return found
    wanted = list(indicators)
    for d in sorted(paths.runs.iterdir(), reverse=True):
        if not d.is_dir():
            continue
        for ind in wanted:
            f = d / f"indicator-{ind}.ipynb"
            if ind not in found and f.exists():
                found[ind] = f
    return found


def _exporter():  # noqa: ANN202 - nbconvert is imported only when a notebook exists
    from nbconvert import HTMLExporter  # a second or two to import, needed only here

    return HTMLExporter(
        template_name="basic",  # body only: no <head>, no RequireJS, no MathJax from a CDN
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def _page_key(src: Path) -> str:
    return hashlib.sha256(
        src.read_bytes() + RENDERER_VERSION.encode() + src.parent.name.encode()
    ).hexdigest()


def render_notebooks(
    out: Path,
    previous: Path | None,
    sources: dict[str, Path],
    indicators: dict[str, Indicator],
    write: Callable[..., Path],
) -> dict[str, str]:
    """Write notebooks/indicator-<id>.html for each source; return the pages by indicator.

    nbconvert takes a second or so per notebook, so a page whose notebook bytes are unchanged is
    copied from the previous site (keyed by a hash in notebooks/manifest.json). `write(rel,
    template, **context)` renders one page of the site.
    """
    pages: dict[str, str] = {}
    if not sources:
        return pages
    old_manifest: dict[str, str] = {}
    if previous is not None and (previous / "notebooks" / "manifest.json").exists():
        try:
            old_manifest = json.loads((previous / "notebooks" / "manifest.json").read_text())
        except (json.JSONDecodeError, OSError):
            old_manifest = {}
    manifest: dict[str, str] = {}
    exporter = None
    nb_dir = out / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    for ind_id, src in sorted(sources.items()):
        name = f"indicator-{ind_id}.html"
        key = manifest[ind_id] = _page_key(src)
        pages[ind_id] = f"notebooks/{name}"
        old = previous / "notebooks" / name if previous is not None else None
        if old is not None and old_manifest.get(ind_id) == key and old.exists():
            shutil.copyfile(old, nb_dir / name)
            continue
        try:
            import nbformat

            exporter = exporter or _exporter()
            nb = svg_outputs_as_images(nbformat.read(str(src), as_version=4))
            body, _ = exporter.from_notebook_node(nb)
            body_html, error = Markup(offline_html(body)), ""  # noqa: S704 - sanitised above
        except Exception as exc:  # noqa: BLE001 - one broken notebook must not stop the site
            body_html, error = Markup(""), f"{type(exc).__name__}: {exc}"
        write(
            f"notebooks/{name}",
            "notebook.html",
            ind=indicators[ind_id],
            body=body_html,
            error=error,
            run_dir=src.parent.name,
            source_name=src.name,
        )
    (nb_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return pages
