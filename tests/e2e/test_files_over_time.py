"""The events folder as a landing zone that keeps changing (SPEC: "Files over time").

Files arrive, grow, get rotated, vanish or are rewritten, and runs fail or get
killed. Each step runs `scripts/pipeline.py` on real Spark and checks the
exports against SPEC's oracle, the load ledger, and what the run said.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.e2e.harness import (
    PROJECT_DIR,
    SAMPLE,
    assert_same_exports,
    bad_inputs_folder,
    oracle_exports,
    pipeline_command,
    project_env,
    read_exports,
    run_dbt,
    run_pipeline,
)

LEDGER = """
select file_path, status, first_line, last_line, non_blank_lines, moved_from
from {{ ref('load_ledger') }}
where run_id = (select max(run_id) from {{ ref('load_ledger') }})
order by file_path
"""


def latest_ledger_rows() -> list[list[object]]:
    """The load_ledger rows of the newest run."""
    shown = run_dbt("show", "--output", "json", "--limit", "-1", "--inline", LEDGER).check()
    rows = json.loads(shown.output[shown.output.index('{\n  "show"') :])["show"]
    return [list(row.values()) for row in rows]


def test_files_that_grow_move_vanish_or_change(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    events = tmp_path / "events"
    events.mkdir()
    log = events / "app.json"
    log.write_text("".join(lines[:300]), encoding="utf-8")
    rotated = events / "other.json"
    rotated.write_text("".join(lines[300:400]), encoding="utf-8")
    # a file still being copied in, and an editor's swap file: never read
    (events / "_copying.json").write_text(lines[0], encoding="utf-8")
    (events / ".app.json.swp").write_text("not events", encoding="utf-8")
    out = tmp_path / "exports"

    first = run_pipeline(events, out).check()
    assert "OK loaded seed file" in first.output
    assert "2 hidden file(s) skipped" in first.output
    assert "_copying.json" in first.output and ".app.json.swp" in first.output
    assert_same_exports(read_exports(out), oracle_exports([log, rotated], tmp_path / "o1"))

    # nothing new: said in a line, without starting Spark or dbt
    idle = run_pipeline(events, out).check()
    assert "Nothing new since run" in idle.output
    assert "Running with dbt" not in idle.output

    # an append-only log grows; the other file is rotated (renamed)
    with log.open("a", encoding="utf-8") as handle:
        handle.write("".join(lines[400:]))
    renamed = events / "other.json.1"
    rotated.rename(renamed)
    grown = run_pipeline(events, out).check()
    assert "Rebuilding" not in grown.output
    assert "events read:      500" in grown.output
    # the unchanged seed keeps its table; the mart's test against it still runs
    assert "seed file" not in grown.output
    assert "PASS relationships_user_activity_activity" in grown.output
    assert_same_exports(read_exports(out), oracle_exports([log, renamed], tmp_path / "o2"))
    assert latest_ledger_rows() == [
        [str(log), "grown", 301, 400, 100, None],
        [str(renamed), "moved", None, None, None, str(rotated)],
    ]

    # the rotated file is removed, and a day of the export's working area is lost:
    # the events stay, the missing part is written again
    complete = read_exports(out)
    renamed.unlink()
    day = sorted((out / "_parts" / "user_activity").glob("event_date=*"))[0]
    shutil.rmtree(day)
    removed = run_pipeline(events, out).check()
    assert "1 file(s) read before are gone; their events stay" in removed.output
    assert str(renamed) in removed.output
    assert read_exports(out) == complete
    assert day.is_dir()

    # a file already read is rewritten: the run stops before Spark starts
    log.write_text("".join(lines[:100]), encoding="utf-8")
    changed = run_pipeline(events, out)
    assert changed.returncode == 1, changed.output
    assert f"already read changed (not only appended to): {log}" in changed.output
    assert "FULL_REFRESH=1" in changed.output
    assert "Running with dbt" not in changed.output
    assert read_exports(out) == complete


def test_a_hidden_file_named_directly_is_an_error(tmp_path: Path) -> None:
    hidden = tmp_path / "_events.json"
    shutil.copy(SAMPLE, hidden)
    run = run_pipeline(hidden, tmp_path / "exports")
    assert run.returncode == 1
    assert f"events file '{hidden}' is hidden" in run.output
    assert not (tmp_path / "exports").exists()


def java_descendants(pid: int) -> list[int]:
    """The JVMs started under process `pid` (the Spark driver dbt starts)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            try:
                if (Path("/proc") / str(child) / "exe").resolve().name == "java":
                    found.append(child)
            except OSError:
                continue
    return found


