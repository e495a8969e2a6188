"""An independent, stdlib-only implementation of SPEC.md, used as a test oracle.

The pytest suite runs the dbt pipeline and this module over the same input files and compares
the five CSV exports row for row. It is deliberately written without Spark so that a shared
misunderstanding of Spark behaviour cannot hide a bug on both sides.

All files given to `build` are one batch (a full rebuild), read in sorted path order.

Decisions beyond SPEC.md (the dbt side implements the same):
- Lines are split on CRLF, CR or LF only; line numbers are 1-based and count blank lines.
- JSON is strict: NaN/Infinity and duplicate keys (at any depth) are `malformed_json`; so is
  a line nested too deeply for the parser, and a UTF-8 byte order mark before the `{`.
- A JSON number in a text field is read as its token text (`1.5e3` stays `1.5e3`).
- A lone UTF-16 surrogate escape (`"\\ud800"`) in a string becomes `?`, as Java's UTF-8
  encoder (and so Spark) writes it.
- `user.id` as a JSON number may be negative (`-5` is valid), while a string must be digits.
- Timestamps use ASCII digits only and years 0001-9999 (year 0000 is `invalid_timestamp`).
- CSV quoting is RFC 4180 minimal: a field is quoted when it holds `,`, `"`, CR or LF.
- A directory names the regular files directly inside it whose names do not start with `.`
  or `_` (Spark's listing rule); a path named twice is read once.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

DEFAULT_TIMESTAMP_FORMAT = "MM/dd/yyyy HH:mm:ss"
WHITESPACE = " \t\n\x0b\f\r"
LINE_BREAK = re.compile(r"\r\n|\r|\n")
BLANK = re.compile(r"[ \t\n\x0b\f\r]*")
DIGITS = re.compile(r"[0-9]+")
TIMESTAMP = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//")
AUTHORITY = re.compile(r"[^/?#]*")
WWW_LABEL = re.compile(r"^(www[0-9]*|w3)\.")
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
TEXT_FIELDS = ("event_id", "action", "url", "timestamp")
USER_FIELDS = ("id", "session_id", "ip")

HEADERS = {
    "user_activity": [
        "user_id",
        "time_stamp",
        "url_level1",
        "url_level2",
        "url_level3",
        "activity",
    ],
    "hrly_granular_activity": [
        "time_bucket",
        "url_level1",
        "url_level2",
        "activity",
        "activity_count",
        "user_count",
    ],
    "rejected_events": ["source_file", "line_number", "reason", "event_id", "raw_record"],
    "user_sessions": [
        "session_id",
        "user_id",
        "session_start",
        "session_end",
        "duration_seconds",
        "event_count",
        "page_view_count",
        "landing_url_level1",
        "landing_url_level2",
        "exit_url_level1",
        "exit_url_level2",
    ],
    "daily_active_users": [
        "activity_date",
        "active_users",
        "new_users",
        "sessions",
        "events",
        "wau",
        "mau",
    ],
}
SESSION_TIMEOUT = timedelta(minutes=30)


class JsonNumber(str):
    """A JSON number kept as its token text, so it can be told apart from a JSON string."""


class Rejected(Exception):
    """A line fails a SPEC rule; `reason` names the first rule that failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventRejected(Rejected):
    """A rejection for reasons 3-7, which carries the event's id."""

    def __init__(self, reason: str, event_id: str) -> None:
        super().__init__(reason)
        self.event_id = event_id


@dataclass(frozen=True)
class Event:
    """A line that passed rules 1-7, with its normalised columns."""

    source_file: str
    line_number: int
    raw_record: str
    event_id: str
    user_id: int
    time_stamp: datetime
    url_level1: str
    url_level2: str | None
    url_level3: str | None
    activity: str


@dataclass(frozen=True)
class Rejection:
    source_file: str
    line_number: int
    reason: str
    event_id: str | None
    raw_record: str


# ---------------------------------------------------------------------------------------------
# Reading lines


