"""Times as an agency reads them: its time zone, its days, and end dates that last the whole day."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .models import Account, utcnow


def account_zone(account: Account) -> ZoneInfo:
    """The account's time zone, in which people read and enter times (UTC if it is unknown)."""
    try:
        return ZoneInfo(account.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(account: Account, moment: datetime) -> date:
    """The day `moment` falls on where the account works."""
    return moment.astimezone(account_zone(account)).date()


def today_in(account: Account, now: datetime | None = None) -> date:
    """Today where the account works: the first day an end date may name."""
    return local_day(account, now or utcnow())


def end_of_day(account: Account, day: date) -> datetime:
    """The last moment of `day` where the account works, as an aware UTC datetime.

    Access "until 3 March" works all of 3 March in the agency's time zone and ends after it.
    """
    return datetime.combine(day, time.max, tzinfo=account_zone(account)).astimezone(timezone.utc)
