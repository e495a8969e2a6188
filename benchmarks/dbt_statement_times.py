"""Where a dbt run spent its time: the slowest SQL statements of one invocation in dbt.log.

dbt's debug log records every statement it sends ("On <node>: <sql>") and how long Spark took
("SQL status: OK in <n> seconds"), per thread. This pairs them up and prints the slowest, with
the node and the statement's first words, so a benchmark run can be read statement by statement.
With the session method a SELECT is lazy: "SQL status" only covers planning, and the query runs
while dbt fetches its rows (a data test's count, a compile-time look-up of run_query). That time
is reported as "fetch": from the status line to the thread's next log line.

Usage: python benchmarks/dbt_statement_times.py [--log logs/dbt.log] [--top 25] [--invocation -1]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STATEMENT = re.compile(r"\[(?P<thread>[^\]]+)\]: On (?P<node>[^:]+): (?P<rest>.*)")
STATUS = re.compile(r"\[(?P<thread>[^\]]+)\]: SQL status: \S+ in (?P<seconds>[\d.]+) seconds")
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \[")
CLOCK = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \[[^\]]*\] \[(?P<thread>[^\]]+)\]")
NOT_SQL = ("ROLLBACK", "Close")


@dataclass(frozen=True)
class Timing:
    seconds: float
    node: str
    sql: str
    fetch: float = 0.0
    # clock times (seconds since midnight, dbt's UTC clock) of the statement's
    # "On <node>" line and of the end of its fetch; None if the log lacks them
    started: float | None = None
    ended: float | None = None

    @property
    def total(self) -> float:
        return self.seconds + self.fetch


def clock(line: str) -> tuple[float, str] | None:
    """Seconds since midnight and thread of a log line, or None for a continuation line."""
    match = CLOCK.match(line)
    if not match:
        return None
    hours, minutes, seconds = match.groups()[:3]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds), match["thread"]


def invocations(lines: list[str]) -> list[list[str]]:
    """The log split at each "Running with dbt=" line (one part per dbt invocation)."""
    # a log rotated mid-invocation (dbt.log.1) starts without that line
    starts = [i for i, line in enumerate(lines) if "Running with dbt=" in line] or [0]
    return [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def statement_preview(lines: list[str], first: int) -> str:
    """The first words of the SQL that follows an "On <node>:" line (comments skipped)."""
    words = []
    for line in lines[first : first + 8]:
        text = ANSI.sub("", line).strip()
        if LOG_LINE.match(text):
            break
        if not text or text.startswith("/*"):
            continue
        words.append(text)
    return " ".join(words)[:100]


def timings(lines: list[str]) -> list[Timing]:
    """Each statement with the seconds its thread's next "SQL status" line reports, and the
    seconds from that line to the thread's next line (fetching the rows of a lazy SELECT)."""
    pending: dict[str, tuple[str, str, float | None]] = {}
    fetching: dict[str, tuple[Timing, float]] = {}
    found = []
    for index, raw in enumerate(lines):
        line = ANSI.sub("", raw)
        stamp = clock(line)
        if stamp and stamp[1] in fetching:
            timing, since = fetching.pop(stamp[1])
            fetch = (stamp[0] - since) % 86400  # a run may pass midnight
            found.append(replace(timing, fetch=round(fetch, 6), ended=stamp[0]))
        statement = STATEMENT.search(line)
        if statement and not statement["rest"].strip().startswith(NOT_SQL):
            node = (
                statement["node"].split(".")[-1] if "." in statement["node"] else statement["node"]
            )
            started = stamp[0] if stamp else None
            pending[statement["thread"]] = (node, statement_preview(lines, index + 1), started)
            continue
        status = STATUS.search(line)
        if status and status["thread"] in pending:
            node, sql, started = pending.pop(status["thread"])
            timing = Timing(float(status["seconds"]), node, sql, started=started)
            if stamp:
                fetching[status["thread"]] = (replace(timing, ended=stamp[0]), stamp[0])
            else:
                found.append(timing)
    found.extend(timing for timing, _ in fetching.values())  # the log ended while fetching
    return found


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the log and the invocation, and how many statements to show."""
    parser.add_argument("--log", type=Path, default=Path("logs/dbt.log"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--invocation", type=int, default=-1, help="which dbt invocation (-1: the last)"
    )


def chosen_invocation(args: argparse.Namespace) -> list[str] | None:
    """The lines of the dbt invocation `--log` and `--invocation` chose (counted as Python
    counts: -1 is the last), or None once the reason there is none is printed."""
    try:
        lines = args.log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        print(f"error: cannot read {args.log}: {error.strerror}", file=sys.stderr)
        return None
    runs = [run for run in invocations(lines) if run]
    if not runs:
        print(f"error: no dbt invocation in {args.log}", file=sys.stderr)
        return None
    if not -len(runs) <= args.invocation < len(runs):
        print(
            f"error: no invocation {args.invocation} in {args.log}: it holds {len(runs)} "
            f"(--invocation 0 to {len(runs) - 1}, or -1 for the last)",
            file=sys.stderr,
        )
        return None
    return runs[args.invocation]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_log_arguments(parser)
    args = parser.parse_args(argv)
    lines = chosen_invocation(args)
    if lines is None:
        return 1
    found = timings(lines)
    status = sum(t.seconds for t in found)
    fetch = sum(t.fetch for t in found)
    print(
        f"{len(found)} statements, {status:.1f} s to 'SQL status' and {fetch:.1f} s more "
        "fetching rows; the slowest (total, status, fetch):"
    )
    for timing in sorted(found, key=lambda t: t.total, reverse=True)[: args.top]:
        print(
            f"{timing.total:8.2f}  {timing.seconds:7.2f}  {timing.fetch:7.2f}  "
            f"{timing.node[:40]:40}  {timing.sql}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
