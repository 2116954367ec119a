"""Outgoing mail: queued with the change that causes it, delivered exactly once over real SMTP."""
from __future__ import annotations

import email.policy
import logging
import smtplib
from collections import Counter
from datetime import timedelta
from email.parser import BytesParser

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from webapp import policy
from webapp.extensions import db
from webapp.mail import STOPPED_SENDER_ERROR, DeliveryReport, queue_mail, render_mail, send_pending
from webapp.models import Mail, MailStatus, utcnow

from .concurrency import race
from .conftest import free_port

INVITATION_TEXT = "Ana invited you to Northstar Talent.\nJoin here: https://roster.test/join/abc123.\n"
INVITATION_HTML = '<p>Ana invited you. <a href="https://roster.test/join/abc123">Join</a></p>'


@pytest.fixture
def outbox(app, tmp_path):
    """No mail server configured: mail goes to an outbox folder."""
    folder = tmp_path / "outbox"
    app.config.update(MAIL_SERVER=None, MAIL_OUTBOX=str(folder))
    return folder


def stored_mail() -> list[Mail]:
    """The mail table as the database has it now, whatever this session saw before."""
    return list(db.session.scalars(select(Mail).order_by(Mail.id).execution_options(populate_existing=True)))


def queue_invitation(to_address: str = "ben@example.test", subject: str = "Join Northstar Talent") -> Mail:
    return queue_mail(to_address, subject, INVITATION_TEXT, INVITATION_HTML)


# --- queueing ------------------------------------------------------------------------------------


def test_mail_is_queued_in_the_callers_transaction(outbox):
    """A rollback takes the queued mail with it; a commit keeps it queued and sends nothing yet."""
    queue_invitation()
    db.session.rollback()
    assert stored_mail() == []

    queue_invitation()
    db.session.commit()
    [mail] = stored_mail()
    assert (mail.status, mail.attempts, mail.sent_at) == (MailStatus.QUEUED.value, 0, None)
    assert not outbox.exists(), "outside a request nothing is sent until send_pending runs"


@pytest.mark.parametrize("to_address, subject", [
    ("ben@example.test\r\nBcc: all@example.test", "Hello"),
    ("ben@example.test", "Hello\nBcc: all@example.test"),
])
def test_a_line_break_in_a_header_is_refused_when_queued(app, to_address, subject):
    """Header injection fails at once in the caller, not later in the sender."""
    with pytest.raises(ValueError, match="line break"):
        queue_mail(to_address, subject, "Hi")
    assert not db.session.new


# --- after a request -----------------------------------------------------------------------------


@pytest.fixture
def invite_route(app):
    """A test-only view that queues an invitation, then commits or rolls back."""

    @app.post("/test/invite/<outcome>")
    @policy.public
    def test_invite(outcome: str):
        queue_invitation()
        if outcome == "commit":
            db.session.commit()
        else:
            db.session.rollback()
        return outcome, 201


@pytest.mark.fresh_app
def test_mail_from_a_request_goes_out_once_the_response_is_done(client, smtp_server, invite_route):
    """The view's response is complete before the mail is sent; closing it delivers the mail."""
    response = client.post("/test/invite/commit")
    assert response.status_code == 201
    assert smtp_server.messages == []
    [mail] = stored_mail()
    assert mail.status == MailStatus.QUEUED.value

    response.close()

    assert [message["To"] for message in smtp_server.messages] == ["ben@example.test"]
    [mail] = stored_mail()
    assert (mail.status, mail.attempts) == (MailStatus.SENT.value, 1)


@pytest.mark.fresh_app
def test_mail_from_a_rolled_back_request_is_never_sent(client, smtp_server, invite_route):
    """A view that rolls back leaves no mail behind and nothing goes out."""
    response = client.post("/test/invite/rollback")
    response.close()
    assert response.status_code == 201
    assert stored_mail() == []
    assert smtp_server.messages == []


@pytest.mark.fresh_app
def test_a_mail_server_outage_does_not_break_the_request(client, smtp_server, invite_route):
    """With the server down the response still succeeds and the mail waits for a retry."""
    smtp_server.stop()
    response = client.post("/test/invite/commit")
    response.close()
    assert response.status_code == 201
    [mail] = stored_mail()
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED.value, 1)
    assert "ConnectionRefusedError" in mail.last_error


# --- what arrives --------------------------------------------------------------------------------


