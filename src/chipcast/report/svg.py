"""The site's charts as static SVG: vl-convert, a content-hash cache, and two workers.

vl-convert (Vega and Vega-Lite compiled into a Rust library with its own JavaScript engine)
turns a chart's Vega-Lite spec into SVG with no browser, no network and no JavaScript in the
result. A render costs ~0.1 CPU s (measured: benchmarks/charts.py), so each SVG is kept under `.chipcast/charts/`
keyed by a hash of its spec and the renderer's version: a rebuild redraws only the charts
whose data changed, and a large batch still to draw is shared with a second process.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RENDERER_VERSION = "2"  # part of every cache key: bump when the post-processing changes
WORKERS = 2
PARALLEL_FROM = 12  # fewer charts than this are drawn in the calling process (no spawn cost)


@dataclass(frozen=True)
class Rendered:
    """One chart as SVG, with the words a screen reader and a tooltip give for it."""

    svg: str  # as vl-convert wrote it, plus <title> and <desc>
    title: str
    desc: str


def spec_of(chart: Any) -> dict[str, Any]:
    """The chart's Vega-Lite spec (a dict passes through)."""
    return chart if isinstance(chart, dict) else chart.to_dict()


def _vl_version(spec: dict[str, Any]) -> str | None:
    m = re.search(r"/v(\d+)\.(\d+)", str(spec.get("$schema", "")))
    return f"{m[1]}.{m[2]}" if m else None


def _converter_version() -> str:
    import vl_convert

    return getattr(vl_convert, "__version__", "?")


def spec_key(spec: dict[str, Any]) -> str:
    """The cache key: the spec (its data included), the renderer and its post-processing."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    h = hashlib.sha256(text.encode())
    h.update(f"|{_converter_version()}|{RENDERER_VERSION}".encode())
    return h.hexdigest()


def _title_text(spec: dict[str, Any]) -> str:
    t = spec.get("title")
    t = t.get("text", "") if isinstance(t, dict) else t
    return " ".join(t) if isinstance(t, list) else str(t or "")


# What Vega writes that a static picture does not use: per-mark ARIA (the chart is one image
# to a screen reader: `inline` gives the root role="img" and its title and description),
# hover hints, class names no stylesheet reads, default opacities, and the empty background
# and foreground paths of every axis group.
_UNUSED = re.compile(r'\s(?:aria-[a-z]+|role|pointer-events|class)="[^"]*"|\sopacity="1"')
_EMPTY_PATHS = re.compile(r'<path d="M0,0h0v0h0Z"/>|<path d="" display="none"/>')
_FONT = re.compile(r'\sfont-family="([^"]*)"')


def slim(svg: str) -> str:
    """The SVG without what a static picture never uses (`_UNUSED`), its most common font
    family set once on the root (every text inherits it) instead of on each text: the same
    picture in about half the bytes."""
    head, sep, body = svg.partition(">")
    if not sep:
        return svg
    body = _EMPTY_PATHS.sub("", _UNUSED.sub("", body))
    fonts = _FONT.findall(body)
    if fonts:
        common = max(set(fonts), key=fonts.count)
        body = body.replace(f' font-family="{common}"', "")
        head += f' font-family="{common}"'
    return head + sep + body


def to_svg(spec: dict[str, Any]) -> str:
    """One spec through vl-convert, slimmed (`slim`), with its title and description as SVG
    <title>/<desc>."""
    import vl_convert

    version = _vl_version(spec)
    try:
        svg = vl_convert.vegalite_to_svg(spec, vl_version=version) if version else None
    except ValueError:  # a Vega-Lite version this vl-convert does not ship: use its newest
        svg = None
    if svg is None:
        svg = vl_convert.vegalite_to_svg(spec)
    svg = slim(svg)
    title = html.escape(_title_text(spec))
    desc = html.escape(str(spec.get("description", "")))
    return re.sub(r"(<svg\b[^>]*>)", rf"\1<title>{title}</title><desc>{desc}</desc>", svg, count=1)


def _draw(specs: list[dict[str, Any]]) -> list[str]:
    """Draw a batch of specs (in a worker process)."""
    return [to_svg(s) for s in specs]


class Helpers:
    """Chart-drawing processes, each a bare `python -m chipcast.report.svg` (it imports nothing
    of the site) that warms vl-convert's JavaScript engine up, then draws the batch of specs it
    is fed as JSON on stdin. Started ahead of their work, their start-up (~0.7 s each) overlaps
    the caller's; a thread feeds each one and reads it, so the caller is free meanwhile."""

    def __init__(self, n: int = WORKERS) -> None:
        import subprocess
        import sys

        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "chipcast.report.svg"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            for _ in range(max(1, n))
        ]
        self.used = 0

    def __len__(self) -> int:
        return len(self.procs) - self.used

    def submit(self, batch: list[dict[str, Any]]) -> Future[list[str]]:
        """`batch` drawn by the next idle helper."""
        from concurrent.futures import ThreadPoolExecutor

        proc = self.procs[self.used]
        self.used += 1

        def run() -> list[str]:
            out, _ = proc.communicate(json.dumps(batch).encode())
            if proc.returncode != 0:
                raise RuntimeError(f"a chart-drawing process failed (exit {proc.returncode})")
            return json.loads(out)

        pool = ThreadPoolExecutor(max_workers=1)
        try:
            return pool.submit(run)
        finally:
            pool.shutdown(wait=False)

    def close(self) -> None:
        """Let the helpers given no work exit."""
        for proc in self.procs[self.used :]:
            proc.communicate(b"[]")
        self.used = len(self.procs)


