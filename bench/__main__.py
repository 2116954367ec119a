"""`python -m bench`: build a big and a small agency, measure pages, moves and policy checks, then the
calendar at three densities; report."""
from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from webapp.extensions import db
from webapp.models import AccessGroup

from . import calendar_density, policy_check, report
from .database import analyze_like_autovacuum, backend_name, bench_app, temporary_database, workspace
from .dataset import BIG, SMALL, Dataset, Scale, build
from .media import MoveMeasurement, measure_moves
from .organize import OrganizeMeasurement, measure_organize
from .pages import Measurement, measure_pages, unmeasured_endpoints

EXPECTED_STATUS = 200
CALENDAR_REQUESTS = 50  # the calendar's timed requests per view at most, unless --calendar-requests says


@dataclass
class ScaleRun:
    """What was measured on one database."""

    dataset: Dataset
    group_name: str
    pages: list[Measurement]
    moves: MoveMeasurement
    organize: OrganizeMeasurement


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and visitor (200)")
    parser.add_argument("--checks", type=int, default=2000,
                        help="random (user, group, action) triples for the policy comparison; 0 = all (2000)")
    parser.add_argument("--calendar-requests", type=int, default=None,
                        help=f"timed requests per calendar view and density (--requests, at most {CALENDAR_REQUESTS})")
    parser.add_argument("--only", choices=("agency", "calendar"), default=None,
                        help="run one part: the big and small agency (pages, moves, Organize, policy), "
                             "or the calendar at three densities (written to bench-results/calendar.txt)")
    args = parser.parse_args(argv)
    if args.calendar_requests is None:
        args.calendar_requests = min(args.requests, CALENDAR_REQUESTS)
    if args.requests < 1 or args.checks < 0 or args.calendar_requests < 1:
        parser.error("--requests and --calendar-requests must be at least 1 and --checks at least 0")
    return args


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _run_scale(
    scale: Scale, workdir: Path, requests: int, checks: int
) -> tuple[ScaleRun, policy_check.PolicyReport | None, list[str]]:
    """Build one database, measure its pages, media moves and Organize (on the big one, policy checks); drop it."""
    with temporary_database(scale.label, workdir) as url:
        app = bench_app(url, workdir)
        with app.app_context():
            db.create_all()
            _progress(f"building the {scale.label} database ...")
            dataset = build(scale)
            analyze_like_autovacuum()
            group_name = db.session.get(AccessGroup, dataset.bench_group_id).name
        _progress(f"{scale.label}: built in {dataset.seconds:.1f} s; measuring pages ...")
        pages = measure_pages(app, dataset, requests)
        _progress(f"{scale.label}: measuring media moves ...")
        moves = measure_moves(app, dataset, requests)
        _progress(f"{scale.label}: measuring Organize ...")
        organize = measure_organize(app, dataset, requests)
        policy = None
        with app.app_context():
            if scale is BIG:
                _progress("big: measuring policy checks ...")
                policy = policy_check.run(checks, load_calls=requests)
            db.session.remove()
            db.engine.dispose()
        unmeasured = unmeasured_endpoints(app)
    return ScaleRun(dataset, group_name, pages, moves, organize), policy, unmeasured


def _header(args: argparse.Namespace) -> list[str]:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    backend = backend_name() + (f" {sqlite3.sqlite_version}" if backend_name() == "sqlite" else "")
    return [
        f"Roster benchmark · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {backend} · "
        f"Python {platform.python_version()} · {os.cpu_count()} CPUs · load average {load}",
        f"{args.requests} timed requests per page and visitor, after a short warm-up. Server time is "
        "in-process WSGI time through Flask's test client (no network, no browser). Every page is asked for "
        "with Accept-Encoding: gzip, what a phone's browser accepts at the least (most also take Brotli, "
        "which the app would send them instead): bytes are as sent, media files uncompressed.",
    ]


