"""Incremental loads: files arriving one by one give the same exports as a full rebuild."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from scripts.generate_events import generate
from tests.e2e import spec_oracle
from tests.e2e.harness import (
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

    # an empty first file, then one file, then two at once
    batches = [[], files[:1], files[1:]]
    (arrivals / "events_0000.json").touch()
    outputs = []
    for batch in batches:
        for file in batch:
            shutil.copy(file, arrivals / file.name)
        outputs.append(run_pipeline(arrivals, incremental).check().output)
        if not batch:  # an empty file gives empty tables: the three headers only
            assert read_exports(incremental) == {
                name: ",".join(header).encode() + b"\n"
                for name, header in spec_oracle.HEADERS.items()
            }
    # the first run of a new events path rebuilds; the next ones are incremental
    assert "Rebuilding every table" in outputs[0]
    assert all("Rebuilding every table" not in output for output in outputs[1:])
    # each file was staged by exactly one run (re-reading one would also fail the
    # unique (source_file, line_number) test on stg_web_events during the build)
    loads = run_dbt(
        "show",
        "--inline",
        "select count(distinct loaded_at) as loads from {{ ref('stg_web_events') }}",
    ).check()
    assert re.search(r"\|\s*2\s*\|", loads.output), loads.output

    rebuilt = tmp_path / "rebuilt"
    run_pipeline(arrivals, rebuilt, "local", "--full-refresh").check()

    assert read_exports(incremental) == read_exports(rebuilt)
    assert_same_exports(read_exports(rebuilt), oracle_exports([arrivals], tmp_path / "oracle"))
