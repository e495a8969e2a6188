"""Generate web events as JSON lines, like data/source_event_data.json, for tests and benchmarks.

Good events use hipages-style URLs (with and without a scheme; `www.`, `w3.` or no prefix;
0-4 path levels; some query strings and fragments), the four sample actions and a few thousand
users. Timestamps (`MM/dd/yyyy HH:mm:ss`, UTC) increase through the run, about 4,400 events an
hour (with `--days D`: at the pace that spreads the run's good events over about D days, not
more on average), so each of several files covers a later window. On request a share of the
lines is bad (spread evenly over every bad kind in SPEC.md, see BAD_KINDS), duplicate (an
earlier event's id again, from this or an earlier file: an exact copy, or the same event with an
earlier or later time) or late (a new event in one of the `--late-hours` hours, 3 unless told,
before the hour the file's window starts in).

The same arguments give byte-identical output. The generator streams with constant memory:
lines come from precomputed pools and one f-string, written in chunks.

Speed (2-core shared machine, Python 3.11, one core, measured with /usr/bin/time):
    time python scripts/generate_events.py --events 1000000 --out /tmp/ev.json
    -> 1.92 s for 1M events (about 520,000 events/s, 233 MB written, 24 MB peak RSS); with
    --bad-share 0.05 --duplicate-share 0.05 --late-share 0.05: 3.46 s (about 290,000/s).

Usage:
    python scripts/generate_events.py --events 100000 --files 4 --out /tmp/events \\
        --bad-share 0.01 --duplicate-share 0.02 --late-share 0.01 --seed 7
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import heapq
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
DEFAULT_START = "02/02/2017 00:00:00"
DEFAULT_START_EVENT_ID = 100_000_000_000_000
CHUNK_LINES = 8192
USER_POOL_BITS = 13
PAGE_POOL_BITS = 12
GAP_POOL_BITS = 6
DEFAULT_LATE_HOURS = 3
USER_COUNT = 3000
RECENT_MEMORY = 1024
OLD_MEMORY = 512
# The `bursts` shape: about BURST_SHARE of the good events come from users in a visit of 2-8
# events, seconds to minutes apart, some exactly the session timeout apart (the same session)
# or one second more (a new one), who come back up to two hours later. A visit slot yields
# about one event per BURST_SLOT_SECONDS (5 events over ~40 minutes, then ~1 hour away).
SHAPES = ("uniform", "bursts")
BURST_SHARE = 0.5
BURST_SLOT_SECONDS = 1200
SESSION_TIMEOUT_SECONDS = 30 * 60

# The bad kinds SPEC.md lists, each with the reason SPEC gives it.
BAD_KINDS: tuple[tuple[str, str], ...] = (
    ("truncated_json", "malformed_json"),
    ("not_json", "malformed_json"),
    ("user_is_string", "malformed_json"),
    ("missing_event_id", "missing_event_id"),
    ("null_user_id", "missing_user_id"),
    ("abc_user_id", "invalid_user_id"),
    ("missing_action", "missing_action"),
    ("blank_action", "missing_action"),
    ("timestamp_iso_feb_31", "invalid_timestamp"),
    ("timestamp_feb_30", "invalid_timestamp"),
    ("timestamp_empty", "invalid_timestamp"),
    ("empty_url", "invalid_url"),
)

ACTIONS = (("page_view", 47), ("button_click", 29), ("list_directory", 12), ("claim", 12))
DOMAINS = (
    ("hipages.com.au", 80),
    ("homeimprovementpages.com.au", 8),
    ("hipages.co.nz", 4),
    ("petpages.com.au", 2),
    ("somepages.com.au", 2),
    ("usefulpages.com.au", 2),
    ("myhelpfulpages.com.au", 2),
)
PREFIXES = (
    ("https://www.", 70),
    ("http://www.", 4),
    ("www.", 8),
    ("w3.", 3),
    ("", 5),
    ("https://", 5),
    ("https://www2.", 2),
    ("HTTPS://WWW.", 1),
    ("https://user@www.", 1),
)
PATHS = (
    ("/articles", 17),
    ("/find/electricians", 22),
    ("/find/plumbers", 11),
    ("/get_quotes_simple?search_str=sfdg", 20),
    ("/connect/{slug}/service/{n}", 10),
    ("/connect/{slug}/service", 2),
    ("/photos/bathrooms", 6),
    ("/photos/kitchens#gallery", 2),
    ("/advertise", 6),
    ("", 1),
    ("/", 2),
    ("/find/plumbers/{suburb}?page={n}", 1),
)
PORTS = (("", 97), (":443", 3))
SLUGS = ("sfelectrics", "bondi-plumbing", "aceroofing", "greenthumb", "sparkyjoe", "tilepro")
SUBURBS = ("bondi", "manly", "parramatta", "newtown", "richmond", "fitzroy")


@dataclass(frozen=True)
class Pools:
    """Precomputed text fragments; events are assembled from them with one f-string."""

    users: tuple[str, ...]
    pages: tuple[str, ...]
    urls: tuple[str, ...]
    actions: tuple[str, ...]
    gaps: tuple[int, ...]
    minute_seconds: tuple[str, ...]


@dataclass
class Stats:
    """What was written: totals by kind, so tests can predict the pipeline's counts."""

    files: list[Path] = field(default_factory=list)
    lines: int = 0
    good: int = 0
    late: int = 0
    duplicates: int = 0
    bad: dict[str, int] = field(default_factory=lambda: {kind: 0 for kind, _ in BAD_KINDS})

    def expected_rejections(self) -> dict[str, int]:
        """Rejections by SPEC reason that a loader of all files should report."""
        reasons: dict[str, int] = {}
        for kind, reason in BAD_KINDS:
            reasons[reason] = reasons.get(reason, 0) + self.bad[kind]
        reasons["duplicate_event"] = self.duplicates
        return reasons

    def as_json(self) -> str:
        data = {
            "files": [str(p) for p in self.files],
            "lines": self.lines,
            "accepted": self.good + self.late,
            "late": self.late,
            "rejected": self.expected_rejections(),
        }
        return json.dumps(data)


