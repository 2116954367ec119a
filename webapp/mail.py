"""Outgoing email: queued in the database with the change that causes it, delivered after commit.

`queue_mail` adds a `Mail` row to the caller's transaction, so a rollback also cancels the mail and
an SMTP outage loses nothing. After a request's response has gone out, the mail that request
committed is delivered; everything else (retries, mail queued outside a request) is delivered by
the background worker each minute (`webapp/worker.py`), or by `flask mail send-pending`.

A sender claims each message (queued → sending, through `leases`) and commits before it talks to
the mail server, so two workers or hosts never send the same message. While a message is `sending`,
its `next_attempt_at` holds the end of the sender's lease: a message still `sending` after that was
left behind by a sender that stopped, and is queued again. `attempts` counts tries including the
one under way, so a message that keeps killing its sender is also given up on.

Mail templates come in pairs. `mail/<name>.html` extends `mail/_layout.html` and is autoescaped like
every page. `mail/<name>.txt` is rendered through an overlay of the app's Jinja environment with
autoescaping explicitly off, since `&amp;` in plain text would break links; a text template may
only extend or include other text templates.

With `MAIL_SERVER` set, mail goes over SMTP; without it, each message is written to the outbox
folder as an .eml file and the log says which file, so the demo works offline: its links are in the
file (never in the log, which masks link tokens).
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, format_datetime, parseaddr
from pathlib import Path
from typing import Any

from flask import (
    Config,
    Flask,
    Response,
    after_this_request,
    current_app,
    has_request_context,
    render_template,
    request,
)
from jinja2 import Environment
from sqlalchemy import ColumnElement, func, inspect, select

from . import leases
from .extensions import db
from .models import Mail, MailStatus, utcnow

FIRST_RETRY_DELAY = timedelta(minutes=1)
LONGEST_RETRY_DELAY = timedelta(hours=1)
STOPPED_SENDER_ERROR = "The sender stopped while sending this message."

# Per request, not in `g`: an app context (and so `g`) may outlive one request, as in tests.
_QUEUED_THIS_REQUEST = "roster.mail.queued"
# Not yet delivered and not given up on: waiting for a sender, or with one now.
UNSENT = (MailStatus.QUEUED.value, MailStatus.SENDING.value)


@dataclass
class DeliveryReport:
    """What one delivery run did: messages sent, given up on, and scheduled to try again."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0


class MailServerUnavailable(Exception):
    """The mail server could not be reached or refused us; the rest of the run would fail too."""


DELIVERED_BODY = "(delivered; the body is not kept because it may hold a sign-in link)"


