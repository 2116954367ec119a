"""`python -m bench.loadtest`: Roster under load as production runs it, then proof that nothing was lost.

Makes a throwaway PostgreSQL database (on the server LOADTEST_DATABASE_URL names), migrates it and
seeds the demo agency plus bulk; starts gunicorn (4 workers x 4 threads) and two background workers on
loopback, with Redis (LOADTEST_REDIS_URL, default redis://127.0.0.1:6379: database 0 for the worker
queue under a name of the run's own, 1 for the sign-in rate limit) and an SMTP sink for the mail;
runs Locust headless (staff and clients, see locustfile.py); waits until the posts due by the end are
published and the mail is sent; checks and reports. Results go to bench-results/loadtest-<time>/. The
exit status is 1 when a check fails. Every process is stopped and the database dropped in every case,
Ctrl-C included.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.scratch_db import scratch_database
from webapp import create_app
from webapp.extensions import db
from webapp.models import WorkerHeartbeat, utcnow
from webapp.worker import queue_for

from . import checks, seed
from .services import BIN, REPO, MailSink, Service, free_port, roster

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
RESULTS = REPO / "bench-results"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BACKGROUND_WORKERS = 2
# The run's own posts fall due from this long after Locust starts (while people arrive) to its end.
LEAD = timedelta(seconds=10)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="simulated people, staff and clients 4:1 (50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="people arriving per second (10)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    parser.add_argument("--settle", type=int, default=150,
                        help="most seconds to wait afterwards for due posts and mail to go out (150)")
    args = parser.parse_args(argv)
    if args.users < 2 or args.spawn_rate <= 0 or args.duration < 10 or args.settle < 0:
        parser.error("need at least 2 users, a positive spawn rate, 10 seconds of load and a settle time >= 0")
    return args


def _progress(message: str) -> None:
    print(f"[loadtest] {message}", file=sys.stderr, flush=True)


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the run like Ctrl-C: through every `finally`


def _environment(database_url: str, workdir: Path, port: int, mail_port: int) -> dict[str, str]:
    """The settings of every Roster process (and of the runner's own app, which checks the outcome)."""
    redis = os.environ.get("LOADTEST_REDIS_URL", DEFAULT_REDIS)
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "FLASK_APP": "wsgi",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "roster-loadtest-secret-key",
        "ROSTER_URL": f"http://127.0.0.1:{port}",
        "MEDIA_ROOT": str(workdir / "media"),
        "MAIL_OUTBOX": str(workdir / "outbox"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_port),
        "MAIL_USE_TLS": "0",
        "MAIL_USERNAME": "",
        "WORKER_QUEUE_URL": f"{redis}/0",
        "WORKER_QUEUE_NAME": f"roster-loadtest-{uuid.uuid4().hex[:10]}",
        "RATELIMIT_STORAGE_URI": f"{redis}/1",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "MALLOC_ARENA_MAX": "2",
        "PYTHONUNBUFFERED": "1",
    }


