"""`dbt source freshness` on the events source: pass, warn and fail as the vars say.

Freshness is the newest input file's modification time (the `file_modification_time`
column of the `raw_event_lines` view). Each case copies the sample to a temporary
folder and sets its modification time, so the outcome does not depend on when the
project was checked out.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.harness import PROJECT_DIR, SAMPLE, run_dbt

HOUR = 3600


@pytest.mark.parametrize(
    ("age_hours", "dbt_vars", "status", "returncode"),
    [
        pytest.param(0, {}, "pass", 0, id="fresh-file-passes"),
        pytest.param(30, {}, "warn", 0, id="day-old-file-warns-by-default"),
        pytest.param(30, {"freshness_error_after_hours": "25"}, "error", 1, id="vars-tighten"),
    ],
)
def test_source_freshness_follows_file_age_and_vars(
    tmp_path: Path, age_hours: int, dbt_vars: dict[str, str], status: str, returncode: int
) -> None:
    events = tmp_path / "events.json"
    shutil.copy(SAMPLE, events)
    stamp = time.time() - age_hours * HOUR
    os.utime(events, (stamp, stamp))

    run = run_dbt("source", "freshness", dbt_vars={"events_path": str(events), **dbt_vars})

    assert run.returncode == returncode, run.output[-4000:]
    result = json.loads((PROJECT_DIR / "target" / "sources.json").read_text())["results"][0]
    assert result["unique_id"] == "source.web_events.web_events.raw_event_lines"
    assert result["status"] == status, run.output[-4000:]
    assert result["max_loaded_at_time_ago_in_s"] == pytest.approx(age_hours * HOUR, abs=600)
    expected_error_after = int(dbt_vars.get("freshness_error_after_hours", 168))
    assert result["criteria"]["warn_after"] == {"count": 24, "period": "hour"}
    assert result["criteria"]["error_after"] == {"count": expected_error_after, "period": "hour"}
