"""The site's pages, each rendered from the collected inputs with one jinja2 template.

Pages: index.html, claims/<id>.html, indicators/<id>.html, scoreboard.html, runs.html,
status.html, watch.html and methodology.html. Every string from YAML or CSV goes through
jinja2's autoescaping; charts are specified by `chipcast.report.charts`, drawn to SVG by `chipcast.report.svg` (Vega escapes their text), shown
inline and written beside their pages as standalone files (claims/<id>.fan.svg, …).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from chipcast.data import period_start_for
from chipcast.evaluate.backtest import event_reliability
from chipcast.evaluate.calibration import reliability_table
from chipcast.evaluate.hindcast_scoring import (
    hindcast_reliability_inputs,
    hindcast_summary,
    hindcast_verdict,
)
from chipcast.evaluate.scoreboard import (
    claim_score_rows,
    common_summary,
    reliability,
    score_summary,
    track_record,
)
from chipcast.report import charts, svg, watch
from chipcast.report.changes import latest, run_time
from chipcast.report.formats import (
    OPERATOR_TEXT,
    fmt_date,
    fmt_diag,
    fmt_num,
    fmt_prob,
    fmt_score,
    ind_value,
    isnan,
    obs_text,
    safe_url,
)
from chipcast.report.inputs import SiteInputs
from chipcast.report.views import ClaimView, claim_timeline, condition_text, figure_marks
from chipcast.schema import Indicator
from chipcast.store import HINDCAST_LABEL

STATUS_ORDER = {"open": 0, "overdue": 1, "resolved": 2, "annulled": 3, "not_checkable": 4}
RUNS_SHOWN = 20
# Defence in depth for pages built from researchers' files: only the site's own script and
# stylesheet run, images are the site's or data: URIs (a notebook's charts), nothing else loads;
# with no 'unsafe-inline', an inline script or event handler that slipped through would not run.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)


def environment(inp: SiteInputs) -> jinja2.Environment:
    """The templates, with the formatting filters and every string autoescaped."""
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
        run_when=lambda r: run_time(str(r)).strftime("%Y-%m-%d %H:%M UTC") if r else "–",
    )
    env.globals.update(today=inp.today, OPERATOR_TEXT=OPERATOR_TEXT, csp=CSP)
    return env


def header(inp: SiteInputs) -> dict[str, Any]:
    """What every page's header says: how fresh the data and forecasts are, the last run."""
    obs = inp.reg.observations
    data_updated = fmt_date(pd.to_datetime(obs["published"]).max()) if not obs.empty else "–"
    fc = fmt_date(inp.history["issued_on"].max()) if not inp.history.empty else "–"
    run = inp.last_run
    return {
        "data_updated": data_updated,
        "forecasts_updated": fc,
        "last_run": run,
        "last_run_when": (run.get("finished") or run.get("started") or "") if run else "",
        "failures": run["failures"] if run else [],
        "n_claims": len(inp.claims),
        "n_overdue": sum(s.state == "overdue" for s in inp.status),
        "n_series": len(inp.status),
    }