# ---------------------------------------------------------------------------------------------
# Pools


def weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> Callable[[], str]:
    """A picker drawing from (value, weight) pairs with rng.random() (stable across versions)."""
    values = [value for value, _ in choices]
    cumulative: list[int] = []
    total = 0
    for _, weight in choices:
        total += weight
        cumulative.append(total)
    return lambda: values[bisect.bisect_right(cumulative, rng.random() * total)]


def make_users(rng: random.Random) -> tuple[str, ...]:
    """User objects; ids are JSON numbers, and about 1 in 20 a string of digits."""
    users = []
    for _ in range(1 << USER_POOL_BITS):
        user_id = 56456 + 342 * int(rng.random() * USER_COUNT)
        session_id = 564561 + int(rng.random() * 900_000)
        ip = f"111.{int(rng.random() * 256)}.{int(rng.random() * 256)}.{user_id % 250 + 1}"
        id_text = f'"{user_id}"' if rng.random() < 0.05 else str(user_id)
        users.append(f'{{ "session_id" : "{session_id}", "id" : {id_text} , "ip" : "{ip}" }}')
    return tuple(users)


def make_url(rng: random.Random, pick: dict[str, Callable[[], str]]) -> str:
    prefix, domain = pick["prefix"](), pick["domain"]()
    if prefix.isupper():
        domain = domain.upper()
    path = pick["path"]().format(
        slug=SLUGS[int(rng.random() * len(SLUGS))],
        suburb=SUBURBS[int(rng.random() * len(SUBURBS))],
        n=100_000 + int(rng.random() * 900_000),
    )
    return f"{prefix}{domain}{pick['port']()}{path}"


