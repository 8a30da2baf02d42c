"""The `chipcast` command line.

Commands that fit, run notebooks or render import their modules when they run (models, papermill,
jinja2): `chipcast validate` and `observe` start without them.

Exit codes (fixed by the design): 0 done; 1 done but some jobs failed or a fit was gated out;
2 invalid input or usage; 3 another refresh holds the lock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from chipcast.evaluate import DEFAULT_SEED
from chipcast.evaluate.resolution import resolve
from chipcast.exitcodes import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL
from chipcast.fileio import atomic_write_text
from chipcast.paths import Paths
from chipcast.record import CLAIM_FIELDS, record_claim, record_observation, required_claim_fields
from chipcast.registry import InvalidData, Registry, check_project, load
from chipcast.schema import today_utc


class UsageError(Exception):
    """A bad flag value: reported on stderr with exit code 2."""


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with usage, as the contract says
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=Path("."), help="project directory (default: .)")
    p.add_argument(
        "--today", type=_date, default=None, help="treat this date (YYYY-MM-DD, UTC) as today"
    )


def _today(args: argparse.Namespace) -> dt.date:
    return args.today or today_utc()


def _load(args: argparse.Namespace) -> Registry:
    return load(args.root)


# --- commands -----------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    reg, problems = check_project(args.root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return EXIT_INVALID
    n_obs = len(reg.observations)
    print(
        f"ok: {len(reg.sources)} sources, {len(reg.indicators)} indicators, "
        f"{n_obs} observations, {len(reg.claims)} claims",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_observe(args: argparse.Namespace) -> int:
    problems = record_observation(
        args.root,
        indicator=args.indicator,
        period_end=args.period,
        value=args.value,
        source=args.source,
        published=args.published,
        published_estimated=args.published_estimated,
        period_start=args.period_start,
        url=args.url,
        via=args.via,
        title=args.title,
        note=args.note,
    )
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("nothing written", file=sys.stderr)
        return EXIT_INVALID
    print(f"recorded {args.value} for {args.indicator} {args.period} from {args.source}")
    return EXIT_OK


def cmd_claim_new(args: argparse.Namespace) -> int:
    values = {name: getattr(args, name, None) for name in CLAIM_FIELDS}
    if args.interactive:
        values = _ask_missing(values, args.kind)
    path, problems = record_claim(args.root, values, force=args.force)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("nothing written", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {path}")
    return EXIT_OK


def _ask_missing(values: dict[str, object], kind: str | None) -> dict[str, object]:
    for name in required_claim_fields(kind or str(values.get("kind") or "threshold")):
        if values.get(name) in (None, "", []):
            answer = input(f"{name}: ").strip()
            values[name] = answer or None
    return values


def cmd_list(args: argparse.Namespace) -> int:
    reg = _load(args)
    today = _today(args)
    rows = []
    for c in sorted(reg.claims.values(), key=lambda c: c.id):
        r = resolve(c, reg.observations, today)
        if args.status and r.status not in args.status:
            continue
        if args.tag and not set(args.tag) & set(c.tags):
            continue
        if c.status == "not_checkable":
            what = "not checkable"
        elif c.kind == "threshold":
            what = f"{c.indicator} {c.operator} {c.threshold:g} @ {c.target_period}"
        elif c.kind == "value":
            what = f"{c.indicator} = {c.value:g} @ {c.target_period}"
        else:
            what = f"event by {c.deadline}" if c.deadline else "event"
        outcome = "" if r.outcome is None else f" ({'true' if r.outcome else 'false'})"
        rows.append((c.id, c.kind, what, r.status + outcome))
    widths = [
        max([len(h)] + [len(r[i]) for r in rows])
        for i, h in enumerate(["claim", "kind", "what", "status"])
    ]
    header = ("claim", "kind", "what", "status")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)))
    print(f"{len(rows)} claim(s), as of {today}", file=sys.stderr)
    return EXIT_OK


def cmd_forecast(args: argparse.Namespace) -> int:
    from chipcast.evaluate.forecast import forecast_claims, format_forecasts

    reg = _load(args)
    unknown = [c for c in args.claims if c not in reg.claims]
    if unknown:
        raise UsageError(f"unknown claim id(s): {', '.join(unknown)}")
    table, gated = forecast_claims(
        reg, _today(args), claim_ids=args.claims or None, seed=args.seed, profile=args.profile
    )
    print(format_forecasts(table))
    return EXIT_PARTIAL if gated else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from chipcast.evaluate.staleness import format_status, status_table

    reg = _load(args)
    today = _today(args)
    table = status_table(reg, today)
    print(format_status(table))
    n = sum(s.state == "overdue" for s in table)
    print(f"{len(table)} series, {n} overdue, as of {today}", file=sys.stderr)
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from chipcast.evaluate.backtest import (
        SUMMARY_COLUMNS,
        format_backtest,
        run_backtest,
        summary_table,
    )

    reg = _load(args)
    unknown = [i for i in args.indicators if i not in reg.indicators]
    if unknown:
        raise UsageError(f"unknown indicator id(s): {', '.join(unknown)}")
    started = time.perf_counter()
    scores = run_backtest(
        reg,
        indicators=args.indicators or None,
        profile=args.profile,
        seed=args.seed,
        max_origins=args.max_origins,
        today=_today(args),
    )
    table = summary_table(scores)
    print(format_backtest(table, scores))
    if args.out:
        out = table[SUMMARY_COLUMNS].to_csv(index=False, float_format="%.4f")
        atomic_write_text(Path(args.out), out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.detail:
        atomic_write_text(Path(args.detail), scores.to_csv(index=False, float_format="%.6g"))
        print(f"wrote {args.detail}", file=sys.stderr)
    print(f"backtest: {_run_time(started)}", file=sys.stderr)
    return EXIT_OK


def cmd_hindcast(args: argparse.Namespace) -> int:
    from chipcast.evaluate.hindcast import hindcastable
    from chipcast.pipeline.hindcast import print_progress, run_hindcasts

    reg = _load(args)
    unknown = [c for c in args.claims if c not in reg.claims]
    if unknown:
        raise UsageError(f"unknown claim id(s): {', '.join(unknown)}")
    not_modelled = [c for c in args.claims if not hindcastable(reg, reg.claims[c])]
    if not_modelled:
        raise UsageError(
            f"not a threshold or value claim on a modelled indicator: {', '.join(not_modelled)}"
        )
    started = time.perf_counter()
    result = run_hindcasts(
        reg,
        _today(args),
        claim_ids=args.claims or None,
        seed=args.seed,
        profile=args.profile,
        progress=None if args.no_progress else print_progress,
    )
    for path in result.written:
        print(f"wrote {reg.paths.rel(path)}")
    for g in result.gated:
        print(f"GATED {g}: the fit failed the convergence checks; its rows say so", file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    if result.fits:
        print(f"hindcast: {_run_time(started)}", file=sys.stderr)
    return EXIT_PARTIAL if result.gated else EXIT_OK


def _run_time(started: float) -> str:
    """Seconds since `started`, with the compiled-model cache's counters of this process."""
    from chipcast.models import compile_stats

    st = compile_stats()
    return (
        f"{time.perf_counter() - started:.1f} s; {st.compiles} model(s) compiled "
        f"({st.disk_cache_hits} from the disk cache), {st.reuses} fit(s) reused one"
    )