def resolve_inputs(spec: str) -> list[Path]:
    """Expand a file, directory or glob into the files it names; fail naming a missing path."""
    if glob.has_magic(spec):
        matches = [Path(p) for p in glob.glob(spec)]
        files = sorted({p.resolve() for p in matches if p.is_file()}, key=str)
        if not files:
            raise FileNotFoundError(f"no input files match {spec!r}")
        return files
    return expand_paths([Path(spec)])


def expand_paths(paths: list[Path]) -> list[Path]:
    """Resolve files and directories to a sorted, de-duplicated list of absolute file paths."""
    files: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"input path does not exist: {path}")
        if path.is_dir():
            files.update(
                child.resolve()
                for child in path.iterdir()
                if child.is_file() and not child.name.startswith((".", "_"))
            )
        else:
            files.add(path.resolve())
    return sorted(files, key=str)


def read_lines(path: Path) -> list[tuple[int, str]]:
    """Return the non-blank lines of a file with their 1-based line numbers."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [
        (number, line)
        for number, line in enumerate(LINE_BREAK.split(text), start=1)
        if not BLANK.fullmatch(line)
    ]


# ---------------------------------------------------------------------------------------------
# Rules 1-7


def trim(text: str) -> str:
    return text.strip(WHITESPACE)


def java_text(text: str) -> str:
    """Replace lone surrogates with `?`, as Java's UTF-8 encoder does."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def parse_json(line: str) -> dict[str, Any]:
    """Rule 1: parse strictly and check the shape of every field SPEC reads."""
    try:
        record = json.loads(
            line,
            parse_int=JsonNumber,
            parse_float=JsonNumber,
            parse_constant=reject_constant,
            object_pairs_hook=unique_object,
        )
    except (ValueError, RecursionError) as error:
        raise Rejected("malformed_json") from error
    if not isinstance(record, dict):
        raise Rejected("malformed_json")
    user = record.get("user")
    if user is not None and not isinstance(user, dict):
        raise Rejected("malformed_json")
    fields = [record.get(name) for name in TEXT_FIELDS]
    fields += [user.get(name) for name in USER_FIELDS] if user else []
    if any(isinstance(value, (dict, list, bool)) for value in fields):
        raise Rejected("malformed_json")
    return record


def text_of(value: str | None) -> str | None:
    """A scalar field as trimmed text, or None when absent, null or blank."""
    if value is None:
        return None
    text = trim(java_text(value))
    return text or None


def user_id_of(record: dict[str, Any]) -> int:
    """Rules 3 and 4."""
    value = (record.get("user") or {}).get("id")
    if value is None or (not isinstance(value, JsonNumber) and not trim(value)):
        raise Rejected("missing_user_id")
    if isinstance(value, JsonNumber):
        number = Decimal(value)
        if not BIGINT_MIN <= number <= BIGINT_MAX or number != number.to_integral_value():
            raise Rejected("invalid_user_id")
        return int(number)
    digits = trim(value)
    if not DIGITS.fullmatch(digits) or int(digits) > BIGINT_MAX:
        raise Rejected("invalid_user_id")
    return int(digits)


def timestamp_of(value: str | None) -> datetime:
    """Rule 6, for the default format `MM/dd/yyyy HH:mm:ss`, read as UTC."""
    match = TIMESTAMP.fullmatch(trim(value)) if value is not None else None
    if not match:
        raise Rejected("invalid_timestamp")
    month, day, year, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise Rejected("invalid_timestamp") from error


def url_levels(url: str) -> tuple[str, str | None, str | None] | None:
    """Rule 7: (url_level1, url_level2, url_level3), or None when the URL has no host."""
    rest = SCHEME.sub("", trim(url), count=1)
    authority = AUTHORITY.match(rest).group(0)  # type: ignore[union-attr]
    host = authority.rpartition("@")[2].partition(":")[0].lower()
    if not host:
        return None
    level1 = WWW_LABEL.sub("", host, count=1) or host
    path = re.split(r"[?#]", rest[len(authority) :], maxsplit=1)[0]
    pieces = [piece for piece in path.split("/") if piece]
    level2 = pieces[0] if pieces else None
    level3 = pieces[1] if len(pieces) > 1 else None
    return level1, level2, level3


