"""Times as each person reads them: their time zone, the agency's clock and weeks, and local times
entered in forms turned into moments, daylight saving changes included.

Every time Roster shows goes through `TimeStyle.format` (in templates, the `local` filter), in the
viewer's zone with its abbreviation: a person's own zone when they chose one, else the agency's. An
email or review page is written in its recipient's style (`style_for`).

Access end dates are the agency's rule: "until 3 March" lasts all of 3 March in the agency's zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .models import Account, User, utcnow

UTC = ZoneInfo("UTC")
CLOCKS = {"24h": "24-hour (14:30)", "12h": "12-hour (2:30 pm)"}
WEEK_STARTS = {"monday": "Monday", "sunday": "Sunday"}

# How `TimeStyle.format` writes a moment, by name ({time}: the time of day on the agency's clock and the
# zone's abbreviation).
FORMS = {
    "datetime": "%a %-d %b %Y, {time}",  # Mon 7 Dec 2026, 14:00 CET
    "short": "%-d %b, {time}",  # 7 Dec, 14:00 CET
    "weekday": "%a %-d %b, {time}",  # Mon 7 Dec, 14:00 CET
    "date": "%-d %b %Y",  # 7 Dec 2026 (the local day)
    "day": "%a %-d %b %Y",  # Mon 7 Dec 2026
    "long_date": "%-d %B %Y",  # 7 December 2026
    "time": "{time}",  # 14:00 CET
}


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone a person may choose, sorted; the legacy aliases left out."""
    return tuple(sorted(name for name in available_timezones()
                        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))
                 + ["UTC"])


def is_zone(name: str | None) -> bool:
    return bool(name) and name in set(zone_names())


def zone_named(name: str | None) -> ZoneInfo:
    """The zone of that name; UTC when it is empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def account_zone(account: Account) -> ZoneInfo:
    """The agency's time zone, in which access end dates are cut (UTC if it is unknown)."""
    return zone_named(account.time_zone)


def user_zone(user: User | None, account: Account | None) -> ZoneInfo:
    """The zone a person reads times in: their own choice, else the agency's."""
    if user is not None and getattr(user, "time_zone", None):
        return zone_named(user.time_zone)
    return account_zone(account) if account is not None else UTC


@dataclass(frozen=True)
class TimeStyle:
    """How one person reads times: a zone, the agency's clock (24 h or 12 h) and first day of the week."""

    zone: ZoneInfo = UTC
    clock: str = "24h"
    week_start: str = "monday"

    @property
    def zone_label(self) -> str:
        """The zone as people know it: "Europe/Berlin" reads as "Berlin"."""
        return self.zone.key.rsplit("/", 1)[-1].replace("_", " ") if self.zone.key != "UTC" else "UTC"

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def time_of_day(self, local: datetime | time) -> str:
        """"14:00", or "2:00 pm" on a 12-hour clock."""
        if self.clock == "12h":
            hour = local.hour % 12 or 12
            return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
        return f"{local.hour:02d}:{local.minute:02d}"

    def format(self, value: datetime | date | None, form: str = "datetime") -> str:
        """The moment (or day) as the person reads it, with the zone's abbreviation after a time."""
        if value is None:
            return ""
        pattern = FORMS[form]
        if not isinstance(value, datetime):  # a day: no zone to apply
            return value.strftime(pattern.replace(", {time}", ""))
        local = self.local(value)
        clock = f"{self.time_of_day(local)} {local.tzname()}"
        return local.strftime(pattern).replace("{time}", clock)

    def today(self, now: datetime | None = None) -> date:
        return self.local(now or utcnow()).date()


def style_for(user: User | None, account: Account | None) -> TimeStyle:
    """The style a person reads times in (the recipient's, for an email or a review page)."""
    if account is None:
        return TimeStyle(zone=user_zone(user, None))
    return TimeStyle(zone=user_zone(user, account), clock=account.clock or "24h",
                     week_start=account.week_start or "monday")


def viewer_style(account: Account | None = None) -> TimeStyle:
    """The signed-in person's style, for the account of the page (the shell's account by default).

    Worked out once per request. Outside a request, or for a visitor, the agency's style."""
    from flask import g, has_request_context
    from flask_login import current_user

    if not has_request_context():
        return style_for(None, account)
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    if account is None and user is not None:
        from .shell import shell_context

        account = shell_context().account
    key = ("_time_style", account.id if account is not None else None)
    cached = g.get("_time_styles", {})
    if key not in cached:
        cached[key] = style_for(user, account)
        g._time_styles = cached
    return cached[key]


def viewer_zone(account: Account | None = None) -> ZoneInfo:
    return viewer_style(account).zone


# --- local times entered in forms --------------------------------------------------------------------


class LocalTimeError(ValueError):
    """A local time that names no single moment; `str()` says why, for the form."""


class NonexistentTime(LocalTimeError):
    """The time falls in the hour skipped when clocks go forward."""


class AmbiguousTime(LocalTimeError):
    """The time happens twice when clocks go back; `choices` holds both moments, earlier first."""

    def __init__(self, message: str, choices: tuple[datetime, datetime]):
        super().__init__(message)
        self.choices = choices


def _round_trips(candidate: datetime, wall: datetime) -> bool:
    return candidate.astimezone(timezone.utc).astimezone(candidate.tzinfo).replace(tzinfo=None) == wall


def to_utc(day: date, at: time, zone: ZoneInfo, fold: int | None = None) -> datetime:
    """The moment `day` at `at` on the zone's clocks, in UTC.

    A time skipped by a spring-forward change raises `NonexistentTime`; a time that happens twice in
    autumn raises `AmbiguousTime` unless `fold` says which (0: the first, 1: the second)."""
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    style = TimeStyle(zone=zone)
    if not _round_trips(first, wall) and not _round_trips(second, wall):
        before = (first - timedelta(hours=3)).astimezone(timezone.utc).astimezone(zone)
        after = (first + timedelta(hours=3)).astimezone(timezone.utc).astimezone(zone)
        raise NonexistentTime(
            f"{style.time_of_day(wall)} does not exist on {day.strftime('%a %-d %b %Y')} in {zone.key}: "
            f"the clocks go forward ({before.tzname()} to {after.tzname()}). Choose another time.")
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise AmbiguousTime(
                f"{style.time_of_day(wall)} happens twice on {day.strftime('%a %-d %b %Y')} in {zone.key}, "
                f"because the clocks go back: choose {first.tzname()} (the first) or {second.tzname()} (the second).",
                (first.astimezone(timezone.utc), second.astimezone(timezone.utc)))
        return (second if fold else first).astimezone(timezone.utc)
    return first.astimezone(timezone.utc)


# --- days where the agency works ---------------------------------------------------------------------


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


def is_ambiguous(day: date, at: time, zone: ZoneInfo) -> bool:
    """Whether the zone's clocks show `day` at `at` twice (the hour repeated when they go back)."""
    try:
        to_utc(day, at, zone)
    except AmbiguousTime:
        return True
    except LocalTimeError:
        return False
    return False
