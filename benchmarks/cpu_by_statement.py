"""Which dbt statements the Spark driver's CPU went to: JFR samples matched with dbt.log.

dbt_statement_times.py says how long each statement took; on two cores, with four dbt threads, a
statement can be slow because others kept the cores busy. This says where the CPU went. Record a
run with Java Flight Recorder (JFR) in the Spark driver, where the session method also runs every
Spark task:

    WEB_EVENTS_JFR=/tmp/run.jfr make run ...
    python benchmarks/cpu_by_statement.py --jfr /tmp/run.jfr

scripts/pipeline.py starts the recording when WEB_EVENTS_JFR is set. Each execution sample (a
Java thread found running, about every 10-20 ms per thread) goes to the statements dbt had
running at that instant, split evenly when several ran at once. Samples while no statement ran
(dbt compiling, the JVM starting) are counted apart. The JIT compiler's own threads are not
Java threads and are not sampled.

Usage: python benchmarks/cpu_by_statement.py --jfr FILE [--log logs/dbt.log] [--invocation -1]
       [--top 25]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jfr", type=Path, required=True, help="the recording (WEB_EVENTS_JFR)")
    add_log_arguments(parser)
    args = parser.parse_args(argv)
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