def _database_lines(runs: dict[str, ScaleRun]) -> list[str]:
    lines = ["", "Databases (bulk Core inserts into an empty schema made by db.create_all())"]
    for label, run in runs.items():
        lines.append(f"  {label:<5}  built in {run.dataset.seconds:5.1f} s: {run.dataset.summary()}")
    return lines


def _page_lines(runs: dict[str, ScaleRun]) -> tuple[list[str], list[str]]:
    """The page table, and the problems found (query counts that differ, unexpected statuses)."""
    big, small = runs["big"], runs["small"]
    small_by_key = {m.key: m for m in small.pages}
    rows, problems = [], []
    for measured in big.pages:
        other = small_by_key[measured.key]
        what = f"{measured.page} as {measured.visitor}"
        problems += _count_problems(what, measured, other)
        problems += _status_problems(what, measured.statuses | other.statuses)
        rows.append([
            measured.page, measured.visitor, _statuses(measured, other),
            measured.query_count, other.query_count, _same(measured, other), *_times(measured, other),
            report.flagged_ratio(report.ratio(measured.p50, other.p50)),
        ])
    lines = [
        "",
        f"Pages (group \"{big.group_name}\" on the big database, \"{small.group_name}\" on the small one; the manager "
        f"may enter {big.dataset.manager_groups} of {big.dataset.rows['access_groups']} groups, the owner all; "
        f"its media library holds {len(big.dataset.library_ids):,} items on the big database, "
        f"{len(small.dataset.library_ids):,} on the small one)",
    ]
    lines += ["  " + line for line in report.table(
        ["Page", "Visitor", "Status", "Queries big", "Queries small", "Same",
         "big p50 ms", "big p95 ms", "small p50 ms", "small p95 ms", "big/small p50"],
        rows, numeric=range(3, 11),
    )]
    lines += _ratio_summary(big.pages, small_by_key)
    return lines, problems


def _ratio_summary(big: list[Measurement], small_by_key: dict[tuple[str, str], Measurement]) -> list[str]:
    """How many pages stay within the ratio limit from the small database to the big one, and which do not;
    which ran other counts of statements."""
    over = [m for m in big if report.ratio(m.p50, small_by_key[m.key].p50) > report.RATIO_LIMIT]
    differ = [m for m in big if _same(m, small_by_key[m.key]) != "yes"]
    lines = [f"  Big/small p50: {len(big) - len(over)} of {len(big)} pages and visitors within "
             f"{report.RATIO_LIMIT} (\"!\" marks those over); {len(differ)} ran other counts of statements "
             "(\"NO\" under Same)."]
    if over:
        lines.append("  Over " + str(report.RATIO_LIMIT) + ": " + ", ".join(
            f"{m.page} as {m.visitor} ({report.ratio(m.p50, small_by_key[m.key].p50):.2f})" for m in over))
    if differ:
        lines.append("  Other statements: " + ", ".join(f"{m.page} as {m.visitor}" for m in differ))
    return lines


def _wire_lines(runs: dict[str, ScaleRun]) -> list[str]:
    """Each page's response size as sent (gzip unless the body goes out as stored) and uncompressed."""
    big, small = runs["big"], runs["small"]
    small_by_key = {m.key: m for m in small.pages}
    rows = []
    for measured in big.pages:
        other = small_by_key[measured.key]
        rows.append([measured.page, measured.visitor, measured.encoding,
                     report.kb(measured.wire_bytes), report.kb(measured.plain_bytes),
                     report.kb(other.wire_bytes), report.kb(other.plain_bytes)])
    lines = ["", "Bytes on the wire (median response body as sent, asked for with Accept-Encoding: gzip; raw: the "
                 "last response uncompressed; KB of 1,024 bytes; media files and thumbnails go out as stored)"]
    lines += ["  " + line for line in report.table(
        ["Page", "Visitor", "Encoding", "big KB sent", "big KB raw", "small KB sent", "small KB raw"],
        rows, numeric=range(3, 7),
    )]
    return lines


