"""The site's pages, each rendered from the collected inputs with one jinja2 template.

Pages: index.html, claims/<id>.html, indicators/<id>.html, scoreboard.html and runs.html. Every
string from YAML or CSV goes through jinja2's autoescaping; charts are inline SVG built by
`chipcast.report.charts` from numbers and escaped text.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from chipcast.data import period_start_for
from chipcast.evaluate.scoreboard import (
    claim_score_rows,
    reliability,
    score_summary,
    track_record,
)
from chipcast.report import charts, watch
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
from chipcast.report.views import ClaimView, axis_label, condition_text, fan_series
from chipcast.schema import Claim, Indicator

STATUS_ORDER = {"open": 0, "overdue": 1, "resolved": 2, "annulled": 3, "not_checkable": 4}
RUNS_SHOWN = 20


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
    )
    env.globals.update(today=inp.today, OPERATOR_TEXT=OPERATOR_TEXT)
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
    }


class Pages:
    """Renders each page of one site into `out`."""

    def __init__(self, inp: SiteInputs, out: Path) -> None:
        self.inp, self.out = inp, out
        self.env = environment(inp)
        self.hdr = header(inp)

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
        self.render_index()
        for v in self.inp.claims:
            self.render_claim(v, nb_pages)
        for ind in sorted(self.inp.reg.indicators.values(), key=lambda i: i.id):
            self.render_indicator(ind, nb_pages)
        self.render_scoreboard()
        self.render_runs(nb_pages)
        self.render_watch()

    def render_index(self) -> None:
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
        )

    def _fan_for(
        self, ind: Indicator, claim: Claim | None, width: int = 640, height: int = 300
    ) -> str:
        q, _meta = self.inp.trajectories.get(ind.id, (None, None))
        qs, series = (None, "latent")
        if q is not None and not q.empty and "series" in q:
            qs, series = fan_series(q, claim)
        obs = self.inp.reg.indicator_observations(ind.id)
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
            series, f"model ({self.inp.publishers.get(series, series)})"
        )
        title = ind.name
        if claim is not None and qs is not None:
            title += {
                "latent": ": the modelled truth",
                "_new": ": what a new source would report",
            }.get(series, f": what {self.inp.publishers.get(series, series)} will report")
        return charts.fan_chart(
            quantiles=qs,
            observations=obs,
            scale=ind.display_scale,
            ylabel=axis_label(ind),
            unit=ind.label,
            title=title,
            today=self.inp.today,
            publishers=self.inp.publishers,
            series_label=label,
            threshold=threshold,
            threshold_label=tlabel,
            target=target,
            bounds=tuple(ind.bounds),
            width=width,
            height=height,
        )

    def render_claim(self, v: ClaimView, nb_pages: dict[str, str]) -> None:
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
                    today=self.inp.today,
                    data_dates=self.inp.data_dates(c.indicator),
                    stated=c.stated_probability,
                    claimed=c.value if c.kind == "value" else None,
                    scale=ind.display_scale if ind else 1.0,
                    ylabel=ind.label if ind else "",
                    title="The forecast over time",
                )
        meta = self.inp.meta(c.indicator)
        self.write(
            f"claims/{c.id}.html",
            "claim.html",
            v=v,
            c=c,
            ind=ind,
            fan=Markup(fan),
            history_svg=Markup(hist_svg),
            condition=condition_text(c, ind),
            scores=claim_score_rows(self.inp.scores, c.id),
            publishers=self.inp.publishers,
            notebook=nb_pages.get(c.indicator or ""),
            meta=meta,
            history_rows=list(reversed(v.history.to_dict("records")))[:30],
            scores_note=self.inp.scores_note,
            voi=self.claim_voi(v),
        )

    def render_indicator(self, ind: Indicator, nb_pages: dict[str, str]) -> None:
        q, meta = self.inp.trajectories.get(ind.id, (None, None))
        fan = self._fan_for(ind, None, width=720, height=320)
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
        self.write(
            f"indicators/{ind.id}.html",
            "indicator.html",
            ind=ind,
            fan=Markup(fan),
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
        table = reliability(inp.history, inp.reg, inp.today)
        self.write(
            "scoreboard.html",
            "scoreboard.html",
            resolved=resolved,
            summary=score_summary(inp.scores).to_dict("records"),
            detail=detail,
            track_claimant=track_record(inp.reg, inp.resolutions, inp.scores, lambda c: c.claimant),
            track_source=track_record(
                inp.reg, inp.resolutions, inp.scores, lambda c: publishers.get(c.source, c.source)
            ),
            reliability=Markup(charts.reliability_chart(table)),
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
        c = v.claim
        if not c.indicator or v.resolution.status not in ("open", "overdue"):
            return None
        summary = self.inp.summaries.get(c.indicator)
        entry = watch.claim_entry(summary, c.id)
        if entry is None:
            return None
        return {
            "entry": entry,
            "sentences": watch.voi_sentences(entry, v.indicator, self.inp.publishers),
            "as_of": (summary or {}).get("as_of", ""),
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
        rows = watch.watch_rows(self.inp.claims, self.inp.summaries, self.inp.publishers)
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