def make_gaps(gap_total: int | None) -> list[int]:
    """The seconds between good events: 0.81 s on average, or `gap_total` over the pool's 64."""
    size = 1 << GAP_POOL_BITS
    if gap_total is None:
        return [0] * 24 + [1] * 28 + [2] * 12  # 64 gaps, 0.81 s on average
    base, longer = divmod(gap_total, size)
    return [base + 1] * longer + [base] * (size - longer)


def gap_total_for(days: float, events: int, bad_share: float, duplicate_share: float) -> int:
    """The gap pool's total that spreads the good events over about `days` days, not more.

    Bad and duplicate lines do not move the clock; late lines don't either, but they are
    counted as if they did, so that on average the span stays under `days`. (The gaps are
    drawn at random, so the span can still run over by a few standard deviations of their
    sum: about 0.5 s x sqrt(events).)
    """
    moving = max(1.0, events * (1 - bad_share - duplicate_share))
    return max(0, math.ceil((1 << GAP_POOL_BITS) * days * 86_400 / moving) - 1)


def make_pools(rng: random.Random, gap_total: int | None = None) -> Pools:
    pick = {
        "prefix": weighted(rng, PREFIXES),
        "domain": weighted(rng, DOMAINS),
        "path": weighted(rng, PATHS),
        "port": weighted(rng, PORTS),
        "action": weighted(rng, ACTIONS),
    }
    users = make_users(rng)
    urls = tuple(make_url(rng, pick) for _ in range(1 << PAGE_POOL_BITS))
    actions = tuple(pick["action"]() for _ in urls)
    pages = tuple(f'"action" : "{a}", "url" : "{u}"' for a, u in zip(actions, urls, strict=True))
    gaps = make_gaps(gap_total)
    rng.shuffle(gaps)  # draws the same numbers for any pool of the same size
    minute_seconds = tuple(f"{s // 60:02d}:{s % 60:02d}" for s in range(3600))
    return Pools(users, pages, urls, actions, tuple(gaps), minute_seconds)


# ---------------------------------------------------------------------------------------------
# Lines


