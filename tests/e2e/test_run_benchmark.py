"""Tests of benchmarks/run_benchmark.py's repeated steps, without Spark."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks import run_benchmark as bench

# Every step `make bench` times, in the order it runs them (each --repeat times)
STEP_KEYS = ["a'", "a''", "a", "b", "c", "d", "c'"]
# Every ratio the table prints, with its target (None: reported without one)
EXPECTED_RATIOS = [
    ("b", "a'", 2.0),
    ("b", "a''", None),
    ("b", "a", None),
    ("c", "b", 0.25),
    ("c'", "b", None),
    ("d", "a'", 0.2),
    ("bt", "a'", None),
    ("ct", "bt", None),
    ("dt", "a'", None),
]


EVENT_ID_TEXT = re.compile(r'"event_id"\s*:\s*"(\d+)"')


def times_of_line(line: str) -> list[datetime]:
    """The line's event time, or nothing when it has no valid one."""
    try:
        return [datetime.strptime(json.loads(line)["timestamp"], bench.TIMESTAMP_FORMAT)]
    except (ValueError, KeyError, TypeError):
        return []


def times_of(path: Path) -> list[datetime]:
    """The event times of the lines that have a valid one."""
    return [
        time
        for line in path.read_text(encoding="utf-8").splitlines()
        for time in times_of_line(line)
    ]


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
    incremental = bench.Step("(c) next day", 10.0, 10, 2000)
    idle = bench.Step("(d) no new file", 8.0, 0, 1500)
    worst = bench.Step("(c') worst case", 16.0, 12, 2100)
    args = argparse.Namespace(events=1000, days=14.0, bad_share=0.02, repeat=3)
    steps = [seed_style, spec_single, step, full, incremental, idle, worst]
    report = bench.render(steps, args)
    assert "1,000 events over 14 days (2% bad), then +10 (the next day) and +12 (worst case)" in (
        report
    )
    assert "| (a') seed-style | 25.0 | 25.0 | 1,000 | 40 | 800 |" in report
    assert "| (a'') SPEC in one job | 32.0 | 32.0 | 1,000 | 31 | 1,100 |" in report
    assert "| (a) plain | 20.0 | 30.0, 10.0, 20.0 | 1,000 | 50 | 1,200 |" in report
    assert "| (b) full | 40.0 | 40.0 | 1,000 |" in report
    # a run without events has no rate
    assert "| (d) no new file | 8.0 | 8.0 | 0 | - | 1,500 |" in report
    # the worst case is a row of its own
    assert "| (c') worst case | 16.0 | 16.0 | 12 | 1 | 2,100 |" in report
    # rows in the order given: the baselines, then the pipeline's runs
    rows = [line.split()[1] for line in report.splitlines() if line.startswith("| (")]
    assert rows == [f"({key})" for key in STEP_KEYS]
    assert "--repeat 3`" in report
    assert "--days" not in report
    # the worst case's ratio to (b) comes without a target
    assert (
        "b/a' = 1.60 (target <= 2.0); b/a'' = 1.25; b/a = 2.00; "
        "c/b = 0.25 (target <= 0.25); c'/b = 0.40; d/a' = 0.32 (target <= 0.2)\n"
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
    keys = {bench.Step(name, 1.0, 0, 0.0).key for name in names}
    keys |= {"b", "c", "d", "c'", "bt", "ct", "dt"}
    assert {r.over for r in bench.RATIOS} | {r.under for r in bench.RATIOS} <= keys


def test_the_ratios_are_the_issues_with_their_targets() -> None:
    assert [(r.over, r.under, r.target) for r in bench.RATIOS] == EXPECTED_RATIOS
    assert (bench.FULL_TARGET, bench.INCREMENTAL_TARGET, bench.IDLE_TARGET) == (2.0, 0.25, 0.2)


def test_logs_are_numbered_only_when_the_steps_repeat(tmp_path: Path) -> None:
    assert bench.log_path(tmp_path, "b_full", 1, 1) == tmp_path / "b_full.log"
    assert bench.log_path(tmp_path, "b_full", 2, 3) == tmp_path / "b_full_2.log"


def test_each_worst_case_file_spreads_new_events_over_every_day(tmp_path: Path) -> None:
    first = tmp_path / "events_0001.json"
    # bad lines too: some have no event id to replace
    bench.generate(first, events=2000, bad_share=0.2, seed=1)
    second, third = tmp_path / "events_0002.json", tmp_path / "events_0003.json"
    assert bench.next_file(first, first, second, 200, seed=1, index=0) == 200
    assert bench.next_file(first, second, third, 200, seed=1, index=1) == 200

    def ids(path: Path) -> set[str]:
        return set(EVENT_ID_TEXT.findall(path.read_text(encoding="utf-8")))

    def new_ids(path: Path) -> set[str]:
        return ids(path) - ids(first)

    # 100 of each file's lines are the first file's events again (cross-file duplicates)
    assert len(new_ids(second)) == len(new_ids(third)) == 100
    assert not new_ids(second) & new_ids(third)
    # the new events cover the first file from its first hour to its last
    first_times = times_of(first)
    third_new = new_ids(third)
    third_times = [
        time
        for line in third.read_text(encoding="utf-8").splitlines()
        if set(EVENT_ID_TEXT.findall(line)) & third_new
        for time in times_of_line(line)
    ]
    assert min(third_times) - first_times[0] < timedelta(hours=1)
    assert first_times[-1] - max(third_times) < timedelta(hours=1)


def test_the_first_file_spans_the_days_asked(tmp_path: Path) -> None:
    first = tmp_path / "events_0001.json"
    bench.generate(first, events=20_000, bad_share=0.02, seed=42, days=14)
    start = datetime(2017, 2, 2)
    newest = bench.last_timestamp(first).replace(tzinfo=None)
    # 14 calendar days, the last one not quite whole
    assert start + timedelta(days=13) < newest < start + timedelta(days=14)
    # asked for one day: every event on that day
    one_day = tmp_path / "one_day.json"
    bench.generate(one_day, events=20_000, days=1, start="02/16/2017 00:00:00")
    times = times_of(one_day)
    assert times[0].date() == times[-1].date() == date(2017, 2, 16)
    assert times[-1] > datetime(2017, 2, 16, 23)


def test_the_next_days_file_is_one_day_later_with_late_events_and_copies(tmp_path: Path) -> None:
    first = tmp_path / "events_0001.json"
    bench.generate(first, events=20_000, bad_share=0.02, seed=1, days=13.5)
    last_day = bench.last_timestamp(first).date()
    assert last_day == date(2017, 2, 15)
    day = last_day + timedelta(days=1)
    second = tmp_path / "events_0002.json"
    assert bench.next_day_file(first, second, 4000, seed=1) == 4100
    first_lines = set(first.read_text(encoding="utf-8").splitlines())
    first_ids = {line.split('"')[3] for line in first_lines if line.startswith('{ "event_id"')}
    lines = second.read_text(encoding="utf-8").splitlines()
    # 100 good lines of the first file's last day, copied verbatim, each once
    copies = [line for line in lines if line in first_lines]
    assert len(copies) == len(set(copies)) == bench.CROSS_FILE_DUPLICATES
    assert {bench.event_day(line) for line in copies} == {last_day}
    # 4000 new events: on the next day, or late by up to 6 hours (in the last day loaded)
    new = [json.loads(line) for line in lines if line not in first_lines]
    assert len(new) == 4000
    assert not {event["event_id"] for event in new} & first_ids
    day_starts = datetime(day.year, day.month, day.day)
    times = [datetime.strptime(e["timestamp"], bench.TIMESTAMP_FORMAT) for e in new]
    assert all(day_starts - timedelta(hours=6) <= t < day_starts + timedelta(days=1) for t in times)
    late = sum(t < day_starts for t in times)
    assert 5 <= late <= 45  # 0.5% of 4000 is 20
    assert max(times) > day_starts + timedelta(hours=23)
    # the next one: the day after, its copies from the file before it
    third = tmp_path / "events_0003.json"
    assert bench.next_day_file(second, third, 4000, seed=1, index=1) == 4100
    second_lines = set(lines)
    third_lines = third.read_text(encoding="utf-8").splitlines()
    copies = [line for line in third_lines if line in second_lines]
    assert len(copies) == bench.CROSS_FILE_DUPLICATES
    assert {bench.event_day(line) for line in copies} == {day}
    assert bench.last_timestamp(third).date() == day + timedelta(days=1)
    assert not set(third_lines) & first_lines


def test_make_bench_runs_every_step_in_order_on_one_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main() with the timed commands recorded instead of run: no Spark."""
    seconds = {"a'": 100.0, "a''": 120.0, "a": 90.0, "b": 200.0, "c": 40.0, "d": 15.0}
    seconds["c'"] = 80.0
    work = tmp_path / "bench"
    calls: list[tuple[str, list[str], int, str, list[str]]] = []

    def fake_timed(name: str, command: list[str], events: int, log: Path) -> bench.Step:
        files = sorted(p.name for p in (work / "events").iterdir())
        calls.append((name, command, events, log.name, files))
        step = bench.Step(name, 0.0, events, 100.0)
        return bench.Step(name, seconds[step.key], events, 100.0)

    monkeypatch.setattr(bench, "timed", fake_timed)
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results.md")
    thrift_calls: list[tuple[list[str], tuple[Path, Path]]] = []

    def fake_thrift_steps(
        pipeline: list[str],
        events_dir: Path,
        logs: Path,
        args: argparse.Namespace,
        day_files: tuple[Path, Path],
    ) -> list[bench.Step]:
        thrift_calls.append((pipeline, day_files))
        return [
            bench.Step("(bt) full, Thrift", 150.0, 20_000, 100.0),
            bench.Step("(ct) next day, Thrift", 30.0, 300, 100.0),
            bench.Step("(dt) nothing new, Thrift", 0.5, 0, 100.0),
        ]

    monkeypatch.setattr(bench, "thrift_steps", fake_thrift_steps)
    argv = ["run_benchmark.py", "--events", "20000", "--repeat", "2", "--work-dir", str(work)]
    monkeypatch.setattr(sys, "argv", argv)
    assert bench.main() == 0

    keys = [bench.Step(name, 0.0, 0, 0.0).key for name, *_ in calls]
    baselines_and_full = ["a'", "a''", "a", "b"]
    assert keys == baselines_and_full * 2 + ["c", "c", "d", "d", "c'", "c'"]
    assert sorted(set(keys), key=keys.index) == STEP_KEYS
    # (b), (c), (d) and (c'): the same `make run`, on the same tables and export folder
    pipeline = next(c for name, c, *_ in calls if name.startswith("(c)"))
    assert pipeline[1:3] == ["scripts/pipeline.py", "run"]
    assert "--full-refresh" not in pipeline
    for name, command, *_ in calls:
        if name.startswith("(b)"):
            assert command == [*pipeline, "--full-refresh"]
        elif not name.startswith("(a"):
            assert command == pipeline
    # one more file before each (c) and each (c'), none before (d)
    by_key: dict[str, list[tuple[int, str, int]]] = {}
    for (_, _, events, log, files), key in zip(calls, keys, strict=True):
        by_key.setdefault(key, []).append((events, log, len(files)))
    assert by_key["c"] == [(300, "c_next_day_1.log", 2), (300, "c_next_day_2.log", 3)]
    assert by_key["d"] == [(0, "d_no_new_file_1.log", 3), (0, "d_no_new_file_2.log", 3)]
    assert by_key["c'"] == [(200, "c2_worst_case_1.log", 4), (200, "c2_worst_case_2.log", 5)]
    assert by_key["b"][0] == (20_000, "b_full_1.log", 1)
    # the day files come day after day; the worst-case files reach back to the first day
    events = work / "events"
    ends = [bench.last_timestamp(events / f"events_{n:04d}.json") for n in range(1, 6)]
    assert ends[1].date() == ends[0].date() + timedelta(days=1)
    assert ends[2].date() == ends[0].date() + timedelta(days=2)
    for worst in (3, 4):
        times = times_of(events / f"events_{worst + 1:04d}.json")
        assert min(times).date() <= date(2017, 2, 2) + timedelta(days=1)

    report = (tmp_path / "results.md").read_text(encoding="utf-8")
    rows = [line.split()[1] for line in report.splitlines() if line.startswith("| (")]
    assert rows == [f"({key})" for key in [*STEP_KEYS, "bt", "ct", "dt"]]
    assert "| (c') make run (+1% worst case) | 80.0 | 80.0, 80.0 | 200 |" in report
    assert (
        "b/a' = 2.00 (target <= 2.0); b/a'' = 1.67; b/a = 2.22; "
        "c/b = 0.20 (target <= 0.25); c'/b = 0.40; d/a' = 0.15 (target <= 0.2); "
        "bt/a' = 1.50; ct/bt = 0.20; dt/a' = 0.01\n"
    ) in report
    # the Thrift steps come last, on the same pipeline, with the next day after the last (c)
    assert [(command, files) for command, files in thrift_calls] == [
        (pipeline, (events / "events_0003.json", events / "events_0006.json"))
    ]
    assert "20,000 events over 14 days (2% bad), then +300 (the next day) and +200" in report


def test_copies_come_from_the_day_before_too_when_the_last_day_has_barely_begun(
    tmp_path: Path,
) -> None:
    latest = tmp_path / "events_0001.json"
    bench.generate(latest, events=5000, seed=3, days=1, start="02/15/2017 00:00:00")
    begun = tmp_path / "begun.json"
    bench.generate(begun, events=30, seed=4, start="02/16/2017 00:00:00", start_event_id=1)
    with latest.open("a", encoding="utf-8") as handle:
        handle.write(begun.read_text(encoding="utf-8"))
    added = tmp_path / "events_0002.json"
    assert bench.next_day_file(latest, added, 1000, seed=3) == 1100
    latest_lines = set(latest.read_text(encoding="utf-8").splitlines())
    copies = [line for line in added.read_text().splitlines() if line in latest_lines]
    # 100 copies although the last day holds 30 lines
    assert len(copies) == len(set(copies)) == 100
    assert {bench.event_day(line) for line in copies} <= {date(2017, 2, 15), date(2017, 2, 16)}
    assert bench.last_timestamp(added).date() == date(2017, 2, 17)
