"""iCalendar (.ics) files: one item per event, recurring series summarized in words.

Calendars are exported again and again (a Google Takeout, a shared .ics feed), so an
event's `document` is its UID ("ical:<UID>") and its text says only what the event
itself says: nothing depends on when the file was exported, and an unchanged event
keeps its source_ref and content hash. A recurring series is ONE item that states the
rule in words ("every week on Tuesday until 2024-06-30") and its first few dates from a
bounded expansion, never an unbounded list; a changed single occurrence (RECURRENCE-ID)
is an item of its own.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

from dateutil import rrule as du
from dateutil.relativedelta import relativedelta
from icalendar import Calendar
from icalendar.cal import Component
from icalendar.prop import vRecur

from connectors.base import Connector, Item, ParseError
from connectors.chunking import MAX_CHARS, split_long
from connectors.textfile import aware, decode_text, local_midnight

__all__ = ["ICalConnector", "recurrence_words"]

log = logging.getLogger(__name__)

# How many dates of a series the text lists, and how far a rule is expanded to find
# them: at most this many periods of its frequency (500 seconds for FREQ=SECONDLY, 500
# years for FREQ=YEARLY), so a rule that never ends, or never matches, costs little.
OCCURRENCES_SHOWN = 5
_MAX_PERIODS = 500
_MAX_EXCLUDED = 1000

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_FREQS = {
    "YEARLY": (du.YEARLY, "year", relativedelta(years=1)),
    "MONTHLY": (du.MONTHLY, "month", relativedelta(months=1)),
    "WEEKLY": (du.WEEKLY, "week", relativedelta(weeks=1)),
    "DAILY": (du.DAILY, "day", relativedelta(days=1)),
    "HOURLY": (du.HOURLY, "hour", relativedelta(hours=1)),
    "MINUTELY": (du.MINUTELY, "minute", relativedelta(minutes=1)),
    "SECONDLY": (du.SECONDLY, "second", relativedelta(seconds=1)),
}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_MAX_DATETIME = datetime(9999, 12, 31)


class _BrokenEventError(ValueError):
    """One event cannot be read; the calendar's other events still can."""


@dataclass(frozen=True)
class _Rule:
    """An RRULE's parts, validated: what the words and the expansion are built from."""

    freq: str
    interval: int
    count: int | None
    until: date | None
    byday: tuple[tuple[int | None, int], ...]  # (ordinal or None, weekday 0=Monday)
    bymonth: tuple[int, ...]
    bymonthday: tuple[int, ...]
    extra: Mapping[str, tuple[int, ...]]  # BYYEARDAY, BYWEEKNO, BYHOUR, ... BYSETPOS
    wkst: int | None


@dataclass
class _Event:
    key: str
    uid: str
    text: str
    time: datetime
    summary: str | None
    sender: str | None
    meta: dict[str, Any]


class ICalConnector(Connector):
    """Reads `.ics` calendars exported by Google Calendar, Outlook, Apple Calendar."""

    name: ClassVar[str] = "ical"
    kind: ClassVar[str] = "event"
    history: ClassVar[str] = "append"
    priority: ClassVar[int] = 5  # content detection must run before the generic text reader
    extensions: ClassVar[tuple[str, ...]] = (".ics", ".ical")

    def detect(self, path: Path, head: bytes) -> bool:
        """`BEGIN:VCALENDAR` at the start, whatever the name; else the extension."""
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
        return start == b"BEGIN:VCALENDAR" or path.suffix.lower() in self.extensions

    def parse(self, path: Path, data: bytes, mtime: datetime) -> list[Item]:
        """One item per event (series or changed occurrence); VTODO/VJOURNAL are ignored."""
        events = _events(_calendars(decode_text(data)))
        overrides: dict[str, list[Any]] = {}
        for event in events:
            if "RECURRENCE-ID" in event and "UID" in event:
                overrides.setdefault(str(event["UID"]).strip(), []).append(event["RECURRENCE-ID"])
        read: list[_Event] = []
        broken: list[str] = []
        for event in events:
            try:
                read.append(_read_event(event, overrides))
            except MemoryError:
                raise
            except Exception as exc:  # one broken event must not cost the others
                summary = str(event.get("SUMMARY", "")).strip() or "(untitled)"
                broken.append(f"{summary!r}: {exc}")
                log.warning("%s: skipped event %r: %s", path.name, summary, exc)
        if not read:
            raise ParseError(f"no readable event in the calendar; first problem: {broken[0]}")
        return _items(read, self.kind)