MAIL_TEMPLATES = {
    "mail/welcome.html": (
        '{% extends "mail/_layout.html" %}'
        "{% block heading %}Welcome, {{ name }}{% endblock %}"
        '{% block content %}<p><a class="button" href="{{ link }}">Open Roster</a></p>{% endblock %}'
    ),
    "mail/welcome.txt": "Welcome, {{ name }}!\nOpen Roster: {{ link }}\n",
}


@pytest.mark.fresh_app
def test_rendered_mail_arrives_as_text_and_html_alternatives(app, smtp_server):
    """From, To and Subject are right; the text part is verbatim, the HTML part is escaped."""
    app.jinja_env.loader = ChoiceLoader([DictLoader(MAIL_TEMPLATES), app.jinja_env.loader])
    name = 'Tom & "Jerry" <script>'
    link = "https://roster.test/join?token=abc&group=7"
    text_body, html_body = render_mail("welcome", name=name, link=link)
    assert text_body == f"Welcome, {name}!\nOpen Roster: {link}\n\n-- \nSent by Roster"  # signed as the layout is
    assert "Welcome, Tom &amp; &#34;Jerry&#34; &lt;script&gt;" in html_body
    assert 'href="https://roster.test/join?token=abc&amp;group=7"' in html_body
    assert "<script>" not in html_body

    queue_mail("tom@example.test", "Welcome to Roster", text_body, html_body)
    db.session.commit()
    assert send_pending() == DeliveryReport(sent=1)

    [envelope] = smtp_server.mailbox.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("roster@localhost", ["tom@example.test"])
    [message] = smtp_server.messages
    assert message["From"] == "Roster <roster@localhost>"
    assert message["To"] == "tom@example.test"
    assert message["Subject"] == "Welcome to Roster"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().rstrip("\n") == text_body
    assert message.get_body(("html",)).get_content().rstrip("\n") == html_body


def test_without_a_mail_server_mail_goes_to_the_outbox_and_the_log_names_the_file(app, outbox, caplog):
    """The demo works offline: a parseable .eml file per message, its links in it; the log says which file."""
    caplog.set_level(logging.INFO, logger=app.logger.name)
    queue_invitation()
    db.session.commit()

    assert send_pending() == DeliveryReport(sent=1)

    [eml] = outbox.glob("*.eml")
    message = BytesParser(policy=email.policy.default).parsebytes(eml.read_bytes())
    assert (message["To"], message["Subject"]) == ("ben@example.test", "Join Northstar Talent")
    assert message.get_body(("plain",)).get_content() == INVITATION_TEXT
    assert message.get_body(("html",)).get_content().rstrip("\n") == INVITATION_HTML
    [record] = [record for record in caplog.records if record.name == app.logger.name]
    logged = record.getMessage()
    assert "ben@example.test" in logged and "Join Northstar Talent" in logged
    assert str(eml) in logged
    assert "abc123" not in logged, "links are read in the file: the log masks link tokens"
    assert stored_mail()[0].status == MailStatus.SENT.value


# --- retries and exactly once --------------------------------------------------------------------


def test_after_an_outage_the_retry_delivers_exactly_once(smtp_server):
    """Server down: the try fails and a retry is scheduled; server back: sent once, and only once."""
    smtp_server.stop()
    queue_invitation()
    db.session.commit()
    start = utcnow()

    assert send_pending(now=start) == DeliveryReport(retrying=1)
    [mail] = stored_mail()
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED.value, 1)
    assert mail.next_attempt_at == start + timedelta(minutes=1)
    assert "ConnectionRefusedError" in mail.last_error

    smtp_server.start()
    assert send_pending(now=start + timedelta(seconds=59)) == DeliveryReport(), "not due yet"
    assert smtp_server.messages == []

    assert send_pending(now=start + timedelta(minutes=1)) == DeliveryReport(sent=1)
    assert send_pending(now=start + timedelta(days=1)) == DeliveryReport()

    [message] = smtp_server.messages
    assert message["Subject"] == "Join Northstar Talent"
    [mail] = stored_mail()
    assert (mail.status, mail.attempts, mail.sent_at) == (MailStatus.SENT.value, 2, start + timedelta(minutes=1))


