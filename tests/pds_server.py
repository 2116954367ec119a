"""A real AT Protocol network on this machine for the Bluesky tests: a PLC directory and a PDS from
Bluesky's own `@atproto/dev-env` (tests/pds), one per test session (per xdist worker), started once.

`make test` installs it (`npm ci` in tests/pds); on a machine without Node.js or npm, or where the
install has not run, the tests that need it are skipped and say why. Accounts, app passwords and
their revocation go over XRPC with `requests`, as a person's own Bluesky app would do them.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PDS_DIR = Path(__file__).resolve().parent / "pds"
START_SECONDS = 60  # a cold start takes about 2.5 s here; a loaded CI machine gets room
STOP_SECONDS = 10
TIMEOUT = 10  # seconds for one XRPC call to the local PDS


def why_not_available() -> str | None:
    """Why the local network cannot start here, or None when it can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js and npm are not installed: the Bluesky tests need a local PDS (tests/pds)"
    if not (PDS_DIR / "node_modules" / "@atproto" / "dev-env").is_dir():
        return "the local PDS is not installed: run `npm ci` in tests/pds (`make test` does)"
    return None


@dataclass
class Account:
    """An account on the local PDS, signed in with its main password."""

    did: str
    handle: str
    password: str
    access_jwt: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_jwt}"}


class LocalPDS:
    """The running network: its PDS and PLC addresses, and helpers that call the PDS."""

    def __init__(self, url: str, plc_url: str, started_in: float) -> None:
        self.url = url
        self.plc_url = plc_url
        self.started_in = started_in  # seconds from start to ready, for the report
        self.http = requests.Session()

    def xrpc(self, nsid: str) -> str:
        return f"{self.url}/xrpc/{nsid}"

    def call(self, method: str, nsid: str, **options) -> requests.Response:
        """One XRPC call, expected to succeed."""
        answer = self.http.request(method, self.xrpc(nsid), timeout=TIMEOUT, **options)
        assert answer.ok, f"{nsid} answered {answer.status_code}: {answer.text[:300]}"
        return answer

    def create_account(self, name: str | None = None, password: str = "main-password-1") -> Account:
        """A new account with a handle of its own (`<name>-<random>.test` on this PDS)."""
        prefix = (name or "roster")[:8]
        handle = f"{prefix}-{uuid.uuid4().hex[:8]}.test"
        made = self.call("POST", "com.atproto.server.createAccount", json={
            "handle": handle, "email": f"{handle}@example.com", "password": password,
        }).json()
        return Account(did=made["did"], handle=made["handle"], password=password, access_jwt=made["accessJwt"])

    def create_app_password(self, account: Account, name: str = "Roster") -> str:
        """A new app password of `account`, as the person makes one in Settings › App passwords."""
        return self.call("POST", "com.atproto.server.createAppPassword", json={"name": name},
                         headers=account.auth).json()["password"]

    def revoke_app_password(self, account: Account, name: str = "Roster") -> None:
        """Revoke the app password called `name`: its sessions can no longer be refreshed."""
        self.call("POST", "com.atproto.server.revokeAppPassword", json={"name": name}, headers=account.auth)

    def records(self, did: str, collection: str = "app.bsky.feed.post") -> list[dict]:
        """Every record of `collection` in the repository, newest first."""
        return self.call("GET", "com.atproto.repo.listRecords",
                         params={"repo": did, "collection": collection, "limit": 100}).json()["records"]

    def blob(self, did: str, cid: str) -> requests.Response:
        return self.call("GET", "com.atproto.sync.getBlob", params={"did": did, "cid": cid})


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, unverified (to look at what the PDS issued)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@contextlib.contextmanager
def running_network(directory: Path) -> Iterator[LocalPDS]:
    """Start tests/pds/start.js, wait for its one JSON line, and stop it when the block ends.

    Its accounts and blobs go under `directory` (TMPDIR of the process), so nothing is left behind.
    """
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "pds.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["node", "start.js"], cwd=PDS_DIR, env={**os.environ, "TMPDIR": str(directory)},
            # stdin stays open while we run: if this process dies, the network sees its end and stops.
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        try:
            ready = json.loads(lines.get(timeout=START_SECONDS))
        except (queue.Empty, ValueError):
            process.kill()
            raise RuntimeError(f"the local PDS did not start: {log_path.read_text()[-2000:]}") from None
        yield LocalPDS(ready["pds"], ready["plc"], time.monotonic() - started)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdin.close()


@pytest.fixture(scope="session")
def pds(tmp_path_factory) -> Iterator[LocalPDS]:
    """One local AT Protocol network for this test session (each xdist worker starts its own)."""
    reason = why_not_available()
    if reason:
        pytest.skip(reason)
    with running_network(tmp_path_factory.mktemp("pds")) as network:
        yield network
