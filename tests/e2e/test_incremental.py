"""Incremental loads: files arriving one by one give the same exports as a full rebuild."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from scripts.generate_events import generate
from tests.e2e import spec_oracle
from tests.e2e.harness import (
    PROJECT_DIR,
    assert_same_exports,
    oracle_exports,
    read_exports,
    run_dbt,
    run_pipeline,
)


def test_files_arriving_over_several_runs_equal_a_full_rebuild(tmp_path: Path) -> None:
    generated = tmp_path / "generated"
    generate(
        generated,
        events=3000,
        files=3,
        bad_share=0.05,
        duplicate_share=0.05,
        late_share=0.05,
        seed=11,
    )
    files = sorted(generated.iterdir())
    assert len(files) == 3
    arrivals = tmp_path / "events"
    arrivals.mkdir()
    incremental = tmp_path / "incremental"

    # an empty first file, then one file, then two at once; with them, a day
    # whose events a later file moves to the day before (earlier times win),
    # a log that grows, the same event at the same time in two files (the
    # smaller path wins, although it arrives later), and a rotated file
    emptied = [tmp_path / "day_0001.json", tmp_path / "day_0002.json"]
    emptied[0].write_text(EMPTIED_DAY_BEFORE, encoding="utf-8")
    emptied[1].write_text(EMPTIED_DAY_AFTER, encoding="utf-8")
    ties = [tmp_path / "tie_b.json", tmp_path / "tie_a.json"]
    for tie, user in zip(ties, (701, 702), strict=True):
        tie.write_text(_event("tie-1", user, "06/02/2016 12:00:00") + "\n", encoding="utf-8")
    grown = arrivals / "app.json"
    # log rotation's suffix: the file keeps its place among the others, so equal
    # event times are decided alike (a file path is the first tie-breaker)
    rotated = f"{files[0].name}.1"
    log_lines = files[2].read_text(encoding="utf-8").splitlines(keepends=True)
    batches = [[], [*files[:1], emptied[0], ties[0]], [*files[1:2], emptied[1], ties[1]]]
    (arrivals / "events_0000.json").touch()
    outputs = []
    for number, batch in enumerate(batches):
        for file in batch:
            shutil.copy(file, arrivals / file.name)
        if number == 1:
            grown.write_text("".join(log_lines[:500]), encoding="utf-8")
        if number == 2:
            with grown.open("a", encoding="utf-8") as handle:
                handle.write("".join(log_lines[500:]))
            (arrivals / files[0].name).rename(arrivals / rotated)
        outputs.append(run_pipeline(arrivals, incremental).check().output)
        if emptied[0] in batch:
            assert b"\n901,2016-06-01 00:00:05," in read_exports(incremental)["user_activity"]
            assert b"\n701,2016-06-02 12:00:00," in read_exports(incremental)["user_activity"]
        if not batch:  # an empty file gives empty tables: the three headers only
            assert read_exports(incremental) == {
                name: ",".join(header).encode() + b"\n"
                for name, header in spec_oracle.HEADERS.items()
            }
    # the first run of a new events path rebuilds; the next ones are incremental
    assert "Rebuilding every table" in outputs[0]
    assert all("Rebuilding every table" not in output for output in outputs[1:])
    check_data_tests_read_only_the_latest_run()

    # the rebuild also drops the rows injected by the check above
    rebuilt = tmp_path / "rebuilt"
    run_pipeline(arrivals, rebuilt, "local", "--full-refresh").check()

    # the same rows; the rotated file's lines keep the path they were read under
    incremental_exports, rebuilt_exports = read_exports(incremental), read_exports(rebuilt)
    rejected = incremental_exports.pop("rejected_events").replace(
        str(arrivals / files[0].name).encode() + b",", str(arrivals / rotated).encode() + b","
    )
    rebuilt_rejected = rebuilt_exports.pop("rejected_events")
    assert str(arrivals / rotated).encode() in rebuilt_rejected
    assert sorted(rejected.splitlines()) == sorted(rebuilt_rejected.splitlines())
    assert incremental_exports == rebuilt_exports
    # the emptied day left the incrementally written export too
    user_activity = read_exports(incremental)["user_activity"]
    assert b",2016-06-01 " not in user_activity
    assert b"\n901,2016-05-31 23:59:55," in user_activity
    # the tie went to tie_a.json, read in the later run
    assert b"\n702,2016-06-02 12:00:00," in user_activity
    assert b"\n701,2016-06-02 12:00:00," not in user_activity
    assert_same_exports(read_exports(rebuilt), oracle_exports([arrivals], tmp_path / "oracle"))


def _event(event_id: str, user_id: int, timestamp: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "user": {"session_id": "s1", "id": user_id, "ip": "10.0.0.1"},
            "action": "page_view",
            "url": "https://www.hipages.com.au/find/plumbers",
            "timestamp": timestamp,
        }
    )


# The only events of 2016-06-01, then the same events at earlier times, on
# the day before: a later run must remove that day from the exports.
EMPTIED_DAY_BEFORE = "\n".join(
    [
        _event("emptied-1", 901, "06/01/2016 00:00:05"),
        _event("emptied-2", 902, "06/01/2016 10:00:00"),
    ]
)
EMPTIED_DAY_AFTER = "\n".join(
    [
        _event("emptied-1", 901, "05/31/2016 23:59:55"),
        _event("emptied-2", 902, "05/31/2016 10:00:00"),
    ]
)


# Rows written straight into staging after the runs above: one of an earlier
# run with a NULL line_number, one of the newest run with a NULL source_file,
# and a copy of an earlier run's line under the newest run (a repeated key).
INJECT_BAD_ROWS = """
insert into {{ ref('stg_web_events') }}
    (source_file, line_number, run_id, loaded_at, raw_record, _corrupt_record)
