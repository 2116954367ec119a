"""Growing delays between tries, shared by the workers that retry (queued mail, publishing)."""
from __future__ import annotations

from datetime import timedelta


def backoff(attempts: int, first: timedelta, longest: timedelta) -> timedelta:
    """How long to wait after the `attempts`-th failed try: `first`, twice that, four times … at most `longest`."""
    return min(first * 2 ** (attempts - 1), longest)