# --- calendar ---------------------------------------------------------------------------


def _calendars(text: str) -> list[Component]:
    stripped = text.lstrip("\ufeff \t\n")
    if not stripped:
        raise ParseError("empty file: no BEGIN:VCALENDAR")
    if not stripped[:15].upper().startswith("BEGIN:VCALENDAR"):
        raise ParseError("not an iCalendar file: it does not start with BEGIN:VCALENDAR")
    if not re.search(r"^END:VCALENDAR[ \t]*$", text, re.MULTILINE | re.IGNORECASE):
        raise ParseError("truncated calendar: no END:VCALENDAR line")
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except RecursionError as exc:
        raise ParseError("malformed calendar: components nested too deeply") from exc
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError... on junk
        first = str(exc).split("\n", 1)[0][:200]
        raise ParseError(f"malformed calendar: {first}") from exc
    return list(calendars)


def _events(calendars: Iterable[Component]) -> list[Component]:
    found: list[Component] = []
    others: Counter[str] = Counter()
    for calendar in calendars:
        for component in calendar.subcomponents:
            if component.name == "VEVENT":
                found.append(component)
            elif component.name != "VTIMEZONE":
                others[str(component.name)] += 1
    if not found:
        what = ", ".join(f"{n} {name}" for name, n in sorted(others.items())) or "nothing"
        raise ParseError(f"calendar has no events (VEVENT); it holds {what}")
    return found


# --- one event ----------------------------------------------------------------------------


def _read_event(event: Component, overrides: Mapping[str, list[Any]]) -> _Event:
    summary = _text(event.get("SUMMARY")) or None
    rid = (
        _when_value(event.get("RECURRENCE-ID"), "RECURRENCE-ID")
        if "RECURRENCE-ID" in event
        else None
    )
    start_prop = event.get("DTSTART")
    if start_prop is None and rid is None:
        raise _BrokenEventError("no DTSTART")
    start = _when_value(start_prop, "DTSTART") if start_prop is not None else rid
    assert start is not None
    all_day = not isinstance(start, datetime)
    end = _end(event, start)
    uid = _text(event.get("UID"))
    key = uid or f"nouid-{_digest(summary or '', start.isoformat())}"
    meta: dict[str, Any] = {
        "uid": uid or None,
        "start": start.isoformat(),
        "end": end.isoformat() if end is not None else None,
        "all_day": all_day,
        "timezone": _zone(start) if isinstance(start, datetime) else None,
        "location": _text(event.get("LOCATION")) or None,
        "attendees": [_person(a) for a in _as_list(event.get("ATTENDEE")) if _person(a)],
        "organizer": _person(event.get("ORGANIZER")) or None,
        "status": _text(event.get("STATUS")).upper() or None,
        "rrule": None,
    }
    tzid = _param(start_prop, "TZID")
    if tzid and isinstance(start, datetime) and start.tzinfo is None:
        meta["unknown_tzid"] = tzid  # read as local time
    lines = [summary or "(untitled event)", f"When: {_when_text(start, end)}"]
    if rid is not None:
        key = f"{key}/{rid.isoformat()}"
        meta["recurrence_id"] = rid.isoformat()
        lines.append(f"Changed occurrence of a series, originally {_day_text(rid, with_time=True)}")
    elif "RRULE" in event:
        lines.extend(_series_lines(event, start, overrides.get(uid, []), meta))
    lines.extend(_detail_lines(event, meta))
    time = aware(start) if isinstance(start, datetime) else local_midnight(start)
    return _Event(key, uid or key, "\n".join(lines), time, summary, meta["organizer"], meta)