select '/read_long_ago.json', null, '00000000T000000000000Z', timestamp'2000-01-01 00:00:00',
    '{}', 'injected'
union all
select null, 1, (select max(run_id) from {{ ref('stg_web_events') }}), current_timestamp(),
    '{}', 'injected'
union all
(
    select source_file, line_number, (select max(run_id) from {{ ref('stg_web_events') }}),
        current_timestamp(), raw_record, 'injected'
    from {{ ref('stg_web_events') }}
    where run_id < (select max(run_id) from {{ ref('stg_web_events') }})
    order by source_file, line_number
    limit 1
)
"""

STAGING_FACTS = """
select
    count(distinct run_id) filter (where coalesce(_corrupt_record, '') != 'injected') as runs,
    count(*) filter (where line_number is null) as null_line_numbers
from {{ ref('stg_web_events') }}
"""


def failed_data_tests() -> set[str]:
    """The generic data tests of stg_web_events that fail as `make run` scopes them."""
    run = run_dbt(
        "test",
        "--select",
        "stg_web_events,test_type:generic",
        dbt_vars={"data_tests_scope": "new_rows"},
    )
    results = json.loads((PROJECT_DIR / "target" / "run_results.json").read_text())
    statuses = {
        result["unique_id"].split(".")[2]: result["status"]
        for result in results["results"]
        if result["unique_id"].startswith("test.")
    }
    assert len(statuses) == 8, run.output[-3000:]
    assert all(status in ("pass", "fail") for status in statuses.values()), run.output[-3000:]
    failed = {name for name, status in statuses.items() if status == "fail"}
    assert (run.returncode != 0) == bool(failed), run.output[-3000:]
    return failed


def check_data_tests_read_only_the_latest_run() -> None:
    """`make run`'s data tests read only the rows of the table's newest run.

    A new bad row fails its test, a new row repeating an old key fails the
    key test, and the bad row of an earlier run is outside the scope (that
    run's own tests passed).
    """
    run_dbt("show", "--limit", "-1", "--inline", INJECT_BAD_ROWS).check()
    facts = run_dbt("show", "--inline", STAGING_FACTS).check()
    # lines were staged by two runs (the empty first one stages no line),
    # and the old bad row is there for a whole-table test to find
    assert re.search(r"\|\s*2\s*\|\s*1\s*\|", facts.output), facts.output
    assert failed_data_tests() == {
        "not_null_stg_web_events_source_file",
        "unique_combination_of_columns_stg_web_events_source_file__line_number",
    }
