"""Runs the pipeline the way a user does, and reads what it leaves behind.

Every end-to-end test goes through `run_pipeline`, which calls the same
`scripts/pipeline.py` that `make run` calls, in a subprocess, on real Spark.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.driver_jvm import class_archive_options
from scripts.pipeline import CLASS_ARCHIVE
from tests.e2e import spec_oracle

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_DIR / "tests" / "fixtures"
SAMPLE = PROJECT_DIR / "data" / "source_event_data.json"
EXPORTS = (
    "user_activity",
    "hrly_granular_activity",
    "rejected_events",
    "user_sessions",
    "daily_active_users",
)
DBT = str(Path(sys.executable).parent / "dbt")


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str

    def check(self) -> Run:
        assert self.returncode == 0, f"run failed (exit {self.returncode}):\n{self.output[-6000:]}"
        return self


def project_env(**extra: str) -> dict[str, str]:
    """The tests build in their own schema, so they never touch a user's tables.

    A bare dbt call maps the JVM class archive an earlier pipeline run wrote,
    as the pipeline does (it starts Spark faster; nothing else changes).
    """
    mapping = class_archive_options(CLASS_ARCHIVE)
    java_options = {} if mapping is None else {"WEB_EVENTS_DRIVER_JAVA_OPTIONS": mapping}
    return {
        **os.environ,
        "WEB_EVENTS_HOME": str(PROJECT_DIR),
        "WEB_EVENTS_SCHEMA": "web_events_test",
        **java_options,
        **extra,
    }


def run_pipeline(
    events: Path | str,
    export_dir: Path,
    target: str = "local",
    *dbt_args: str,
    env: dict[str, str] | None = None,
) -> Run:
    """`make run EVENTS=<events> EXPORT_DIR=<export_dir> TARGET=<target>`.

    `env`: more environment variables, e.g. THRIFT_PORT for `target="thrift"`.
    """
    command = pipeline_command(events, export_dir, target, *dbt_args)
    return run_command(command, env)


def pipeline_command(
    events: Path | str, export_dir: Path, target: str = "local", *dbt_args: str
) -> list[str]:
    """The command line `run_pipeline` runs (for tests that need to watch it run)."""
    command = [
        sys.executable,
        str(PROJECT_DIR / "scripts" / "pipeline.py"),
        "run",
        "--events",
        str(events),
        "--export-dir",
        str(export_dir),
        "--target",
        target,
    ]
    if dbt_args:
        command += ["--", *dbt_args]
    return command


def run_dbt(
    *args: str,
    target: str = "local",
    dbt_vars: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """A bare dbt command against the project, as a user would type it."""
    command = [DBT, *args, "--profiles-dir", str(PROJECT_DIR / "profiles"), "--target", target]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    return run_command(command, env)


def run_command(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a command in the project folder with the tests' environment; its output."""
    result = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=project_env(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return Run(result.returncode, result.stdout)


def read_exports(export_dir: Path) -> dict[str, bytes]:
    return {name: (export_dir / f"{name}.csv").read_bytes() for name in EXPORTS}


def oracle_exports(paths: list[Path], out_dir: Path) -> dict[str, bytes]:
    """What SPEC says the exports must be, from the independent implementation."""
    spec_oracle.write_csvs(spec_oracle.build(paths), out_dir)
    return read_exports(out_dir)


def assert_same_exports(actual: dict[str, bytes], expected: dict[str, bytes]) -> None:
    for name in EXPORTS:
        got = actual[name].decode("utf-8").splitlines()
        want = expected[name].decode("utf-8").splitlines()
        missing = [row for row in want if row not in set(got)][:5]
        extra = [row for row in got if row not in set(want)][:5]
        assert actual[name] == expected[name], (
            f"{name}.csv differs from SPEC's oracle: {len(got)} vs {len(want)} lines; "
            f"missing e.g. {missing}; unexpected e.g. {extra}"
        )


def bad_inputs_folder(folder: Path) -> Path:
    """bad_inputs.jsonl, an empty file and the sample, read as one events folder."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "bad_inputs.jsonl", folder / "a_bad_inputs.json")
    shutil.copy(FIXTURES / "empty.jsonl", folder / "b_empty.json")
    shutil.copy(SAMPLE, folder / "c_sample.json")
    return folder