def _when_value(prop: Any, name: str) -> date:
    prop = _first(prop)
    value = _dt(prop)
    if not isinstance(value, date):
        raise _BrokenEventError(f"{name} {str(prop)[:60]!r} is not a date or date-time")
    if isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is None:
        raise _BrokenEventError(f"{name} has a time zone without an offset")
    return value


def _end(event: Component, start: date) -> date | None:
    """DTEND, else DTSTART + DURATION; an end of another kind or before the start is dropped."""
    end: Any = None
    if "DTEND" in event:
        end = _dt(_first(event.get("DTEND")))
    elif "DURATION" in event:
        duration = _dt(_first(event.get("DURATION")))
        if isinstance(duration, timedelta):
            try:
                end = start + duration
            except OverflowError:
                end = None
    if not isinstance(end, date) or isinstance(end, datetime) != isinstance(start, datetime):
        return None
    try:
        if _instant(end) < _instant(start):
            return None
    except TypeError:  # one floating, one zoned: not comparable, keep as written
        pass
    return end


def _series_lines(
    event: Component, start: date, overridden: list[Any], meta: dict[str, Any]
) -> list[str]:
    raw = _first(event.get("RRULE"))
    rule_text = raw.to_ical().decode("utf-8", "replace") if isinstance(raw, vRecur) else str(raw)
    meta["rrule"] = rule_text
    excluded = _excluded(event, overridden, start)
    meta["exdates"] = [d.isoformat() for d in excluded["exdates"]]
    try:
        rule = _parse_rule(raw)
    except (ValueError, TypeError, KeyError) as exc:
        log.info("recurrence rule %r not understood: %s", rule_text, exc)
        return [f"Repeats: {rule_text} (rule not understood)"]
    lines = [f"Repeats: {recurrence_words(rule, start)}"]
    if excluded["exdates"]:
        lines.append("Except: " + ", ".join(_day_text(d) for d in excluded["exdates"]))
    if excluded["changed"]:
        lines.append("Changed: " + ", ".join(_day_text(d) for d in excluded["changed"]))
    dates, more = occurrences(rule, start, [*excluded["exdates"], *excluded["changed"]])
    meta["occurrences"] = [d.isoformat() for d in dates]
    if dates:
        sub_daily = rule.freq in ("HOURLY", "MINUTELY", "SECONDLY")
        shown = ", ".join(_day_text(d, with_time=sub_daily) for d in dates)
        lines.append(f"{'First dates' if more else 'Dates'}: {shown}{', ...' if more else ''}")
    return lines


def _excluded(event: Component, overridden: list[Any], start: date) -> dict[str, list[date]]:
    """EXDATE values and the RECURRENCE-IDs of changed occurrences, as dates/datetimes."""
    exdates: list[date] = []
    for prop in _as_list(event.get("EXDATE"))[:_MAX_EXCLUDED]:
        for value in _safe_attr(prop, "dts", [])[:_MAX_EXCLUDED]:
            if isinstance(_dt(value), date):
                exdates.append(value.dt)
    changed = [p.dt for p in overridden[:_MAX_EXCLUDED] if isinstance(_dt(p), date)]
    return {
        "exdates": sorted(set(exdates), key=_instant),
        "changed": sorted(set(changed), key=_instant),
    }


def _detail_lines(event: Component, meta: Mapping[str, Any]) -> list[str]:
    lines = []
    if meta["location"]:
        lines.append(f"Where: {meta['location']}")
    if meta["organizer"]:
        lines.append(f"Organizer: {meta['organizer']}")
    if meta["attendees"]:
        lines.append("Attendees: " + ", ".join(meta["attendees"]))
    if meta["status"] in ("CANCELLED", "TENTATIVE"):
        lines.append(f"Status: {meta['status'].lower()}")
    description = _text(event.get("DESCRIPTION"))
    if description:
        lines.extend(["", description])
    return lines


# --- recurrence ---------------------------------------------------------------------------


