"""The whole pipeline on the embedded Spark (dbt-spark's session method), end to end.

Each test runs `scripts/pipeline.py` (what `make run` runs) and compares the CSV
exports byte for byte with the independent SPEC implementation in spec_oracle.py.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.e2e.harness import (
    FIXTURES,
    PROJECT_DIR,
    SAMPLE,
    assert_same_exports,
    oracle_exports,
    read_exports,
    run_dbt,
    run_pipeline,
)

BAD_INPUT_REASONS = {
    "malformed_json": 3,
    "missing_event_id": 1,
    "missing_user_id": 1,
    "invalid_user_id": 1,
    "missing_action": 2,
    "invalid_timestamp": 3,
    "invalid_url": 2,
    "duplicate_event": 2,
}


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export_dir = tmp_path_factory.mktemp("sample_exports")
    run_pipeline(SAMPLE, export_dir).check()
    return export_dir


def test_sample_every_event_accepted_and_equal_to_spec(sample_run: Path, tmp_path: Path) -> None:
    assert_same_exports(read_exports(sample_run), oracle_exports([SAMPLE], tmp_path))
    assert len(csv_rows(sample_run / "user_activity.csv")) == 500
    assert csv_rows(sample_run / "rejected_events.csv") == []


def test_sample_urls_without_scheme_or_with_w3_get_the_right_levels(sample_run: Path) -> None:
    rows = csv_rows(sample_run / "user_activity.csv")
    domains = Counter(row["url_level1"] for row in rows)
    # 489 https://www., 3 www. without scheme, 1 bare, 1 http://, 1 w3.: all hipages.com.au
    assert domains["hipages.com.au"] == 495
    for other in ("petpages", "randompages", "myhelpfulpages", "somepages", "usefulpages"):
        assert domains[f"{other}.com.au"] == 1
    assert not [d for d in domains if d.startswith(("www", "w3.", "http"))]


def test_a_rerun_gives_byte_identical_exports(sample_run: Path) -> None:
    first = read_exports(sample_run)
    # without its part files the rerun must write every day again (export_all):
    # the export table's mark alone says that they are current
    shutil.rmtree(sample_run / "_parts")
    run_pipeline(SAMPLE, sample_run).check()
    assert read_exports(sample_run) == first


@pytest.fixture(scope="module")
def bad_inputs_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """bad_inputs.jsonl plus an empty file and a copy of the sample, read as one folder."""
    root = tmp_path_factory.mktemp("bad_inputs")
    events = root / "events"
    events.mkdir()
    shutil.copy(FIXTURES / "bad_inputs.jsonl", events / "a_bad_inputs.json")
    shutil.copy(FIXTURES / "empty.jsonl", events / "b_empty.json")
    shutil.copy(SAMPLE, events / "c_sample.json")
    export_dir = root / "exports"
    run = run_pipeline(events, export_dir).check()
    return events, export_dir, run.output


def test_every_bad_input_has_its_outcome_and_nothing_is_lost(
    bad_inputs_run: tuple[Path, Path, str], tmp_path: Path
) -> None:
    events, export_dir, output = bad_inputs_run
    assert_same_exports(read_exports(export_dir), oracle_exports([events], tmp_path / "oracle"))
    rejected = csv_rows(export_dir / "rejected_events.csv")
    assert Counter(row["reason"] for row in rejected) == BAD_INPUT_REASONS
    accepted = csv_rows(export_dir / "user_activity.csv")
    non_blank = sum(
        1
        for path in events.iterdir()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    assert len(accepted) + len(rejected) == non_blank
    raw_lines = (events / "a_bad_inputs.json").read_text(encoding="utf-8").split("\n")
    for row in rejected:
        assert row["raw_record"] == raw_lines[int(row["line_number"]) - 1]
    assert "malformed_json:" in output and "files written:" in output


def test_unknown_activities_are_kept_and_reported_by_a_warning(
    bad_inputs_run: tuple[Path, Path, str],
) -> None:
    _, export_dir, output = bad_inputs_run
    activities = {row["activity"] for row in csv_rows(export_dir / "user_activity.csv")}
    assert {"réserver_devis", 'say "hi", then click'} <= activities
    assert "WARN" in output and "relationships_user_activity_activity" in output


def test_a_missing_path_fails_with_a_message_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_events.json"
    run = run_pipeline(missing, tmp_path / "exports")
    assert run.returncode == 1
    assert f"events path '{missing}' does not exist" in run.output
    assert not (tmp_path / "exports").exists()

    glob_run = run_pipeline(tmp_path / "nothing_here_*.json", tmp_path / "exports")
    assert glob_run.returncode == 1
    assert "matches no file" in glob_run.output


def test_bare_dbt_build_on_a_missing_path_fails_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone.json"
    run = run_dbt("run", "--select", "stg_web_events", dbt_vars={"events_path": str(missing)})
    assert run.returncode != 0
    assert "PATH_NOT_FOUND" in run.output and str(missing) in run.output


def defined_unit_tests() -> list[str]:
    names = []
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        names += [test["name"] for test in yaml.safe_load(path.read_text()).get("unit_tests", [])]
    return names


def test_dbt_unit_tests_cover_every_rule_and_pass(sample_run: Path) -> None:
    # dbt reads the column types of a unit test's inputs from the built tables
    assert sample_run.exists()
    names = defined_unit_tests()
    assert len(names) >= 9
    run = run_dbt("test", "--select", "test_type:unit").check()
    for name in names:
        assert re.search(rf"PASS .*{name}", run.output), f"unit test {name} did not pass"
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 ", run.output), run.output[-2000:]
