"""Times for people: stored in UTC, shown in the workstation's own time zone.

The database keeps UTC (SQLite gives it back without a zone).  A technician reads the clock on
the wall, and a shift's per-day counts must turn at the plant's midnight, not Greenwich's: the
app's tables, charts, filters and reports use local time, labelled with its offset where a
record is read later (reports, the audit log).  The command line keeps UTC, so that scripts on
stations in different zones agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from db.models import as_utc

__all__ = ["as_local", "as_utc", "local_day", "local_text", "zone_label"]


def as_local(moment: datetime) -> datetime:
    """A stored time in this workstation's time zone."""
    return as_utc(moment).astimezone()


def local_text(moment: datetime, seconds: bool = True) -> str:
    """``YYYY-MM-DD HH:MM[:SS]`` in local time."""
    return as_local(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def zone_label(moment: datetime | None = None) -> str:
    """The local offset from UTC at ``moment`` (now when None), e.g. ``UTC+01:00`` or ``UTC``."""
    offset = as_local(moment or datetime.now(UTC)).utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_day(moment: datetime) -> date:
    """The local calendar day of a stored time."""
    return as_local(moment).date()


def local_day_start(day: date) -> datetime:
    """The first moment of a local calendar day, in UTC (for queries)."""
    return datetime.combine(day, time.min).astimezone().astimezone(UTC)


def local_day_end(day: date) -> datetime:
    """The last moment of a local calendar day, in UTC (for queries)."""
    return datetime.combine(day, time.max).astimezone().astimezone(UTC)