def _parse_rule(raw: Any) -> _Rule:
    if not isinstance(raw, vRecur):
        raise ValueError("not a recurrence rule")

    def ints(name: str, low: int, high: int) -> tuple[int, ...]:
        values = tuple(int(v) for v in raw.get(name, []))
        if any(not low <= abs(v) <= high for v in values):
            raise ValueError(f"{name} out of range")
        return values

    freq = str(_first(raw.get("FREQ")) or "").upper()
    if freq not in _FREQS:
        raise ValueError(f"unknown FREQ {freq!r}")
    interval = int(_first(raw.get("INTERVAL")) or 1)
    count = _first(raw.get("COUNT"))
    if not 1 <= interval <= 100_000 or (count is not None and int(count) < 1):
        raise ValueError("INTERVAL or COUNT out of range")
    until = _first(raw.get("UNTIL"))
    if until is not None and not isinstance(until, date):
        raise ValueError("UNTIL is not a date")
    byday = []
    for code in raw.get("BYDAY", []):
        match = _BYDAY.match(str(code).strip().upper())
        if match is None or (match.group(1) and not 1 <= abs(int(match.group(1))) <= 53):
            raise ValueError(f"bad BYDAY {code!r}")
        byday.append((int(match.group(1)) if match.group(1) else None, _DAY_CODES.index(match[2])))
    wkst = str(_first(raw.get("WKST")) or "").upper()
    extra = {
        "byyearday": ints("BYYEARDAY", 1, 366),
        "byweekno": ints("BYWEEKNO", 1, 53),
        "byhour": ints("BYHOUR", 0, 23),
        "byminute": ints("BYMINUTE", 0, 59),
        "bysecond": ints("BYSECOND", 0, 60),
        "bysetpos": ints("BYSETPOS", 1, 366),
    }
    return _Rule(
        freq=freq,
        interval=interval,
        count=int(count) if count is not None else None,
        until=until,
        byday=tuple(byday),
        bymonth=ints("BYMONTH", 1, 12),
        bymonthday=ints("BYMONTHDAY", 1, 31),
        extra={k: v for k, v in extra.items() if v},
        wkst=_DAY_CODES.index(wkst) if wkst in _DAY_CODES else None,
    )


def recurrence_words(rule: _Rule, start: date) -> str:
    """The rule as a person says it: "every 2 weeks on Monday and Wednesday, 10 times"."""
    unit = _FREQS[rule.freq][1]
    words = f"every {unit}" if rule.interval == 1 else f"every {rule.interval} {unit}s"
    months = _join([_MONTH_NAMES[m - 1] for m in rule.bymonth])
    days = _join([_weekday_words(n, wd) for n, wd in rule.byday])
    monthdays = _join([_monthday_words(d) for d in rule.bymonthday])
    if rule.freq == "YEARLY" and not (rule.byday or rule.bymonthday or rule.extra):
        month = _MONTH_NAMES[start.month - 1]
        words += f" on {start.day} {month}" if not rule.bymonth else f" in {months}"
    else:
        if months:
            words += f" in {months}"
        if days:
            words += f" on {days}"
        elif monthdays:
            words += f" on {monthdays}"
        elif rule.freq == "MONTHLY" and not rule.extra:
            words += f" on day {start.day}"
        elif rule.freq == "WEEKLY":
            words += f" on {_WEEKDAYS[start.weekday()]}"
    if rule.until is not None:
        words += f" until {_until_date(rule.until, start).isoformat()}"
    if rule.count is not None:
        words += ", once" if rule.count == 1 else f", {rule.count} times"
    return words