def _release(app: Flask) -> None:
    """Close the runner's connections (so the database can be dropped) and empty the run's queue in Redis."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    queue_for(app).flush()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait_until_ready(app: Flask, url: str, services: list[Service], timeout: float = 90) -> None:
    """Until the web server answers and every background worker has said it is alive."""
    deadline = time.monotonic() + timeout
    while True:
        for service in services:
            if not service.running():
                raise RuntimeError(f"{service.name} stopped while starting:\n{service.tail()}")
        with app.app_context():
            beating = db.session.scalar(select(func.count()).select_from(WorkerHeartbeat))
            db.session.remove()
        if beating >= BACKGROUND_WORKERS and _answers(f"{url}/healthz"):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Roster did not start within {timeout:.0f} s")
        time.sleep(0.5)


def _settle(app: Flask, ended: datetime, seconds: int) -> float:
    """Wait (at most `seconds`) for the workers to publish every post due by `ended` and send all mail."""
    started = time.monotonic()
    while True:
        with app.app_context():
            posts, mails = checks.unfinished(ended)
            db.session.remove()
        waited = time.monotonic() - started
        if (posts == 0 and mails == 0) or waited > seconds:
            return waited
        time.sleep(2)


def _locust(args: argparse.Namespace, url: str, plan: Path, results: Path) -> Service:
    command = [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", url,
               "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
               "--stop-timeout", "10", "--only-summary", "--exit-code-on-error", "0",
               "--csv", str(results / "locust"), "--json-file", str(results / "locust"),
               "--html", str(results / "locust.html")]
    return Service("locust", command, {**os.environ, "LOADTEST_PLAN": str(plan)}, results / "locust.log")


def _by_page(counts: dict[str, int]) -> str:
    """" (page: count, ...)" to follow a total, or nothing when there is none."""
    return f" ({', '.join(f'{name}: {count}' for name, count in sorted(counts.items()))})" if counts else ""


def _report(args: argparse.Namespace, results: Path, stats: list[checks.PageStats], outcome: list[checks.Check],
            logs: checks.LogFindings, counts: dict, run_posts: seed.RunPosts, waited: float,
            load: tuple[tuple[float, ...], tuple[float, ...]]) -> list[str]:
    """The report in markdown: the setting, the page table, what was resent or conflicted, the checks, the logs."""
    pages = sorted((row for row in stats if row.name != "Aggregated"), key=lambda row: row.name)
    total = next(row for row in stats if row.name == "Aggregated")
    before, after = ("/".join(f"{value:.1f}" for value in averages) for averages in load)
    conflicts = sum(counts.get("conflicts", {}).values())
    resent = sum(counts.get("resent", {}).values())
    setting = (f"{args.users} simulated people (staff and clients 4:1, arriving {args.spawn_rate:g}/s) for "
               f"{args.duration} s against gunicorn (4 workers x 4 threads) and {BACKGROUND_WORKERS} background "
               "workers (2 threads each) on loopback, with PostgreSQL, Redis (worker queue, sign-in limits) and an "
               f"SMTP sink. Locust runs on the same machine: {os.cpu_count()} CPUs, load average (1/5/15 min) "
               f"{before} before, {after} after.")
    data = (f"Data: the demo agency plus {seed.MEDIA_PER_GROUP} media items and {seed.CALENDAR_POSTS_PER_GROUP} "
            f"calendar posts per group; {run_posts.due_during_run} scheduled posts and {run_posts.pending} posts "
            f"awaiting approval ({len(run_posts.review_tokens)} review links) fall due during the run, besides "
            "those people schedule.")
    summary = (f"**{total.requests} requests, {total.rps:.1f} per second, {total.failures} failed.** {conflicts} "
               "requests found that someone else had just moved a media item they named (422 saying so, counted as "
               f"answered){_by_page(counts.get('conflicts', {}))}. {resent} GETs were sent again, as a browser "
               "would, after the server closed an idle kept-alive connection just as it was reused (no answer at "
               "all; gunicorn's keep-alive is 2 s).")
    lines = [
        f"# Roster load test, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        setting,
        data,
        "",
        "## Pages (milliseconds)",
        "",
        *checks.markdown_table(
            ["Page", "Method", "Requests", "Failures", "p50", "p95", "p99", "Max", "Req/s"],
            [[row.name, row.method, row.requests, row.failures, row.p50, row.p95, row.p99, row.max, f"{row.rps:.2f}"]
             for row in [*pages, total]]),
        "",
        summary,
        "",
        "## Checks",
        "",
        *checks.markdown_table(
            ["Check", "Result", "Detail"],
            [[check.name, "pass" if check.passed else "**FAIL**", check.detail] for check in outcome]),
        "",
        f"Waited {waited:.0f} s after the run for due posts and mail (at most {args.settle} s).",
    ]
    for heading, found in (("Errors logged", logs.errors), ("Warnings logged", logs.warnings)):
        if found:
            lines += ["", f"## {heading}", "", *(f"- {count} x {kind}" for kind, count in found.most_common(15))]
    lines += ["", f"Logs, Locust's CSV, JSON and HTML: {results.relative_to(REPO)}/"]
    return lines


def run(args: argparse.Namespace) -> int:
    results = RESULTS / f"loadtest-{datetime.now():%Y%m%d-%H%M%S}"
    results.mkdir(parents=True)
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        server = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_SERVER)
        database_url = stack.enter_context(scratch_database(server, "roster_loadtest"))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="roster-loadtest-")))
        sink = stack.enter_context(MailSink())
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = _environment(database_url, workdir, port, sink.port)

        _progress("migrating and seeding the demo agency ...")
        for step in (["db", "upgrade"], ["demo", "seed"]):
            done = subprocess.run([str(BIN / "flask"), *step], cwd=REPO, env=env, capture_output=True, text=True,
                                  check=False)
            if done.returncode:
                raise RuntimeError(f"flask {' '.join(step)} failed:\n{done.stderr[-3000:]}")
        os.environ.update(env)  # the runner's own app reads what the servers read
        app = create_app()
        stack.callback(_release, app)
        with app.app_context():
            seed.add_bulk()
            seeded_published = seed.published_post_ids()
            plan = {"staff": seed.staff_logins(), "time_zone": seed.account_time_zone(),
                    "counts_file": str(results / "locust-counts.json")}

        _progress(f"starting gunicorn and {BACKGROUND_WORKERS} background workers on {url} ...")
        services = stack.enter_context(roster(env, port, results, background_workers=BACKGROUND_WORKERS))
        _wait_until_ready(app, url, services)
        with app.app_context():
            run_posts = seed.add_run_posts(utcnow() + LEAD, args.duration,
                                           pending=max(seed.POSTS_PER_LINK, args.users * args.duration // 15),
                                           due=max(1, args.users * args.duration // 30))
        plan_file = workdir / "plan.json"  # holds review link tokens: kept out of the results
        plan_file.write_text(json.dumps({**plan, "review_tokens": run_posts.review_tokens}))

        _progress(f"Locust: {args.users} people for {args.duration} s ...")
        locust = _locust(args, url, plan_file, results).start()
        stack.callback(locust.stop)
        if locust.wait(timeout=args.duration + 120):
            raise RuntimeError(f"Locust stopped with an error:\n{locust.tail()}")
        ended = utcnow()
        _progress(f"waiting (at most {args.settle} s) for due posts to be published and mail to be sent ...")
        waited = _settle(app, ended, args.settle)

        with app.app_context():
            # One snapshot for every query: the workers go on publishing the posts that fell due after the run.
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            outcome = checks.publications(ended, seeded_published) + checks.mail(sink.messages())
            db.session.remove()
    # Everything is stopped: the logs are complete, shutdown included.
    stats = checks.read_stats(results / "locust_stats.csv")
    counts = json.loads((results / "locust-counts.json").read_text())
    logs = checks.read_logs([service.log for service in services])
    total = next(row for row in stats if row.name == "Aggregated")
    outcome += checks.requests(total, counts, logs, checks.read_task_errors(results / "locust_exceptions.csv"))
    lines = _report(args, results, stats, outcome, logs, counts, run_posts, waited, (load_before, os.getloadavg()))
    print("\n".join(lines))
    (results / "report.md").write_text("\n".join(lines) + "\n")
    _progress(f"written to {results / 'report.md'}")
    return 0 if all(check.passed for check in outcome) else 1


def main(argv: list[str] | None = None) -> int:
    """Run the load test; 0 when every check passes, 1 when one fails, 130 when interrupted."""
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return run(args)
    except KeyboardInterrupt:
        _progress("interrupted: every process is stopped and the database dropped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
