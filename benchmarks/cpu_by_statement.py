"""Which dbt statements the Spark driver's CPU went to: JFR samples matched with dbt.log.

dbt_statement_times.py says how long each statement took; on two cores, with four dbt threads, a
statement can be slow because others kept the cores busy. This says where the CPU went. Record a
run with Java Flight Recorder (JFR) in the Spark driver, where the session method also runs every
Spark task:

    python benchmarks/cpu_by_statement.py --jfr /tmp/run.jfr --record make run EVENTS=...
    python benchmarks/cpu_by_statement.py --jfr /tmp/run.jfr      # read it again later

`--record` runs the command with the recording option in WEB_EVENTS_DRIVER_EXTRA_JAVA_OPTIONS
(which scripts/pipeline.py adds to the driver's JVM options), waits until the driver's JVM has
written the recording (it outlives dbt by seconds), then reads it. Each execution sample (a
Java thread found running, about every 10-20 ms per thread) goes to the statements dbt had
running at that instant, split evenly when several ran at once. Samples while no statement ran
(dbt compiling, the JVM starting) are counted apart. The JIT compiler's own threads are not
Java threads and are not sampled.

Usage: python benchmarks/cpu_by_statement.py --jfr FILE [--log logs/dbt.log] [--invocation -1]
       [--top 25] [--record COMMAND...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.dbt_statement_times import (  # noqa: E402
    Timing,
    add_log_arguments,
    chosen_invocation,
    timings,
)
from scripts.driver_jvm import JVM_EXIT_TIMEOUT, wait_for_jvm_exit  # noqa: E402

DAY = 86400.0


def sample_clocks(jfr_json: str) -> list[float]:
    """Seconds since midnight UTC (dbt.log's clock) of each sample in `jfr print --json` output."""
    events = json.loads(jfr_json)["recording"]["events"]
    clocks = []
    for event in events:
        when = datetime.fromisoformat(event["values"]["startTime"]).astimezone(UTC)
        clocks.append(when.hour * 3600 + when.minute * 60 + when.second + when.microsecond / 1e6)
    return clocks


def read_samples(jfr: Path) -> list[float]:
    """The execution samples of a JFR recording (via the JDK's `jfr` tool)."""
    # the JDK's bin folder holds it; JAVA_HOME names that JDK when PATH does not
    tool = shutil.which("jfr") or str(Path(os.environ.get("JAVA_HOME", "/usr")) / "bin" / "jfr")
    command = ["print", "--json", "--stack-depth", "1", "--events", "jdk.ExecutionSample"]
    result = subprocess.run(
        [tool, *command, str(jfr)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"jfr print failed: {result.stderr.strip() or result.stdout.strip()}")
    return sample_clocks(result.stdout)


def first_clock(clocks: Sequence[float]) -> float:
    """The earliest of clock times that may pass midnight: the one after the longest gap
    (a run lasts far less than a day)."""
    ordered = sorted(set(clocks))
    gaps = [
        ((ordered[(i + 1) % len(ordered)] - ordered[i]) % DAY or DAY, i)
        for i in range(len(ordered))
    ]
    return ordered[(max(gaps)[1] + 1) % len(ordered)]


def attribute(samples: Sequence[float], found: Sequence[Timing]) -> tuple[Counter[Timing], int]:
    """Samples per statement (split evenly among the statements running at once), and the
    number of samples taken while none ran. Clock times are unwrapped past midnight."""
    spans = [
        (t.started, t.ended, t) for t in found if t.started is not None and t.ended is not None
    ]
    if not spans:
        return Counter(), len(samples)
    origin = first_clock([start for start, _, _ in spans])

    def since_origin(clock: float) -> float:
        return (clock - origin) % DAY

    intervals = [(since_origin(start), since_origin(end), t) for start, end, t in spans]
    shares: Counter[Timing] = Counter()
    outside = 0
    for sample in samples:
        at = since_origin(sample)
        running = [t for start, end, t in intervals if start <= at <= end]
        if not running:
            outside += 1
            continue
        for timing in running:
            shares[timing] += 1 / len(running)
    return shares, outside


def report(shares: Counter[Timing], outside: int, top: int) -> list[str]:
    total = sum(shares.values()) + outside
    if total == 0:
        return ["no execution samples in the recording"]
    lines = [
        f"{total:.0f} CPU samples of the Spark driver; {100 * outside / total:.1f}% while no "
        "statement ran; the statements with the most (share, samples, node, SQL):"
    ]
    for timing, count in shares.most_common(top):
        lines.append(
            f"{100 * count / total:6.1f}%  {count:8.1f}  {timing.node[:40]:40}  {timing.sql}"
        )
    return lines


def recording_option(recording: Path) -> str:
    """The JVM option that records the driver with JFR into `recording`."""
    path = recording.expanduser().resolve()
    if "," in str(path) or " " in str(path):
        raise ValueError(f"the recording's path may not hold commas or spaces: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"-XX:StartFlightRecording=filename={path},settings=profile"


def record(command: Sequence[str], recording: Path) -> int:
    """Run `command` (a `make run` or scripts/pipeline.py run) with the driver recorded, and
    return once its JVM has written the recording; the command's exit status."""
    option = recording_option(recording)
    extra = os.environ.get("WEB_EVENTS_DRIVER_EXTRA_JAVA_OPTIONS", "")
    env = {**os.environ, "WEB_EVENTS_DRIVER_EXTRA_JAVA_OPTIONS": f"{extra} {option}".strip()}
    returncode = subprocess.run(list(command), cwd=PROJECT_DIR, env=env, check=False).returncode
    if not wait_for_jvm_exit(option):
        print(
            f"warning: the Spark driver's JVM still runs {JVM_EXIT_TIMEOUT:.0f} s after the "
            f"command ended; {recording} may not be whole yet",
            file=sys.stderr,
        )
    return returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jfr", type=Path, required=True, help="the recording")
    add_log_arguments(parser)
    parser.add_argument(
        "--record",
        nargs=argparse.REMAINDER,
        metavar="COMMAND",
        help="run this command with the driver recorded into --jfr first",
    )
    args = parser.parse_args(argv)
    if args.record:
        try:
            returncode = record(args.record, args.jfr)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if returncode != 0:
            print(f"error: the recorded command failed (exit {returncode})", file=sys.stderr)
            return returncode
    lines = chosen_invocation(args)
    if lines is None:
        return 1
    try:
        samples = read_samples(args.jfr)
    except (OSError, RuntimeError) as error:
        print(f"error: cannot read {args.jfr}: {error}", file=sys.stderr)
        return 1
    shares, outside = attribute(samples, timings(lines))
    print("\n".join(report(shares, outside, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
