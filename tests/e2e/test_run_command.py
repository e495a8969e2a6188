"""`make run` as a user types it: values taken literally, clear failures before
any Spark work, and exports others can read (SPEC: "The run command and the
servers").

These tests call `make`, not scripts/pipeline.py, because the Makefile is what
they check. `-o .venv/.installed` keeps make from reinstalling the virtualenv
the tests already run in.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest

from scripts import pipeline
from tests.e2e.harness import (
    PROJECT_DIR,
    SAMPLE,
    Run,
    assert_same_exports,
    oracle_exports,
    project_env,
    read_exports,
    run_command,
    run_dbt,
)

SPARK_WORK = ("Running with dbt", "Traceback", "Exception")
# What runs as shell if a value is pasted into a recipe: each part creates a
# file under the folder the test names.
ATTACKS = (
    "x'; touch {m}/quote; echo '",
    'x"; touch {m}/double; echo "',
    "x; touch {m}/bare",
    "x`touch {m}/backtick`$(touch {m}/dollar)",
)


def make_command(*assignments: str) -> list[str]:
    return ["make", "--no-print-directory", "-o", ".venv/.installed", "run", *assignments]


def make_run(*assignments: str, env: dict[str, str] | None = None) -> Run:
    return run_command(make_command(*assignments), env)


def error_lines(run: Run) -> list[str]:
    return [line for line in run.output.splitlines() if line.startswith("error:")]


def assert_stopped_before_spark(run: Run, message: str) -> None:
    """make failed, after one `error:` line holding `message`, and nothing started Spark."""
    assert run.returncode != 0, run.output
    errors = error_lines(run)
    assert len(errors) == 1 and message in errors[0], run.output
    assert not [word for word in SPARK_WORK if word in run.output], run.output


@pytest.mark.parametrize("variable", ["EVENTS", "EXPORT_DIR", "TARGET", "FULL_REFRESH", "VARS"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_make_run_value_never_runs_as_shell(variable: str, attack: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    marker.mkdir()
    value = attack.format(m=marker)
    # an events path that does not exist: the run stops before Spark whatever the value
    missing = tmp_path / "no_events.json"
    assignments = {"EVENTS": str(missing), "EXPORT_DIR": str(tmp_path / "exports")}
    assignments[variable] = value
    run = make_run(*(f"{name}={item}" for name, item in assignments.items()))

    assert run.returncode != 0, run.output
    assert list(marker.iterdir()) == [], f"{variable}={value!r} ran as shell:\n{run.output}"
    assert len(error_lines(run)) == 1, run.output
    if variable == "EVENTS":
        assert error_lines(run) == [f"error: events path '{PROJECT_DIR / value}' does not exist"]
    if variable == "TARGET":
        assert error_lines(run)[0].startswith(f"error: unknown target '{value}'")


def test_a_dollar_in_a_value_reaches_the_run_command_as_typed(tmp_path: Path) -> None:
    events = f"{tmp_path}/$HOME/$(PATH)/$$x.json"
    run = make_run(f"EVENTS={events}")
    assert error_lines(run) == [f"error: events path '{events}' does not exist"], run.output


def test_an_empty_events_path_stops_before_spark(tmp_path: Path) -> None:
    run = make_run("EVENTS=", f"EXPORT_DIR={tmp_path / 'exports'}")
    assert_stopped_before_spark(
        run,
        "error: EVENTS is empty: name a JSON-lines file, a folder or a glob (make run EVENTS=...)",
    )
    assert not (tmp_path / "exports").exists()


def test_an_export_folder_that_cannot_be_created_stops_before_spark(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder\n")
    export_dir = tmp_path / "a_file" / "exports"
    run = make_run(f"EVENTS={SAMPLE}", f"EXPORT_DIR={export_dir}")
    assert_stopped_before_spark(
        run,
        f"error: export folder '{export_dir}' cannot be created: Not a directory "
        "(make run EXPORT_DIR=...)",
    )


def test_bad_vars_stop_before_spark(tmp_path: Path) -> None:
    run = make_run(
        f"EVENTS={SAMPLE}", f"EXPORT_DIR={tmp_path}", 'VARS={"export_dir": "/elsewhere"}'
    )
    assert_stopped_before_spark(run, "error: VARS may not set export_dir")


def test_a_second_run_on_the_same_project_stops_in_one_line(tmp_path: Path) -> None:
    """While a run holds the project's lock (here: this test), another stops at once."""
    with pipeline.run_lock("local"):
        run = make_run(f"EVENTS={SAMPLE}", f"EXPORT_DIR={tmp_path / 'exports'}")
    assert_stopped_before_spark(
        run, "error: another run is under way in this project (the local target's metastore"
    )
    assert f"(pid {os.getpid()}, lock " in run.output