def kill_driver_while_it_writes(events: Path, out: Path, table: str) -> tuple[int, str]:
    """Start a run and `kill -9` its Spark driver while it writes `table`: as soon as
    the write's uncommitted folder appears in the table's folder (watched, not read from
    the run's output, which reaches us in blocks). Returns the run's exit code and
    output."""
    folder = PROJECT_DIR / "spark-warehouse" / "web_events_test.db" / table

    def writing() -> bool:
        try:
            return any(
                path.name == "_temporary" or path.name.startswith(".spark-staging")
                for path in folder.iterdir()
            )
        except OSError:
            return False

    with subprocess.Popen(
        pipeline_command(events, out),
        cwd=PROJECT_DIR,
        env=project_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as run:
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(run.stdout or ()), daemon=True)
        reader.start()
        killed = False
        deadline = time.monotonic() + 600
        while run.poll() is None and time.monotonic() < deadline and not killed:
            if writing():
                for pid in java_descendants(run.pid):
                    os.kill(pid, signal.SIGKILL)
                    killed = True
            time.sleep(0.01)
        returncode = run.wait(timeout=120)
        reader.join(timeout=10)
    assert killed, f"{table} was never seen being written:\n" + "".join(output)[-4000:]
    return returncode, "".join(output)


def test_a_failed_or_killed_run_changes_nothing_a_later_run_relies_on(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    shutil.copy(SAMPLE, events / "sample.json")
    out = tmp_path / "exports"

    # the driver is killed while it writes a table: the next run rebuilds
    returncode, killed = kill_driver_while_it_writes(events, out, "int_events_deduplicated")
    assert returncode == 1, killed[-4000:]
    assert "files written:" not in killed
    after_kill = run_pipeline(events, out).check()
    assert "Rebuilding every table (--full-refresh): the last run did not finish" in (
        after_kill.output
    )
    # the killed write's folder (LOCATION_ALREADY_EXISTS otherwise) is cleared first
    assert "Removing an uncommitted write of the unfinished run" in after_kill.output
    assert "int_events_deduplicated" in after_kill.output
    expected = oracle_exports([events], tmp_path / "oracle")
    assert_same_exports(read_exports(out), expected)

    # an export folder that cannot be created stops a run before it builds:
    # nothing changes, the next run has nothing to do
    other = bad_inputs_folder(tmp_path / "other")
    not_a_folder = tmp_path / "not_a_folder"
    not_a_folder.write_text("a file, not a folder", encoding="utf-8")
    refused = run_pipeline(other, not_a_folder)
    assert refused.returncode == 1
    assert refused.output.startswith(f"error: export folder '{not_a_folder}' cannot be created")
    assert "Nothing new since run" in run_pipeline(events, out).check().output

    # a run on another events path fails as it publishes (a folder stands where
    # a CSV file should be), after it rebuilt the tables from that path
    blocked = tmp_path / "blocked"
    (blocked / "user_activity.csv").mkdir(parents=True)
    (blocked / "user_activity.csv" / "keep").write_text("x", encoding="utf-8")
    failed = run_pipeline(other, blocked)
    assert failed.returncode == 1
    assert f"error: could not replace {blocked / 'user_activity.csv'}: Is a directory" in (
        failed.output
    )
    assert not list(blocked.glob(".*.tmp"))
    assert read_exports(out) == expected  # the published files are as they were

    # back on the first path: the result of one clean run, nothing of the other
    again = run_pipeline(events, out).check()
    assert "the last run did not finish" in again.output
    assert_same_exports(read_exports(out), expected)
