"""The static report: `build_site(root, today)` writes reports/site/ from files only.

Inputs (never a fit): the registry (`chipcast.data.load`), forecasts/history/*.csv,
forecasts/trajectories/*.csv + .json, reports/runs/*/run.json, forecasts/backtest.csv and the
executed indicator notebooks reports/runs/*/indicator-<id>.ipynb, each optional: a fresh clone
with no forecasts yet still gets a complete site.

Pages: index.html, claims/<id>.html, indicators/<id>.html, scoreboard.html, runs.html and
notebooks/indicator-<id>.html, with one stylesheet and one small script under assets/. Every
page works from file:// with no network: charts are inline SVG, nothing comes from a CDN, and
everything from YAML or CSV goes through jinja2's autoescaping.

The site is written into a temporary directory beside reports/site/ and swapped in at the end,
so a reader never sees a half-written site.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from chipcast.data import period_start_for
from chipcast.evaluate.resolution import resolve_all
from chipcast.paths import Paths
from chipcast.registry import Registry, load
from chipcast.report import charts
from chipcast.schema import Claim, Indicator, bounded_text
from chipcast.store import read_backtest, read_history, read_runs, read_trajectory

FORECASTERS = ("model", "naive", "statsmodels", "claimant", "judgment")
SCORE_COLUMNS = ("claim_id", "forecaster", "brier", "log_score", "crps", "days", "n_forecasts")
STATUS_ORDER = {"open": 0, "overdue": 1, "resolved": 2, "annulled": 3, "not_checkable": 4}
RUNS_SHOWN = 20
NOTEBOOK_RENDERER_VERSION = "1"
OPERATOR_TEXT = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


# --------------------------------------------------------------------------------------------
# formatting (used by the templates as filters)


def _isnan(x: object) -> bool:
    try:
        return x is None or (isinstance(x, float | np.floating) and math.isnan(x)) or pd.isna(x)
    except (TypeError, ValueError):
        return False


def fmt_num(x: float | None) -> str:
    """A readable number: three significant figures, thousands separated."""
    if _isnan(x):
        return "–"
    x = float(x)  # type: ignore[arg-type]
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}".removesuffix(".0")
    if a == 0:
        return "0"
    s = f"{x:.3g}"
    return s


def with_unit(text: str, label: str) -> str:
    if not label:
        return text
    return f"{text}{label}" if label in ("%", "pp") else f"{text} {label}"


def ind_value(x: float | None, ind: Indicator | None) -> str:
    """A figure in the indicator's unit, as readers see it (display scale and unit)."""
    if _isnan(x):
        return "–"
    if ind is None:
        return fmt_num(x)
    return with_unit(fmt_num(float(x) * ind.display_scale), ind.label)  # type: ignore[arg-type]


def fmt_prob(p: float | None) -> str:
    if _isnan(p):
        return "–"
    p = float(p)  # type: ignore[arg-type]
    if 0 < p < 0.01:
        return "<1%"
    if 0.99 < p < 1:
        return ">99%"
    return f"{p * 100:.0f}%"


def fmt_diag(x: object) -> str:
    """A diagnostic as recorded (R-hat 1.003 must not round to 1)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return "–" if _isnan(x) else f"{x:.6g}"


def fmt_score(x: float | None, digits: int = 3) -> str:
    return "–" if _isnan(x) else f"{float(x):.{digits}f}"  # type: ignore[arg-type]


def fmt_date(d: object) -> str:
    if _isnan(d) or d == "":
        return "–"
    if isinstance(d, pd.Timestamp | dt.datetime):
        return d.date().isoformat()
    return str(d)


def obs_text(row: pd.Series | dict[str, Any], ind: Indicator | None) -> str:
    """A published figure as published: '41%', '>30%', '<5', '4–6'."""
    scale = ind.display_scale if ind else 1.0
    text = bounded_text(
        row["censor"],
        row["value"],
        row["lower"],
        row["upper"],
        lambda x: fmt_num(None if _isnan(x) else x * scale),
        range_sep="–",
    )
    return with_unit(text, ind.label if ind else "")


def safe_url(url: object) -> str | None:
    """Only http(s) links reach an href: a `javascript:` URL in a YAML file stays text."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    return u if re.match(r"^https?://[^\s<>\"']+$", u, flags=re.I) else None


# --------------------------------------------------------------------------------------------
# reading the inputs


