"""After the run: did every due post go out once, every mail arrive once, and no request fail on the server?

Each check reads the database (in the runner's app context), the SMTP sink's record, Locust's
statistics or the servers' JSON logs, and says what it found in a line of the report.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Mail, MailStatus, Post, PostStatus
from webapp.posts import PUBLISHABLE
from webapp.sandbox.models import SandboxPublication

from .services import Received

REFERENCE = re.compile(r"roster-post-(\d+)$")
SHOWN = 5  # ids listed in a check's detail before "..."


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class PageStats:
    """One line of Locust's statistics: a page (or "Aggregated"), with times in milliseconds."""

    method: str
    name: str
    requests: int
    failures: int
    p50: str
    p95: str
    p99: str
    max: str
    rps: float


@dataclass
class LogFindings:
    """What the web server's and the workers' logs say went wrong."""

    server_errors: list[str] = field(default_factory=list)  # access lines with a 5xx status
    errors: Counter[str] = field(default_factory=Counter)  # ERROR and CRITICAL records, by kind
    warnings: Counter[str] = field(default_factory=Counter)


def _post_id(reference: str) -> int:
    """The post a sandbox publication names ("roster-post-<id>"); 0 for a reference that names none."""
    found = REFERENCE.match(reference)
    return int(found.group(1)) if found else 0


def _ids(values) -> str:
    values = sorted(values)
    listed = ", ".join(map(str, values[:SHOWN]))
    return listed + (f", ... ({len(values)} in all)" if len(values) > SHOWN else "")


# --- publications and mail ------------------------------------------------------------------------


def publications(ended: datetime, seeded_published: set[int]) -> list[Check]:
    """Every post due by `ended` that may go out was published, once, and nothing went out early."""
    due_unpublished = db.session.scalars(
        select(Post.id).where(Post.status.in_(PUBLISHABLE), Post.scheduled_at <= ended)).all()
    published = {post_id: scheduled_at for post_id, scheduled_at in db.session.execute(
        select(Post.id, Post.scheduled_at).where(Post.status == PostStatus.PUBLISHED.value)) if post_id not in
        seeded_published}
    recorded = [(_post_id(reference), at) for reference, at in db.session.execute(
        select(SandboxPublication.client_reference, SandboxPublication.published_at))]
    per_post = Counter(post_id for post_id, _ in recorded)
    duplicated = {post_id: count for post_id, count in per_post.items() if count > 1}
    unrecorded = [post_id for post_id in published if post_id not in per_post]
    # A record for a post that is not published (or no post of ours), or made before the post's time.
    early_or_stray = {post_id for post_id, at in recorded if post_id not in published or published[post_id] > at}
    later = sum(1 for scheduled_at in published.values() if scheduled_at > ended)
    due_by_end = len(published) - later + len(due_unpublished)
    errors = db.session.scalars(select(Post.publish_error).where(Post.publish_error.is_not(None)).distinct()).all()
    return [
        Check("Due posts published", not due_unpublished,
              f"{due_by_end - len(due_unpublished)} of {due_by_end} posts due by the end of the run are published "
              f"({later} more fell due and were published while waiting)"
              + (f"; not published: {_ids(due_unpublished)}" if due_unpublished else "")
              + (f"; publish errors: {'; '.join(errors)}" if errors else "")),
        Check("One publication per post", not duplicated and not unrecorded,
              f"{len(recorded)} sandbox publications for {len(published)} published posts"
              + (f"; more than one for posts {_ids(duplicated)}" if duplicated else "")
              + (f"; none for posts {_ids(unrecorded)}" if unrecorded else "")),
        Check("Nothing published early or unapproved", not early_or_stray,
              "every publication is of a published post, at or after its time" if not early_or_stray
              else f"publications of posts {_ids(early_or_stray)} came before their time or for unpublished posts"),
    ]


