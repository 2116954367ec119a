"""The processes of a load test: Roster's web server and background workers as in production, Locust,
and an SMTP server on loopback that keeps a record of every message it is handed."""
from __future__ import annotations

import contextlib
import email.policy
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Roster's Message-ID names the mail row: <roster.mail.<id>.<queued at>@host> (webapp/mail.py).
MAIL_ID = re.compile(r"<roster\.mail\.(\d+)\.")


def free_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    """One message the SMTP sink accepted."""

    message_id: str
    to: str
    subject: str

    @property
    def mail_id(self) -> int | None:
        """The id of the `mail` row it was sent from, read from its Message-ID."""
        found = MAIL_ID.match(self.message_id)
        return int(found.group(1)) if found else None


class MailSink:
    """An SMTP server on loopback that accepts every message and keeps its Message-ID, recipient and subject."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        with self._lock:
            self.received.append(Received(str(message["Message-ID"] or ""), str(message["To"] or ""),
                                          str(message["Subject"] or "")))
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def __enter__(self) -> MailSink:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._controller is not None:
            self._controller.stop()


class Service:
    """A command run in a session of its own (Ctrl-C in the terminal does not reach it), its output in a log."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        with self.log.open("w") as output:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM to its whole process group (gunicorn's workers too); SIGKILL whatever outlives `grace`."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tail(self, lines: int = 20) -> str:
        """The end of its log, to say why it stopped."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def roster(env: dict[str, str], port: int, logs: Path, web_workers: int = 4, background_workers: int = 2
           ) -> Iterator[list[Service]]:
    """Roster as production runs it, on loopback: gunicorn with threaded workers, and background workers."""
    web = Service("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(web_workers),
                          "--threads", "4", "--logger-class", "webapp.logs.GunicornLogger", "wsgi:app"],
                  env, logs / "web.log")
    workers = [Service(f"worker-{number}", [str(BIN / "flask"), "roster", "worker", "--threads", "2"],
                       env, logs / f"worker-{number}.log") for number in range(1, background_workers + 1)]
    services = [web, *workers]
    try:
        for service in services:
            service.start()
        yield services
    finally:
        for service in services:
            if service.running():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGTERM)
        for service in services:
            service.stop()