def empty_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=float if c not in ("claim_id", "forecaster") else object)
            for c in SCORE_COLUMNS
        }
    )


def load_scores(available: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """`chipcast.evaluate.scoreboard.claim_scores`, called with the arguments it names.

    Returns (scores, note); an empty frame and the reason when the scoreboard module is missing
    or fails, so the site is still built.
    """
    try:
        from chipcast.evaluate.scoreboard import claim_scores  # noqa: PLC0415 - optional module
    except ImportError:
        return (
            empty_scores(),
            "scores are not computed yet (chipcast.evaluate.scoreboard is not available)",
        )
    try:
        sig = inspect.signature(claim_scores)
        kwargs, args = {}, []
        for name, p in sig.parameters.items():
            if name in available:
                if p.kind == p.POSITIONAL_ONLY:
                    args.append(available[name])
                else:
                    kwargs[name] = available[name]
            elif p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                return (
                    empty_scores(),
                    f"claim_scores needs an argument the site cannot give: {name}",
                )
        df = claim_scores(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a scoring bug must not take the site down
        return empty_scores(), f"scores could not be computed: {type(exc).__name__}: {exc}"
    if df is None or not isinstance(df, pd.DataFrame):
        return empty_scores(), "claim_scores returned no table"
    for c in SCORE_COLUMNS:
        if c not in df:
            df[c] = np.nan
    return df, ""


def wilson(k: int, n: int, z: float = 1.645) -> tuple[float, float]:
    """Wilson score interval of k successes in n (90% by default); closed form, no scipy."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    d = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, mid - half), min(1.0, mid + half)


def reliability_bins(
    probabilities: list[float], outcomes: list[int], bins: int = 5
) -> pd.DataFrame:
    """Calibration table: per equal-width bin, n, mean forecast, observed frequency, 90% interval."""
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    p, o = np.asarray(probabilities, dtype=float), np.asarray(outcomes, dtype=float)
    idx = (
        np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
        if p.size
        else np.array([], dtype=int)
    )
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        k = int(o[sel].sum()) if n else 0
        lo, hi = wilson(k, n)
        rows.append(
            {
                "left": edges[b],
                "right": edges[b + 1],
                "n": n,
                "mean_forecast": float(p[sel].mean()) if n else float("nan"),
                "observed_freq": k / n if n else float("nan"),
                "lower": lo,
                "upper": hi,
            }
        )
    return pd.DataFrame(rows)


def resolve_claims(reg: Registry, today: dt.date) -> pd.DataFrame:
    """`resolve_all`, each claim given only its indicator's figures (same result, ~15x faster:
    resolution scans every vintage with an as-of view, which is cheap on a small frame)."""
    obs = reg.observations
    groups = {k: g for k, g in obs.groupby("indicator")} if not obs.empty else {}
    empty = obs.iloc[0:0]
    frames = [
        resolve_all({c.id: c}, groups.get(c.indicator, empty) if c.indicator else empty, today)
        for c in reg.claims.values()
    ]
    records = [r for f in frames for r in f.to_dict("records")]
    if not records:
        return resolve_all({}, obs, today)
    # one row per claim: built from records so dtypes come from all rows at once (a column
    # that is empty in one claim's frame is no special case)
    return pd.DataFrame.from_records(records, columns=frames[0].columns)


def inputs_key(paths: Paths, today: dt.date) -> str:
    """A hash of everything scores depend on: the registry, the history, today, and the code."""
    h = hashlib.sha256(today.isoformat().encode())
    code = Path(__file__).resolve().parents[1]
    groups = (
        (paths.history, "*.csv"),
        (paths.observations, "*.csv"),
        (paths.claims, "*.yaml"),
        (paths.indicators, "*.yaml"),
        (paths.root / "data", "sources.yaml"),
        (code, "**/*.py"),
    )
    for directory, pattern in groups:
        for f in sorted(directory.glob(pattern)) if directory.is_dir() else []:
            h.update(str(f.relative_to(directory)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# view models


@dataclass
class ClaimView:
    claim: Claim
    indicator: Indicator | None
    resolution: dict[str, Any]
    history: pd.DataFrame
    latest: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    stale: bool = False
    row: dict[str, Any] = field(default_factory=dict)


def _target(c: Claim) -> dt.date | None:
    return c.target_period or c.deadline


def condition_text(c: Claim, ind: Indicator | None) -> str:
    """What must hold, in readers' units: 'Domestic share ≥ 55% in 2027-12-31'."""
    if c.kind == "threshold" and c.operator and c.threshold is not None:
        agg = f"{c.aggregate} over {c.window_start} – {c.target_period} of " if c.aggregate else ""
        name = ind.name if ind else (c.indicator or "")
        return f"{agg}{name} {OPERATOR_TEXT[c.operator]} {ind_value(c.threshold, ind)} (period ending {c.target_period})"
    if c.kind == "value" and c.value is not None:
        name = ind.name if ind else (c.indicator or "")
        return f"{name} = {ind_value(c.value, ind)} (period ending {c.target_period})"
    if c.kind == "event" and c.deadline:
        return f"the event happens by {c.deadline}"
    return ""


def forecast_text(c: Claim, ind: Indicator | None, row: dict[str, Any] | None) -> tuple[str, float]:
    """The current forecast as shown in the index (text, sort key)."""
    if row is None:
        if c.kind == "event" and c.probability is not None and c.status in ("open", "overdue"):
            return f"{fmt_prob(c.probability)} (judgment)", float(c.probability)
        return "–", -1.0
    if c.kind == "value":
        med = row.get("q500")
        if _isnan(med):
            return "–", -1.0
        scale = ind.display_scale if ind else 1.0
        lo, hi = row.get("q050"), row.get("q950")
        band = "" if _isnan(lo) or _isnan(hi) else f" [{fmt_num(lo * scale)}–{fmt_num(hi * scale)}]"
        return f"{ind_value(med, ind)}{band}", float(med)
    p = row.get("probability")
    if _isnan(p):
        return "–", -1.0
    suffix = " (judgment)" if row.get("forecaster") == "judgment" else ""
    return fmt_prob(p) + suffix, float(p)


def change_text(
    c: Claim, ind: Indicator | None, latest: dict[str, Any] | None, previous: dict[str, Any] | None
) -> tuple[str, float, str]:
    """Change since the previous forecast: (text, sort key, direction class)."""
    if latest is None or previous is None:
        return "–", 0.0, ""
    col = "q500" if c.kind == "value" else "probability"
    a, b = previous.get(col), latest.get(col)
    if _isnan(a) or _isnan(b):
        return "–", 0.0, ""
    d = float(b) - float(a)
    cls = "up" if d > 0 else "down" if d < 0 else ""
    if c.kind == "value":
        scale = ind.display_scale if ind else 1.0
        txt = ("+" if d > 0 else "−" if d < 0 else "±") + fmt_num(abs(d) * scale)
        return with_unit(txt, ind.label if ind else ""), d, cls
    pp = d * 100
    if abs(pp) < 0.5:
        return "±0 pp", d, ""
    return f"{'+' if pp > 0 else '−'}{abs(pp):.0f} pp", d, cls


def status_text(res: dict[str, Any], c: Claim, ind: Indicator | None) -> str:
    s = res["status"]
    if s != "resolved":
        return s.replace("_", " ")
    if c.kind == "value":
        return f"resolved: {ind_value(res.get('value'), ind)}"
    out = res.get("outcome")
    return "resolved: " + ("true" if out is True else "false" if out is False else "?")


def axis_label(ind: Indicator) -> str:
    """The value axis's label with its unit: 'share (%)', 'value (RMB mn)', 'level (percent)'."""
    word = (
        "share"
        if ind.family == "share"
        else {
            "units": "units",
            "value": "value",
            "rate": "rate",
            "count": "count",
            "level": "level",
        }.get(ind.measures, "value")
    )
    return f"{word} ({ind.label})"


def fan_series(q: pd.DataFrame, c: Claim | None) -> tuple[pd.DataFrame, str]:
    """The trajectory series a claim is judged on: its resolution source's, else latent."""
    series = set(q["series"].astype(str))
    src = c.resolution.source if c is not None and c.resolution is not None else None
    if src and src != "any":
        if src in series:
            return q[q["series"] == src], src
        if "_new" in series:
            return q[q["series"] == "_new"], "_new"
    if "latent" in series:
        return q[q["series"] == "latent"], "latent"
    first = sorted(series)[0] if series else "latent"
    return q[q["series"] == first], first


# --------------------------------------------------------------------------------------------
# notebooks


def _nb_exporter():  # noqa: ANN202 - nbconvert is imported only when a notebook exists
    from nbconvert import HTMLExporter  # noqa: PLC0415 - slow import, rarely needed

    return HTMLExporter(
        template_name="basic",  # body only: no <head>, no RequireJS, no MathJax from a CDN
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


_SCRIPT_RE = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/?>", re.I | re.S)
_EXTERNAL_RE = re.compile(
    r"""<(link|iframe|embed|object)\b[^>]*(?:href|src|data)\s*=\s*["']?\s*(?:https?:)?//[^>]*>""",
    re.I,
)
_EXTERNAL_ATTR_RE = re.compile(
    r"""\s(src|srcset|href)\s*=\s*(["'])\s*(?:https?:)?//[^"']*\2""", re.I
)
_HANDLER_RE = re.compile(r"""\son[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_IMPORT_RE = re.compile(r"@import\s+url\([^)]*\)\s*;?|@import\s+[\"'][^\"']*[\"']\s*;?", re.I)


def offline_html(body: str) -> str:
    """Strip what could run code or fetch from the network: scripts, handlers, remote embeds.

    Links (<a href="https://...">) are kept: a reader may follow them, nothing loads them.
    """
    body = _SCRIPT_RE.sub("", body)
    body = _EXTERNAL_RE.sub("", body)
    body = _HANDLER_RE.sub("", body)
    body = _IMPORT_RE.sub("", body)

    def _attr(m: re.Match[str]) -> str:
        return m.group(0) if m.group(1).lower() == "href" else ""

    body = re.sub(
        r"<(source|video|audio|input)\b[^>]*>",
        lambda m: _EXTERNAL_ATTR_RE.sub(_attr, m.group(0)),
        body,
        flags=re.I,
    )
    # a notebook's images are data: URIs; any other src points outside the site (or nowhere)
    body = re.sub(r"<img\b(?![^>]*\ssrc\s*=\s*[\"']?data:)[^>]*>", "", body, flags=re.I)
    return re.sub(r"javascript:", "", body, flags=re.I)


# --------------------------------------------------------------------------------------------
# the site


class SiteBuilder:
    """Collects every input once, then renders each page from it."""

    def __init__(self, root: Path, today: dt.date, run_id: str | None = None) -> None:
        self.root = Path(root)
        self.paths = Paths(self.root)
        self.today = today
        self.run_id = run_id
        self.reg: Registry = load(self.root)
        self.env = self._env()
        self.previous: Path | None = None
        self.scores_key = ""

    # -- inputs ---------------------------------------------------------------------------

    def collect(self) -> None:
        reg = self.reg
        self.obs = reg.observations
        res = resolve_claims(reg, self.today)
        self.resolutions = {r["claim_id"]: r for r in res.to_dict("records")}
        self.history = read_history(self.paths)
        self.trajectories = {i: read_trajectory(self.paths, i) for i in reg.indicators}
        self.runs = read_runs(self.paths)
        self.last_run = next(
            (r for r in self.runs if r["run_id"] == self.run_id),
            self.runs[0] if self.runs else None,
        )
        self.backtest = read_backtest(self.paths)
        self.publishers = {s.id: s.publisher for s in reg.sources.values()}
        self.data_dates = (
            {
                i: sorted(pd.to_datetime(df["published"]).dropna().unique())
                for i, df in self.obs.groupby("indicator")
            }
            if not self.obs.empty
            else {}
        )
        self.claims = [self._claim_view(c) for c in sorted(reg.claims.values(), key=lambda c: c.id)]
        self.scores, self.scores_note = self._scores(res)
        self.notebooks = self._notebook_sources()

    def _scores(self, res: pd.DataFrame) -> tuple[pd.DataFrame, str]:
        """claim_scores, reused from the previous site when none of its inputs changed.

        Scoring re-runs the baselines over every vintage (tens of seconds on the full registry);
        the key hashes every input file, today, and the package's code.
        """
        key = inputs_key(self.paths, self.today)
        prev = self.previous / "data" if self.previous is not None else None
        if prev is not None and (prev / "scores.key").exists() and (prev / "scores.csv").exists():
            try:
                if (prev / "scores.key").read_text().strip() == key:
                    df = pd.read_csv(
                        prev / "scores.csv", dtype={"claim_id": str, "forecaster": str}
                    )
                    self.scores_key = key
                    return df, ""
            except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
                pass
        df, note = load_scores(
            {
                "root": self.root,
                "paths": self.paths,
                "registry": self.reg,
                "reg": self.reg,
                "claims": self.reg.claims,
                "observations": self.obs,
                "history": self.history,
                "today": self.today,
                "resolutions": res,
            }
        )
        self.scores_key = "" if note else key
        return df, note

    def _claim_view(self, c: Claim) -> ClaimView:
        ind = self.reg.indicators.get(c.indicator) if c.indicator else None
        h = (
            self.history[self.history["claim_id"] == c.id]
            if not self.history.empty
            else self.history
        )
        v = ClaimView(
            claim=c,
            indicator=ind,
            resolution=self.resolutions.get(c.id, {"status": c.status}),
            history=h,
        )
        if len(h):
            v.latest = h.iloc[-1].to_dict()
            if len(h) > 1:
                v.previous = h.iloc[-2].to_dict()
        meta = self.trajectories.get(c.indicator, (None, None))[1] if c.indicator else None
        v.stale = bool(meta and meta.get("stale"))
        ftxt, fsort = forecast_text(c, ind, v.latest)
        ctxt, csort, ccls = change_text(c, ind, v.latest, v.previous)
        col = "q500" if c.kind == "value" else "probability"
        spark_vals = list(h[col]) if len(h) else []
        if c.kind == "value":
            spark = charts.sparkline(
                spark_vals, f"median forecast over {len(spark_vals)} forecast(s)", lo=None, hi=None
            )
        else:
            spark = charts.sparkline(
                spark_vals,
                "probability over time: " + " → ".join(fmt_prob(p) for p in spark_vals[-6:]),
            )
        target = _target(c)
        v.row = {
            "forecast": ftxt,
            "forecast_sort": fsort,
            "change": ctxt,
            "change_sort": csort,
            "change_class": ccls,
            "spark": Markup(spark) if spark else "",  # built from numbers and escaped text only
            "stated": fmt_prob(c.stated_probability) if c.stated_probability is not None else "–",
            "stated_sort": c.stated_probability if c.stated_probability is not None else -1,
            "status": status_text(v.resolution, c, ind),
            "status_key": v.resolution["status"],
            "target": target.isoformat() if target else "–",
            "updated": fmt_date(v.latest["issued_on"]) if v.latest else "–",
        }
        return v

    def _notebook_sources(self) -> dict[str, Path]:
        """The newest executed notebook of each indicator (runs are named in time order)."""
        found: dict[str, Path] = {}
        if not self.paths.runs.is_dir():
            return found
        for d in sorted(self.paths.runs.iterdir(), reverse=True):
            if not d.is_dir():
                continue
            for ind in self.reg.indicators:
                f = d / f"indicator-{ind}.ipynb"
                if ind not in found and f.exists():
                    found[ind] = f
        return found

    # -- rendering ------------------------------------------------------------------------

    def _env(self) -> jinja2.Environment:
        tpl = resources.files("chipcast.report") / "templates"
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(tpl)),
            autoescape=True,  # every string from YAML/CSV is escaped
            undefined=jinja2.ChainableUndefined,  # optional keys of run.json / meta are simply absent
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(
            num=fmt_num,
            diag=fmt_diag,
            prob=fmt_prob,
            score=fmt_score,
            date=fmt_date,
            url=safe_url,
            ind_value=ind_value,
            obs_text=obs_text,
        )
        env.globals.update(today=self.today, OPERATOR_TEXT=OPERATOR_TEXT)
        return env

    def header(self) -> dict[str, Any]:
        obs = self.obs
        data_updated = fmt_date(pd.to_datetime(obs["published"]).max()) if not obs.empty else "–"
        fc = fmt_date(self.history["issued_on"].max()) if not self.history.empty else "–"
        run = self.last_run
        return {
            "data_updated": data_updated,
            "forecasts_updated": fc,
            "last_run": run,
            "last_run_when": (run.get("finished") or run.get("started") or "") if run else "",
            "failures": run["failures"] if run else [],
            "n_claims": len(self.claims),
        }

    def write(self, out: Path, rel: str, template: str, **ctx: Any) -> Path:
        depth = rel.count("/")
        base = "../" * depth
        html = self.env.get_template(template).render(base=base, header=self.hdr, **ctx)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        return path

    def build(self, out: Path, previous: Path | None) -> None:
        self.previous = previous
        self.collect()
        (out / "data").mkdir(parents=True, exist_ok=True)
        self.scores.to_csv(out / "data" / "scores.csv", index=False, float_format="%.6g")
        if self.scores_key:
            (out / "data" / "scores.key").write_text(self.scores_key + "\n")
        self.hdr = self.header()
        assets = resources.files("chipcast.report") / "assets"
        (out / "assets").mkdir(parents=True, exist_ok=True)
        for name in ("site.css", "site.js"):
            (out / "assets" / name).write_text(
                (assets / name).read_text(encoding="utf-8"), encoding="utf-8"
            )
        nb_pages = self.render_notebooks(out, previous)
        self.render_index(out)
        for v in self.claims:
            self.render_claim(out, v, nb_pages)
        for ind in sorted(self.reg.indicators.values(), key=lambda i: i.id):
            self.render_indicator(out, ind, nb_pages)
        self.render_scoreboard(out)
        self.render_runs(out, nb_pages)

    def render_index(self, out: Path) -> None:
        tags = sorted({t for v in self.claims for t in v.claim.tags})
        statuses = [
            s for s in STATUS_ORDER if any(v.resolution["status"] == s for v in self.claims)
        ]
        self.write(
            out,
            "index.html",
            "index.html",
            claims=self.claims,
            tags=tags,
            statuses=statuses,
            status_order=STATUS_ORDER,
            publishers=self.publishers,
        )

    def _fan_for(
        self, ind: Indicator, claim: Claim | None, width: int = 640, height: int = 300
    ) -> str:
        q, _meta = self.trajectories.get(ind.id, (None, None))
        qs, series = (None, "latent")
        if q is not None and not q.empty and "series" in q:
            qs, series = fan_series(q, claim)
        obs = self.reg.indicator_observations(ind.id)
        if not obs.empty:
            default = [
                pd.Timestamp(period_start_for(pe.date(), ind.frequency)) for pe in obs["period_end"]
            ]
            obs = obs.assign(
                multi=[
                    ps is not None and not pd.isna(ps) and ps < d
                    for ps, d in zip(obs["period_start"], default, strict=True)
                ]
            )
        threshold, tlabel, target = None, "threshold", None
        if claim is not None:
            if claim.kind == "threshold":
                threshold = claim.threshold
                tlabel = f"threshold ({OPERATOR_TEXT.get(claim.operator or '', '')} {ind_value(claim.threshold, ind)})"
            elif claim.kind == "value":
                threshold, tlabel = claim.value, f"claimed value ({ind_value(claim.value, ind)})"
            if claim.target_period:
                start = claim.window_start or period_start_for(claim.target_period, ind.frequency)
                target = (start, claim.target_period)
        label = {"latent": "model (latent)", "_new": "model (a new source)"}.get(
            series, f"model ({self.publishers.get(series, series)})"
        )
        title = ind.name
        if claim is not None and qs is not None:
            title += {
                "latent": ": the modelled truth",
                "_new": ": what a new source would report",
            }.get(series, f": what {self.publishers.get(series, series)} will report")
        return charts.fan_chart(
            quantiles=qs,
            observations=obs,
            scale=ind.display_scale,
            ylabel=axis_label(ind),
            unit=ind.label,
            title=title,
            today=self.today,
            publishers=self.publishers,
            series_label=label,
            threshold=threshold,
            threshold_label=tlabel,
            target=target,
            bounds=tuple(ind.bounds),
            width=width,
            height=height,
        )

    def render_claim(self, out: Path, v: ClaimView, nb_pages: dict[str, str]) -> None:
        c, ind = v.claim, v.indicator
        fan = self._fan_for(ind, c) if ind is not None else ""
        hist_svg = ""
        if len(v.history):
            hcol = "q500" if c.kind == "value" else "probability"
            h = v.history.dropna(subset=[hcol])
            if len(h):
                hist_svg = charts.history_chart(
                    h,
                    kind=c.kind,
                    today=self.today,
                    data_dates=self.data_dates.get(c.indicator, []) if c.indicator else [],
                    stated=c.stated_probability,
                    claimed=c.value if c.kind == "value" else None,
                    scale=ind.display_scale if ind else 1.0,
                    ylabel=ind.label if ind else "",
                    title="The forecast over time",
                )
        scores = (
            self.scores[self.scores["claim_id"] == c.id] if not self.scores.empty else self.scores
        )
        meta = self.trajectories.get(c.indicator, (None, None))[1] if c.indicator else None
        self.write(
            out,
            f"claims/{c.id}.html",
            "claim.html",
            v=v,
            c=c,
            ind=ind,
            fan=Markup(fan),
            history_svg=Markup(hist_svg),
            condition=condition_text(c, ind),
            scores=scores.to_dict("records"),
            publishers=self.publishers,
            notebook=nb_pages.get(c.indicator or ""),
            meta=meta,
            history_rows=list(reversed(v.history.to_dict("records")))[:30],
            scores_note=self.scores_note,
        )

    def render_indicator(self, out: Path, ind: Indicator, nb_pages: dict[str, str]) -> None:
        q, meta = self.trajectories.get(ind.id, (None, None))
        fan = self._fan_for(ind, None, width=720, height=320)
        obs = self.reg.indicator_observations(ind.id).sort_values(
            ["period_end", "source", "published"]
        )
        records = []
        for r in obs.to_dict("records"):
            r = {k: (None if _isnan(val) else val) for k, val in r.items()}
            default_start = period_start_for(r["period_end"].date(), ind.frequency)
            r["span_start"] = (
                r["period_start"]
                if r["period_start"] is not None and r["period_start"].date() != default_start
                else None
            )
            records.append(r)
        claims = [v for v in self.claims if v.claim.indicator == ind.id]
        diag = meta.get("diagnostics") if meta else None
        self.write(
            out,
            f"indicators/{ind.id}.html",
            "indicator.html",
            ind=ind,
            fan=Markup(fan),
            observations=records,
            meta=meta,
            diagnostics=diag if isinstance(diag, dict) else None,
            claims=claims,
            publishers=self.publishers,
            notebook=nb_pages.get(ind.id),
            has_trajectory=q is not None and not q.empty,
        )

    def render_scoreboard(self, out: Path) -> None:
        by_id = {v.claim.id: v for v in self.claims}
        resolved = [v for v in self.claims if v.resolution["status"] == "resolved"]
        sc = self.scores
        summary = []
        if not sc.empty:
            for f, df in sc.groupby("forecaster"):
                summary.append(
                    {
                        "forecaster": f,
                        "claims": df["claim_id"].nunique(),
                        "brier": df["brier"].mean(),
                        "log_score": df["log_score"].mean(),
                        "crps": df["crps"].mean(),
                    }
                )
            summary.sort(
                key=lambda r: (
                    FORECASTERS.index(r["forecaster"]) if r["forecaster"] in FORECASTERS else 99
                )
            )
        detail = []
        for cid, df in sc.groupby("claim_id", sort=True) if not sc.empty else []:
            v = by_id.get(cid)
            if v is None:
                continue
            rows = sorted(
                df.to_dict("records"),
                key=lambda r: (
                    FORECASTERS.index(r["forecaster"]) if r["forecaster"] in FORECASTERS else 99
                ),
            )
            detail.append({"v": v, "rows": rows})
        track_claimant = self._track(lambda v: v.claim.claimant)
        track_source = self._track(lambda v: self.publishers.get(v.claim.source, v.claim.source))
        rel_svg, rel_n = self._reliability(resolved)
        self.write(
            out,
            "scoreboard.html",
            "scoreboard.html",
            resolved=resolved,
            summary=summary,
            detail=detail,
            track_claimant=track_claimant,
            track_source=track_source,
            reliability=Markup(rel_svg),
            rel_n=rel_n,
            backtest=self.backtest.to_dict("records") if self.backtest is not None else None,
            scores_note=self.scores_note,
        )

    def _track(self, key) -> list[dict[str, Any]]:  # noqa: ANN001
        groups: dict[str, list[ClaimView]] = {}
        for v in self.claims:
            groups.setdefault(key(v), []).append(v)
        sc = (
            self.scores[self.scores["forecaster"] == "claimant"]
            if not self.scores.empty
            else self.scores
        )
        out = []
        for name, vs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].lower())):
            st = [v.resolution["status"] for v in vs]
            binary = [
                v for v in vs if v.resolution["status"] == "resolved" and v.claim.kind != "value"
            ]
            true = sum(1 for v in binary if v.resolution.get("outcome") is True)
            errs = []
            for v in vs:
                if (
                    v.resolution["status"] == "resolved"
                    and v.claim.kind == "value"
                    and v.claim.value
                ):
                    val = v.resolution.get("value")
                    if not _isnan(val):
                        errs.append(abs(float(val) - v.claim.value) / abs(v.claim.value))
            ids = {v.claim.id for v in vs}
            cs = sc[sc["claim_id"].isin(ids)] if not sc.empty else sc
            out.append(
                {
                    "name": name,
                    "n": len(vs),
                    "open": st.count("open") + st.count("overdue"),
                    "resolved": st.count("resolved"),
                    "true": true,
                    "false": len(binary) - true,
                    "annulled": st.count("annulled"),
                    "not_checkable": st.count("not_checkable"),
                    "value_err": (sum(errs) / len(errs)) if errs else None,
                    "brier": cs["brier"].mean() if len(cs) else None,
                }
            )
        return out

    def _reliability(self, resolved: list[ClaimView]) -> tuple[str, int]:
        """The last forecast issued before each binary claim resolved, against its outcome."""
        ps, os_ = [], []
        for v in resolved:
            out = v.resolution.get("outcome")
            if v.claim.kind == "value" or out not in (True, False) or not len(v.history):
                continue
            when = v.resolution.get("resolved_on")
            h = v.history
            if when is not None and not _isnan(when):
                h = h[h["issued_on"] < pd.Timestamp(when)]
            h = h.dropna(subset=["probability"])
            if len(h):
                ps.append(float(h.iloc[-1]["probability"]))
                os_.append(1 if out else 0)
        return charts.reliability_chart(reliability_bins(ps, os_)), len(ps)

    def render_runs(self, out: Path, nb_pages: dict[str, str]) -> None:
        runs = self.runs[:RUNS_SHOWN]
        nb_runs = {ind: p.parent.name for ind, p in self.notebooks.items()}
        self.write(
            out,
            "runs.html",
            "runs.html",
            runs=runs,
            nb_pages=nb_pages,
            nb_runs=nb_runs,
            total=len(self.runs),
            shown=len(runs),
        )

    def render_notebooks(self, out: Path, previous: Path | None) -> dict[str, str]:
        """Each indicator's newest executed notebook as HTML, code hidden, nothing remote.

        nbconvert takes a second or so per notebook; a page whose notebook bytes are unchanged
        is copied from the previous site (keyed by a hash in notebooks/manifest.json).
        """
        pages: dict[str, str] = {}
        if not self.notebooks:
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
        for ind_id, src in sorted(self.notebooks.items()):
            ind = self.reg.indicators[ind_id]
            name = f"indicator-{ind_id}.html"
            key = hashlib.sha256(
                src.read_bytes() + NOTEBOOK_RENDERER_VERSION.encode() + src.parent.name.encode()
            ).hexdigest()
            manifest[ind_id] = key
            old = previous / "notebooks" / name if previous is not None else None
            if old is not None and old_manifest.get(ind_id) == key and old.exists():
                shutil.copyfile(old, nb_dir / name)
                pages[ind_id] = f"notebooks/{name}"
                continue
            try:
                import nbformat  # noqa: PLC0415

                if exporter is None:
                    exporter = _nb_exporter()
                nb = nbformat.read(str(src), as_version=4)
                body, _ = exporter.from_notebook_node(nb)
                body_html = Markup(offline_html(body))  # noqa: S704 - scripts/remote refs stripped
                error = ""
            except Exception as exc:  # noqa: BLE001 - one broken notebook must not stop the site
                body_html, error = Markup(""), f"{type(exc).__name__}: {exc}"
            self.write(
                out,
                f"notebooks/{name}",
                "notebook.html",
                ind=ind,
                body=body_html,
                error=error,
                run_dir=src.parent.name,
                source_name=src.name,
            )
            pages[ind_id] = f"notebooks/{name}"
        (nb_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        return pages


def build_site(root: Path, today: dt.date, run_id: str | None = None) -> Path:
    """Write reports/site/ from the project's files and return the path of its index.html.

    Reads only files (never fits); works on a fresh project with no history, trajectories or
    runs. The new site replaces the old one in one rename, so readers never see it half-built.
    """
    paths = Paths(Path(root))
    builder = SiteBuilder(paths.root, today, run_id)
    site = paths.site
    site.parent.mkdir(parents=True, exist_ok=True)
    tmp = site.parent / f".site-new-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        builder.build(tmp, site if site.is_dir() else None)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = site.parent / f".site-old-{os.getpid()}"
    if site.exists():
        site.rename(old)
    tmp.rename(site)
    shutil.rmtree(old, ignore_errors=True)
    return site / "index.html"
