"""Tests of benchmarks/run_benchmark.py's repeated steps, without Spark."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import run_benchmark as bench


def test_a_repeated_step_reports_its_median_and_every_run() -> None:
    runs = [
        bench.Step("(a) plain", s, 1000, rss)
        for s, rss in ((30.0, 900), (10.0, 1200), (20.0, 1000))
    ]
    step = bench.median_step(runs)
    assert (step.seconds, step.peak_rss_mb, step.runs) == (20.0, 1200, (30.0, 10.0, 20.0))
    full = bench.Step("(b) full", 40.0, 1000, 2000)
    incremental = bench.Step("(c) incremental", 10.0, 10, 2000)
    idle = bench.Step("(d) no new file", 8.0, 0, 1500)
    args = argparse.Namespace(events=1000, bad_share=0.02, repeat=3)
    report = bench.render([step, full, incremental, idle], args)
    assert "| (a) plain | 20.0 | 30.0, 10.0, 20.0 | 1,000 | 50 | 1,200 |" in report
    assert "| (b) full | 40.0 | 40.0 | 1,000 |" in report
    # a run without events has no rate
    assert "| (d) no new file | 8.0 | 8.0 | 0 | - | 1,500 |" in report
    assert "--repeat 3`" in report
    assert "b/a = 2.00" in report and "c/b = 0.25" in report
    assert "(d), a run with no new file, takes 80% of (c)" in report
    assert "(c) <= 0.25 x (a) = 5.0 s" in report


def test_logs_are_numbered_only_when_the_steps_repeat(tmp_path: Path) -> None:
    assert bench.log_path(tmp_path, "b_full", 1, 1) == tmp_path / "b_full.log"
    assert bench.log_path(tmp_path, "b_full", 2, 3) == tmp_path / "b_full_2.log"


def test_each_added_file_has_new_events_after_the_latest_file(tmp_path: Path) -> None:
    first = tmp_path / "events_0001.json"
    bench.generate(first, events=2000, seed=1)
    second, third = tmp_path / "events_0002.json", tmp_path / "events_0003.json"
    assert bench.next_file(first, first, second, 200, seed=1, index=0) == 200
    assert bench.next_file(first, second, third, 200, seed=1, index=1) == 200

    def new_ids(path: Path) -> set[str]:
        ids = {json.loads(line)["event_id"] for line in path.read_text().splitlines()}
        return ids - {json.loads(line)["event_id"] for line in first.read_text().splitlines()}

    # 100 of each file's lines are the first file's events again (cross-file duplicates)
    assert len(new_ids(second)) == len(new_ids(third)) == 100
    assert not new_ids(second) & new_ids(third)
    # each window starts after the latest file's; only the late events (20%) fall before it
    second_ends = bench.last_timestamp(second)
    third_new = new_ids(third)
    third_times = [
        datetime.strptime(event["timestamp"], bench.TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        for event in map(json.loads, third.read_text().splitlines())
        if event["event_id"] in third_new
    ]
    assert sum(time > second_ends for time in third_times) >= 0.7 * len(third_times)