def _statuses(*measured: Measurement) -> str:
    """The statuses the requests of `measured` answered with, like "200" or "200/409"."""
    return "/".join(map(str, sorted(set().union(*(m.statuses for m in measured)))))


def _same(big: Measurement, small: Measurement) -> str:
    """"yes" if both ran as many statements and parameter sets per request, else "NO"."""
    return "yes" if (big.query_count, big.execution_count) == (small.query_count, small.execution_count) else "NO"


def _times(big: Measurement, small: Measurement) -> list[str]:
    """p50 and p95 on the big database, then on the small one, in milliseconds."""
    return [report.ms(big.p50), report.ms(big.p95), report.ms(small.p50), report.ms(small.p95)]


def _kinds(measured: Measurement) -> str:
    """The last request's statements by kind, most first: "9 SELECT, 1 UPDATE"."""
    return ", ".join(f"{count} {kind}" for kind, count in measured.kinds().most_common())


def _count_problems(what: str, big: Measurement, small: Measurement) -> list[str]:
    """A problem, with the statements of both, if `big` ran other counts of statements than `small`."""
    if _same(big, small) == "yes":
        return []
    return [f"{what}: {big.query_count} statements ({big.execution_count} parameter sets) on the big database, "
            f"{small.query_count} ({small.execution_count}) on the small one",
            *_statement_lines("big", big), *_statement_lines("small", small)]


def _status_problems(what: str, statuses: set[int]) -> list[str]:
    """A problem if any request for `what` answered with another status than the expected one."""
    if statuses == {EXPECTED_STATUS}:
        return []
    return [f"{what}: status {sorted(statuses)}, expected {EXPECTED_STATUS}"]


def _move_lines(runs: dict[str, ScaleRun], rounds: int) -> tuple[list[str], list[str]]:
    """The media move figures of each database, and the problems found (not one UPDATE, bad statuses)."""
    times = "once" if rounds == 1 else f"{rounds} times"
    lines = ["", f"Media moves (the owner posts the move dialog with htmx: the measured library's newest items "
                 f"to another group, then back; {times} each way after a warm-up)"]
    problems = []
    for label, run in runs.items():
        moves, there, back = run.moves, run.moves.there, run.moves.back
        updates = "/".join(map(str, sorted(moves.media_updates)))
        updates += " UPDATE" if moves.media_updates == {1} else " UPDATEs"
        lines += [
            f"  {label}: Move {moves.items:,} media items: {updates} of media_items, {there.query_count} "
            f"statements in all ({_kinds(there)}), p50 {report.ms(there.p50)} ms, p95 {report.ms(there.p95)} ms",
            f"  {label}: Move them back: {back.query_count} statements, "
            f"p50 {report.ms(back.p50)} ms, p95 {report.ms(back.p95)} ms",
        ]
        if moves.media_updates != {1}:
            problems.append(f"{label}: moving {moves.items:,} media items took {updates} of media_items per "
                            f"request, not 1")
            problems += _statement_lines(label, there)
        for leg in (there, back):
            problems += _status_problems(f"{label}: {leg.page}", leg.statuses)
    return lines, problems