def format_timestamp(seconds: int) -> str:
    t = time.gmtime(seconds)
    return (
        f"{t.tm_mon:02d}/{t.tm_mday:02d}/{t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    )


def event_line(event_id: str, user: str, page: str, timestamp: str) -> str:
    return f'{{ "event_id" : "{event_id}", "user" : {user}, {page}, "timestamp" : "{timestamp}"}}\n'


def bad_line(kind: str, event_id: str, user: str, action: str, url: str, timestamp: str) -> str:
    """One line of a BAD_KINDS kind, built around otherwise valid values."""
    page = f'"action" : "{action}", "url" : "{url}"'
    if kind == "truncated_json":
        line = event_line(event_id, user, page, timestamp)
        return line[: len(line) // 2] + "\n"
    if kind == "not_json":
        return f"event {event_id} at {timestamp}: {action} {url}\n"
    if kind == "user_is_string":
        return event_line(event_id, '"abc"', page, timestamp)
    if kind == "missing_event_id":
        return f'{{ "user" : {user}, {page}, "timestamp" : "{timestamp}"}}\n'
    if kind in ("null_user_id", "abc_user_id"):
        user_id = "null" if kind == "null_user_id" else '"abc"'
        user = f'{{ "session_id" : "564561", "id" : {user_id} , "ip" : "111.1.1.1" }}'
        return event_line(event_id, user, page, timestamp)
    if kind == "missing_action":
        return event_line(event_id, user, f'"url" : "{url}"', timestamp)
    if kind == "blank_action":
        return event_line(event_id, user, f'"action" : "  ", "url" : "{url}"', timestamp)
    if kind == "empty_url":
        return event_line(event_id, user, f'"action" : "{action}", "url" : ""', timestamp)
    bad_timestamps = {
        "timestamp_iso_feb_31": "2017-02-31 25:00:00",
        "timestamp_feb_30": "02/30/2017 10:00:00",
        "timestamp_empty": "",
    }
    return event_line(event_id, user, page, bad_timestamps[kind])


@dataclass
class Memory:
    """A bounded memory of earlier good events to re-emit as duplicates.

    `recent` is a ring of the latest events; `old` is a thinning sample of the whole run (keep
    every `stride`-th event, halve the sample and double the stride when full), so duplicates
    also reach back into earlier files with constant memory.
    """

    recent: list[tuple[str, str, str, int]] = field(default_factory=list)
    old: list[tuple[str, str, str, int]] = field(default_factory=list)
    stride: int = 1
    seen: int = 0

    def remember(self, event: tuple[str, str, str, int]) -> None:
        if len(self.recent) < RECENT_MEMORY:
            self.recent.append(event)
        else:
            self.recent[self.seen % RECENT_MEMORY] = event
        if self.seen % self.stride == 0:
            self.old.append(event)
            if len(self.old) >= OLD_MEMORY:
                self.old = self.old[::2]
                self.stride *= 2
        self.seen += 1

    def pick(self, rng: random.Random) -> tuple[str, str, str, int] | None:
        if not self.recent:
            return None
        source = self.old if rng.random() < 0.5 else self.recent
        return source[int(rng.random() * len(source))]


@dataclass
class Bursts:
    """Users who come back in bursts (the `bursts` shape), due in time order from a heap.

    Each slot is (due time, sequence number, user index, events left in the visit). A visit's
    next event is due after a gap: 10% exactly the session timeout, 10% one second more, 5%
    the same second, otherwise 30 s to 10 minutes. After its last event the slot takes a new
    user, due up to two hours later.
    """

    rng: random.Random
    user_count: int
    heap: list[tuple[int, int, int, int]] = field(default_factory=list)
    sequence: int = 0

    @classmethod
    def starting(cls, rng: random.Random, user_count: int, clock: int, mean_gap: float) -> Bursts:
        """Enough visits at a time for BURST_SHARE of events `mean_gap` seconds apart."""
        bursts = cls(rng, user_count)
        slots = max(8, round(BURST_SLOT_SECONDS * BURST_SHARE / max(mean_gap, 0.01)))
        for _ in range(slots):
            bursts.new_visit(clock)
        return bursts

    def push(self, due: int, user: int, left: int) -> None:
        heapq.heappush(self.heap, (due, self.sequence, user, left))
        self.sequence += 1

    def new_visit(self, clock: int) -> None:
        user = int(self.rng.random() * self.user_count)
        self.push(clock + int(self.rng.random() * 7200), user, 2 + int(self.rng.random() * 7))

    def gap(self) -> int:
        u = self.rng.random()
        if u < 0.1:
            return SESSION_TIMEOUT_SECONDS
        if u < 0.2:
            return SESSION_TIMEOUT_SECONDS + 1
        if u < 0.25:
            return 0
        return 30 + int(self.rng.random() * 570)

    def take(self, clock: int) -> tuple[int, int] | None:
        """The user index and time of a visit's event due by `clock`, or None."""
        if self.heap[0][0] > clock:
            return None
        due, _, user, left = heapq.heappop(self.heap)
        if left > 1:
            self.push(due + self.gap(), user, left - 1)
        else:
            self.new_visit(clock)
        return user, due


@dataclass
class Generator:
    """Generator state carried across files: clock, next event id, duplicate memory."""

    rng: random.Random
    pools: Pools
    clock: int
    next_id: int
    bad_share: float
    duplicate_share: float
    late_share: float
    late_hours: int = DEFAULT_LATE_HOURS
    stats: Stats = field(default_factory=Stats)
    memory: Memory = field(default_factory=Memory)
    bad_turn: int = 0
    bursts: Bursts | None = None

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)

    def bad(self) -> str:
        kind = BAD_KINDS[self.bad_turn % len(BAD_KINDS)][0]
        self.bad_turn += 1
        self.stats.bad[kind] += 1
        i = int(self.rng.random() * len(self.pools.urls))
        user = self.pools.users[int(self.rng.random() * len(self.pools.users))]
        return bad_line(
            kind,
            self.new_id(),
            user,
            self.pools.actions[i],
            self.pools.urls[i],
            format_timestamp(self.clock),
        )

    def duplicate(self) -> str | None:
        """An earlier event again: exact copy (1/2), earlier time (1/4), later time (1/4)."""
        original = self.memory.pick(self.rng)
        if original is None:
            return None
        event_id, user, page, seconds = original
        variant = self.rng.random()
        if variant < 0.25:
            seconds -= 1 + int(self.rng.random() * 3600)
        elif variant < 0.5:
            seconds += 1 + int(self.rng.random() * 600)
        self.stats.duplicates += 1
        return event_line(event_id, user, page, format_timestamp(seconds))

    def late(self, window_start: int) -> str:
        """A new event 1-`late_hours` hours before the hour the file's window starts in."""
        back = 1 + int(self.rng.random() * self.late_hours)
        hour = window_start - window_start % 3600 - 3600 * back
        seconds = hour + int(self.rng.random() * 3600)
        user = self.pools.users[int(self.rng.random() * len(self.pools.users))]
        page = self.pools.pages[int(self.rng.random() * len(self.pools.pages))]
        self.stats.late += 1
        return event_line(self.new_id(), user, page, format_timestamp(seconds))

    def special(self, window_start: int) -> str | None:
        """A bad, duplicate or late line, or None when this line should be a plain good one."""
        u = self.rng.random()
        if u < self.bad_share:
            return self.bad()
        u -= self.bad_share
        if u < self.duplicate_share:
            return self.duplicate()
        u -= self.duplicate_share
        if u < self.late_share:
            return self.late(window_start)
        return None

    def write_file(self, path: Path, count: int) -> None:
        """Write `count` lines; the hot loop keeps its state in locals for speed."""
        pools, getrandbits, remember = self.pools, self.rng.getrandbits, self.memory.remember
        users, pages, gaps, mmss = pools.users, pools.pages, pools.gaps, pools.minute_seconds
        mixed = self.bad_share + self.duplicate_share + self.late_share > 0
        keep = self.duplicate_share > 0
        bursts = self.bursts
        window_start, clock, next_id = self.clock, self.clock, self.next_id
        hour, prefix = -1, ""
        good = 0
        chunk: list[str] = []
        with path.open("w", encoding="utf-8", newline="") as handle:
            for _ in range(count):
                if mixed:
                    self.clock, self.next_id = clock, next_id
                    line = self.special(window_start)
                    next_id = self.next_id
                    if line is not None:
                        chunk.append(line)
                        continue
                clock += gaps[getrandbits(GAP_POOL_BITS)]
                if clock // 3600 != hour:
                    hour = clock // 3600
                    prefix = format_timestamp(hour * 3600)[:14]
                event_id = str(next_id)
                next_id += 1
                visit = bursts.take(clock) if bursts is not None else None
                if visit is None:
                    user = users[getrandbits(USER_POOL_BITS)]
                    seconds, stamp = clock, f"{prefix}{mmss[clock % 3600]}"
                else:
                    user, seconds = users[visit[0]], visit[1]
                    stamp = format_timestamp(seconds)
                page = pages[getrandbits(PAGE_POOL_BITS)]
                chunk.append(
                    f'{{ "event_id" : "{event_id}", "user" : {user}, {page}, '
                    f'"timestamp" : "{stamp}"}}\n'
                )
                good += 1
                if keep:
                    remember((event_id, user, page, seconds))
                if len(chunk) >= CHUNK_LINES:
                    handle.write("".join(chunk))
                    chunk.clear()
            handle.write("".join(chunk))
        self.clock, self.next_id = clock, next_id
        self.stats.good += good
        self.stats.lines += count
        self.stats.files.append(path)


# ---------------------------------------------------------------------------------------------
# Entry points


def parse_start(text: str) -> int:
    return calendar.timegm(datetime.strptime(text, TIMESTAMP_FORMAT).timetuple())


def output_paths(out: Path, files: int) -> list[Path]:
    if files == 1:
        out.parent.mkdir(parents=True, exist_ok=True)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    return [out / f"events_{n:04d}.json" for n in range(1, files + 1)]


def generate(
    out: Path,
    events: int,
    files: int = 1,
    bad_share: float = 0.0,
    duplicate_share: float = 0.0,
    late_share: float = 0.0,
    start_event_id: int = DEFAULT_START_EVENT_ID,
    seed: int = 0,
    start: str = DEFAULT_START,
    days: float | None = None,
    late_hours: int = DEFAULT_LATE_HOURS,
    shape: str = "uniform",
) -> Stats:
    """Write `events` lines over `files` files (one file: `out`; more: `out/events_NNNN.json`).

    `days`: spread the good events over about that many days (at most, on average) instead of
    about 4,400 an hour. `late_hours`: late events fall in the 1-`late_hours` hours before the
    hour a file's window starts in. `shape="bursts"`: part of the good events come from users
    in visits of several events minutes apart (Bursts), so sessions have more than one event
    and some gaps are exactly the session timeout. Without them the output is what it always
    was.
    """
    if events < 0 or files < 1:
        raise ValueError("events must be >= 0 and files >= 1")
    if (days is not None and days < 0) or late_hours < 1:
        raise ValueError("days must be >= 0 and late_hours >= 1")
    if min(bad_share, duplicate_share, late_share) < 0 or (
        bad_share + duplicate_share + late_share > 1
    ):
        raise ValueError("shares must be >= 0 and add up to at most 1")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
    rng = random.Random(seed)
    gap_total = None
    if days is not None:
        gap_total = gap_total_for(days, events, bad_share, duplicate_share)
    generator = Generator(
        rng=rng,
        pools=make_pools(rng, gap_total),
        clock=parse_start(start),
        next_id=start_event_id,
        bad_share=bad_share,
        duplicate_share=duplicate_share,
        late_share=late_share,
        late_hours=late_hours,
    )
    if shape == "bursts":
        gaps = generator.pools.gaps
        generator.bursts = Bursts.starting(
            rng, len(generator.pools.users), generator.clock, sum(gaps) / len(gaps)
        )
    paths = output_paths(Path(out), files)
    for n, path in enumerate(paths):
        generator.write_file(path, events * (n + 1) // files - events * n // files)
    return generator.stats


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True, help="lines to write in total")
    parser.add_argument(
        "--out", type=Path, required=True, help="a file, or a folder if --files > 1"
    )
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--bad-share", type=float, default=0.0)
    parser.add_argument("--duplicate-share", type=float, default=0.0)
    parser.add_argument("--late-share", type=float, default=0.0)
    parser.add_argument("--start-event-id", type=int, default=DEFAULT_START_EVENT_ID)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start", default=DEFAULT_START, help="first timestamp, MM/dd/yyyy HH:mm:ss"
    )
    parser.add_argument(
        "--days", type=float, help="spread the good events over about this many days"
    )
    parser.add_argument(
        "--late-hours",
        type=int,
        default=DEFAULT_LATE_HOURS,
        help="late events fall up to this many hours before a file's window",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="uniform",
        help="bursts: users come back in visits of several events minutes apart",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stats = generate(
        args.out,
        args.events,
        files=args.files,
        bad_share=args.bad_share,
        duplicate_share=args.duplicate_share,
        late_share=args.late_share,
        start_event_id=args.start_event_id,
        seed=args.seed,
        start=args.start,
        days=args.days,
        late_hours=args.late_hours,
        shape=args.shape,
    )
    print(stats.as_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
