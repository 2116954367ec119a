"""Workers at the same moment against the same database, as cron on several hosts would run them.

Each worker is held at its first claim (`leases.claim`) until every worker has reached its own, so
all of them have chosen their rows before any claims one, and they race for every claim.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask

from webapp import leases

REPO = Path(__file__).resolve().parent.parent
MEETING_SECONDS = 10  # how long a worker waits for the others at its first claim
WORKER_SECONDS = 60

Result = TypeVar("Result")


def race(app: Flask, work: Callable[[], Result], workers: int = 2) -> list[Result]:
    """Run `work` in `workers` threads at once, held at their first claim until all have reached it;
    return what each returned, or raise the first error one of them raised."""
    everyone_chose = threading.Barrier(workers, timeout=MEETING_SECONDS)
    waited = threading.local()
    claim = leases.claim

    def claim_once_everyone_chose(*args: Any, **kwargs: Any) -> leases.Claim | None:
        if not getattr(waited, "done", False):
            waited.done = True
            everyone_chose.wait()
        return claim(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(leases, "claim", claim_once_everyone_chose)
        return _in_threads(app, [work] * workers)


def in_another_worker(app: Flask, work: Callable[[], Result]) -> Result:
    """Run `work` as another worker would, while this one waits, and return what it returned."""
    [result] = _in_threads(app, [work])
    return result


def _in_threads(app: Flask, works: Sequence[Callable[[], Result]]) -> list[Result]:
    """Run each of `works` in a thread of its own, in an app context (and so a database session) of
    its own; return what each returned, or raise the first error one of them raised."""
    results: list[Result | None] = [None] * len(works)
    errors: list[BaseException] = []

    def worker(number: int, work: Callable[[], Result]) -> None:
        try:
            with app.app_context():
                results[number] = work()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(number, work)) for number, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WORKER_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a worker never finished"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


# A `flask` command in a process of its own that waits at its first claim, like the threads above,
# until every process has reached its own: each one leaves a file in the meeting folder.
_RACING_PROCESS = """
import os, sys, time
from pathlib import Path
from flask.cli import main
from webapp import leases

meeting, workers, command = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
claim = leases.claim
waited = []

def claim_once_everyone_chose(*args, **kwargs):
    if not waited:
        waited.append(True)
        (meeting / str(os.getpid())).touch()
        deadline = time.monotonic() + {meeting_seconds}
        while len(list(meeting.iterdir())) < workers:
            if time.monotonic() > deadline:
                sys.exit("the other processes never chose their rows")
            time.sleep(0.01)
    return claim(*args, **kwargs)

leases.claim = claim_once_everyone_chose
{prelude}
sys.argv = ["flask", "--app", "wsgi", *command]
main()
"""


def race_processes(command: list[str], environment: dict[str, str], meeting: Path, workers: int = 2,
                   prelude: str = "") -> list[subprocess.CompletedProcess[str]]:
    """Run `flask <command>` in `workers` processes at once, held at their first claim until all have
    reached it; `prelude` is Python each process runs first (to report what it does, say)."""
    meeting.mkdir()
    # A process takes longer than a thread to reach its first claim: it starts the app first.
    script = _RACING_PROCESS.format(meeting_seconds=MEETING_SECONDS * 2, prelude=textwrap.dedent(prelude))
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(meeting), str(workers), *command], cwd=REPO,
                         env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    try:
        outputs = [process.communicate(timeout=WORKER_SECONDS) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
            for process, (stdout, stderr) in zip(processes, outputs)]
