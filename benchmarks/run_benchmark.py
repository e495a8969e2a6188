"""`make bench`: the dbt pipeline against plain PySpark jobs, on generated events.

In one run, on the same machine and data (N events, 2M unless told, spread over 14 days, half
of them from users who come back in bursts, so that sessions have several events: the
generator's `bursts` shape):
  (a') the seed's one-file script as a plain PySpark job (benchmarks/seed_style_job.py: an
      explicit schema, DROPMALFORMED, unsorted CSV folders) on the N events;
  (a'') SPEC's whole contract (rules 1-8, decisions as Parquet, three sorted CSV files) as one
      hand-written PySpark job (benchmarks/spec_single_job.py) on the same N events;
  (a) the plain single PySpark job (benchmarks/plain_pyspark_job.py) on the N events;
  (b) the full pipeline (`scripts/pipeline.py run --full-refresh`, what `make run` does)
      on the same N events;
  (c) the realistic increment, an incremental `make run` after the next day's file arrives
      (next_day_file): N/100 events on the day after the first file's last day, about 0.5% of
      them late by up to 6 hours (so in the last day already loaded), plus 100 lines of the
      first file's last hour copied verbatim (cross-file duplicates);
  (d) the pipeline once more with no new file, right after (c) finished: the part of (c) that
      does not shrink with the new data (Python, dbt, the JVM and metastore, every model's
      look-ups and data tests);
  (c') the worst-case increment, reported without a target, an incremental `make run` after
      a file of N/100 new events spread over every day of the first file (next_file), and
      100 lines of the first file again from end to end, half moved an hour earlier so that
      they displace the accepted events.
(b), (c), (d) and (c') are the same `make run` on the same tables and export folder.
With --thrift (what `make bench` runs), reported without targets, the same runs through a
long-lived Spark Thrift server (`TARGET=thrift`, started once with scripts/thrift-server.sh
and the same 4 GB driver, on a free port, its metastore and warehouse in the work folder):
  (bt) the full build over every file so far; (ct) the next day's file; (dt) nothing new.
The targets are (b) <= 2.0 x (a'), (c) <= 0.25 x (b) and (d) <= 0.2 x (a'); the first two
together need (c) <= 0.5 x (a'), which the table prints next to (d).
Each step is timed wall-clock as a user would (JVM start included), with the peak
resident memory of its whole process tree sampled from /proc. The table is printed
and appended to benchmarks/results.md.

This VM's speed drifts by up to 1.5x between minutes, so `--repeat N` runs (a'), (a''),
(a) and (b) in turn N times, then (c) N times (each after one more day's file: the day after
the latest file's last day, its duplicates copied from that file), then (d) N times, then (c')
N times (each after one more worst-case file), and reports each step's median; the table
lists every run.

Usage: python benchmarks/run_benchmark.py [--events 2000000] [--days 14] [--bad-share 0.02]
    [--repeat 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from scripts.generate_events import generate  # noqa: E402

RESULTS = PROJECT_DIR / "benchmarks" / "results.md"
TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
CROSS_FILE_DUPLICATES = 100
# a generated line's event id, when it has one of digits
EVENT_ID = re.compile(r'"event_id"\s*:\s*"\d+"')
# The first file's span, and the realistic increment (c): the next day's events over its first
# 23.5 hours (the generator's clock wanders a little, and none may spill into the day after),
# this share of them late by up to this many hours, and CROSS_FILE_DUPLICATES lines of the
# day before again
FIRST_FILE_DAYS = 14
NEXT_DAY_SPAN_DAYS = 23.5 / 24
NEXT_DAY_LATE_SHARE, NEXT_DAY_LATE_HOURS = 0.005, 6
# The PySpark baselines, run before (b) in this order: (step name, script, log stem, output)
BASELINES = (
    ("(a') seed-style PySpark job", "benchmarks/seed_style_job.py", "a1_seed_style", "seed"),
    ("(a'') SPEC in one PySpark job", "benchmarks/spec_single_job.py", "a2_spec_single", "spec"),
    ("(a) plain PySpark job", "benchmarks/plain_pyspark_job.py", "a_plain", "plain"),
)
# The issue's targets: (b) <= 2.0 x (a'), (c) <= 0.25 x (b), (d) <= 0.2 x (a'); (c') has none
FULL_TARGET, INCREMENTAL_TARGET, IDLE_TARGET = 2.0, 0.25, 0.2


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    events: int
    peak_rss_mb: float
    runs: tuple[float, ...] = ()

    @property
    def key(self) -> str:
        """The step's letter as the ratios name it: `a'` for "(a') seed-style PySpark job"."""
        return self.name[1 : self.name.index(")")]

    @property
    def rate(self) -> str:
        """Events per second, as the table shows it ("-" for a run without events)."""
        return f"{self.events / self.seconds:,.0f}" if self.events and self.seconds else "-"


def median_step(runs: list[Step]) -> Step:
    """One step from its repeated runs: the median time, the highest peak memory."""
    return Step(
        runs[0].name,
        statistics.median(r.seconds for r in runs),
        runs[0].events,
        max(r.peak_rss_mb for r in runs),
        tuple(r.seconds for r in runs),
    )


def median_steps(runs: list[Step]) -> list[Step]:
    """Every step's median_step over its runs, in the order the steps first ran."""
    by_name: dict[str, list[Step]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    return [median_step(step_runs) for step_runs in by_name.values()]


@dataclass(frozen=True)
class Ratio:
    """One line of the table's ratios: step `over`'s time against step `under`'s."""

    over: str
    under: str
    target: float | None = None

    def render(self, steps: dict[str, Step]) -> str:
        value = steps[self.over].seconds / steps[self.under].seconds
        target = f" (target <= {self.target})" if self.target is not None else ""
        return f"{self.over}/{self.under} = {value:.2f}{target}"


RATIOS = (
    Ratio("b", "a'", FULL_TARGET),
    Ratio("b", "a''"),
    Ratio("b", "a"),
    Ratio("c", "b", INCREMENTAL_TARGET),
    Ratio("c'", "b"),
    Ratio("d", "a'", IDLE_TARGET),
    Ratio("bt", "a'"),
    Ratio("ct", "bt"),
    Ratio("dt", "a'"),
)


def log_path(logs: Path, stem: str, run: int, repeat: int) -> Path:
    """`<stem>.log`, or `<stem>_<run>.log` when the steps are repeated."""
    return logs / (f"{stem}_{run}.log" if repeat > 1 else f"{stem}.log")


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def timed(name: str, command: list[str], events: int, log: Path) -> Step:
    """Run a command to completion, timing it and sampling its peak memory."""
    # Its own schema, so a benchmark never replaces the tables (or the
    # incremental state) of the user's own `make run`.
    env = {
        **os.environ,
        "WEB_EVENTS_HOME": str(PROJECT_DIR),
        "WEB_EVENTS_SCHEMA": os.environ.get("WEB_EVENTS_BENCH_SCHEMA", "web_events_bench"),
    }
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=out)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss_kb(process.pid))
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = process.wait()
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
    if returncode != 0:
        raise SystemExit(f"{name} failed (exit {returncode}); see {log}")
    return Step(name, seconds, events, peak / 1024)


def last_timestamp(path: Path) -> datetime:
    """The newest event time in a generated file (its events are roughly in time order)."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 200_000))
        lines = handle.read().decode("utf-8", errors="replace").splitlines()[1:]
    newest = datetime(1970, 1, 1, tzinfo=UTC)
    for line in lines:
        marker = line.rfind('"timestamp"')
        if marker < 0:
            continue
        text = line[marker:].split('"')[3]
        try:
            newest = max(newest, datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC))
        except ValueError:
            continue
    return newest


def event_day(line: str) -> date | None:
    """The day of an event line SPEC accepts (as far as a glance tells), else None."""
    try:
        event = json.loads(line)
        user = event["user"]
        valid = (
            isinstance(event["event_id"], str)
            and event["event_id"].strip() != ""
            and isinstance(user, dict)
            and str(user["id"]).isdigit()
            and str(event["action"]).strip() != ""
            and str(event["url"]) != ""
        )
        when = datetime.strptime(event["timestamp"], TIMESTAMP_FORMAT)
    except (ValueError, KeyError, TypeError):
        return None
    return when.date() if valid else None


def lines_of_day(path: Path, day: date, wanted: int) -> list[str]:
    """Good lines of `day` from the end of a file: at least `wanted` of them, or every one.

    Reads the file's tail, twice as much each time, until it holds `wanted` such lines,
    starts before `day` (the generated files are in time order but for a few late lines and
    copies) or is the whole file.
    """
    size, span = path.stat().st_size, 1 << 20
    while True:
        with path.open("rb") as handle:
            handle.seek(max(0, size - span))
            lines = handle.read().decode("utf-8", errors="replace").splitlines(keepends=True)
        if span < size:
            lines = lines[1:]  # the first may be cut
        days = [event_day(line) for line in lines]
        found = [line for line, line_day in zip(lines, days, strict=True) if line_day == day]
        oldest = next((line_day for line_day in days if line_day is not None), day)
        if len(found) >= wanted or oldest < day or span >= size:
            return found
        span *= 2


def next_day_file(latest: Path, out: Path, events: int, seed: int, index: int = 0) -> int:
    """The realistic increment (c): the day after the latest file's last day.

    `events` new events spread over that day, about NEXT_DAY_LATE_SHARE of them late: in the
    NEXT_DAY_LATE_HOURS hours before the day starts, so in the last day already loaded. Then
    CROSS_FILE_DUPLICATES good lines of the latest file's last day (picked among its last
    ones, as a sender re-sending its latest batch would; from the day before too if that day
    has barely begun) copied verbatim: each is rejected as duplicate_event. `index` numbers
    the added day files (0 for the first): each gets its own event ids and random stream.
    Returns the lines written.
    """
    last_day = last_timestamp(latest).date()
    day = last_day + timedelta(days=1)
    stats = generate(
        out,
        events=events,
        late_share=NEXT_DAY_LATE_SHARE,
        late_hours=NEXT_DAY_LATE_HOURS,
        days=NEXT_DAY_SPAN_DAYS,
        start=f"{day:%m/%d/%Y} 00:00:00",
        start_event_id=8_000_000_000_000 + index * 1_000_000_000,
        seed=seed + 101 + index,
        shape="bursts",
    )
    candidates = lines_of_day(latest, last_day, 20 * CROSS_FILE_DUPLICATES)
    if len(candidates) < CROSS_FILE_DUPLICATES:
        candidates += lines_of_day(latest, last_day - timedelta(days=1), 20 * CROSS_FILE_DUPLICATES)
    picked = random.Random(seed + 100 + index).sample(
        candidates, min(CROSS_FILE_DUPLICATES, len(candidates))
    )
    with out.open("a", encoding="utf-8") as handle:
        handle.writelines(line if line.endswith("\n") else line + "\n" for line in picked)
    print(
        f"{out.name}: {events:,} events on {day:%Y-%m-%d} ({stats.late} of them late, "
        f"on {last_day:%Y-%m-%d}) and {len(picked)} lines of {latest.name} again",
        flush=True,
    )
    return events + len(picked)


def next_file(first: Path, latest: Path, out: Path, events: int, seed: int, index: int = 0) -> int:
    """The worst-case increment (c'): `events` new events spread over every day of the
    first file, plus CROSS_FILE_DUPLICATES copies of its lines.

    The new events are the first file's good lines taken evenly from end to end,
    each under a new event id (so every day the first file covers gets late
    events to recompute). The last CROSS_FILE_DUPLICATES lines are lines of the
    first file again, also from end to end: half exact copies (rejected as
    duplicate_event), half moved one hour earlier (they win, and the events
    accepted from the first file become the duplicates). `index` numbers the
    added files (0 for the first): each gets its own event ids and random stream.
    `latest` is unused: the spread does not depend on the files added since.
    """
    del latest
    with first.open(encoding="utf-8") as handle:
        good = [line for line in handle if EVENT_ID.search(line) and '"timestamp"' in line]
    wanted = events - CROSS_FILE_DUPLICATES
    step = max(1, len(good) // max(1, wanted))
    new_id = 9_000_000_000_000 + index * 1_000_000_000
    rng = random.Random(seed + index)
    with out.open("w", encoding="utf-8") as handle:
        for number, line in enumerate(good[::step][:wanted]):
            line = EVENT_ID.sub(f'"event_id" : "{new_id + number}"', line, count=1)
            handle.write(line if line.endswith("\n") else line + "\n")
        for number, line in enumerate(rng.sample(good, CROSS_FILE_DUPLICATES)):
            if number % 2:
                text = line.rsplit('"timestamp"', 1)[1].split('"')[1]
                try:
                    moved = datetime.strptime(text, TIMESTAMP_FORMAT) - timedelta(hours=1)
                    line = line.replace(text, moved.strftime(TIMESTAMP_FORMAT))
                except ValueError:
                    pass
            handle.write(line if line.endswith("\n") else line + "\n")
    return events


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def thrift_steps(
    pipeline: list[str],
    events_dir: Path,
    logs: Path,
    args: argparse.Namespace,
    day_files: tuple[Path, Path],
) -> list[Step]:
    """(bt), (ct), (dt): the full build, the next day's file and nothing new, through one
    long-lived Thrift server (started here, stopped at the end, whatever happens).
    `day_files`: the latest next-day file (c) wrote, and the name of the one (ct) adds."""
    work = args.work_dir
    os.environ.update(
        THRIFT_STATE_DIR=str(work / "thrift"),
        THRIFT_PORT=str(free_port()),
        THRIFT_DRIVER_MEMORY=os.environ.get("WEB_EVENTS_DRIVER_MEMORY", "4g"),
    )
    server = [str(PROJECT_DIR / "scripts" / "thrift-server.sh")]
    through_thrift = [*pipeline, "--target", "thrift"]
    all_lines = sum(
        sum(1 for line in path.open("rb") if line.strip()) for path in events_dir.iterdir()
    )
    subprocess.run([*server, "start"], cwd=PROJECT_DIR, check=True)
    try:
        steps = [
            timed(
                "(bt) make run (full), Thrift server",
                [*through_thrift, "--full-refresh"],
                all_lines,
                logs / "bt_full.log",
            )
        ]
        latest, day_file = day_files
        lines = next_day_file(latest, day_file, args.events // 100, args.seed, args.repeat)
        steps.append(
            timed("(ct) make run (next day), Thrift server", through_thrift, lines, logs / "ct.log")
        )
        steps.append(
            timed("(dt) make run (no new file), Thrift server", through_thrift, 0, logs / "dt.log")
        )
        return steps
    finally:
        subprocess.run([*server, "stop"], cwd=PROJECT_DIR, check=False)


def git(*args: str) -> str:
    """The output of a git command in the project folder."""
    return subprocess.run(
        ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit() -> str:
    """The project's git commit (with `+changes` when the tree differs), for the record."""
    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def render(steps: list[Step], args: argparse.Namespace) -> str:
    """The table of the steps (each with a letter RATIOS names), then the ratios."""
    by_key = {s.key: s for s in steps}
    c, d, worst = by_key["c"], by_key["d"], by_key["c'"]
    header = (
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.events:,} events over "
        f"{args.days:g} days ({args.bad_share:.0%} bad), then +{c.events:,} (the next day) "
        f"and +{worst.events:,} (worst case)\n\n"
        f"Commit {commit()}. Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; command: `python benchmarks/run_benchmark.py "
        f"--events {args.events}"
        + (f" --days {args.days:g}" if args.days != FIRST_FILE_DAYS else "")
        + (f" --repeat {args.repeat}" if args.repeat > 1 else "")
        + "`\n\n"
    )
    rows = [
        "| step | seconds (median) | every run | events | events/s | peak RSS (MB) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    rows += [
        f"| {s.name} | {s.seconds:.1f} | {', '.join(f'{r:.1f}' for r in s.runs or (s.seconds,))} "
        f"| {s.events:,} | {s.rate} | {s.peak_rss_mb:,.0f} |"
        for s in steps
    ]
    bound = INCREMENTAL_TARGET * FULL_TARGET
    seed_style = by_key["a'"]
    ratios = (
        "\n"
        + "; ".join(
            ratio.render(by_key)
            for ratio in RATIOS
            if ratio.over in by_key and ratio.under in by_key
        )
        + "\n"
        f"\nFixed cost: (d), a run with no new file, takes {d.seconds / c.seconds:.0%} of (c). "
        f"The targets for (b) and (c) together need (c) <= {bound:g} x (a') = "
        f"{bound * seed_style.seconds:.1f} s.\n"
    )
    return header + "\n".join(rows) + "\n" + ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument(
        "--days", type=float, default=FIRST_FILE_DAYS, help="the first file's span in days"
    )
    parser.add_argument("--bad-share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR / ".bench")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each step; the table reports medians"
    )
    parser.add_argument(
        "--thrift",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time (bt), (ct) and (dt) through a Thrift server",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    events_dir, logs = work / "events", work / "logs"
    events_dir.mkdir(parents=True)
    logs.mkdir()
    first = events_dir / "events_0001.json"
    print(f"generating {args.events:,} events over {args.days:g} days into {first} ...", flush=True)
    generate(
        first,
        events=args.events,
        bad_share=args.bad_share,
        seed=args.seed,
        days=args.days,
        shape="bursts",
    )
    added = (events_dir / f"events_{n:04d}.json" for n in itertools.count(2))

    python = sys.executable
    # (b), (c), (d) and (c') are the same `make run`, on the same tables and export folder
    pipeline = [python, "scripts/pipeline.py", "run", "--events", str(events_dir)]
    pipeline += ["--export-dir", str(work / "exports")]
    runs: list[Step] = []
    for run in range(1, args.repeat + 1):
        for name, script, stem, out in BASELINES:
            runs.append(
                timed(
                    name,
                    [python, script, "--events", str(events_dir), "--out", str(work / out)],
                    args.events,
                    log_path(logs, stem, run, args.repeat),
                )
            )
        runs.append(
            timed(
                "(b) make run (full)",
                [*pipeline, "--full-refresh"],
                args.events,
                log_path(logs, "b_full", run, args.repeat),
            )
        )
    latest = first
    for run in range(1, args.repeat + 1):
        day_file = next(added)
        lines = next_day_file(latest, day_file, args.events // 100, args.seed, run - 1)
        latest = latest_day = day_file
        runs.append(
            timed(
                "(c) make run (next day, +1%)",
                pipeline,
                lines,
                log_path(logs, "c_next_day", run, args.repeat),
            )
        )
    # right after a finished run: nothing new
    runs += [
        timed(
            "(d) make run (no new file)",
            pipeline,
            0,
            log_path(logs, "d_no_new_file", run, args.repeat),
        )
        for run in range(1, args.repeat + 1)
    ]
    for run in range(1, args.repeat + 1):
        worst_file = next(added)
        lines = next_file(first, latest, worst_file, args.events // 100, args.seed, run - 1)
        latest = worst_file
        runs.append(
            timed(
                "(c') make run (+1% worst case)",
                pipeline,
                lines,
                log_path(logs, "c2_worst_case", run, args.repeat),
            )
        )
    if args.thrift:
        runs += thrift_steps(pipeline, events_dir, logs, args, (latest_day, next(added)))
    report = render(median_steps(runs), args)
    print(report)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n" + report)
    print(f"appended to {RESULTS}; logs in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