def _interleave(batches: list[list[str]], n: int) -> list[str]:
    result: list[str] = [""] * sum(len(b) for b in batches)
    for i, batch in enumerate(batches):
        result[i::n] = batch
    return result


def draw_all(specs: list[dict[str, Any]], workers: int = WORKERS) -> list[str]:
    """Every spec as SVG, in order. vl-convert draws one chart at a time per process (a thread
    pool gains ~20%), so a large batch is shared with `workers - 1` helper processes."""
    n = min(max(1, workers), len(specs))
    if n <= 1 or len(specs) < PARALLEL_FROM:
        return _draw(specs)
    batches = [specs[i::n] for i in range(n)]
    helpers = Helpers(n - 1)
    futures = [helpers.submit(b) for b in batches[1:]]
    return _interleave([_draw(batches[0]), *(f.result() for f in futures)], n)


def cache_is_cold(cache: Path | None) -> bool:
    """Whether a site build will draw many charts: its cache is missing or nearly empty (a
    fresh clone), so helpers are worth starting before the charts are even specified."""
    if cache is None or not cache.is_dir():
        return True
    return (
        sum(1 for _ in zip(range(PARALLEL_FROM), cache.glob("*.svg"), strict=False)) < PARALLEL_FROM
    )


class Drawing:
    """Charts being drawn: `result()` gives every chart by name, from the cache or drawn.

    Started by `start`: a large batch is drawn by helper processes in the background (those
    given, else new ones), so the caller can work on (the site computes its scores meanwhile);
    a small one is drawn in the calling process when the result is asked for.
    """

    def __init__(
        self,
        charts: Mapping[str, Any],
        cache: Path | None,
        workers: int = WORKERS,
        helpers: Helpers | None = None,
    ) -> None:
        self.cache = cache
        self.specs = {name: spec_of(c) for name, c in charts.items()}
        self.keys = {name: spec_key(s) for name, s in self.specs.items()}
        self.svgs: dict[str, str] = {}
        self.todo: dict[str, str] = {}  # key -> a name with that spec
        for name, key in self.keys.items():
            hit = cache / f"{key}.svg" if cache is not None else None
            if hit is not None and hit.exists():
                self.svgs[key] = hit.read_text(encoding="utf-8")
            else:
                self.todo.setdefault(key, name)
        batch = [self.specs[n] for n in self.todo.values()]
        self.futures: list[Future[list[str]]] = []
        if len(batch) >= PARALLEL_FROM:
            pool = helpers if helpers is not None and len(helpers) else Helpers(workers)
            self.n = min(len(pool), len(batch))
            self.futures = [pool.submit(batch[i :: self.n]) for i in range(self.n)]
        if helpers is not None:
            helpers.close()

    def result(self) -> dict[str, Rendered]:
        if self.todo:
            if self.futures:
                svgs = _interleave([f.result() for f in self.futures], self.n)
            else:
                svgs = _draw([self.specs[n] for n in self.todo.values()])
            drawn = dict(zip(self.todo, svgs, strict=True))
            self.svgs.update(drawn)
            self.todo, self.futures = {}, []
            if self.cache is not None:
                self.cache.mkdir(parents=True, exist_ok=True)
                for key, text in drawn.items():
                    tmp = self.cache / f".{key}.{os.getpid()}.tmp"
                    tmp.write_text(text, encoding="utf-8")
                    tmp.replace(self.cache / f"{key}.svg")
        return {
            name: Rendered(
                self.svgs[self.keys[name]],
                _title_text(self.specs[name]),
                str(self.specs[name].get("description", "")),
            )
            for name in self.specs
        }