def mail(received: list[Received]) -> list[Check]:
    """Every queued mail was sent, and the SMTP server got each exactly once (by its Message-ID)."""
    rows = db.session.execute(select(Mail.id, Mail.status, Mail.last_error)).all()
    statuses = Counter(status for _, status, _ in rows)
    unsent = [mail_id for mail_id, status, _ in rows if status != MailStatus.SENT.value]
    problems = {error for _, status, error in rows if status != MailStatus.SENT.value and error}
    copies = Counter(message.mail_id for message in received)
    sent = {mail_id for mail_id, status, _ in rows if status == MailStatus.SENT.value}
    missing = sent - set(copies)
    duplicated = {mail_id: count for mail_id, count in copies.items() if mail_id is not None and count > 1}
    unknown = [mail_id for mail_id in copies if mail_id is None or mail_id not in {row[0] for row in rows}]
    by_status = ", ".join(f"{count} {status}" for status, count in statuses.most_common())
    return [
        Check("Every mail sent", not unsent,
              f"{len(rows)} mail rows: {by_status or 'none'}"
              + (f"; unsent: {_ids(unsent)}" if unsent else "")
              + (f"; errors: {'; '.join(problems)}" if problems else "")),
        Check("Each mail received once", not missing and not duplicated and not unknown,
              f"the SMTP sink received {len(received)} messages for {len(sent)} sent rows"
              + (f"; never received: {_ids(missing)}" if missing else "")
              + (f"; received more than once: {_ids(duplicated)}" if duplicated else "")
              + (f"; {len(unknown)} with no known mail id" if unknown else "")),
    ]


def unfinished(ended: datetime) -> tuple[int, int]:
    """Posts due by `ended` still waiting to go out, and mail still waiting to be sent."""
    posts = db.session.scalar(select(func.count()).select_from(Post).where(
        Post.status.in_(PUBLISHABLE), Post.scheduled_at <= ended))
    mails = db.session.scalar(select(func.count()).select_from(Mail).where(
        Mail.status.in_((MailStatus.QUEUED.value, MailStatus.SENDING.value))))
    return posts, mails


# --- requests ---------------------------------------------------------------------------------------


def read_stats(path: Path) -> list[PageStats]:
    """Locust's `<prefix>_stats.csv`: one row per page, then the aggregate."""
    with path.open(newline="") as rows:
        return [PageStats(row["Type"], row["Name"], int(row["Request Count"]), int(row["Failure Count"]),
                          row["50%"], row["95%"], row["99%"], f"{float(row['Max Response Time']):.0f}",
                          float(row["Requests/s"]))
                for row in csv.DictReader(rows)]


def read_task_errors(path: Path) -> Counter[str]:
    """Locust's `<prefix>_exceptions.csv`: errors raised in the simulated people's own code, by message."""
    with path.open(newline="") as rows:
        return Counter({row["Message"]: int(row["Count"]) for row in csv.DictReader(rows)})


def read_logs(paths: list[Path]) -> LogFindings:
    """5xx access lines, and ERROR/CRITICAL and WARNING records by kind (numbers made N, to group them)."""
    findings = LogFindings()
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                if "Traceback" in line or "Error" in line:
                    findings.errors[f"{path.stem}: {line.strip()[:200]}"] += 1
                continue
            if record.get("logger") == "roster.access" and int(record.get("status") or 0) >= 500:
                findings.server_errors.append(f"{record['method']} {record['path']} {record['status']}")
            level = record.get("level")
            if level in ("ERROR", "CRITICAL", "WARNING"):
                kind = re.sub(r"\d+", "N", f"{record.get('logger')}: {record.get('message', '')}")[:200]
                exception = (record.get("exception") or "").strip().splitlines()
                if exception:
                    kind += f" ({exception[-1][:200]})"
                (findings.warnings if level == "WARNING" else findings.errors)[kind] += 1
    return findings


def requests(total: PageStats, counts: dict, logs: LogFindings, task_errors: Counter[str]) -> list[Check]:
    """No 5xx (as Locust saw them and as the access log wrote them), no error logged, no failed request,
    and no error in the simulated people's own code (which would leave part of the load unsent)."""
    seen = sum(counts.get("server_errors", {}).values())
    return [
        Check("No 5xx responses", not seen and not logs.server_errors,
              f"Locust saw {seen}, the access log wrote {len(logs.server_errors)}"
              + (f": {'; '.join(logs.server_errors[:SHOWN])}" if logs.server_errors else "")),
        Check("No errors logged", not logs.errors,
              f"{sum(logs.errors.values())} ERROR/CRITICAL records in the web server's and workers' logs"),
        Check("Every request answered as expected", total.failures == 0 and not task_errors,
              f"{total.failures} of {total.requests} requests failed"
              + "".join(f"; {count} x task error {message}" for message, count in task_errors.most_common(SHOWN))),
    ]


# --- the report -------------------------------------------------------------------------------------


def markdown_table(headers: list[str], rows: list[list[object]]) -> list[str]:
    """A GitHub-flavoured markdown table, columns padded so it reads as plain text too."""
    cells = [headers, *[[str(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(value.ljust(widths[i]) for i, value in enumerate(row)) + " |" for row in cells]
    lines.insert(1, "| " + " | ".join("-" * width for width in widths) + " |")
    return lines