def validate(source_file: str, line_number: int, line: str) -> Event:
    """Apply rules 1-7 in order; raise Rejected naming the first that fails."""
    record = parse_json(line)
    event_id = text_of(record.get("event_id"))
    if event_id is None:
        raise Rejected("missing_event_id")
    try:
        user_id = user_id_of(record)
        activity = text_of(record.get("action"))
        if activity is None:
            raise Rejected("missing_action")
        time_stamp = timestamp_of(record.get("timestamp"))
        url = text_of(record.get("url"))
        levels = url_levels(url) if url is not None else None
        if levels is None:
            raise Rejected("invalid_url")
    except Rejected as rejected:
        raise EventRejected(rejected.reason, event_id) from rejected
    return Event(
        source_file,
        line_number,
        line,
        event_id,
        user_id,
        time_stamp,
        *levels,
        activity.lower(),
    )


# ---------------------------------------------------------------------------------------------
# Rule 8 and the tables


def load(files: list[Path]) -> tuple[list[Event], list[Rejection]]:
    """Run rules 1-7 over every non-blank line of the files."""
    events: list[Event] = []
    rejections: list[Rejection] = []
    for path in files:
        source = str(path)
        for number, line in read_lines(path):
            try:
                events.append(validate(source, number, line))
            except Rejected as rejected:
                event_id = getattr(rejected, "event_id", None)
                rejections.append(Rejection(source, number, rejected.reason, event_id, line))
    return events, rejections


def deduplicate(events: list[Event]) -> tuple[list[Event], list[Rejection]]:
    """Rule 8: keep the earliest event per id (then file, then line); reject the others."""
    kept: dict[str, Event] = {}
    duplicates: list[Rejection] = []
    for event in sorted(events, key=lambda e: (e.time_stamp, e.source_file, e.line_number)):
        if event.event_id in kept:
            duplicates.append(
                Rejection(
                    event.source_file,
                    event.line_number,
                    "duplicate_event",
                    event.event_id,
                    event.raw_record,
                )
            )
        else:
            kept[event.event_id] = event
    return list(kept.values()), duplicates


def nulls_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, "" if value is None else value)


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        )
    return str(value)


def user_activity_rows(events: list[Event]) -> list[list[str]]:
    columns = [
        (e.time_stamp, e.user_id, e.url_level1, e.url_level2, e.url_level3, e.activity)
        for e in events
    ]
    columns.sort(key=lambda row: tuple(nulls_first(value) for value in row))
    return [[fmt(u), fmt(t), fmt(l1), fmt(l2), fmt(l3), fmt(a)] for t, u, l1, l2, l3, a in columns]


def time_bucket(value: datetime) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}{value.hour:02d}"


def hourly_rows(events: list[Event]) -> list[list[str]]:
    counts: dict[tuple[str, str, str | None, str], int] = defaultdict(int)
    users: dict[tuple[str, str, str | None, str], set[int]] = defaultdict(set)
    for e in events:
        key = (time_bucket(e.time_stamp), e.url_level1, e.url_level2, e.activity)
        counts[key] += 1
        users[key].add(e.user_id)
    keys = sorted(counts, key=lambda key: tuple(nulls_first(value) for value in key))
    return [
        [*(fmt(value) for value in key), str(counts[key]), str(len(users[key]))] for key in keys
    ]


def rejected_rows(rejections: list[Rejection]) -> list[list[str]]:
    ordered = sorted(rejections, key=lambda r: (r.source_file, r.line_number))
    return [
        [r.source_file, str(r.line_number), r.reason, fmt(r.event_id), r.raw_record]
        for r in ordered
    ]


def sessions_of(events: list[Event]) -> list[list[Event]]:
    """Each user's events in (time_stamp, event_id) order, cut where a gap exceeds the timeout."""
    by_user: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        by_user[event.user_id].append(event)
    sessions: list[list[Event]] = []
    for user_events in by_user.values():
        user_events.sort(key=lambda e: (e.time_stamp, e.event_id))
        for event in user_events:
            previous = (
                sessions[-1][-1] if sessions and sessions[-1][0].user_id == event.user_id else None
            )
            if previous is None or event.time_stamp - previous.time_stamp > SESSION_TIMEOUT:
                sessions.append([event])
            else:
                sessions[-1].append(event)
    return sessions