def _organize_lines(runs: dict[str, ScaleRun], rounds: int) -> tuple[list[str], list[str]]:
    """The Organize figures of both databases side by side, and the problems found.

    Problems: a step runs other counts of statements on the big database than on the small one,
    an apply leaves posts behind or removes the campaign links or approvers other than in one
    statement each, an Undo does not bring every post back.
    """
    big, small = runs["big"].organize, runs["small"].organize
    times = "once" if rounds == 1 else f"{rounds} times"
    lines = ["", f"Organize (the owner moves a social set to another group with htmx: preview, apply, then Undo "
                 f"from the toast; {times} after a warm-up. The set's profiles need approval by a client who "
                 f"cannot enter the new group and are in a campaign of the old one)"]
    problems = []
    for label, run in runs.items():
        measured, organized = run.organize, run.dataset.organized
        lines.append(f"  {label}: \"{measured.set_name}\" of {measured.from_group} to {measured.to_group}: "
                     f"{organized.profiles} profiles, {organized.posts:,} posts ({organized.with_media:,} with media "
                     f"of the group's library, {organized.pending:,} pending approval)")
        what = f"{label}: moving \"{measured.set_name}\""
        for found, place, after in ((measured.moved_posts, measured.to_group, "apply"),
                                    (measured.returned_posts, measured.from_group, "Undo")):
            if found != {organized.posts}:
                problems.append(f"{what}: after an {after}, {_numbers(found)} of its {organized.posts:,} posts "
                                f"were in {place}")
        for name, counts in measured.removals.items():
            if counts != {1}:
                problems.append(f"{what}: an apply removed its {name} with {_numbers(counts)} DELETE statements, "
                                "not 1")
    rows = []
    for step_big, step_small in zip(big.steps, small.steps):
        rows.append([step_big.page, _statuses(step_big, step_small), step_big.query_count, step_small.query_count,
                     _same(step_big, step_small), _kinds(step_big), *_times(step_big, step_small)])
        problems += _count_problems(f"Organize {step_big.page}", step_big, step_small)
        problems += _status_problems(f"Organize {step_big.page}", step_big.statuses | step_small.statuses)
    lines += ["  " + line for line in report.table(
        ["Step", "Status", "Statements big", "Statements small", "Same", "Statements by kind (big)",
         "big p50 ms", "big p95 ms", "small p50 ms", "small p95 ms"],
        rows, numeric=(2, 3, *range(6, 10)),
    )]
    sets = ", ".join(f"{step.page} {step.execution_count}/{other.execution_count}"
                     for step, other in zip(big.steps, small.steps))
    lines.append(f"  Parameter sets run per request, big/small (an executemany runs one per row): {sets}")
    for label, run in runs.items():
        measured = run.organize
        lines.append(f"  {label}: one COUNT after each apply (not measured) found {_numbers(measured.moved_posts)} "
                     f"of the set's {run.dataset.organized.posts:,} posts in {measured.to_group}, and after each "
                     f"Undo {_numbers(measured.returned_posts)} back in {measured.from_group}")
    return lines, problems


def _numbers(values: set[int]) -> str:
    """Distinct counts, smallest first: "5,000" or "4,990/5,000"."""
    return "/".join(f"{value:,}" for value in sorted(values))


def _statement_lines(label: str, measured: Measurement) -> list[str]:
    """The statements of one request, one shortened line each (with how often an executemany ran it)."""
    return [f"    {label} #{number}: {f'(x{runs}) ' if runs > 1 else ''}{' '.join(statement.split())[:110]}"
            for number, (statement, runs) in enumerate(zip(measured.statements, measured.runs), 1)]


def _policy_lines(result: policy_check.PolicyReport) -> tuple[list[str], list[str]]:
    """The policy comparison, and the problems found (disagreements with casbin)."""
    load = result.load_us
    queries = "/".join(map(str, sorted(result.load_queries)))
    lines = [
        "",
        f"Policy checks (big database: {result.users} users x {result.groups} access groups x "
        f"{len(policy_check.ACTIONS)} actions; {result.checks:,} random triples, "
        f"{result.allowed:,} allowed by Roster)",
        f"  Roster load_permissions(user_id): {queries} query per call, p50 {report.us(report.percentile(load, 0.5))} µs, "
        f"p95 {report.us(report.percentile(load, 0.95))} µs over {len(load)} calls (once per request)",
        f"  casbin rules derived from the same rows: {result.policies} p rules, {result.groupings} g rules, "
        f"read in {report.ms(result.read_rules_ms)} ms",
    ]
    rows = [["Roster decide(perms, action, group)", "-", report.us(result.decide_us), "-"]]
    problems = []
    for variant in result.variants:
        rows.append([variant.label, report.ms(variant.build_ms), report.us(variant.us_per_check),
                     f"{variant.agree:,}/{result.checks:,}"])
        for user_id, group_id, action, mine, theirs in variant.disagreements[:5]:
            problems.append(f"{variant.label}: user {user_id}, group {group_id}, {action}: "
                            f"Roster {'allows' if mine else 'refuses'}, casbin {'allows' if theirs else 'refuses'}")
        if len(variant.disagreements) > 5:
            problems.append(f"{variant.label}: ... {len(variant.disagreements) - 5} more disagreements")
    lines += ["  " + line for line in report.table(
        ["Check", "build ms", "µs per check", "agrees with Roster"], rows, numeric=(1, 2, 3)
    )]
    lines += [
        "  casbin model: RBAC with domains (domain = access group), shared role permissions: p rules per role",
        "  with domain \"*\" (keyMatch); g rules give each user their role, own-rights role and user-group roles",
        "  in every group they may enter (Users tab, user-group grant, ownership; expiries applied at build).",
        f"  documented matcher: {policy_check.DOCUMENTED_MATCHER}",
    ]
    return lines, problems