def occurrences(rule: _Rule, start: date, excluded: Iterable[date]) -> tuple[list[date], bool]:
    """The series' first dates (at most OCCURRENCES_SHOWN) and whether more follow.

    dateutil checks UNTIL only against candidate dates, so a rule whose periods never
    produce one (FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30) runs on to the year 9999. The
    expansion is therefore moved forward by whole 400-year Gregorian cycles, which keep
    every weekday and leap day in place, until its horizon (UNTIL, or `_MAX_PERIODS`
    periods) ends in the last cycle before 9999: the hopeless search then stops within
    four centuries, a fraction of a second.
    """
    if rule.freq in ("HOURLY", "MINUTELY", "SECONDLY") and "bysetpos" in rule.extra:
        return [], False  # one candidate per period: nothing bounds the search (see above)
    all_day = not isinstance(start, datetime)
    base = datetime(start.year, start.month, start.day) if all_day else start
    assert isinstance(base, datetime)
    limit = _horizon(base, rule)
    if rule.until is not None:
        limit = min(limit, _until_datetime(rule.until, base, all_day), key=_instant)
    excluded = list(excluded)
    skip_days = {d for d in excluded if not isinstance(d, datetime)}
    skip_moments = {_comparable(d, base) for d in excluded if isinstance(d, datetime)}
    if all_day:  # a date-time EXDATE on an all-day series still names a day
        skip_days |= {d.date() for d in excluded if isinstance(d, datetime)}
    shift = 400 * max(0, (_MAX_DATETIME.year - max(base.year, limit.year)) // 400)
    try:
        expansion = du.rrule(
            _FREQS[rule.freq][0],
            dtstart=base.replace(year=base.year + shift),
            interval=rule.interval,
            until=limit.replace(year=limit.year + shift),
            wkst=rule.wkst,
            byweekday=[du.weekday(wd, n) for n, wd in rule.byday] or None,
            bymonth=rule.bymonth or None,
            bymonthday=rule.bymonthday or None,
            cache=False,
            **{k: list(v) for k, v in rule.extra.items()},
        )
        found: list[date] = []
        more = False
        for shifted in islice(expansion, rule.count):
            moment = shifted.replace(year=shifted.year - shift)
            if moment.date() in skip_days or (
                not all_day and _comparable(moment, base) in skip_moments
            ):
                continue
            if len(found) == OCCURRENCES_SHOWN:
                more = True
                break
            found.append(moment.date() if all_day else moment)
    except (ValueError, OverflowError, TypeError) as exc:
        log.info("cannot expand recurrence %s: %s", rule, exc)
        return [], False
    return found, more


def _horizon(base: datetime, rule: _Rule) -> datetime:
    step = _FREQS[rule.freq][2] * (rule.interval * _MAX_PERIODS)
    try:
        return base + step
    except (OverflowError, ValueError):
        return _MAX_DATETIME.replace(tzinfo=base.tzinfo)


def _until_datetime(until: date, base: datetime, all_day: bool) -> datetime:
    """UNTIL in the same form as the expansion's start (dateutil insists on that)."""
    if not isinstance(until, datetime):
        until = datetime(until.year, until.month, until.day, 23, 59, 59)
        return until.replace(tzinfo=base.tzinfo)
    if base.tzinfo is None:
        return until.astimezone(UTC).replace(tzinfo=None) if until.tzinfo else until
    return until.astimezone(base.tzinfo) if until.tzinfo else until.replace(tzinfo=base.tzinfo)


def _until_date(until: date, start: date) -> date:
    if isinstance(until, datetime) and until.tzinfo and isinstance(start, datetime):
        return until.astimezone(start.tzinfo).date() if start.tzinfo else until.date()
    return until.date() if isinstance(until, datetime) else until


def _comparable(value: datetime, base: datetime) -> datetime:
    """A key under which an excluded moment and an occurrence of the series compare equal."""
    if base.tzinfo is None:
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    moment = value if value.tzinfo else value.replace(tzinfo=base.tzinfo)
    return moment.astimezone(UTC)


def _weekday_words(n: int | None, weekday: int) -> str:
    name = _WEEKDAYS[weekday]
    if n is None:
        return name
    if n in _ORDINALS:
        return f"the {_ORDINALS[n]} {name}"
    return f"the {n}th {name}" if n > 0 else f"the {-n}th-to-last {name}"


def _monthday_words(day: int) -> str:
    if day == -1:
        return "the last day"
    return f"day {day}" if day > 0 else f"the {-day}th-to-last day"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# --- text helpers ---------------------------------------------------------------------


def _when_text(start: date, end: date | None) -> str:
    if not isinstance(start, datetime):
        last = end - timedelta(days=1) if end is not None and end > start else start
        if last == start:
            return f"{_day_text(start)}, all day"
        return f"{_day_text(start)} to {_day_text(last)}, all day"
    zone = _zone(start) or "local time"
    if isinstance(end, datetime):
        if end.tzinfo is not None and start.tzinfo is not None:
            end = end.astimezone(start.tzinfo)
        if end.date() == start.date():
            return f"{_day_text(start)}, {start:%H:%M}–{end:%H:%M} ({zone})"
        return f"{_day_text(start)} {start:%H:%M} to {_day_text(end)} {end:%H:%M} ({zone})"
    return f"{_day_text(start)} at {start:%H:%M} ({zone})"


def _day_text(value: date, with_time: bool = False) -> str:
    text = f"{_WEEKDAYS[value.weekday()]} {value.day} {_MONTH_NAMES[value.month - 1]} {value.year}"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M:%S}" if value.second else f" {value:%H:%M}"
    return text


