"""Tests of benchmarks/cpu_by_statement.py on a small dbt log and a stand-in `jfr` tool."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from benchmarks import cpu_by_statement as cpu
from benchmarks import dbt_statement_times as times
from scripts import pipeline

# stg runs 23:59:58-00:00:04 (status at 00:00:03, fetched until its next line at 00:00:04);
# hrly runs 00:00:01-00:00:02 on another thread, so the two overlap across midnight.
LOG = """\
\x1b[0m23:59:50.000000 [info ] [MainThread]: Running with dbt=1.11.16
\x1b[0m23:59:58.000000 [debug] [Thread-1 (]: On model.web_events.stg: /* {"app": "dbt"} */
    insert into table web_events.stg
\x1b[0m00:00:01.000000 [debug] [Thread-2 (]: On model.web_events.hrly: /* {"app": "dbt"} */
    select count(*) from web_events.hrly
\x1b[0m00:00:02.000000 [debug] [Thread-2 (]: SQL status: OK in 1.000 seconds
\x1b[0m00:00:02.000000 [debug] [Thread-2 (]: On model.web_events.hrly: Close
\x1b[0m00:00:03.000000 [debug] [Thread-1 (]: SQL status: OK in 5.000 seconds
\x1b[0m00:00:04.000000 [debug] [Thread-1 (]: On model.web_events.stg: Close
"""


def clock(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def jfr_json(stamps: list[str]) -> str:
    events = [{"type": "jdk.ExecutionSample", "values": {"startTime": s}} for s in stamps]
    return json.dumps({"recording": {"events": events}})


def test_the_log_gives_each_statement_its_start_and_the_end_of_its_fetch() -> None:
    found = {t.node: (t.started, t.ended) for t in times.timings(LOG.splitlines())}
    assert found == {
        "stg": (clock("23:59:58"), clock("00:00:04")),
        "hrly": (clock("00:00:01"), clock("00:00:02")),
    }


def test_samples_go_to_the_statements_running_then_split_evenly() -> None:
    found = times.timings(LOG.splitlines())
    samples = [clock(t) for t in ("23:59:59", "00:00:01.5", "00:00:03.5", "23:59:55", "00:00:09")]
    shares, outside = cpu.attribute(samples, found)
    by_node = {t.node: round(n, 3) for t, n in shares.items()}
    # stg alone, stg and hrly together (half each), stg fetching; two before/after any statement
    assert by_node == {"stg": 2.5, "hrly": 0.5}
    assert outside == 2


def test_jfr_times_are_read_as_utc_like_dbt_s_log() -> None:
    clocks = cpu.sample_clocks(
        jfr_json(["2026-11-29T23:59:59.250000000Z", "2026-11-30T01:00:01.5+01:00"])
    )
    assert clocks == [clock("23:59:59.25"), clock("00:00:01.5")]


def test_prints_the_shares_from_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "dbt.log"
    log.write_text(LOG, encoding="utf-8")
    # a stand-in for the JDK's `jfr print --json`: prints four samples
    output = tmp_path / "samples.json"
    output.write_text(
        jfr_json(
            [f"2026-11-30T{t}Z" for t in ("00:00:00", "00:00:01.5", "00:00:03.9", "00:00:05")]
        ),
        encoding="utf-8",
    )
    tool = tmp_path / "bin" / "jfr"
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\ncat "{output}"\n', encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")

    assert cpu.main(["--jfr", str(tmp_path / "run.jfr"), "--log", str(log)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("4 CPU samples of the Spark driver; 25.0% while no statement ran")
    assert [line.split()[:3] for line in lines[1:]] == [
        ["62.5%", "2.5", "stg"],
        ["12.5%", "0.5", "hrly"],
    ]


def test_a_failing_jfr_tool_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "dbt.log"
    log.write_text(LOG, encoding="utf-8")
    tool = tmp_path / "bin" / "jfr"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 'File not found' >&2\nexit 1\n", encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    assert cpu.main(["--jfr", str(tmp_path / "none.jfr"), "--log", str(log)]) == 1
    assert capsys.readouterr().err.strip().endswith("jfr print failed: File not found")


def test_the_pipeline_records_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEB_EVENTS_JFR", raising=False)
    assert pipeline.flight_recording_option() == ""
    monkeypatch.setenv("WEB_EVENTS_JFR", str(tmp_path / "rec" / "run.jfr"))
    assert pipeline.flight_recording_option() == (
        f"-XX:StartFlightRecording=filename={tmp_path / 'rec' / 'run.jfr'},settings=profile"
    )
    assert (tmp_path / "rec").is_dir()
    monkeypatch.setenv("WEB_EVENTS_JFR", str(tmp_path / "a,b.jfr"))
    with pytest.raises(pipeline.PipelineError, match="commas or spaces"):
        pipeline.flight_recording_option()


def test_the_log_is_checked_before_the_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "dbt.log"
    empty.write_text("", encoding="utf-8")
    assert cpu.main(["--jfr", str(tmp_path / "none.jfr"), "--log", str(empty)]) == 1
    assert capsys.readouterr().err == f"error: no dbt invocation in {empty}\n"