def _agency_lines(runs: dict[str, ScaleRun], policy: policy_check.PolicyReport, unmeasured: list[str],
                  args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The big and small agency's figures (pages, bytes, moves, Organize, policy), and the problems found."""
    lines = _database_lines(runs)
    page_lines, problems = _page_lines(runs)
    lines += page_lines
    if unmeasured:
        lines.append(f"  Not measured (GET routes with no page in bench/pages.py PAGES): {', '.join(unmeasured)}")
    lines += _wire_lines(runs)
    move_lines, move_problems = _move_lines(runs, args.requests)
    lines += move_lines
    problems += move_problems
    organize_lines, organize_problems = _organize_lines(runs, args.requests)
    lines += organize_lines
    problems += organize_problems
    policy_text, policy_problems = _policy_lines(policy)
    lines += policy_text
    problems += policy_problems
    return lines, problems


def _agency_ok(runs: dict[str, ScaleRun]) -> str:
    """What holds when the agency part found no problem."""
    return ("every page makes as many queries on the big database as on the small one, "
            "each media move is one UPDATE of media_items, moving a set with "
            f"{runs['big'].dataset.organized.posts:,} posts takes as many statements as with "
            f"{runs['small'].dataset.organized.posts:,} (and its preview as many queries), "
            "and casbin agrees with Roster on every check")


CALENDAR_OK = ("every calendar view answers, with as many statements at 5,000 posts in a month as at 100, "
               "and no day shows a wrong count")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every contract holds, 1 otherwise."""
    args = _parse(argv)
    started = time.perf_counter()
    lines, problems, held = _header(args), [], []
    with workspace() as workdir:
        if args.only != "calendar":
            runs: dict[str, ScaleRun] = {}
            runs["big"], policy, unmeasured = _run_scale(BIG, workdir, args.requests, args.checks)
            runs["small"], _, _ = _run_scale(SMALL, workdir, args.requests, args.checks)
            agency_lines, agency_problems = _agency_lines(runs, policy, unmeasured, args)
            lines += agency_lines
            problems += agency_problems
            held.append(_agency_ok(runs))
        if args.only != "agency":
            _progress("building the calendar database and measuring its views ...")
            calendar = calendar_density.run(workdir, args.calendar_requests)
            calendar_lines, calendar_problems = calendar_density.report_lines(calendar, backend_name())
            lines += calendar_lines
            problems += calendar_problems
            held.append(CALENDAR_OK)

    lines.append("")
    if problems:
        lines.append("FAILED:")
        lines += [problem if problem.startswith(" ") else f"  - {problem}" for problem in problems]
    else:
        lines.append("OK: " + "; ".join(held) + ".")
    lines.append(f"Total runtime: {time.perf_counter() - started:.1f} s")
    print("\n".join(lines))
    path = report.write(lines, report.CALENDAR_FILE if args.only == "calendar" else report.RESULTS_FILE)
    _progress(f"written to {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