def test_two_senders_at_once_send_each_message_once(app, smtp_server):
    """Two senders that both picked the same due messages split them; none goes out twice."""
    for number in range(6):
        queue_invitation(f"person{number}@example.test", f"Invitation {number}")
    db.session.commit()

    reports = race(app, send_pending)

    assert sum(report.sent for report in reports) == 6
    assert all(report.failed == report.retrying == 0 for report in reports)
    received = Counter(message["Subject"] for message in smtp_server.messages)
    assert received == Counter(f"Invitation {number}" for number in range(6))
    assert {mail.status for mail in stored_mail()} == {MailStatus.SENT.value}


def test_retries_back_off_to_an_hour_then_give_up(app):
    """1, 2, 4 … minutes between tries, at most an hour; after the eighth failure: failed."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    queue_invitation()
    db.session.commit()
    now = utcnow()
    delays = []
    for attempt in range(1, 8):
        assert send_pending(now=now) == DeliveryReport(retrying=1)
        [mail] = stored_mail()
        assert (mail.status, mail.attempts) == (MailStatus.QUEUED.value, attempt)
        delays.append(mail.next_attempt_at - now)
        assert send_pending(now=mail.next_attempt_at - timedelta(seconds=1)) == DeliveryReport()
        now = mail.next_attempt_at

    assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60)]
    assert send_pending(now=now) == DeliveryReport(failed=1)
    [mail] = stored_mail()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED.value, 8)
    assert "ConnectionRefusedError" in mail.last_error
    assert send_pending(now=now + timedelta(days=1)) == DeliveryReport()


def _sender_is_killed(self, *args, **kwargs):
    raise SystemExit("the worker was killed")


def test_a_message_left_sending_by_a_stopped_sender_is_sent_after_the_timeout(app, smtp_server, monkeypatch):
    """A sender that dies mid-send leaves its claim; after MAIL_SENDING_TIMEOUT another sends it."""
    queue_invitation()
    db.session.commit()
    start = utcnow()
    with monkeypatch.context() as patch:
        patch.setattr(smtplib.SMTP, "send_message", _sender_is_killed)
        with pytest.raises(SystemExit):
            send_pending(now=start)
    [mail] = stored_mail()
    assert (mail.status, mail.attempts) == (MailStatus.SENDING.value, 1)

    timeout = timedelta(seconds=app.config["MAIL_SENDING_TIMEOUT"])
    assert send_pending(now=start + timeout - timedelta(seconds=1)) == DeliveryReport(), "still claimed"
    assert send_pending(now=start + timeout) == DeliveryReport(sent=1)

    assert len(smtp_server.messages) == 1
    [mail] = stored_mail()
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.SENT.value, 2, STOPPED_SENDER_ERROR)


def test_a_message_left_sending_on_its_last_attempt_fails(app, smtp_server, monkeypatch):
    """A message whose sender keeps dying is given up after MAIL_MAX_ATTEMPTS, not retried forever."""
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    queue_invitation()
    db.session.commit()
    start = utcnow()
    with monkeypatch.context() as patch:
        patch.setattr(smtplib.SMTP, "send_message", _sender_is_killed)
        with pytest.raises(SystemExit):
            send_pending(now=start)

    later = start + timedelta(seconds=app.config["MAIL_SENDING_TIMEOUT"])
    assert send_pending(now=later) == DeliveryReport()
    [mail] = stored_mail()
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.FAILED.value, 1, STOPPED_SENDER_ERROR)
    assert smtp_server.messages == []


# --- command line --------------------------------------------------------------------------------


def test_flask_mail_send_pending_sends_and_says_what_it_did(app, smtp_server):
    """`flask mail send-pending` delivers the due mail and prints the counts, for cron's log."""
    queue_invitation("ana@example.test")
    queue_invitation("ben@example.test")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["mail", "send-pending"])

    assert result.exit_code == 0, result.output
    assert result.output == "Mail: 2 sent, 0 to retry later, 0 given up.\n"
    assert sorted(message["To"] for message in smtp_server.messages) == ["ana@example.test", "ben@example.test"]
    assert {mail.status for mail in stored_mail()} == {MailStatus.SENT.value}


def test_a_delivered_body_is_not_kept(app, smtp_server):
    """Once sent, the stored copy loses its body, which may hold a single-use link."""
    queue_mail("ana@example.test", "Your link", INVITATION_TEXT, INVITATION_HTML)
    db.session.commit()
    assert send_pending().sent == 1
    [stored] = stored_mail()
    assert "abc123" not in stored.text_body and stored.html_body is None
    assert "abc123" in smtp_server.messages[0].get_body(("plain",)).get_content()
