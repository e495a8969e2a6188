"""Tests of benchmarks/dbt_statement_times.py on a small dbt debug log written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import dbt_statement_times as times

LOG = """\
\x1b[0m01:00:00.000000 [info ] [MainThread]: Running with dbt=1.11.16
\x1b[0m01:00:01.000000 [debug] [Thread-1 (]: On model.web_events.old: /* {"app": "dbt"} */
    create table web_events.old using parquet
\x1b[0m01:00:02.000000 [debug] [Thread-1 (]: SQL status: OK in 9.000 seconds
\x1b[0m02:00:00.000000 [info ] [MainThread]: Running with dbt=1.11.16
\x1b[0m02:00:01.000000 [debug] [ThreadPool]: On list_schemas: /* {"app": "dbt"} */

    show databases

\x1b[0m02:00:01.100000 [debug] [ThreadPool]: Opening a new connection, currently in state init
\x1b[0m02:00:02.000000 [debug] [Thread-1 (]: On model.web_events.stg: /* {"app": "dbt"} */
    insert into table web_events.stg
    select a from b
\x1b[0m02:00:03.000000 [debug] [Thread-2 (]: On model.web_events.hrly: /* {"app": "dbt"} */
    insert overwrite table web_events.hrly
\x1b[0m02:00:04.000000 [debug] [Thread-2 (]: SQL status: OK in 1.500 seconds
\x1b[0m02:00:05.000000 [debug] [Thread-1 (]: SQL status: OK in 12.250 seconds
\x1b[0m02:00:05.100000 [debug] [Thread-1 (]: On model.web_events.stg: ROLLBACK
\x1b[0m02:00:06.000000 [debug] [ThreadPool]: SQL status: OK in 0.500 seconds
"""


def test_pairs_each_statement_with_its_own_threads_status_and_next_line() -> None:
    last = times.invocations(LOG.splitlines())[-1]
    found = {(t.node, t.sql): (t.seconds, t.fetch) for t in times.timings(last)}
    assert found == {
        ("list_schemas", "show databases"): (0.5, 0.0),
        # fetching: from its status line to the thread's next line (the ROLLBACK)
        ("stg", "insert into table web_events.stg select a from b"): (12.25, 0.1),
        ("hrly", "insert overwrite table web_events.hrly"): (1.5, 0.0),
    }


def test_prints_the_slowest_first_for_the_chosen_invocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "dbt.log"
    log.write_text(LOG, encoding="utf-8")
    assert times.main(["--log", str(log), "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "3 statements, 14.2 s to 'SQL status' and 0.1 s more fetching rows; "
        "the slowest (total, status, fetch):"
    )
    assert [line.split()[:4] for line in lines[1:]] == [
        ["12.35", "12.25", "0.10", "stg"],
        ["1.50", "1.50", "0.00", "hrly"],
    ]
    assert times.main(["--log", str(log), "--invocation", "0"]) == 0
    assert "9.00     9.00     0.00  old" in capsys.readouterr().out


def test_a_missing_log_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert times.main(["--log", str(tmp_path / "none.log")]) == 1
    assert capsys.readouterr().err.startswith("error: cannot read")


def test_an_empty_log_or_a_missing_invocation_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("", encoding="utf-8")
    assert times.main(["--log", str(empty)]) == 1
    assert capsys.readouterr().err == f"error: no dbt invocation in {empty}\n"
    log = tmp_path / "dbt.log"
    log.write_text(LOG, encoding="utf-8")
    for outside in ("2", "-3"):
        assert times.main(["--log", str(log), "--invocation", outside]) == 1
        assert capsys.readouterr().err == (
            f"error: no invocation {outside} in {log}: it holds 2 "
            "(--invocation 0 to 1, or -1 for the last)\n"
        )
    assert times.main(["--log", str(log), "--invocation", "-2"]) == 0
    assert "9.00     9.00     0.00  old" in capsys.readouterr().out