def cmd_refresh(args: argparse.Namespace) -> int:
    from chipcast.pipeline.plan import UnknownSelection
    from chipcast.pipeline.refresh import RefreshOptions, refresh

    opts = RefreshOptions(
        today=_today(args),
        only=tuple(args.only or ()),
        force=args.force,
        as_of=args.as_of,
        dry_run=args.dry_run,
        jobs=args.jobs,
        profile=args.profile,
        seed=args.seed,
        scheduler=args.scheduler,
        timeout=args.timeout,
        progress=not args.no_progress,
    )
    try:
        return refresh(args.root, opts)
    except UnknownSelection as exc:
        raise UsageError(str(exc)) from None


def cmd_ingest(args: argparse.Namespace) -> int:
    import os

    from chipcast.ingest import USER_AGENT_ENV, IngestFailed, IngestUsageError, run_ingest

    try:
        result = run_ingest(
            args.root,
            args.source,
            today=_today(args),
            since=args.since,
            dry_run=args.dry_run,
            offline=args.offline,
            user_agent=args.user_agent or os.environ.get(USER_AGENT_ENV),
        )
    except IngestUsageError as exc:
        raise UsageError(str(exc)) from None
    except IngestFailed as exc:
        print(f"chipcast ingest {args.source}: failed: {exc}", file=sys.stderr)
        print(f"nothing written for {args.source}", file=sys.stderr)
        return EXIT_PARTIAL
    print("\n".join(result.lines()))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from chipcast.report.site import build_site

    path = build_site(args.root, today=_today(args))
    print(f"wrote {path}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import functools
    import http.server

    site = Paths(args.root.resolve()).site
    if not (site / "index.html").exists():
        raise UsageError(f"no site at {site}: run `chipcast report` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as httpd:
        print(f"serving {site} on http://127.0.0.1:{args.port}/ (Ctrl-C to stop)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
    return EXIT_OK


# --- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chipcast",
        description="Track, forecast and score claims about China's AI-chip self-reliance.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `chipcast COMMAND --help` for a command's options and an example.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, func: Callable, help_: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(p)
        p.set_defaults(func=func)
        return p

    add("validate", cmd_validate, "check every data and claim file", "chipcast validate --root .")

    p = add(
        "observe",
        cmd_observe,
        "record one published figure for an indicator (validated, atomic)",
        "chipcast observe cn_ai_accel_domestic_share_units --period 2025-12-31 --value 0.41 "
        "--source idc --published 2026-04-01 --url https://example.org/idc",
    )
    p.add_argument("indicator", help="indicator id")
    p.add_argument("--period", required=True, type=_date, help="period end date")
    p.add_argument(
        "--period-start", type=_date, default=None, help="first day, for a multi-period total"
    )
    p.add_argument(
        "--value", required=True, help="a number, >N, <N or N..M, in the indicator's unit"
    )
    p.add_argument("--source", required=True, help="source id (who measured it)")
    p.add_argument("--published", required=True, type=_date, help="date it became public")
    p.add_argument(
        "--published-estimated", action="store_true", help="the publication date was derived"
    )
    p.add_argument("--url")
    p.add_argument("--via", help="who reported it, if not the source itself")
    p.add_argument("--title")
    p.add_argument("--note")

    claim = sub.add_parser("claim", help="manage claims", description="manage claims")
    claim_sub = claim.add_subparsers(dest="claim_command", required=True, parser_class=_Parser)
    p = claim_sub.add_parser(
        "new",
        help="scaffold a claim file from flags (or --interactive) and validate it",
        description="scaffold a claim file from flags (or --interactive) and validate it",
        epilog="example:\n  chipcast claim new --id ms-selfsuff-2027 --kind threshold "
        "--statement 'Self-sufficiency reaches 82% in 2027' --quote '...' --claimant 'Morgan Stanley' "
        "--made-on 2025-06-21 --source morgan-stanley --indicator cn_ai_chip_self_sufficiency "
        "--operator '>=' --threshold 0.82 --target-period 2027-12-31 --resolution-source morgan-stanley "
        "--expected-by 2028-06-30",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p)
    p.set_defaults(func=cmd_claim_new)
    p.add_argument("--id", required=False)
    p.add_argument("--kind", choices=["threshold", "value", "event"], default=None)
    for name in (
        "statement",
        "quote",
        "claimant",
        "claimant-type",
        "source",
        "url",
        "via",
        "indicator",
    ):
        p.add_argument(f"--{name}")
    p.add_argument("--made-on", type=_date)
    p.add_argument("--operator", choices=[">", ">=", "<", "<="])
    p.add_argument("--threshold", type=float)
    p.add_argument("--value", type=float)
    p.add_argument("--target-period", type=_date)
    p.add_argument("--resolution-source")
    p.add_argument("--expected-by", type=_date)
    p.add_argument("--interpretation", action="append", default=[], help="repeatable")
    p.add_argument("--tag", dest="tags", action="append", default=[], help="repeatable")
    p.add_argument("--stated-probability", type=float)
    p.add_argument("--probability", type=float, help="event claims: the researcher's probability")
    p.add_argument("--deadline", type=_date, help="event claims: the date the event must happen by")
    p.add_argument("--interactive", action="store_true", help="ask for missing required fields")
    p.add_argument("--force", action="store_true", help="overwrite an existing claim file")

    p = add(
        "list",
        cmd_list,
        "the registry at a glance",
        "chipcast list --status open --tag market-share",
    )
    p.add_argument("--status", action="append", help="only these statuses (repeatable)")
    p.add_argument("--tag", action="append", help="only claims with this tag (repeatable)")

    p = add(
        "forecast",
        cmd_forecast,
        "fit what is needed in-process and print each claim's probability",
        "chipcast forecast bernstein-cn-domestic-share-55pct-2027",
    )
    p.add_argument("claims", nargs="*", help="claim ids (default: all)")
    _model_flags(p)

    add(
        "status",
        cmd_status,
        "which series are late: last figure, next expected, current/due/overdue, claims waiting",
        "chipcast status --today 2026-12-03",
    )

    p = add(
        "backtest",
        cmd_backtest,
        "rolling-origin backtest over vintages, scored against later figures",
        "chipcast backtest --out forecasts/backtest.csv --detail forecasts/backtest-targets.csv",
    )
    p.add_argument("indicators", nargs="*", help="indicator ids (default: every modelled one)")
    p.add_argument("--out", help="write the CSV fixed in the design's contracts")
    p.add_argument(
        "--detail",
        help="write one row per origin, target and forecaster: outcome, 10/50/90%% quantiles, PIT",
    )
    p.add_argument(
        "--max-origins", type=int, default=None, help="at most this many origins per indicator"
    )
    _model_flags(p)

    p = add(
        "hindcast",
        cmd_hindcast,
        "what today's model would have said about each claim on each date its data changed "
        "(forecasts/hindcasts/); recomputes only what code or data changed",
        "chipcast hindcast lutnick-china-advanced-ai-chips-200k-2025",
    )
    p.add_argument("claims", nargs="*", help="claim ids (default: every hindcastable claim)")
    p.add_argument("--no-progress", action="store_true", help="no line per fit on stderr")
    _model_flags(p)

    p = add(
        "refresh",
        cmd_refresh,
        "re-run stale indicator notebooks, issue forecasts, resolve, score and render the site",
        "chipcast refresh --jobs 2",
    )
    p.add_argument(
        "--only", nargs="+", metavar="ID", help="only these indicators (or claims' indicators)"
    )
    p.add_argument("--force", action="store_true", help="ignore the fingerprint cache")
    p.add_argument(
        "--as-of",
        type=_date,
        default=None,
        help="what the system would have said then (no history)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    p.add_argument(
        "--scheduler", default=None, help="a Dask scheduler address, e.g. tcp://host:8786"
    )
    p.add_argument("--timeout", type=float, default=900.0, help="seconds a notebook may run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _model_flags(p)

    p = add(
        "ingest",
        cmd_ingest,
        "add figures from a public record (sec-edgar, federal-register): validated, atomic",
        "CHIPCAST_USER_AGENT='Jane Doe jane@example.org' chipcast ingest sec-edgar --dry-run",
    )
    p.add_argument("source", help="sec-edgar | federal-register")
    p.add_argument("--since", type=_date, default=None, help="only documents filed/published since")
    p.add_argument(
        "--dry-run", action="store_true", help="print the rows it would add; write nothing"
    )
    p.add_argument("--offline", action="store_true", help="parse only the cached raw documents")
    p.add_argument(
        "--user-agent",
        default=None,
        help="name and e-mail for the User-Agent (default: $CHIPCAST_USER_AGENT; the SEC requires it)",
    )

    add(
        "report",
        cmd_report,
        "rebuild reports/site from history and trajectories (no fitting)",
        "chipcast report",
    )
    p = add("serve", cmd_serve, "serve reports/site on localhost", "chipcast serve --port 8000")
    p.add_argument("--port", type=int, default=8000)
    return parser


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})"
    )
    p.add_argument(
        "--profile",
        choices=["default", "test-small"],
        default="default",
        help="sampler settings; test-small relaxes the convergence gate (tests only)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "root"):
        args.root = Path(args.root)
        if not args.root.is_dir():
            print(f"chipcast: error: --root {args.root}: not a directory", file=sys.stderr)
            return EXIT_INVALID
    try:
        return int(args.func(args))
    except InvalidData as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(
            f"{len(exc.problems)} problem(s) in the data: run `chipcast validate`", file=sys.stderr
        )
        return EXIT_INVALID
    except UsageError as exc:
        print(f"chipcast: error: {exc}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