def start(
    charts: Mapping[str, Any],
    cache: Path | None = None,
    workers: int = WORKERS,
    helpers: Helpers | None = None,
) -> Drawing:
    """Start drawing every chart (by name) that `cache` does not hold, on helper processes
    (`helpers`, else `workers` new ones) when there are many; `.result()` waits for them."""
    return Drawing(charts, cache, workers, helpers)


def render(
    charts: Mapping[str, Any], cache: Path | None = None, workers: int = WORKERS
) -> dict[str, Rendered]:
    """Every chart as SVG, by name: from `cache` when its spec was drawn before, else drawn
    (on `workers` processes) and stored there."""
    return start(charts, cache, workers).result()


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def inline(svg: str, uid: str) -> str:
    """An SVG fit to sit in a page: ids made unique to `uid` (two charts on one page must not
    share a clip path), sized by the page's stylesheet (class `chart`), labelled for readers."""
    svg = _ID.sub(lambda m: f'id="{uid}-{m[1]}"', svg)
    svg = _REF.sub(lambda m: f"{m[1]}{uid}-{m[2]}", svg)

    def root(m: re.Match[str]) -> str:
        tag = re.sub(r'\s(width|height|class)="[^"]*"', "", m[0])
        return tag[:-1] + f' class="chart" role="img" aria-labelledby="{uid}-title {uid}-desc">'

    svg = re.sub(r"<svg\b[^>]*>", root, svg, count=1)
    svg = svg.replace("<title>", f'<title id="{uid}-title">', 1)
    return svg.replace("<desc>", f'<desc id="{uid}-desc">', 1)


def notebook_bundle(spec: dict[str, Any], **_metadata: Any) -> dict[str, Any]:
    """A chart's mimebundle in a notebook: the live Vega-Lite spec for JupyterLab, and the same chart as SVG
    for every other front end (nbconvert's HTML, which the site shows, and plain viewers)."""
    major = str(spec.get("$schema", "v5")).rpartition("/v")[2].split(".")[0] or "5"
    return {
        f"application/vnd.vegalite.v{major}+json": spec,
        "image/svg+xml": to_svg(spec),
        "text/plain": f"<chart: {_title_text(spec)}>",
    }


if __name__ == "__main__":  # a helper process of `Helpers`: specs in on stdin, SVGs out
    import sys

    to_svg({"mark": "point"})  # the engine's first chart costs ~0.6 s: pay it before the work
    sys.stdout.write(json.dumps(_draw(json.loads(sys.stdin.buffer.read()))))