class Pages:
    """Renders each page of one site into `out`.

    Charts first: every page's charts are specified, rendered together (cached, in parallel;
    `chipcast.report.svg`) and written as standalone SVG files beside their pages; each page
    then shows its charts inline and links the files.
    """

    def __init__(
        self, inp: SiteInputs, out: Path, downloads: dict[str, dict[str, str]] | None = None
    ) -> None:
        self.inp, self.out = inp, out
        self.downloads = downloads or {}  # claim id -> {"history": path stem, "trajectory": …}
        self.env = environment(inp)
        self.hdr = header(inp)
        self.reliability = reliability(inp.history, inp.reg, inp.today, resolutions=inp.resolutions)
        self.figures: dict[str, svg.Rendered] = {}
        self.drawing: svg.Drawing | None = None

    def write(self, rel: str, template: str, **ctx: Any) -> Path:
        """Render `template` into `out/rel`, its links relative to the page's depth."""
        html = self.env.get_template(template).render(
            base="../" * rel.count("/"), header=self.hdr, **ctx
        )
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        return path

    def render_all(self, nb_pages: dict[str, str]) -> None:
        self.render_charts()
        self.render_index()
        for v in self.inp.claims:
            self.render_claim(v, nb_pages)
        for ind in sorted(self.inp.reg.indicators.values(), key=lambda i: i.id):
            self.render_indicator(ind, nb_pages)
        self.render_scoreboard()
        self.render_runs(nb_pages)
        self.write("methodology.html", "methodology.html")
        self.render_status()
        self.render_watch()

    def render_status(self) -> None:
        """status.html: `chipcast status`'s table, which series are late."""
        names = {i.id: i.name for i in self.inp.reg.indicators.values()}
        self.write("status.html", "status.html", table=self.inp.status, names=names)

    # -- charts ------------------------------------------------------------------------------

    def chart_specs(self) -> dict[str, Any]:
        """Every chart of the site by the path of its SVG file (relative to the site); a fan
        with nothing to draw (no trajectory, no figure) is left out and its page says so."""
        inp = self.inp
        out: dict[str, Any] = {}
        for v in inp.claims:
            c, ind = v.claim, v.indicator
            if ind is not None:
                q, _meta = inp.trajectories.get(ind.id, (None, None))
                out[f"claims/{c.id}.fan.svg"] = charts.claim_fan(
                    c, ind, q, inp.reg.indicator_observations(ind.id), inp.today, inp.publishers
                )
            col = "q500" if c.kind == "value" else "probability"
            h = v.history.dropna(subset=[col]) if len(v.history) else v.history
            if len(v.hindcasts):
                out[f"claims/{c.id}.history.svg"] = charts.claim_path_chart(
                    claim_timeline(c, v.hindcasts, h),
                    figure_marks(
                        inp.reg.indicator_observations(c.indicator), ind, inp.publishers, c.made_on
                    ),
                    kind=c.kind,
                    today=inp.today,
                    hindcast_label=HINDCAST_LABEL,
                    stated=c.stated_probability,
                    claimed=c.value if c.kind == "value" else None,
                    indicator=ind,
                    title="What the model would have said, then what it issued",
                    until=v.resolution.resolved_on,
                )
            elif len(h):
                out[f"claims/{c.id}.history.svg"] = charts.history_chart(
                    h,
                    kind=c.kind,
                    today=inp.today,
                    data_dates=inp.data_dates(c.indicator),
                    stated=c.stated_probability,
                    claimed=c.value if c.kind == "value" else None,
                    indicator=ind,
                )
        for ind in inp.reg.indicators.values():
            q, _meta = inp.trajectories.get(ind.id, (None, None))
            out[f"indicators/{ind.id}.fan.svg"] = charts.indicator_fan(
                ind, q, inp.reg.indicator_observations(ind.id), inp.today, inp.publishers
            )
        out["scoreboard.reliability.svg"] = charts.reliability_chart(self.reliability)
        event_table, _n = event_reliability(inp.backtest_detail)
        out["scoreboard.event-reliability.svg"] = charts.reliability_chart(
            event_table, "Backtest: P(the next figure comes in above the last one public)"
        )
        out["scoreboard.pit.svg"] = charts.pit_histogram(charts.backtest_pit(inp.backtest_detail))
        return {rel: chart for rel, chart in out.items() if not chart.empty}

    def start_charts(self, helpers: svg.Helpers | None = None) -> None:
        """Start drawing every chart that the cache lacks (in the background, when many, on
        `helpers` if given)."""
        self.drawing = svg.start(
            self.chart_specs(), cache=self.inp.paths.chart_cache, helpers=helpers
        )

    def render_charts(self) -> None:
        """Render every chart (cached by spec) and write each as a file beside its page."""
        if self.drawing is None:
            self.start_charts()
        assert self.drawing is not None
        self.figures, self.drawing = self.drawing.result(), None
        for rel, r in self.figures.items():
            path = self.out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(r.svg, encoding="utf-8")

    def figure(self, rel: str) -> dict[str, Any] | None:
        """One chart as its page shows it: the SVG inline, and the file's name for the link."""
        r = self.figures.get(rel)
        if r is None:
            return None
        uid = re.sub(r"[^a-z0-9]+", "-", rel.rsplit("/", 1)[-1].lower()).strip("-")
        return {
            "svg": Markup(svg.inline(r.svg, uid)),  # noqa: S704 - Vega escapes every text it draws
            "href": rel.rsplit("/", 1)[-1],
            "title": r.title,
        }

    # -- pages -------------------------------------------------------------------------------

    def render_index(self) -> None:
        run, before, changes = latest(self.inp.changes, self.inp.history)
        tags = sorted({t for v in self.inp.claims for t in v.claim.tags})
        statuses = [
            s for s in STATUS_ORDER if any(v.resolution.status == s for v in self.inp.claims)
        ]
        self.write(
            "index.html",
            "index.html",
            claims=self.inp.claims,
            tags=tags,
            statuses=statuses,
            status_order=STATUS_ORDER,
            publishers=self.inp.publishers,
            latest_run=run,
            previous_run=before,
            latest_changes=changes,
            statements={v.claim.id: v.claim.statement for v in self.inp.claims},
        )

    def render_claim(self, v: ClaimView, nb_pages: dict[str, str]) -> None:
        c, ind = v.claim, v.indicator
        meta = self.inp.meta(c.indicator)
        timeline = claim_timeline(c, v.hindcasts, v.history)
        hindcast_rows = timeline[timeline["basis"] == "hindcast"].to_dict("records")
        marks = (
            figure_marks(
                self.inp.reg.indicator_observations(c.indicator),
                ind,
                self.inp.publishers,
                since=c.made_on,
            ).to_dict("records")
            if c.indicator and hindcast_rows
            else []
        )
        hc_scores = (
            self.inp.hindcast_scores[self.inp.hindcast_scores["claim_id"] == c.id].to_dict(
                "records"
            )
            if len(self.inp.hindcast_scores)
            else []
        )
        self.write(
            f"claims/{c.id}.html",
            "claim.html",
            hindcast_label=HINDCAST_LABEL,
            hindcast_rows=hindcast_rows,
            figure_marks=marks,
            hindcast_scores=hc_scores,
            v=v,
            c=c,
            ind=ind,
            fan=self.figure(f"claims/{c.id}.fan.svg"),
            history_chart=self.figure(f"claims/{c.id}.history.svg"),
            condition=condition_text(c, ind),
            scores=claim_score_rows(self.inp.scores, c.id),
            publishers=self.inp.publishers,
            notebook=nb_pages.get(c.indicator or ""),
            meta=meta,
            history_rows=list(reversed(v.history.to_dict("records")))[:30],
            changes=[ch for ch in self.inp.changes if ch.claim_id == c.id],
            downloads=self.downloads.get(c.id, {}),
            scores_note=self.inp.scores_note,
            voi=self.claim_voi(v),
        )

    def render_indicator(self, ind: Indicator, nb_pages: dict[str, str]) -> None:
        q, meta = self.inp.trajectories.get(ind.id, (None, None))
        obs = self.inp.reg.indicator_observations(ind.id).sort_values(
            ["period_end", "source", "published"]
        )
        records = []
        for r in obs.to_dict("records"):
            r = {k: (None if isnan(val) else val) for k, val in r.items()}
            default_start = period_start_for(r["period_end"].date(), ind.frequency)
            r["span_start"] = (
                r["period_start"]
                if r["period_start"] is not None and r["period_start"].date() != default_start
                else None
            )
            records.append(r)
        claims = [v for v in self.inp.claims if v.claim.indicator == ind.id]
        diag = meta.get("diagnostics") if meta else None
        status = next((s for s in self.inp.status if s.indicator == ind.id), None)
        self.write(
            f"indicators/{ind.id}.html",
            "indicator.html",
            ind=ind,
            status=status,
            fan=self.figure(f"indicators/{ind.id}.fan.svg"),
            observations=records,
            meta=meta,
            diagnostics=diag if isinstance(diag, dict) else None,
            claims=claims,
            publishers=self.inp.publishers,
            notebook=nb_pages.get(ind.id),
            has_trajectory=q is not None and not q.empty,
            offsets=self.offsets_view(ind),
        )

    def render_scoreboard(self) -> None:
        inp = self.inp
        resolved = [v for v in inp.claims if v.resolution.status == "resolved"]
        detail = [
            {"v": v, "rows": claim_score_rows(inp.scores, v.claim.id)}
            for v in inp.claims
            if len(inp.scores) and (inp.scores["claim_id"] == v.claim.id).any()
        ]
        publishers = inp.publishers
        table = self.reliability
        hs = inp.hindcast_scores
        pairs = hindcast_reliability_inputs(hs)
        claims_rel = reliability_table(
            pairs["probability"].to_numpy(dtype=float), pairs["outcome"].to_numpy(dtype=float)
        )
        event_table, event_n = event_reliability(inp.backtest_detail)
        hc_claims = sorted(set(hs["claim_id"])) if len(hs) else []
        self.write(
            "scoreboard.html",
            "scoreboard.html",
            hindcast_label=HINDCAST_LABEL,
            verdict=hindcast_verdict(hs),
            hindcast_summary=hindcast_summary(hs).to_dict("records"),
            hindcast_detail=[
                {
                    "v": next(v for v in inp.claims if v.claim.id == cid),
                    "rows": hs[hs["claim_id"] == cid].to_dict("records"),
                }
                for cid in hc_claims
            ],
            claims_reliability=claims_rel[claims_rel["n"] > 0].to_dict("records"),
            claims_rel_n=len(pairs),
            event_reliability=self.figure("scoreboard.event-reliability.svg"),
            event_table=event_table[event_table["n"] > 0].to_dict("records"),
            event_n=event_n,
            resolved=resolved,
            summary=score_summary(inp.scores).to_dict("records"),
            common=common_summary(inp.scores).to_dict("records"),
            detail=detail,
            track_claimant=track_record(inp.reg, inp.resolutions, inp.scores, lambda c: c.claimant),
            track_source=track_record(
                inp.reg, inp.resolutions, inp.scores, lambda c: publishers.get(c.source, c.source)
            ),
            reliability=self.figure("scoreboard.reliability.svg"),
            pit=self.figure("scoreboard.pit.svg"),
            rel_n=int(table["n"].sum()),
            backtest=inp.backtest.to_dict("records") if inp.backtest is not None else None,
            scores_note=inp.scores_note,
            offsets=[
                o
                for ind in sorted(inp.reg.indicators.values(), key=lambda i: i.id)
                if (o := self.offsets_view(ind))["rows"]
            ],
        )

    # --- value of information and source offsets (`chipcast.report.watch`) ---------------

    def claim_voi(self, v: ClaimView) -> dict[str, Any] | None:
        """What the claim page says would move the claim (None: nothing to say)."""
        status = {s.indicator: s for s in self.inp.status}
        rows = watch.watch_rows(
            [v], self.inp.summaries, self.inp.publishers, status, self.inp.today
        )
        if not rows:
            return None
        r = rows[0]
        when = watch.when_sentence(r)
        return {
            "entry": r["entry"],
            "sentences": [*r["sentences"], *([when] if when else [])],
            "as_of": r["as_of"],
        }

    def offsets_view(self, ind: Indicator) -> dict[str, Any]:
        """Who runs hot on one indicator: its sources' offsets and noise, from its summary."""
        summary = self.inp.summaries.get(ind.id)
        return {
            "ind": ind,
            "rows": watch.offsets_rows(summary, ind, self.inp.publishers),
            "as_of": (summary or {}).get("as_of", ""),
            "at_period": (summary or {}).get("at_period", ""),
        }

    def render_watch(self) -> None:
        """watch.html: the open claims by the expected change their next figure would bring."""
        status = {s.indicator: s for s in self.inp.status}
        rows = watch.watch_rows(
            self.inp.claims, self.inp.summaries, self.inp.publishers, status, self.inp.today
        )
        self.write("watch.html", "watch.html", rows=rows)

    def render_runs(self, nb_pages: dict[str, str]) -> None:
        runs = self.inp.runs[:RUNS_SHOWN]
        nb_runs = {ind: p.parent.name for ind, p in self.inp.notebooks.items()}
        self.write(
            "runs.html",
            "runs.html",
            runs=runs,
            nb_pages=nb_pages,
            nb_runs=nb_runs,
            total=len(self.inp.runs),
            shown=len(runs),
        )
