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
    seed_style = bench.Step("(a') seed-style", 25.0, 1000, 800)
    spec_single = bench.Step("(a'') SPEC in one job", 32.0, 1000, 1100)
    full = bench.Step("(b) full", 40.0, 1000, 2000)
    incremental = bench.Step("(c) incremental", 10.0, 10, 2000)
    idle = bench.Step("(d) no new file", 8.0, 0, 1500)
    args = argparse.Namespace(events=1000, bad_share=0.02, repeat=3)
    report = bench.render([seed_style, spec_single, step, full, incremental, idle], args)
    assert "| (a') seed-style | 25.0 | 25.0 | 1,000 | 40 | 800 |" in report
    assert "| (a'') SPEC in one job | 32.0 | 32.0 | 1,000 | 31 | 1,100 |" in report
    assert "| (a) plain | 20.0 | 30.0, 10.0, 20.0 | 1,000 | 50 | 1,200 |" in report
    assert "| (b) full | 40.0 | 40.0 | 1,000 |" in report
    # a run without events has no rate
    assert "| (d) no new file | 8.0 | 8.0 | 0 | - | 1,500 |" in report
    # rows in the order given: the baselines, then the pipeline's runs
    rows = [line.split()[1] for line in report.splitlines() if line.startswith("| (")]
    assert rows == ["(a')", "(a'')", "(a)", "(b)", "(c)", "(d)"]
    assert "--repeat 3`" in report
    assert (
        "b/a' = 1.60 (target <= 2.0); b/a'' = 1.25; b/a = 2.00; "
        "c/b = 0.25 (target <= 0.25); d/a' = 0.32 (target <= 0.2)\n"
    ) in report
    assert "(d), a run with no new file, takes 80% of (c)" in report
    assert "(c) <= 0.5 x (a') = 12.5 s" in report


def test_repeated_runs_give_one_median_step_each_in_the_order_they_first_ran() -> None:
    runs = [
        bench.Step(name, seconds, 1000, 100.0)
        for repeat in range(3)
        for name, seconds in (
            ("(a') seed-style", 10.0 + repeat),
            ("(a'') SPEC in one job", 30.0 - repeat),
            ("(b) full", 20.0 * (repeat + 1)),
        )
    ]
    runs.append(bench.Step("(c) incremental", 5.0, 10, 100.0))
    steps = bench.median_steps(runs)
    assert [s.key for s in steps] == ["a'", "a''", "b", "c"]
    assert [(s.seconds, s.runs) for s in steps] == [
        (11.0, (10.0, 11.0, 12.0)),
        (29.0, (30.0, 29.0, 28.0)),
        (40.0, (20.0, 40.0, 60.0)),
        (5.0, (5.0,)),
    ]


def test_every_baseline_runs_before_the_pipeline_with_its_own_log_and_output() -> None:
    names = [name for name, _, _, _ in bench.BASELINES]
    assert names == [
        "(a') seed-style PySpark job",
        "(a'') SPEC in one PySpark job",
        "(a) plain PySpark job",
    ]
    for field in range(1, 4):
        values = [baseline[field] for baseline in bench.BASELINES]
        assert len(set(values)) == len(values)
    for _, script, _, _ in bench.BASELINES:
        assert (bench.PROJECT_DIR / script).is_file()
    # every ratio names steps that run
    keys = {bench.Step(name, 1.0, 0, 0.0).key for name in names} | {"b", "c", "d"}
    assert {r.over for r in bench.RATIOS} | {r.under for r in bench.RATIOS} <= keys


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