def user_sessions_rows(events: list[Event]) -> list[list[str]]:
    sessions = sorted(sessions_of(events), key=lambda s: (s[0].time_stamp, s[0].user_id))
    rows = []
    for session in sessions:
        first, last = session[0], session[-1]
        rows.append(
            [
                f"{first.user_id}-{first.time_stamp:%Y%m%d%H%M%S}",
                str(first.user_id),
                fmt(first.time_stamp),
                fmt(last.time_stamp),
                str(int((last.time_stamp - first.time_stamp).total_seconds())),
                str(len(session)),
                str(sum(1 for e in session if e.activity == "page_view")),
                fmt(first.url_level1),
                fmt(first.url_level2),
                fmt(last.url_level1),
                fmt(last.url_level2),
            ]
        )
    return rows


def daily_active_users_rows(events: list[Event]) -> list[list[str]]:
    if not events:
        return []
    users_by_day: dict[date, set[int]] = defaultdict(set)
    events_by_day: dict[date, int] = defaultdict(int)
    first_day: dict[int, date] = {}
    for e in events:
        day = e.time_stamp.date()
        users_by_day[day].add(e.user_id)
        events_by_day[day] += 1
        first_day[e.user_id] = min(day, first_day.get(e.user_id, day))
    new_by_day: dict[date, int] = defaultdict(int)
    for day in first_day.values():
        new_by_day[day] += 1
    sessions_by_day: dict[date, int] = defaultdict(int)
    for session in sessions_of(events):
        sessions_by_day[session[0].time_stamp.date()] += 1
    rows = []
    day, last = min(users_by_day), max(users_by_day)
    while day <= last:
        week = set().union(*(users_by_day.get(day - timedelta(n), set()) for n in range(7)))
        month = set().union(*(users_by_day.get(day - timedelta(n), set()) for n in range(28)))
        rows.append(
            [
                day.isoformat(),
                str(len(users_by_day.get(day, ()))),
                str(new_by_day.get(day, 0)),
                str(sessions_by_day.get(day, 0)),
                str(events_by_day.get(day, 0)),
                str(len(week)),
                str(len(month)),
            ]
        )
        day += timedelta(days=1)
    return rows


def build(
    paths: list[Path], timestamp_format: str = DEFAULT_TIMESTAMP_FORMAT
) -> dict[str, list[list[str]]]:
    """Build the five CSV tables (rows of formatted strings, no header) from one batch."""
    if timestamp_format != DEFAULT_TIMESTAMP_FORMAT:
        raise ValueError(f"the oracle supports only {DEFAULT_TIMESTAMP_FORMAT!r}")
    events, rejections = load(expand_paths(paths))
    accepted, duplicates = deduplicate(events)
    return {
        "user_activity": user_activity_rows(accepted),
        "hrly_granular_activity": hourly_rows(accepted),
        "rejected_events": rejected_rows(rejections + duplicates),
        "user_sessions": user_sessions_rows(accepted),
        "daily_active_users": daily_active_users_rows(accepted),
    }


# ---------------------------------------------------------------------------------------------
# CSV output and CLI


def csv_field(value: str) -> str:
    """RFC 4180 minimal quoting. Python 3.11's csv module leaves a bare CR unquoted."""
    if any(char in value for char in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    return "".join(",".join(csv_field(value) for value in row) + "\n" for row in [header, *rows])


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write one CSV atomically (temp file in the same folder, then rename)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(csv_text(header, rows))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_csvs(tables: dict[str, list[list[str]]], out_dir: Path) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, header in HEADERS.items():
        write_csv(out_dir / f"{name}.csv", header, tables[name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True, help="a file, a directory or a glob")
    parser.add_argument("--out", required=True, type=Path, help="folder for the five CSVs")
    args = parser.parse_args(argv)
    try:
        files = resolve_inputs(args.events)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_csvs(build(files), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
