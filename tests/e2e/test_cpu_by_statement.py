"""Tests of benchmarks/cpu_by_statement.py on a small dbt log and a stand-in `jfr` tool."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from benchmarks import cpu_by_statement as cpu
from benchmarks import dbt_statement_times as times

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


def test_the_recording_option_names_a_usable_file(tmp_path: Path) -> None:
    assert cpu.recording_option(tmp_path / "rec" / "run.jfr") == (
        f"-XX:StartFlightRecording=filename={tmp_path / 'rec' / 'run.jfr'},settings=profile"
    )
    assert (tmp_path / "rec").is_dir()
    with pytest.raises(ValueError, match="commas or spaces"):
        cpu.recording_option(tmp_path / "a,b.jfr")


def test_a_recorded_command_returns_once_the_jvm_has_written_the_recording(
    tmp_path: Path,
) -> None:
    """The command stands for `make run`: it starts a process with the recording option in
    its command line (the driver JVM, which writes the file after dbt has ended) and exits."""
    recording = tmp_path / "run.jfr"
    jvm = (
        "import sys, time; time.sleep(2); "
        f"open({str(recording)!r}, 'wb').write(sys.argv[1].encode())"
    )
    run = (
        "import os, subprocess, sys; "
        "options = os.environ['WEB_EVENTS_DRIVER_EXTRA_JAVA_OPTIONS']; "
        f"subprocess.Popen([sys.executable, '-c', {jvm!r}, options], start_new_session=True)"
    )
    assert cpu.record([sys.executable, "-c", run], recording) == 0
    assert recording.read_text() == cpu.recording_option(recording)


def test_the_log_is_checked_before_the_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "dbt.log"
    empty.write_text("", encoding="utf-8")
    assert cpu.main(["--jfr", str(tmp_path / "none.jfr"), "--log", str(empty)]) == 1
    assert capsys.readouterr().err == f"error: no dbt invocation in {empty}\n"
