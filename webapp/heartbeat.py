"""Background workers say they are alive; /readyz asks when one last did."""
from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import delete, func, select, update

from .extensions import db
from .models import WorkerHeartbeat, utcnow


def worker_name() -> str:
    """This process as operators see it: host name and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(name: str | None = None, now: datetime | None = None) -> None:
    """Record that worker `name` (this process by default) is alive, and commit."""
    name = name or worker_name()
    now = now or utcnow()
    if db.session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.worker == name).values(beat_at=now)).rowcount:
        db.session.commit()
        return
    db.session.add(WorkerHeartbeat(worker=name, beat_at=now, started_at=now))
    db.session.commit()


def stopped(name: str | None = None) -> None:
    """Forget worker `name` (this process by default) as it stops cleanly, and commit."""
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == (name or worker_name())))
    db.session.commit()


def last_heartbeat() -> datetime | None:
    """When any worker last said it was alive, or None when none ever did."""
    return db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