def _zone(moment: datetime) -> str | None:
    """The zone's name (IANA key), "UTC", a fixed offset, or None for floating time."""
    if moment.tzinfo is None:
        return None
    key = getattr(moment.tzinfo, "key", None) or getattr(moment.tzinfo, "zone", None)
    if key in ("UTC", "Etc/UTC", "Z", "GMT", "Etc/GMT") or moment.tzinfo is UTC:
        return "UTC"
    if key:
        return str(key)
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _person(address: Any) -> str:
    """`CN <email>` (or either alone) of an ORGANIZER or ATTENDEE."""
    if address is None:
        return ""
    email = re.sub(r"^mailto:", "", str(address).strip(), flags=re.IGNORECASE)
    params = getattr(address, "params", {})
    name = str(params.get("CN", "")).strip().strip('"') if params else ""
    if name and email and name != email:
        return f"{name} <{email}>"
    return name or email


def _text(value: Any) -> str:
    value = _first(value)
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _param(prop: Any, name: str) -> str | None:
    params = getattr(_first(prop), "params", None)
    value = params.get(name) if params else None
    return str(value) if value else None


def _dt(prop: Any) -> Any:
    """A property's `.dt`, or None: icalendar's broken properties raise on access."""
    return _safe_attr(prop, "dt", None)


def _safe_attr(prop: Any, name: str, default: Any) -> Any:
    try:
        return getattr(prop, name, default)
    except ValueError:  # icalendar.error.BrokenCalendarProperty
        return default


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _instant(value: date) -> Any:
    """A sort key comparing dates and datetimes, zoned ones as instants."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return datetime(value.year, value.month, value.day)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:20]


# --- items -----------------------------------------------------------------------------


def _items(events: list[_Event], kind: str) -> list[Item]:
    """Items for events; a UID+RECURRENCE-ID seen twice with other text gets `~2`, `~3`..."""
    seen: dict[str, set[str]] = {}
    items: list[Item] = []
    for event in events:
        digest = _digest(event.text)
        versions = seen.setdefault(event.key, set())
        if digest in versions:
            continue
        versions.add(digest)
        key = event.key if len(versions) == 1 else f"{event.key}~{len(versions)}"
        pieces = [event.text] if len(event.text) <= MAX_CHARS else split_long(event.text)
        for ordinal, piece in enumerate(pieces):
            items.append(
                Item(
                    text=piece,
                    time=event.time,
                    kind=kind,
                    document=f"ical:{event.uid}",
                    locator=key if len(pieces) == 1 else f"{key}:{ordinal}",
                    # An organizer is resolved against the user's identity at ingest; an
                    # event nobody organized was put in the user's own calendar by them.
                    author="unknown" if event.sender else "self",
                    title=event.summary,
                    sender=event.sender,
                    meta=event.meta if len(pieces) == 1 else {**event.meta, "part": ordinal},
                )
            )
    return items