def queue_mail(to_address: str, subject: str, text_body: str, html_body: str | None = None,
               sender_name: str | None = None) -> Mail:
    """Queue an email in the current transaction; it goes out once that transaction commits.

    `sender_name` replaces MAIL_FROM's display name (an agency's mail reads "Northstar Talent via
    Roster": `brand.sender_name`); the address stays MAIL_FROM's."""
    for name, value in (("recipient", to_address), ("subject", subject), ("sender name", sender_name or "")):
        # Refused here, where the caller can still fix it, not in a worker that can only give up.
        if "\r" in value or "\n" in value:
            raise ValueError(f"An email {name} cannot contain a line break.")
    mail = Mail(
        to_address=to_address,
        sender_name=sender_name,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        status=MailStatus.QUEUED.value,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(mail)
    if has_request_context():
        _deliver_after_response(mail)
    return mail


def render_mail(template_base: str, **context: Any) -> tuple[str, str]:
    """Render `mail/<base>.txt` (plain text, not escaped) and `mail/<base>.html` (escaped).

    Every mail carries a `brand` for its layout: the `account`'s when one is given, else Roster's own."""
    from .brand import brand_of

    if context.get("brand") is None:
        context["brand"] = brand_of(context.get("account"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    html_body = render_template(f"mail/{template_base}.html", **context)
    app.update_template_context(context)
    text_body = _text_templates(app).get_template(f"mail/{template_base}.txt").render(context)
    # The plain-text part is signed as the HTML layout's footer is.
    text_body = f"{text_body.rstrip()}\n\n-- \nSent by {context['brand'].sender_name}"
    return text_body, html_body


def send_pending(limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Deliver up to `limit` due messages, each at most once, and schedule retries for failures."""
    now = now or utcnow()
    _requeue_abandoned(now)
    due_ids = db.session.scalars(
        select(Mail.id).where(_due(now)).order_by(Mail.next_attempt_at, Mail.id).limit(limit)
    ).all()
    return _deliver(due_ids, now)


def sending_lease() -> leases.Lease:
    """How a sender holds a message: `sending` until `next_attempt_at`, MAIL_SENDING_TIMEOUT from its claim."""
    return leases.Lease(
        id=Mail.id, attempts=Mail.attempts, status=Mail.status, taken_status=MailStatus.SENDING.value,
        expires_at=Mail.next_attempt_at, duration=timedelta(seconds=current_app.config["MAIL_SENDING_TIMEOUT"]),
    )


def oldest_unsent() -> datetime | None:
    """When the oldest message still waiting to be delivered was queued, or None when none waits."""
    return db.session.scalar(select(func.min(Mail.created_at)).where(Mail.status.in_(UNSENT)))


def _due(now: datetime) -> ColumnElement[bool]:
    """Queued messages whose next try has come."""
    return (Mail.status == MailStatus.QUEUED.value) & (Mail.next_attempt_at <= now)


# --- delivery ------------------------------------------------------------------------------------


def _deliver(mail_ids: Iterable[int], now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    config = current_app.config
    transport = SMTPTransport(config) if config.get("MAIL_SERVER") else OutboxTransport(config)
    lease = sending_lease()
    try:
        for mail_id in mail_ids:
            if leases.claim(lease, mail_id, _due(now), now) is None:
                continue  # another sender has it, or it is no longer due
            mail = db.session.get_one(Mail, mail_id)
            try:
                transport.send(mail, _email_message(mail, config["MAIL_FROM"]))
            except MailServerUnavailable as error:
                _record_failure(mail, error.__cause__ or error, now, report)
                break  # the rest stays queued, untouched, for the next run
            # Any error (a refused recipient, a bug) must end in a retry, never in a stuck message.
            except Exception as error:
                _record_failure(mail, error, now, report)
            else:
                mail.status = MailStatus.SENT.value
                mail.sent_at = now
                # A delivered body may carry a single-use link; keep no copy of it at rest.
                mail.text_body, mail.html_body = DELIVERED_BODY, None
                db.session.commit()
                report.sent += 1
    finally:
        transport.close()
    return report


def _record_failure(mail: Mail, error: BaseException, now: datetime, report: DeliveryReport) -> None:
    mail.last_error = f"{type(error).__name__}: {error}"[:2000]
    if mail.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        mail.status = MailStatus.FAILED.value
        report.failed += 1
        current_app.logger.error("Gave up on mail %s to %s: %s", mail.id, mail.to_address, mail.last_error)
    else:
        mail.status = MailStatus.QUEUED.value
        mail.next_attempt_at = now + leases.backoff(mail.attempts, FIRST_RETRY_DELAY, LONGEST_RETRY_DELAY)
        report.retrying += 1
        current_app.logger.warning(
            "Mail %s to %s not sent (%s); next try at %s", mail.id, mail.to_address, mail.last_error,
            mail.next_attempt_at.isoformat(timespec="seconds"),
        )
    db.session.commit()


def _requeue_abandoned(now: datetime) -> None:
    """Queue again the messages whose sender stopped mid-send; give up on those out of attempts."""
    lease = sending_lease()
    requeued = 0
    for claim, attempts in leases.expired(lease, now):
        given_up = attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
        status = MailStatus.FAILED if given_up else MailStatus.QUEUED
        if leases.settle(lease, claim, status=status.value, last_error=STOPPED_SENDER_ERROR) and not given_up:
            requeued += 1
    db.session.commit()
    if requeued:
        current_app.logger.warning("Queued %d mail(s) again that a stopped sender left behind", requeued)


def _email_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    if mail.sender_name:
        sender = formataddr((mail.sender_name, parseaddr(sender)[1]))
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    # The same Message-ID on every try lets mail clients drop a copy a stopped sender already sent.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<roster.mail.{mail.id}.{int(mail.created_at.timestamp())}@{domain}>"
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    return message


class SMTPTransport:
    """Sends over one SMTP connection per run, opened on the first message."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def send(self, mail: Mail, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message)
        except Exception:
            # After an error the session's state is unknown; the next message starts afresh.
            self.close()
            raise

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        try:
            connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
            try:
                if config["MAIL_USE_TLS"]:
                    connection.starttls(context=ssl.create_default_context())
                if config["MAIL_USERNAME"]:
                    connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            except Exception:
                connection.close()
                raise
        except (OSError, smtplib.SMTPException) as error:
            raise MailServerUnavailable(f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}") from error
        return connection

    def close(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


class OutboxTransport:
    """Writes each message to the outbox folder and logs which file it is."""

    def __init__(self, config: Config) -> None:
        self.outbox = Path(config["MAIL_OUTBOX"])

    def send(self, mail: Mail, message: EmailMessage) -> None:
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MailServerUnavailable(str(self.outbox)) from error
        path = self.outbox / f"{utcnow():%Y%m%d-%H%M%S}-mail-{mail.id}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.as_bytes())
        partial.replace(path)  # readers of the outbox never see half a message
        # The file, not its links: the log masks link tokens, and the file has them whole.
        current_app.logger.info("Mail to %s, %r, written to %s", mail.to_address, mail.subject, path)

    def close(self) -> None:
        pass


# --- after the response --------------------------------------------------------------------------


def _deliver_after_response(mail: Mail) -> None:
    queued: list[Mail] = request.environ.setdefault(_QUEUED_THIS_REQUEST, [])
    if not queued:
        after_this_request(_send_when_response_closes)
    queued.append(mail)


def _send_when_response_closes(response: Response) -> Response:
    # Only mail that reached the database has an identity; rolled-back mail has none.
    identities = (inspect(mail).identity for mail in request.environ.pop(_QUEUED_THIS_REQUEST, []))
    mail_ids = [identity[0] for identity in identities if identity]
    if mail_ids:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        # Closing runs after the body went out and after the request's transaction ended.
        response.call_on_close(lambda: _send_committed(app, mail_ids))
    return response


def _send_committed(app: Flask, mail_ids: list[int]) -> None:
    try:
        with app.app_context():
            _deliver(mail_ids, utcnow())
    except Exception:
        # The response is already out; the mail stays in the queue for `flask mail send-pending`.
        app.logger.exception("Mail %s not delivered after the response", mail_ids)


def _text_templates(app: Flask) -> Environment:
    """The app's templates with autoescaping off, for plain-text bodies only."""
    environment = app.extensions.get("roster_mail_text")
    if environment is None:
        # An overlay shares loader, filters and globals but never this setting with the app's own.
        environment = app.extensions["roster_mail_text"] = app.jinja_env.overlay(autoescape=False)
    return environment