def wait_for_lock_holder(run: subprocess.Popen[str]) -> int:
    """The pid of the run command `run` started, once it holds the project's lock
    (it writes its pid into the lock file after taking it)."""
    lock = pipeline.lock_file("local")
    while run.poll() is None:
        try:
            pid = int(lock.read_text().strip() or 0)
            command = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
        except (OSError, ValueError):
            command = b""
        if b"scripts/pipeline.py" in command and pid_descends_from(pid, run.pid):
            return pid
        time.sleep(0.2)
    raise AssertionError(f"the run ended before it took the lock:\n{run.communicate()[0]}")


def pid_descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            stat_line = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat_line.rsplit(")", 1)[1].split()[1])
    return False


def iso_timestamps(source: Path, target: Path) -> None:
    """The sample with every `MM/dd/yyyy HH:mm:ss` timestamp as `yyyy-MM-ddTHH:mm:ss`."""
    pattern = re.compile(r'"timestamp" : "(\d\d)/(\d\d)/(\d{4}) (\d\d:\d\d:\d\d)"')
    text = source.read_text(encoding="utf-8")
    converted, count = pattern.subn(r'"timestamp" : "\3-\1-\2T\4"', text)
    assert count > 400  # the sample's timestamps all have this shape
    target.write_text(converted, encoding="utf-8")


def test_odd_paths_and_a_format_with_literal_text_work_end_to_end(tmp_path: Path) -> None:
    """Folders named with a quote, `$`, `;`, backticks and spaces, ISO timestamps read
    with VARS' `yyyy-MM-dd'T'HH:mm:ss`: the same exports as the sample in the default
    format, each CSV with the umask's mode (0644 here) and no temporary file left.
    A second run started while this one works stops at once, in one line."""
    events = tmp_path / "it's $HOME; `id` a folder"
    events.mkdir()
    iso_timestamps(SAMPLE, events / "events.json")
    export_dir = tmp_path / "exports of it's $PATH; `x`"
    assignments = (
        f"EVENTS={events}",
        f"EXPORT_DIR={export_dir}",
        """VARS={"event_timestamp_format": "yyyy-MM-dd'T'HH:mm:ss"}""",
    )
    old_umask = os.umask(0o022)
    try:
        first = subprocess.Popen(
            make_command(*assignments),
            cwd=PROJECT_DIR,
            env=project_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        holder = wait_for_lock_holder(first)
        # a second run while the first one works: refused at once, the first unharmed
        second = make_run(*assignments)
        output, _ = first.communicate()
    finally:
        os.umask(old_umask)
    run = Run(first.returncode, output).check()

    assert_stopped_before_spark(second, "error: another run is under way in this project")
    assert f"(pid {holder}, lock " in second.output
    assert "rejected:         0" in run.output, run.output[-3000:]
    assert_same_exports(read_exports(export_dir), oracle_exports([SAMPLE], tmp_path / "oracle"))
    published = sorted(path.name for path in export_dir.iterdir() if path.is_file())
    assert published == sorted(f"{table}.csv" for table in pipeline.EXPORT_TABLES)
    for name in published:
        assert stat.S_IMODE((export_dir / name).stat().st_mode) == 0o644


def test_a_string_var_reaches_spark_as_written() -> None:
    """sql_string, the one macro that puts text between quotes in SQL: Spark reads
    back exactly the var it was given, quotes, backslashes and all."""
    text = "yyyy-MM-dd'T'HH \\ a\\'b '' ` $x ;"
    run = run_dbt(
        "show",
        "--inline",
        "select {{ sql_string(var('text')) }} as v",
        "--output",
        "json",
        "--log-format",
        "json",
        dbt_vars={"text": text},
    ).check()
    previews = [
        json.loads(event["data"]["preview"])
        for event in map(
            json.loads, filter(lambda line: line.startswith("{"), run.output.splitlines())
        )
        if event["info"]["name"] == "ShowNode"
    ]
    assert previews == [[{"v": text}]], run.output[-2000:]
